"""Copy the reference data this project uses from ../shared/reference into dbt seeds.

A developer tool, run by hand when the upstream reference data changes; nothing reads
../shared at run or test time. It keeps only the columns the warehouse uses, renames them
to snake_case (dbt seeds and SQL want plain identifiers) and leaves every value as published.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO.parent / "shared" / "reference"
SEEDS = REPO / "dbt_project" / "seeds" / "reference"

REGISTER_COLUMNS = {
    "local-authority-code": "local_authority_code",
    "official-name": "official_name",
    "nice-name": "nice_name",
    "gss-code": "gss_code",
    "start-date": "start_date",
    "end-date": "end_date",
    "replaced-by": "replaced_by",
    "nation": "nation",
    "region": "region_name",
    "local-authority-type": "local_authority_type",
    "local-authority-type-name": "local_authority_type_name",
    "county-la": "county_la",
    "former-gss-codes": "former_gss_codes",
    "pop-2020": "population_2020",
}


def copy_columns(source: Path, target: Path, columns: dict[str, str], keep=lambda row: True) -> int:
    with source.open(newline="", encoding="utf-8") as fin, target.open("w", newline="", encoding="utf-8") as fout:
        writer = csv.DictWriter(fout, fieldnames=list(columns.values()), lineterminator="\n")
        writer.writeheader()
        count = 0
        for row in csv.DictReader(fin):
            if keep(row):
                writer.writerow({new: row[old] for old, new in columns.items()})
                count += 1
    return count


def main() -> int:
    if not SOURCE.is_dir():
        print(f"reference folder not found: {SOURCE}", file=sys.stderr)
        return 1
    SEEDS.mkdir(parents=True, exist_ok=True)
    n = copy_columns(
        SOURCE / "uk_local_authorities_mysociety.csv",
        SEEDS / "local_authority_register.csv",
        REGISTER_COLUMNS,
        keep=lambda row: row["nation"] == "England",
    )
    print(f"local_authority_register.csv: {n} rows")
    n = copy_columns(
        SOURCE / "ons_lad15_to_rgn15_lookup.csv",
        SEEDS / "ons_lad15_to_rgn15.csv",
        {"LAD15CD": "lad15_code", "LAD15NM": "lad15_name", "RGN15CD": "rgn15_code", "RGN15NM": "rgn15_name"},
    )
    print(f"ons_lad15_to_rgn15.csv: {n} rows")
    n = copy_columns(
        SOURCE / "ons_lad16_to_cty16_lookup.csv",
        SEEDS / "ons_lad16_to_cty16.csv",
        {"LAD16CD": "lad16_code", "LAD16NM": "lad16_name", "CTY16CD": "cty16_code", "CTY16NM": "cty16_name"},
    )
    print(f"ons_lad16_to_cty16.csv: {n} rows")

    # Abolished councils had no GSS code (GSS began in 2011): give each a stable project code,
    # PRE09-nn in the order of the published list, so returns can name them.
    with (SOURCE / "reorganisation_2009.csv").open(newline="", encoding="utf-8") as fin:
        rows = list(csv.DictReader(fin))
    with (SEEDS / "reorganisation_2009.csv").open("w", newline="", encoding="utf-8") as fout:
        fields = ["predecessor_code", *rows[0].keys()]
        writer = csv.DictWriter(fout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        for number, row in enumerate(rows, start=1):
            writer.writerow({"predecessor_code": f"PRE09-{number:02d}", **row})
    print(f"reorganisation_2009.csv: {len(rows)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
