"""Hostile content: markup in every text field, header and file name of every dataset, through the whole
pipeline (every DAG with dag.test()), and no HTML page under outputs/ gets an element, event handler or
javascript: URL from it. The payloads carry a marker (``xss179``) so the pages' own scripts and handlers
(GX's Data Docs have some) are told apart from anything the data brought."""

from __future__ import annotations

import csv
import io
import random
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import environment, folder_environment, run_dags_in_a_fresh_interpreter
from corpus import csv_bytes, drop

from efficiency_warehouse import local_airflow, warehouse
from efficiency_warehouse.cli import seed_landing_if_empty
from efficiency_warehouse.datasets import DATASETS, Dataset
from efficiency_warehouse.sample_riep_data import report_sections

MARKER = "xss179"
PAYLOADS = (
    f"<script>window.{MARKER}=1</script>",
    f"<img src=x onerror={MARKER}()>",
    f"<svg onload={MARKER}()>",
    f"javascript:{MARKER}()",
    f'" onmouseover="{MARKER}()" x="',
    f"' onfocus='{MARKER}()' autofocus x='",
    f'<a href="javascript:{MARKER}()">click</a>',
    # encoded and disguised variants: entities, percent-encoding, mixed case, a tab inside the scheme
    f"&lt;script&gt;window.{MARKER}=1&lt;/script&gt;",
    f"&#60;img src=x onerror={MARKER}()&#62;",
    f"%3Cscript%3Ewindow.{MARKER}%3D1%3C%2Fscript%3E",
    f"<ScRiPt>window.{MARKER}=1</sCrIpT>",
    f'<iframe src="jav&#x09;ascript:{MARKER}()"></iframe>',
    f'<object data="javascript:{MARKER}()"></object><embed src="x" onload="{MARKER}()">',
)
EMBEDDING_TAGS = {"iframe", "object", "embed"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}


def base_row(landing: Path, dataset: Dataset, part: Dataset) -> dict[str, str]:
    """A valid row for ``part``, from the sample files `make run` puts in the landing folder."""
    if dataset.sections:
        return report_sections("E12000001", "2009-10", random.Random(179))[part.name][0]
    for sample in sorted((landing / dataset.name).glob("*.csv")):
        rows = list(csv.DictReader(io.StringIO(sample.read_text(encoding="utf-8"))))
        if rows and set(part.required_columns) <= set(rows[0]) and all(rows[0][c] for c in part.required_columns):
            return rows[0]
    raise AssertionError(f"no sample CSV of {part.name} to start from")


def hostile_files(landing: Path) -> dict[str, list[tuple[str, bytes]]]:
    """Per dataset: for each part, one file with the payloads in every field (one row with every free-text
    field at once, so it loads and reaches the marts, then a row for each payload in each column), under
    a hostile file name; and one file whose header holds a payload, also under a hostile name."""
    files: dict[str, list[tuple[str, bytes]]] = {}
    for dataset in DATASETS.values():
        for part in dataset.parts:
            base = base_row(landing, dataset, part)
            free_text = [
                c.name
                for c in part.columns
                if c.sql_type == "text" and c.name not in part.key_columns and not c.allowed_values
            ]
            loads = [base | {name: PAYLOADS[i % len(PAYLOADS)] for i, name in enumerate(free_text)}]
            rows = [base | {name: payload} for name in part.column_names for payload in PAYLOADS]
            header = [*part.column_names, PAYLOADS[1]]
            files.setdefault(dataset.name, []).extend(
                [
                    (f"{part.name} free text <svg onload={MARKER}()>.csv", csv_bytes(part.column_names, loads)),
                    (f"{part.name} <svg onload={MARKER}()>.csv", csv_bytes(part.column_names, rows)),
                    (
                        f"javascript:{MARKER}() <img src=x onerror={MARKER}()> {part.name}.csv",
                        csv_bytes(header, [base]),
                    ),
                ]
            )
    return files


@pytest.fixture(scope="module")
def hostile_run(warehouse_database, airflow_metadata, tmp_path_factory):
    """Every DAG of the pipeline, in a child Python, Data Docs rendered, on the sample delivery (one RIEP
    report of the eight is enough for every page) plus the hostile files. A failed DAG run raises here."""
    root = tmp_path_factory.mktemp("hostile")
    with environment(BUILD_DATA_DOCS="1", **folder_environment(root)):
        assert seed_landing_if_empty() > 9  # a normal delivery beside the hostile one, so every page is built
        reports = sorted((root / "landing" / "riep_annual_reports").glob("*.xlsx"))
        for report in reports[1:]:
            report.unlink()
        names = []
        for dataset_name, files in hostile_files(root / "landing").items():
            for name, content in files:
                drop(root / "landing", DATASETS[dataset_name], name, content)
                names.append(name)
        run_dags_in_a_fresh_interpreter(local_airflow.PIPELINE_DAG_IDS, root / "pipeline-run.log")
        yield {"outputs": root / "outputs", "names": names}


class DataBornMarkup(HTMLParser):
    """Collects every element or attribute that carries the marker where a browser would act on it."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self._in_script = tag == "script"
        for name, value in attrs:
            value = value or ""
            if MARKER in name:
                self.found.append(f"<{tag}> attribute name {name!r}")
            elif MARKER in value and (name.startswith("on") or tag in {"script", "svg", "img", "iframe"}):
                self.found.append(f"<{tag} {name}={value!r}>")
            elif tag in EMBEDDING_TAGS and MARKER in value:
                self.found.append(f"<{tag} {name}={value!r}>")
            # browsers drop whitespace and control characters inside a URL's scheme
            elif name in URL_ATTRIBUTES and "".join(c for c in value if c > " ").lower().startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        self._in_script = False

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and MARKER in data:
            self.found.append(f"<script> holding {data[:80]!r}")


def test_the_pipeline_runs_through_the_hostile_files(hostile_run):
    with warehouse.connect() as conn:
        recorded = {name for (name,) in conn.execute("select file_name from ingest.load_manifest")}
        # Stored verbatim: the payloads are data, in the manifest and the quarantine as they came.
        quarantined = conn.execute(
            "select count(*) from ingest.quarantined_rows where offending_value like %s", (f"%<script>%{MARKER}%",)
        ).fetchone()[0]
        loaded_text = conn.execute(
            "select count(*) from ingest.load_manifest where file_name like '%% free text %%' and rows_loaded = 1"
        ).fetchone()[0]
    assert set(hostile_run["names"]) <= recorded
    assert quarantined > 0
    assert loaded_text > 0  # some payloads loaded as free text, on to the marts and the board pack


def test_no_html_page_under_outputs_has_markup_from_the_data(hostile_run):
    pages = sorted(hostile_run["outputs"].rglob("*.html"))
    gx_pages = [p for p in pages if "docs/gx/validations" in p.as_posix()]
    assert gx_pages, "no GX validation page was built"
    # The payloads did reach the pages (as harmless text): otherwise this test proves nothing.
    assert any(MARKER in page.read_text(encoding="utf-8") for page in gx_pages)
    found = {}
    for page in pages:
        parser = DataBornMarkup()
        parser.feed(page.read_text(encoding="utf-8"))
        if parser.found:
            found[str(page.relative_to(hostile_run["outputs"]))] = parser.found[:3]
    assert found == {}


def test_the_pages_the_project_writes_carry_a_content_security_policy(hostile_run):
    outputs = hostile_run["outputs"]
    pages = [outputs / "index.html", *sorted((outputs / "board_packs").glob("*.html"))]
    assert len(pages) > 6, "the index, the packs' index and a pack per cycle"
    for page in pages:
        head = page.read_text(encoding="utf-8").split("</head>", 1)[0]
        assert '<meta http-equiv="Content-Security-Policy"' in head, page.name
        assert "script-src 'none'" in head and "default-src 'none'" in head, page.name
