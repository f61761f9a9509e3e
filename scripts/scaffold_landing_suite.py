"""Write a first landing suite for a dataset from its template, to edit and commit (a developer tool).

The committed JSON under expectations/ is the source of the rules; this only saves typing the
routine ones (header, required, allowed values, number and date formats, one row per key).
Usage: PYTHONPATH=plugins python scripts/scaffold_landing_suite.py DATASET_OR_SECTION [--force]
"""

from __future__ import annotations

import json
import sys

from efficiency_warehouse import settings
from efficiency_warehouse.datasets import DATASETS

PARAMETER_SETS = {"region_code": "known_riep_region_codes", "financial_year": "programme_years"}
PARAMETER_SETS_MESSAGES = {
    "region_code": "is not the region code of a RIEP: use E12000001 (North East) to E12000009 (South West)",
    "financial_year": "is not a year of the CSR07 programme: use 2008-09, 2009-10 or 2010-11",
    "commitment_id": "is not a commitment in the register (reference.simplification_commitments)",
}
POSITIVE = {"amount_gbp_thousands"}


def expectation(kind: str, kwargs: dict, rule: str, message: str, severity: str = "critical") -> dict:
    return {"type": kind, "kwargs": kwargs, "severity": severity, "meta": {"rule": rule, "message": message}}


def landing_suite(part, sheet_hint: str) -> dict:
    names = part.column_names
    rules = [
        expectation(
            "expect_table_columns_to_match_set",
            {"column_set": names, "exact_match": True},
            "template_columns",
            f"The header does not fit the {part.name} template v{part.template_version}{sheet_hint}: missing required "
            "columns: {missing}; unknown columns: {unexpected}. Fix the header row and send the file again.",
        )
    ]
    for column in part.columns:
        name = column.name
        if column.required:
            rules.append(
                expectation(
                    "expect_column_values_to_not_be_null",
                    {"column": name},
                    f"{name}_present",
                    f"{name} is empty; it is required ({column.description}).",
                )
            )
        if name in PARAMETER_SETS or name == "commitment_id":
            parameter = PARAMETER_SETS.get(name, "known_commitment_ids")
            rules.append(
                expectation(
                    "expect_column_values_to_be_in_set",
                    {"column": name, "value_set": {"$PARAMETER": parameter}},
                    f"{name}_known",
                    f"{name} '{{value}}' {PARAMETER_SETS_MESSAGES[name]}.",
                )
            )
        elif column.allowed_values:
            rules.append(
                expectation(
                    "expect_column_values_to_be_in_set",
                    {"column": name, "value_set": list(column.allowed_values)},
                    f"{name}_allowed",
                    f"{name} '{{value}}' is not allowed: use {', '.join(column.allowed_values)}.",
                )
            )
        elif column.sql_type.startswith("numeric"):
            positive = name in POSITIVE
            regex = "^(?!0+(?:\\.0)?$)[0-9]{1,12}(?:\\.[0-9])?$" if positive else "^[0-9]{1,12}(?:\\.[0-9])?$"
            rules.append(
                expectation(
                    "expect_column_values_to_match_regex",
                    {"column": name, "regex": regex},
                    f"{name}_is_{'positive' if positive else 'number'}",
                    f"{name} '{{value}}' is not a plain {'positive' if positive else 'non-negative'} number of "
                    "£ thousands with at most one decimal place (no £ sign, commas or spaces).",
                )
            )
        elif column.sql_type == "integer":
            rules.append(
                expectation(
                    "expect_column_values_to_match_regex",
                    {"column": name, "regex": "^[0-9]{1,6}$"},
                    f"{name}_is_whole_number",
                    f"{name} '{{value}}' is not a whole number.",
                )
            )
        elif column.sql_type == "date":
            rules.append(
                expectation(
                    "expect_column_values_to_match_strftime_format",
                    {"column": name, "strftime_format": "%Y-%m-%d"},
                    f"{name}_is_date",
                    f"{name} '{{value}}' is not a date written YYYY-MM-DD.",
                )
            )
    key = list(part.key_columns)
    rules.append(
        expectation(
            "expect_compound_columns_to_be_unique",
            {"column_list": key},
            "one_row_per_key",
            f"The file has more than one row for {', '.join(key)} '{{value}}': keep one row each and send it again.",
        )
    )
    return {
        "name": part.landing_suite,
        "meta": {
            "dataset": part.name,
            "stage": "landing",
            "template_version": part.template_version,
            "about": "Rules on the rows as received, every cell text. Scaffolded by scripts/scaffold_landing_suite.py.",
        },
        "expectations": rules,
    }


def main(argv: list[str]) -> int:
    wanted, force = argv[0], "--force" in argv
    parts = {part.name: part for dataset in DATASETS.values() for part in dataset.parts}
    part = parts[wanted]
    sheet_hint = f" ({part.landing_sheet} sheet)" if part.landing_sheet else ""
    path = settings.expectations_dir() / f"{part.landing_suite}.json"
    if path.exists() and not force:
        print(f"{path} exists: not overwritten (--force to replace)")
        return 1
    path.write_text(json.dumps(landing_suite(part, sheet_hint), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
