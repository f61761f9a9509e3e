"""The sample return generator: deterministic, complete, and near the published path."""

from __future__ import annotations

import pytest

from efficiency_warehouse.sample_data import generate_returns, render_csv

pytestmark = pytest.mark.fast  # needs no pipeline run: part of `make test-fast`


def test_same_seed_same_bytes_other_seed_other_values():
    first, second, other = generate_returns(2008), generate_returns(2008), generate_returns(7)
    assert {k: render_csv(v) for k, v in first.items()} == {k: render_csv(v) for k, v in second.items()}
    assert render_csv(first["ni179_2009-10_actual.csv"]) != render_csv(other["ni179_2009-10_actual.csv"])


def test_every_council_reports_every_cycle_summing_near_the_path():
    files = generate_returns()
    path_gbp_bn = {"2008-09": 1.59, "2009-10": 3.23, "2010-11": 4.91}
    for year, councils in (("2008-09", 388), ("2009-10", 353), ("2010-11", 353)):
        for kind in ("forecast", "actual"):
            rows = files[f"ni179_{year}_{kind}.csv"]
            assert len(rows) == len({r["council_code"] for r in rows}) == councils
            total_bn = sum(float(r["ni179_value_gbp_thousands"]) for r in rows) / 1e6
            assert abs(total_bn / path_gbp_bn[year] - 1) < 0.12
    assert {r["council_code"][:5] for r in files["ni179_2008-09_actual.csv"]} >= {"PRE09"}
    assert not any(r["council_code"].startswith("PRE09") for r in files["ni179_2009-10_actual.csv"])


def test_two_deliberately_bad_files_are_included():
    files = generate_returns()
    assert "aes_backward_look_2007-08.csv" in files
    assert "ni179_2009-10_actual_late_corrections.csv" in files


def test_sample_riep_workbooks_are_the_same_bytes_whenever_they_are_written():
    """Workbooks carry save times; the sample ones must not, or a re-run would load them again."""
    import random
    import time

    from efficiency_warehouse.sample_riep_data import report_sections, workbook_bytes

    first = workbook_bytes(report_sections("E12000001", "2009-10", random.Random(1)))
    time.sleep(1.1)  # past the one-second resolution of zip and document timestamps
    assert workbook_bytes(report_sections("E12000001", "2009-10", random.Random(1))) == first
