"""The review queue: loaded rows whose warning could move a published total wait for a decision.

A council return flagged by one of its dataset's ``held_for_review`` rules (too big for the council,
an actual far below its own forecast, a cumulative figure that fell, a resubmission far from the
return it replaces) is loaded, so nothing is lost, and gets a review item in ``ingest.review_items``;
so does a row the publication's movement gate names (``movement_gate``). Until an engineer confirms
it, the row is held out of the marts that feed releases (``int_council_returns_deduplicated``): the
council's latest submission that is not held stands, or, if there is none, the council counts as
missing. A rejected
row stays in the warehouse's history and never reaches those marts; a confirmed one goes through on
the next build.
"""

from __future__ import annotations

import argparse
import sys

import psycopg
from psycopg import sql

from efficiency_warehouse import warehouse
from efficiency_warehouse.datasets import Dataset

DECISIONS = ("confirmed", "rejected")


class ReviewError(ValueError):
    pass


def hold_for_review(conn: psycopg.Connection, dataset: Dataset, manifest_id: int) -> int:
    """Open a review item for each row of this file that a held rule flagged; in the load's transaction."""
    if not dataset.held_for_review:
        return 0
    cursor = conn.execute(
        sql.SQL(
            """
            insert into ingest.review_items (manifest_id, dataset, source_row_number, council_code,
                                             financial_year, return_type, value_received, rules)
            select manifest_id, %(dataset)s, source_row_number, council_code, financial_year, return_type,
                   ni179_value_gbp_thousands::text,
                   array(select unnest(validation_warnings) intersect select unnest(%(held)s::text[]) order by 1)
            from {raw}
            where manifest_id = %(manifest_id)s and validation_warnings && %(held)s::text[]
            """
        ).format(raw=sql.Identifier(*dataset.raw_table.split("."))),
        {"dataset": dataset.name, "held": list(dataset.held_for_review), "manifest_id": manifest_id},
    )
    return cursor.rowcount


def pending(conn: psycopg.Connection) -> list[dict]:
    cursor = conn.execute(
        """
        select items.review_id, items.council_code, items.financial_year, items.return_type,
               items.value_received, items.rules, manifest.file_name, items.held_at
        from ingest.review_items as items
        join ingest.load_manifest as manifest using (manifest_id)
        where items.decision = 'pending'
        order by items.review_id
        """
    )
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def decide(conn: psycopg.Connection, review_id: int, decision: str, decided_by: str, reason: str) -> None:
    """Record a decision on a pending item: who, when, why. A decision is final: a later file corrects."""
    if decision not in DECISIONS:
        raise ReviewError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    if not decided_by.strip() or not reason.strip():
        raise ReviewError("say who decides and why: both are kept with the decision")
    row = conn.execute(
        """
        update ingest.review_items
        set decision = %s, decided_by = %s, decided_at = now(), decision_reason = %s
        where review_id = %s and decision = 'pending'
        returning review_id
        """,
        (decision, decided_by.strip(), reason.strip(), review_id),
    ).fetchone()
    if row is None:
        found = conn.execute("select decision from ingest.review_items where review_id = %s", (review_id,)).fetchone()
        raise ReviewError(
            f"review item {review_id} does not exist"
            if found is None
            else f"review item {review_id} was already {found[0]}: send a corrected file instead"
        )


def main(argv: list[str] | None = None) -> int:
    """`python -m efficiency_warehouse.review list | confirm ID | reject ID --by NAME --reason TEXT`."""
    parser = argparse.ArgumentParser(
        prog="python -m efficiency_warehouse.review",
        description="Returns held for review: list the pending ones, confirm or reject one (who and why are kept).",
    )
    actions = parser.add_subparsers(dest="action", required=True)
    actions.add_parser("list", help="the items waiting for a decision")
    for action, effect in (("confirm", "lets the figure through"), ("reject", "keeps it out for good")):
        decide_parser = actions.add_parser(action, help=f"{action} an item: {effect} on the next build")
        decide_parser.add_argument("review_id", type=int, help="the item's number, as `list` shows it")
        decide_parser.add_argument("--by", required=True, help="who decides")
        decide_parser.add_argument("--reason", required=True, help="why: kept with the decision")
    args = parser.parse_args(argv)
    with warehouse.connect() as conn:
        if args.action == "list":
            print(render_pending(pending(conn)))
            return 0
        decision = {"confirm": "confirmed", "reject": "rejected"}[args.action]
        try:
            decide(conn, args.review_id, decision, args.by, args.reason)
        except ReviewError as error:
            print(f"not recorded: {error}", file=sys.stderr)
            return 2
    print(f"review item {args.review_id} {decision}; the next build of the marts (warehouse_transform) uses it")
    return 0


def render_pending(items: list[dict]) -> str:
    if not items:
        return "No returns are held for review."
    lines = [f"{len(items)} returns held for review (confirm or reject each, with --by and --reason):"]
    lines.append(f"  {'id':>5}  {'council':10} {'year':8} {'return':9} {'value £k':>14}  {'rules':32} file")
    for item in items:
        lines.append(
            f"  {item['review_id']:>5}  {item['council_code']:10} {item['financial_year']:8} {item['return_type']:9}"
            f" {item['value_received'] or '':>14}  {', '.join(item['rules']):32} {item['file_name']}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
