"""The movement gate: a new release version may not move a published total far by councils' own figures
unless someone has looked at the councils that moved it.

Before a cycle's next version is written, each council's figure is compared with the last published
version of the same cycle. Where the councils whose figures changed move the national total by more
than NATIONAL_MOVEMENT_LIMIT, or a region's by more than REGIONAL_MOVEMENT_LIMIT, every one of them
must have a confirmed review item for the row that now stands. Those without one get a pending item
(rule ``moved_a_published_total``), so the same `make review` decides them, and the publication is
blocked naming them. A pending row is held out of the release marts (int_council_returns_deduplicated):
on the next run the previous figure stands again. Movements from reference-data corrections (a council
moved to another region, a new baseline) are not council figures: they are reviewed where they are
recorded, in seed reference_data_corrections, and the release's reason names them.

The release's notes (its manifest and revisions log) name the review decisions behind its figures:
each confirmed item whose row stands in it, and each item still held out of it.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from efficiency_warehouse import warehouse
from efficiency_warehouse.datasets import COUNCIL_RETURNS

NATIONAL_MOVEMENT_LIMIT = Decimal("0.05")  # 5% of England's total: about £150m on a £3bn year
REGIONAL_MOVEMENT_LIMIT = Decimal("0.10")  # 10% of a region's total
MOVED_A_PUBLISHED_TOTAL = "moved_a_published_total"


@dataclass(frozen=True)
class Movement:
    area: str
    previous_gbp_millions: Decimal
    shift_gbp_millions: Decimal
    limit: Decimal
    councils: tuple[str, ...]

    def describe(self) -> str:
        share = (
            f"{self.shift_gbp_millions / self.previous_gbp_millions:+.1%}" if self.previous_gbp_millions else "from £0m"
        )
        return (
            f"{self.area} total moved by £{self.shift_gbp_millions:+,.1f}m on £{self.previous_gbp_millions:,.1f}m"
            f" ({share}, limit {self.limit:.0%})"
        )


def movements_beyond_limits(previous: Path, council_frame: pd.DataFrame) -> list[Movement]:
    """The areas whose published totals the councils' changed figures move beyond the limits."""
    old_values = {row["council_code"]: _decimal(row["ni179_value_gbp_thousands"]) for row in _csv(previous, "council")}
    moved: dict[str, tuple[Decimal, str]] = {}  # council -> (change in £ thousands, its region now)
    for row in council_frame.to_dict("records"):
        change = _decimal(row["ni179_value_gbp_thousands"]) - old_values.pop(row["council_code"], Decimal(0))
        if change:
            moved[row["council_code"]] = (change, row["region_code"] or "")
    for code, value in old_values.items():  # a council no longer in the release
        if value:
            moved[code] = (-value, "")
    if not moved:
        return []

    national = _csv(previous, "national")
    areas = [("England", _decimal(national[0]["reported_gains_gbp_millions"]) if national else Decimal(0), None)]
    areas += [
        (f"{r['region_name']} ({r['region_code']})", _decimal(r["reported_gains_gbp_millions"]), r["region_code"])
        for r in _csv(previous, "regional")
    ]
    found = []
    for area, previous_total, region in areas:
        limit = NATIONAL_MOVEMENT_LIMIT if region is None else REGIONAL_MOVEMENT_LIMIT
        councils = sorted(code for code, (_, in_region) in moved.items() if region is None or in_region == region)
        shift = sum((moved[code][0] for code in councils), Decimal(0)) / 1000
        if councils and (abs(shift) > limit * abs(previous_total) if previous_total else shift != 0):
            found.append(Movement(area, previous_total, shift, limit, tuple(councils)))
    return found


def unconfirmed_councils(cycle, councils: set[str]) -> dict[str, str]:
    """Councils among ``councils`` whose standing return for the cycle has no confirmed review item,
    with what the engineer should do; each gets a pending item (once) so `make review` lists it."""
    with warehouse.connect() as conn:
        standing = conn.execute(
            """
            select returns.council_code, returns.manifest_id, returns.source_row_number,
                   returns.ni179_value_gbp_thousands::text, items.review_id, items.decision
            from intermediate.int_council_returns_deduplicated as returns
            left join ingest.review_items as items using (manifest_id, source_row_number)
            where returns.financial_year = %s and returns.return_type = %s and returns.council_code = any(%s)
            """,
            (cycle.financial_year, cycle.return_type, sorted(councils)),
        ).fetchall()
        outstanding: dict[str, str] = {}
        for code, manifest_id, row_number, value, review_id, decision in standing:
            if decision == "confirmed":
                continue
            if review_id is None:
                review_id = conn.execute(
                    """
                    insert into ingest.review_items (manifest_id, dataset, source_row_number, council_code,
                                                     financial_year, return_type, value_received, rules)
                    values (%s, %s, %s, %s, %s, %s, %s, %s)
                    on conflict (manifest_id, source_row_number) do nothing
                    returning review_id
                    """,
                    (
                        manifest_id,
                        COUNCIL_RETURNS.name,
                        row_number,
                        code,
                        cycle.financial_year,
                        cycle.return_type,
                        value,
                        [MOVED_A_PUBLISHED_TOTAL],
                    ),
                ).fetchone()[0]
            outstanding[code] = f"{code} (£{Decimal(value):,.1f}k; review item {review_id})"
        for code in councils - {row[0] for row in standing}:
            outstanding[code] = f"{code} (no return of its own stands: its figure changed through the reference data)"
    return outstanding


def review_notes(cycle) -> dict[str, list[dict[str, Any]]]:
    """For the release's manifest: the confirmed items whose rows stand in its figures, and the items
    held out of them (pending a decision, or rejected)."""
    with warehouse.connect() as conn:
        cursor = conn.execute(
            """
            select items.review_id, items.council_code, items.value_received, array_to_string(items.rules, ', '),
                   items.decision, items.decided_by, items.decided_at, items.decision_reason,
                   manifest.file_name, standing.manifest_id is not null as stands
            from ingest.review_items as items
            join ingest.load_manifest as manifest using (manifest_id)
            left join intermediate.int_council_returns_deduplicated as standing
                using (manifest_id, source_row_number)
            where items.financial_year = %s and items.return_type = %s
            order by items.review_id
            """,
            (cycle.financial_year, cycle.return_type),
        )
        rows = cursor.fetchall()
    notes: dict[str, list[dict[str, Any]]] = {"confirmed": [], "held_out": []}
    for review_id, code, value, rules, decision, by, at, reason, file_name, stands in rows:
        item = {"review_id": review_id, "council_code": code, "value_gbp_thousands": value, "rules": rules}
        item |= {"file": file_name, "decision": decision}
        if decision != "pending":
            item |= {"decided_by": by, "decided_at": at.isoformat(), "reason": reason}
        if decision == "confirmed" and stands:
            notes["confirmed"].append(item)
        elif decision != "confirmed":
            notes["held_out"].append(item)
    return notes


def describe_new_confirmations(notes: dict[str, list[dict[str, Any]]], previous_manifest: dict | None) -> str:
    """The revisions log's words for confirmations this version is the first to carry."""
    already = {item["review_id"] for item in (previous_manifest or {}).get("review", {}).get("confirmed", [])}
    new = [item for item in notes["confirmed"] if item["review_id"] not in already]
    return "; ".join(
        f"{item['council_code']}'s £{Decimal(item['value_gbp_thousands']):,.1f}k confirmed on review"
        f" (item {item['review_id']}, {item['decided_by']}: {item['reason']})"
        for item in new
    )


def _csv(version: Path, table: str) -> list[dict[str, str]]:
    with (version / f"{table}_efficiency.csv").open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value in (None, "") or (isinstance(value, float) and pd.isna(value)) else Decimal(str(value))
