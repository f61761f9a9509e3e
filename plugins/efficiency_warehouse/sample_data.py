"""Deterministic sample council returns: every council, three programme years, forecast and actual.

Sample data only, for the demo and the tests; real returns replace it. The same seed writes the
same bytes, so a re-run of `make run` drops byte-identical files that the manifest knows already.

Sizing: each council's share of the £53.0bn 2007-08 baseline follows its population (the register's
2020 estimate; the median of its type where the register has none) times a weight for the services
its tier runs. Gains are that baseline share times the 3% compounding path, times a persistent
council performance factor and some yearly noise, then scaled so that the national forecast and
actual totals land near the published path (£1.5bn, £3.2bn, £4.9bn).
"""

from __future__ import annotations

import csv
import io
import os
import random
import statistics
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from efficiency_warehouse import settings
from efficiency_warehouse.datasets import COUNCIL_BASELINES, COUNCIL_RETURNS

BASELINE_GBP_THOUSANDS = 53_000_000  # £53.0bn, table A.1
REVENUE_SHARE_OF_BASELINE = 40.9 / 53.0  # table A.1: revenue £40.9bn, capital £12.0bn
# SR04: "by the end of 2007-08, councils expected to achieve 7.5% efficiency gains, equivalent to
# £3.0bn" (value for money seed, chapter 1), which puts the 2004-05 baseline at about £40bn.
SR04_BASELINE_GBP_THOUSANDS = 40_000_000
SAMPLE_SOURCE = "Sample figures from efficiency_warehouse.sample_data, sized by population: not real data"
ANNUAL_TARGET_RATE = 0.03
PROGRAMME_YEARS = {"2008-09": 1, "2009-10": 2, "2010-11": 3}
# Reported totals as a share of the target path: forecasts a little under, actuals over it, as in
# 2008-09 when the actual (£1.76bn) came in above the forecast (£1.59bn).
RETURN_TYPE_FACTOR = {"forecast": 0.98, "actual": 1.08}
# Relative spend per resident by tier (excluding schools, fire and police): in two-tier areas the
# county spends most; unitaries, metropolitan and London boroughs run both tiers' services.
TIER_WEIGHT = {"county": 0.8, "district": 0.2, "unitary": 1.0, "metropolitan": 1.0, "london": 1.1}
REGISTER_TYPES = {
    "CTY": "county",
    "NMD": "district",
    "UA": "unitary",
    "MD": "metropolitan",
    "LBO": "london",
    "CC": "london",
}
REORGANISATION_DAY = "2009-04-01"


@dataclass(frozen=True)
class SampleCouncil:
    code: str
    name: str
    tier: str
    population: float
    exists_2008_09: bool
    exists_from_2009_10: bool


def _seed_rows(name: str) -> list[dict[str, str]]:
    path = settings.dbt_project_dir() / "seeds" / "reference" / name
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def sample_councils() -> list[SampleCouncil]:
    register = [r for r in _seed_rows("local_authority_register.csv") if r["local_authority_type"] in REGISTER_TYPES]
    reorganisation = _seed_rows("reorganisation_2009.csv")
    by_tier: dict[str, list[float]] = {}
    for row in register:
        if row["population_2020"]:
            by_tier.setdefault(REGISTER_TYPES[row["local_authority_type"]], []).append(float(row["population_2020"]))
    median_population = {tier: statistics.median(values) for tier, values in by_tier.items()}
    population = {
        row["gss_code"]: float(row["population_2020"] or median_population[REGISTER_TYPES[row["local_authority_type"]]])
        for row in register
    }

    councils = []
    for row in register:
        tier = REGISTER_TYPES[row["local_authority_type"]]
        start, end = row["start_date"] or "1900-01-01", row["end_date"] or "9999-12-31"
        councils.append(
            SampleCouncil(
                code=row["gss_code"],
                name=row["official_name"],
                tier=tier,
                population=population[row["gss_code"]],
                exists_2008_09=start < REORGANISATION_DAY,
                exists_from_2009_10=start <= REORGANISATION_DAY and end > "2011-03-31",
            )
        )
    # A predecessor district covers a share of its successor's area; a county covers all of it.
    districts_per_successor: dict[str, int] = {}
    for row in reorganisation:
        if row["predecessor_type"] == "district":
            districts_per_successor[row["successor_gss_code"]] = (
                districts_per_successor.get(row["successor_gss_code"], 0) + 1
            )
    for row in reorganisation:
        successors = row["successor_gss_code"].split(";")
        area_population = sum(population[code] for code in successors)
        if row["predecessor_type"] == "district":
            area_population /= districts_per_successor[row["successor_gss_code"]]
        councils.append(
            SampleCouncil(
                row["predecessor_code"], row["predecessor_name"], row["predecessor_type"], area_population, True, False
            )
        )
    return sorted(councils, key=lambda c: c.code)


def _councils_in(year: str, councils: list[SampleCouncil]) -> list[SampleCouncil]:
    return [c for c in councils if (c.exists_2008_09 if year == "2008-09" else c.exists_from_2009_10)]


def _submitted_date(rng: random.Random, year: str, return_type: str) -> str:
    start_year = int(year[:4])
    if return_type == "forecast":
        month_year, month = start_year, 10
    else:
        month_year, month = start_year + 1, 7
    if rng.random() < 0.01:  # a few councils send their return in the first days after the window
        month += 1
        return f"{month_year}-{month:02d}-{rng.randint(1, 7):02d}"
    return f"{month_year}-{month:02d}-{rng.randint(1, 31):02d}"


def generate_returns(seed: int = 2008) -> dict[str, list[dict[str, str]]]:
    """Rows of every cycle's batch file, keyed by file name."""
    rng = random.Random(seed)
    councils = sample_councils()
    performance = {c.code: rng.lognormvariate(0, 0.35) for c in councils}
    low_reporters = {c.code for c in councils if rng.random() < 0.02}
    gives_split = {c.code for c in councils if rng.random() < 0.6}
    files: dict[str, list[dict[str, str]]] = {}
    for year, programme_year in PROGRAMME_YEARS.items():
        active = _councils_in(year, councils)
        weights = {c.code: TIER_WEIGHT[c.tier] * c.population * (20 if c.code == "E09000001" else 1) for c in active}
        total_weight = sum(weights.values())
        target = BASELINE_GBP_THOUSANDS * ((1 + ANNUAL_TARGET_RATE) ** programme_year - 1)
        for return_type, factor in RETURN_TYPE_FACTOR.items():
            raw = {}
            for c in active:
                share = weights[c.code] / total_weight
                value = target * share * performance[c.code] * rng.lognormvariate(0, 0.1)
                raw[c.code] = value * (0.05 if c.code in low_reporters else 1)
            scale = target * factor / sum(raw.values())
            rows = []
            for c in active:
                value = round(raw[c.code] * scale, 1)
                row = {
                    "council_code": c.code,
                    "council_name": c.name,
                    "financial_year": year,
                    "return_type": return_type,
                    "ni179_value_gbp_thousands": f"{value:.1f}",
                    "revenue_gbp_thousands": "",
                    "capital_gbp_thousands": "",
                    "sr04_carry_over_gbp_thousands": "",
                    "submitted_date": _submitted_date(rng, year, return_type),
                    "comment": "",
                }
                if c.code in gives_split:
                    revenue = round(value * rng.uniform(0.7, 0.85), 1)
                    row["revenue_gbp_thousands"] = f"{revenue:.1f}"
                    row["capital_gbp_thousands"] = f"{value - revenue:.1f}"
                if rng.random() < 0.25:
                    row["sr04_carry_over_gbp_thousands"] = f"{value * rng.uniform(0.02, 0.2):.1f}"
                if c.code in low_reporters:
                    row["comment"] = "Savings programme delayed; gains expected to be recognised next year."
                rows.append(row)
            files[f"ni179_{year}_{return_type}.csv"] = rows
    files.update(_bad_files(files))
    return files


def _bad_files(files: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    """Two deliberately bad files, so the demo shows the quarantine path."""
    actual_2009_10 = files["ni179_2009-10_actual.csv"]
    correction = dict(actual_2009_10[10])
    correction["ni179_value_gbp_thousands"] = f"{float(correction['ni179_value_gbp_thousands']) * 1.05:.1f}"
    correction["submitted_date"] = "2010-08-16"
    correction["comment"] = "Corrected figure after audit."
    template = dict(correction, comment="")
    late_corrections = [
        correction,  # a good row: a resubmission that supersedes the July figure
        dict(template, council_code="E07999999", council_name="Unknown District Council"),
        dict(
            template,
            council_code=actual_2009_10[20]["council_code"],
            council_name=actual_2009_10[20]["council_name"],
            return_type="outturn",
        ),
        dict(
            template,
            council_code=actual_2009_10[30]["council_code"],
            council_name=actual_2009_10[30]["council_name"],
            ni179_value_gbp_thousands="£1,234.5",
        ),
        dict(template, council_code="PRE09-05", council_name="Cheshire County Council"),
    ]
    # The last Annual Efficiency Statement layout, sent in by mistake: no row fits template v1.
    old_layout = [
        {
            "authority": "Example Borough Council",
            "sector": "Corporate services",
            "workstream": "Procurement",
            "cashable_gain_gbp": "125000",
        },
        {
            "authority": "Example Borough Council",
            "sector": "Environmental services",
            "workstream": "Asset management",
            "cashable_gain_gbp": "40000",
        },
    ]
    return {"ni179_2009-10_actual_late_corrections.csv": late_corrections, "aes_backward_look_2007-08.csv": old_layout}


def generate_baselines(seed: int = 2008) -> list[dict[str, str]]:
    """2007-08 and 2004-05 baselines for every council of the programme, summing to the national figures.

    The 388 councils of 2007-08 share the national baseline by size; each 2009 unitary's baseline is
    its predecessors' restated (Cheshire County Council's split by its successors' population).
    """
    rng = random.Random(seed)
    councils = sample_councils()
    before = _councils_in("2008-09", councils)
    weights = {c.code: TIER_WEIGHT[c.tier] * c.population * (20 if c.code == "E09000001" else 1) for c in before}
    total_weight = sum(weights.values())
    totals = {code: BASELINE_GBP_THOUSANDS * weight / total_weight for code, weight in weights.items()}
    for row in _seed_rows("reorganisation_2009.csv"):
        successors = row["successor_gss_code"].split(";")
        population = {code: next(c.population for c in councils if c.code == code) for code in successors}
        for code in successors:
            share = population[code] / sum(population.values())
            totals[code] = totals.get(code, 0) + totals[row["predecessor_code"]] * share
    names = {c.code: c.name for c in councils}
    rows = []
    for code in sorted(totals):
        for year, total in (
            ("2004-05", totals[code] * SR04_BASELINE_GBP_THOUSANDS / BASELINE_GBP_THOUSANDS),
            ("2007-08", totals[code]),
        ):
            total *= rng.uniform(0.97, 1.03) if year == "2004-05" else 1
            revenue = round(total * REVENUE_SHARE_OF_BASELINE * rng.uniform(0.95, 1.05), 1)
            revenue = min(revenue, round(total, 1))
            rows.append(
                {
                    "council_code": code,
                    "council_name": names[code],
                    "baseline_year": year,
                    "revenue_gbp_thousands": f"{revenue:.1f}",
                    "capital_gbp_thousands": f"{round(total, 1) - revenue:.1f}",
                    "source": SAMPLE_SOURCE,
                }
            )
    return rows


def write_sample_baselines(folder: Path | None = None, seed: int = 2008) -> list[Path]:
    folder = folder or settings.landing_dir() / COUNCIL_BASELINES.name
    folder.mkdir(parents=True, exist_ok=True)
    return [_write(folder, "council_baselines_sample.csv", render_csv(generate_baselines(seed)))]


def render_csv(rows: list[dict[str, str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0].keys()), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def delivery_time(file_name: str) -> datetime:
    """When each sample file 'arrived': the close of its return window (corrections a little later)."""
    special = {
        "ni179_2009-10_actual_late_corrections.csv": datetime(2010, 8, 16, 9, 0, tzinfo=UTC),
        "aes_backward_look_2007-08.csv": datetime(2009, 6, 30, 9, 0, tzinfo=UTC),
        "council_baselines_sample.csv": datetime(2008, 9, 1, 9, 0, tzinfo=UTC),
    }
    if file_name in special:
        return special[file_name]
    _, year, return_type = file_name.removesuffix(".csv").split("_")
    start = int(year[:4])
    if return_type == "forecast":
        return datetime(start, 10, 31, 17, 0, tzinfo=UTC)
    return datetime(start + 1, 7, 31, 17, 0, tzinfo=UTC)


def _write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    # The landing folder is processed in order of arrival: date each file as it would have arrived.
    stamp = delivery_time(name).timestamp()
    os.utime(path, (stamp, stamp))
    return path


def write_sample_returns(folder: Path | None = None, seed: int = 2008) -> list[Path]:
    """Write the sample files into ``folder`` (the council returns landing folder by default)."""
    folder = folder or settings.landing_dir() / COUNCIL_RETURNS.name
    folder.mkdir(parents=True, exist_ok=True)
    return [_write(folder, name, render_csv(rows)) for name, rows in generate_returns(seed).items()]


if __name__ == "__main__":
    for path in write_sample_baselines() + write_sample_returns():
        print(path)
