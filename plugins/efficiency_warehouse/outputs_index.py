"""outputs/index.html: one page linking everything a run produced, for people who open files."""

from __future__ import annotations

import html
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


def write_index(outputs: Path | None = None) -> Path:
    outputs = outputs or settings.outputs_dir()
    items = []
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
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Efficiency warehouse outputs</title>'
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "h2{margin-bottom:.2rem}section{border-top:1px solid #ddd;padding:.5rem 0}</style></head><body>"
        "<h1>National efficiency-returns warehouse: outputs</h1>" + "".join(items) + "</body></html>\n"
    )
    index = outputs / "index.html"
    index.parent.mkdir(parents=True, exist_ok=True)
    index.write_text(page, encoding="utf-8")
    return index
