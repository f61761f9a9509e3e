"""Before a Treasury release: a figure a thousand times too big publishes nothing; the decision on it
decides what does; a jump that no row rule flags is stopped by the movement gate, naming the council.
Real ingest, dbt and publication on a copy of the test run's whole pipeline (releases published) per test.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import pipeline_clone
from corpus import send_return

from efficiency_warehouse import movement_gate, pipeline, publish, review, warehouse

YEAR, KIND = "2010-11", "actual"
CYCLE = f"{YEAR}_{KIND}"


@pytest.fixture
def published(pipeline_snapshots, tmp_path):
    with pipeline_clone(pipeline_snapshots["full"], tmp_path / "warehouse") as root:
        yield root


def rebuild_and_publish() -> dict[str, dict]:
    pipeline.build_marts()
    return {outcome["cycle"]: outcome for outcome in pipeline.publish_releases()}


def release_files() -> dict[str, bytes]:
    root = publish.releases_dir()
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


def latest_release() -> Path:
    return publish.latest_version(publish.releases_dir() / CYCLE)


def released_rows(table: str, version: Path | None = None) -> list[dict[str, str]]:
    text = ((version or latest_release()) / f"{table}_efficiency.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def released_council(code: str, version: Path | None = None) -> dict[str, str]:
    [row] = [row for row in released_rows("council", version) if row["council_code"] == code]
    return row


def review_items(code: str) -> list[dict]:
    with warehouse.connect() as conn:
        cursor = conn.execute(
            "select review_id, rules, decision from ingest.review_items"
            " where council_code = %s and financial_year = %s and return_type = %s order by review_id",
            (code, YEAR, KIND),
        )
        return [dict(zip(("review_id", "rules", "decision"), row, strict=True)) for row in cursor.fetchall()]


def decide(review_id: int, decision: str, reason: str) -> None:
    with warehouse.connect() as conn:
        review.decide(conn, review_id, decision, "a.engineer", reason)


def last_logged_reason() -> str:
    log = list(csv.DictReader(io.StringIO((publish.releases_dir() / CYCLE / "revisions.csv").read_text())))
    return log[-1]["reason"]


def test_a_figure_in_pounds_publishes_nothing_rejecting_it_changes_nothing_and_the_correction_publishes(published):
    code = "E06000001"
    releases_before, version_before = release_files(), latest_release()
    in_thousands = Decimal(released_council(code)["ni179_value_gbp_thousands"])

    send_return(published / "landing", code, in_thousands * 1000, "hartlepool_in_pounds.csv")
    outcomes = rebuild_and_publish()

    assert {outcome["outcome"] for outcome in outcomes.values()} == {"unchanged"}
    assert release_files() == releases_before, "no new figure, national or other, is published"
    [item] = review_items(code)
    assert (item["rules"], item["decision"]) == (
        ["far_from_previous_return", "implausible_for_council_size"],
        "pending",
    )

    decide(item["review_id"], "rejected", "given in pounds, not £ thousands")
    assert {outcome["outcome"] for outcome in rebuild_and_publish().values()} == {"unchanged"}
    assert release_files() == releases_before

    corrected = in_thousands + Decimal("250.0")
    send_return(published / "landing", code, corrected, "hartlepool_corrected.csv")
    outcomes = rebuild_and_publish()

    assert outcomes[CYCLE]["outcome"] == "published"
    version = latest_release()
    assert int(version.name[1:]) == int(version_before.name[1:]) + 1
    assert Decimal(released_council(code, version)["ni179_value_gbp_thousands"]) == corrected
    national = Decimal(released_rows("national", version)[0]["reported_gains_gbp_millions"])
    national_before = Decimal(released_rows("national", version_before)[0]["reported_gains_gbp_millions"])
    assert abs(national - national_before - Decimal("0.25")) <= Decimal("0.1")
    assert "late correction received " in last_logged_reason()  # the cycle closed in 2011: it is late
    now = release_files()
    assert all(now[path] == content for path, content in releases_before.items() if "/v" in path), (
        "a published version is never changed"
    )


def test_a_large_figure_confirmed_on_review_publishes_with_the_decision_in_its_notes(published):
    code = "E06000003"
    baseline = Decimal(released_council(code)["baseline_gbp_thousands"])
    large = (baseline * Decimal("0.3")).quantize(Decimal("0.1"))  # beyond the size rule's quarter of the baseline

    send_return(published / "landing", code, large, "redcar_large_but_real.csv")
    [item] = review_items(code)
    decide(item["review_id"], "confirmed", "council confirmed the figure by phone")
    outcomes = rebuild_and_publish()

    assert outcomes[CYCLE]["outcome"] == "published"
    version = latest_release()
    assert Decimal(released_council(code, version)["ni179_value_gbp_thousands"]) == large
    manifest = json.loads((version / "manifest.json").read_text())
    [confirmed] = [entry for entry in manifest["review"]["confirmed"] if entry["council_code"] == code]
    assert (confirmed["review_id"], confirmed["decided_by"], confirmed["reason"]) == (
        item["review_id"],
        "a.engineer",
        "council confirmed the figure by phone",
    )
    reason = last_logged_reason()
    assert code in reason and "confirmed on review" in reason and "council confirmed the figure by phone" in reason


def test_a_jump_no_row_rule_flags_is_stopped_before_release_naming_the_council(published):
    code, jumped, region = council_that_can_jump_its_region_past_the_limit()
    releases_before = release_files()

    send_return(published / "landing", code, jumped, "a_large_jump.csv")
    assert review_items(code) == [], "no row rule flags it: it reaches the marts"
    with pytest.raises(publish.PublicationBlocked, match=rf"{code}.*held for review") as blocked:
        rebuild_and_publish()

    assert region in str(blocked.value) and "limit 10%" in str(blocked.value)
    assert release_files() == releases_before
    [item] = review_items(code)
    assert (item["rules"], item["decision"]) == ([movement_gate.MOVED_A_PUBLISHED_TOTAL], "pending")
    assert {outcome["outcome"] for outcome in rebuild_and_publish().values()} == {"unchanged"}, (
        "while pending, the council's previous figure stands"
    )

    decide(item["review_id"], "confirmed", "checked with the council's finance director")
    outcomes = rebuild_and_publish()
    assert outcomes[CYCLE]["outcome"] == "published"
    assert Decimal(released_council(code)["ni179_value_gbp_thousands"]) == jumped


def council_that_can_jump_its_region_past_the_limit() -> tuple[str, Decimal, str]:
    """A council, and a figure for it, that moves its region's published total by 12% while staying
    within a fifth of its own baseline (under the size rule's quarter) and between its previous figure
    and 1.9 times it (under the resubmission rule's double)."""
    regional = {row["region_code"]: Decimal(row["reported_gains_gbp_millions"]) for row in released_rows("regional")}
    candidates = []
    for row in released_rows("council"):
        if not row["ni179_value_gbp_thousands"] or row["region_code"] not in regional:
            continue
        value, baseline = Decimal(row["ni179_value_gbp_thousands"]), Decimal(row["baseline_gbp_thousands"])
        jumped = value + regional[row["region_code"]] * Decimal("0.12") * 1000
        if jumped <= baseline * Decimal("0.2") and jumped <= value * Decimal("1.9"):
            candidates.append((jumped / baseline, row["council_code"], jumped.quantize(Decimal("0.1")), row))
    assert candidates, "the sample data has a council large enough for its region"
    _, code, jumped, row = min(candidates)
    return code, jumped, row["region_code"]
