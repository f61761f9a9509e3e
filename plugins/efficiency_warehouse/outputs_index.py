"""outputs/index.html: one page linking everything a run produced, for people who open files."""

from __future__ import annotations

import html
import json
import urllib.parse
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from efficiency_warehouse import settings

SECTIONS = (
    (
        "Treasury releases",
        "releases",
        "One folder per return cycle; each version is immutable "
        "(CSV, CSV on the Web metadata, manifest, SHA256SUMS, revisions log).",
    ),
    (
        "ICE Board packs",
        "board_packs/index.html",
        "Charts for each cycle: national and regional position against the 3% path, "
        "returns, RIEP funding, simplification.",
    ),
    (
        "dbt docs",
        "docs/dbt/index.html",
        "Every model and column of the warehouse, with lineage; one self-contained page.",
    ),
    (
        "Great Expectations Data Docs",
        "docs/gx/index.html",
        "The quality gates' suites and the results of the latest validations.",
    ),
    (
        "Templates for councils and RIEPs",
        "templates",
        "Blank XLSX workbooks (with a data dictionary sheet) and CSV headers.",
    ),
    ("Extracts", "extracts", "The national position, all cycles, as one CSV."),
    ("Log of the last make run", "logs/pipeline-run.log", "Airflow and dbt output in full."),
)


def write_index(outputs: Path | None = None, held_for_review: list[dict] | None = None) -> Path:
    """The page; ``held_for_review`` (review.pending()'s items, read when the page is written) heads it."""
    outputs = outputs or settings.outputs_dir()
    items = [_held_for_review_section(held_for_review or [])]
    for title, target, about in SECTIONS:
        path = outputs / target
        if path.is_dir():
            children = sorted(p for p in path.iterdir() if not p.name.startswith("."))
            listing = "".join(
                f'<li><a href="{html.escape(target)}/{html.escape(p.name)}">{html.escape(p.name)}</a></li>'
                for p in children
            )
            body = f"<ul>{listing}</ul>" if children else "<p><em>nothing yet</em></p>"
            link = html.escape(title)
        elif path.exists():
            link, body = f'<a href="{html.escape(target)}">{html.escape(title)}</a>', ""
        else:
            link, body = html.escape(title), "<p><em>not produced by this run</em></p>"
        items.append(f"<section><h2>{link}</h2><p>{html.escape(about)}</p>{body}</section>")
    items.append(_validations_section(outputs))  # last: it can be 200 rows long
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"{settings.CSP_META}<title>Efficiency warehouse outputs</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "h2{margin-bottom:.2rem}section{border-top:1px solid #ddd;padding:.5rem 0}"
        "td,th{text-align:left;padding:.1rem .8rem .1rem 0}</style></head><body>"
        "<h1>National efficiency-returns warehouse: outputs</h1>" + "".join(items) + "</body></html>\n"
    )
    index = outputs / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(page, encoding="utf-8")
    return index


VALIDATIONS_LISTED = 200
GX_VALIDATION_PAGES = "docs/gx/validations"


def _validations_section(outputs: Path) -> str:
    """Every validation the quality gates ran, newest first, linked to its Data Docs page. GX's own index
    builds its table with scripts from CDNs, so on a machine without internet access it lists nothing;
    this list, and the pages it links to, need none."""
    as_at = datetime.now(UTC).strftime("%d %B %Y %H:%M UTC")
    results_dir = settings.validation_results_dir()
    validations = []
    for path in results_dir.rglob("*.json") if results_dir.is_dir() else ():
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # one being written this moment
        key = path.relative_to(results_dir).with_suffix("").as_posix()
        validations.append((str(result.get("meta", {}).get("validation_time", "")), key, result))
    validations.sort(reverse=True)
    rows = []
    for validated_at, key, result in validations[:VALIDATIONS_LISTED]:
        statistics = result.get("statistics", {})
        outcome = "passed" if result.get("success") else "FAILED"
        counts = f"{statistics.get('successful_expectations', '?')} of {statistics.get('evaluated_expectations', '?')}"
        suite = html.escape(str(result.get("suite_name", key.split("/")[0])))
        page = f"{GX_VALIDATION_PAGES}/{key}.html"
        if (outputs / page).exists():
            suite = f'<a href="{html.escape(urllib.parse.quote(page))}">{suite}</a>'
        rows.append(
            f"<tr><td>{html.escape(validated_at[:19].replace('T', ' '))} UTC</td><td>{suite}</td>"
            f"<td>{outcome}</td><td>{html.escape(counts)} rules</td></tr>"
        )
    if not rows:
        return f"<section><h2>Quality gate validations</h2><p>None yet, as at {as_at}.</p></section>"
    older = len(validations) - len(rows)
    shown = f", the {len(rows)} newest ({older} older in {GX_VALIDATION_PAGES}/)" if older else ""
    return (
        f"<section><h2>Quality gate validations: {len(validations)}</h2>"
        f"<p>As at {as_at}, newest first{shown}."
        " Each links to its Data Docs page (the rules, and the values that failed them), which opens"
        " without internet access; the Data Docs index above needs it to list them.</p>"
        "<table><tr><th>Validated at</th><th>Suite (dataset and stage)</th><th>Result</th><th>Rules met</th></tr>"
        + "".join(rows)
        + "</table></section>"
    )


def _held_for_review_section(items: list[dict]) -> str:
    as_at = datetime.now(UTC).strftime("%d %B %Y %H:%M UTC")
    if not items:
        return f"<section><h2>Returns held for review</h2><p>None, as at {as_at}.</p></section>"
    by_cycle = Counter(f"{item['financial_year']} {item['return_type']}" for item in items)
    listing = "".join(f"<li>{html.escape(cycle)}: {count}</li>" for cycle, count in sorted(by_cycle.items()))
    return (
        f"<section><h2>Returns held for review: {len(items)} pending</h2>"
        f"<p>As at {as_at}. Each is loaded but held out of the marts and the Treasury releases until an"
        " engineer decides: the council's previous return stands, or it counts as missing.</p>"
        f"<ul>{listing}</ul>"
        "<p>List them with <code>make review</code>; decide each with <code>python -m"
        " efficiency_warehouse.review confirm|reject ID --by NAME --reason TEXT</code>, or trigger the"
        " <code>review_decision</code> DAG from Airflow's UI with the same fields. The next run uses the"
        " decision.</p></section>"
    )
