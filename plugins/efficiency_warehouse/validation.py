"""Great Expectations gate: run a committed suite over a file's rows, turn failures into findings.

Suites are JSON under expectations/ (one per dataset and stage) and are the single source of the
rules. Reference sets (known councils, programme years) come in as suite parameters at run time.
Each expectation's ``meta`` names its ``rule`` and carries a ``message`` a person can act on;
its ``severity`` decides the outcome: ``critical`` stops the row (or the file, for table-level
expectations), ``warning`` loads the row with the rule recorded against it. A rule whose ``meta``
lists ``depends_on`` (rules it presumes passed) says nothing about a row one of those already
failed: one message per problem, not a cascade of consequences.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pandas as pd

from efficiency_warehouse import settings

# GX logs progress bars and usage statistics; neither belongs in task logs.
logging.getLogger("great_expectations").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Finding:
    rule: str
    severity: str  # "error" stops the row or file, "warning" loads it flagged
    message: str
    row_number: int | None  # None: the finding is about the whole file
    column: str | None
    value: str | None


@dataclass(frozen=True)
class ValidationOutcome:
    suite_name: str
    findings: tuple[Finding, ...]

    @property
    def file_errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "error" and f.row_number is None]

    def rows_with_errors(self) -> set[int]:
        return {f.row_number for f in self.findings if f.severity == "error" and f.row_number is not None}

    def warnings_by_row(self) -> dict[int, list[str]]:
        warnings: dict[int, list[str]] = {}
        for finding in self.findings:
            if finding.severity == "warning" and finding.row_number is not None:
                warnings.setdefault(finding.row_number, []).append(finding.rule)
        return warnings


def data_docs_dir() -> Path:
    """Where GX writes its Data Docs: every validation stored under settings.validation_results_dir()."""
    return settings.outputs_dir() / "docs" / "gx"


def write_whole(path: str | os.PathLike, content: bytes) -> None:
    """Write ``path`` as a temporary file (``.<name>.*.partial``) renamed over it: a reader never sees half
    of it. Also the releases' revisions log (publish.py)."""
    folder, name = os.path.split(path)
    os.makedirs(folder, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{name}.", suffix=".partial")
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def _atomic_filesystem_backend():
    from great_expectations.data_context.store.tuple_store_backend import TupleFilesystemStoreBackend

    class AtomicFilesystemStoreBackend(TupleFilesystemStoreBackend):
        """GX's filesystem store, writing each file whole: tasks on several workers store validation
        results and write the Data Docs pages (the index too) into the same folders at the same time."""

        def _set(self, key, value, **kwargs):
            key = key if isinstance(key, tuple) else key.to_tuple()
            path = os.path.join(self.full_base_directory, self._convert_key_to_filepath(key))  # noqa: PTH118
            write_whole(path, value.encode("utf-8") if isinstance(value, str) else value)
            return path

    return AtomicFilesystemStoreBackend


# What this process has added to the Data Docs folder's stores and not yet rendered: its own
# validations and the suites they used. Other processes render their own; the index lists them all.
_unrendered: dict[str, set] = {}


@lru_cache(maxsize=4)
def _context(docs_dir: str, results_dir: str):
    """A GX context whose validation results live in files (settings.validation_results_dir()), so the
    Data Docs rendered by any task list every task's validations; the committed suites are loaded from
    expectations/ and everything else stays in memory (nothing else needs to outlive the task)."""
    # Imported here: GX takes seconds to import, and DAG files must parse fast.
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    backend = _atomic_filesystem_backend()
    globals()[backend.__name__] = backend  # GX instantiates store backends by module and class name
    location = {"module_name": __name__, "class_name": backend.__name__}
    defaults = InMemoryStoreBackendDefaults()
    stores = defaults.stores
    stores[defaults.validation_results_store_name]["store_backend"] = location | {"base_directory": results_dir}
    config = DataContextConfig(
        stores=stores,
        expectations_store_name=defaults.expectations_store_name,
        validation_results_store_name=defaults.validation_results_store_name,
        checkpoint_store_name=defaults.checkpoint_store_name,
        data_docs_sites={
            "warehouse": {
                "class_name": "SiteBuilder",
                "store_backend": location | {"base_directory": docs_dir},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(project_config=config, mode="ephemeral")
    for path in sorted(settings.expectations_dir().glob("*.json")):
        context.suites.add(gx.ExpectationSuite(**json.loads(path.read_text(encoding="utf-8"))))
    batch_definition = (
        context.data_sources.add_pandas("files")
        .add_dataframe_asset("received_rows")
        .add_batch_definition_whole_dataframe("whole_file")
    )
    _unrendered[docs_dir] = set()
    return context, batch_definition


def _current_context():
    return _context(str(data_docs_dir()), str(settings.validation_results_dir()))


def _checkpoint(suite_name: str):
    """One checkpoint per suite, run with each file's rows; its results are stored for the Data Docs."""
    import great_expectations as gx

    context, batch_definition = _current_context()
    suite = context.suites.get(suite_name)
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch_definition, suite=suite)
    )
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite_name,
            validation_definitions=[definition],
            actions=[],  # Data Docs are built once per batch of files: build_data_docs()
            result_format={"result_format": "COMPLETE"},
        )
    )


def build_data_docs() -> Path:
    """Render this process's new validations (and the suites they used), then the index of every
    validation stored; returns the index page.

    Only this process's own are rendered: the other processes render theirs, and re-rendering every
    stored result made each call slower than the last.
    """
    if not settings.data_docs_enabled():
        return data_docs_dir() / "index.html"
    context, _ = _current_context()
    new = _unrendered[str(data_docs_dir())]
    if new:  # an empty list would mean "render everything" to GX
        context.build_data_docs(resource_identifiers=sorted(new, key=str))
        new.clear()
    return data_docs_dir() / "index.html"


# GX 1.24 renders unexpected values and column names into the Data Docs unescaped in places (the
# unexpected-values tables): a cell holding "<script>" ran in the engineer's browser. GX is shown the data
# with the five HTML-special characters swapped for look-alikes no browser reads as markup: ‹ › ⅋ ʺ ʹ for
# < > & " '. They are in the common Latin fonts (DejaVu, Liberation, the system fonts), so the page still
# shows what the council typed; full-width forms needed CJK fonts and showed as empty boxes. One character
# for one, so lengths, regexes and the code value sets (codes never hold these characters) judge exactly
# what they judged before; the findings quote the original frame and header names, so nothing stored changes.
_MARKUP_FREE = str.maketrans({"<": "\u2039", ">": "\u203a", "&": "\u214b", '"': "\u02ba", "'": "\u02b9"})


def markup_free(value: Any) -> Any:
    """``value`` as GX may show it: text with no HTML-special character; anything else unchanged."""
    return value.translate(_MARKUP_FREE) if isinstance(value, str) else value


def _markup_free_frame(frame: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, str]]:
    """The frame GX sees, and its column names back to the file's own."""
    names = {markup_free(str(column)): column for column in frame.columns}
    shown = frame.rename(columns=lambda column: markup_free(str(column)))
    for column in shown.columns:
        if shown[column].dtype == object or pd.api.types.is_string_dtype(shown[column]):
            shown[column] = shown[column].map(markup_free)
    return shown, names


def validate_rows(frame: pd.DataFrame, suite_name: str, parameters: dict[str, Any]) -> ValidationOutcome:
    """Validate ``frame`` (indexed by source row number) against a committed suite."""
    shown, original_names = _markup_free_frame(frame)
    run = _checkpoint(suite_name).run(batch_parameters={"dataframe": shown}, expectation_parameters=parameters)
    [(result_key, result)] = run.run_results.items()
    _unrendered[str(data_docs_dir())].update({result_key, result_key.expectation_suite_identifier})
    findings: list[Finding] = []
    depends_on: dict[str, list[str]] = {}
    for expectation_result in result.results:
        if expectation_result.success:
            continue
        config = expectation_result.expectation_config
        if any(column not in frame.columns for column in _columns_of(config.kwargs)):
            continue  # a column the file lacks: the table-level column check reports it once
        meta = config.meta or {}
        rule = meta.get("rule", config.type)
        depends_on[rule] = meta.get("depends_on", [])
        severity = "warning" if str(config.severity.value) == "warning" else "error"
        template = meta.get("message", f"failed {config.type}")
        if expectation_result.exception_info and expectation_result.exception_info.get("raised_exception"):
            raise RuntimeError(
                f"expectation {rule} in suite {suite_name} could not run: "
                f"{expectation_result.exception_info.get('exception_message')}"
            )
        details = expectation_result.result or {}
        column = ", ".join(_columns_of(config.kwargs)) or None
        if "unexpected_index_list" in details:
            # The offending values come from the frame itself: GX lists every failing index under
            # COMPLETE, but caps the list of values it returns beside them.
            indices = [int(index) for index in details["unexpected_index_list"]]
            columns = _columns_of(config.kwargs)
            values = frame.loc[indices, columns].itertuples(index=False, name=None)
            for index, value in zip(indices, values, strict=True):
                shown = _show(value[0] if len(value) == 1 else value)
                findings.append(
                    Finding(rule, severity, template.format(value=shown, column=column), index, column, shown)
                )
        else:
            mismatched = (details.get("details") or {}).get("mismatched") or {}
            facts = {
                "missing": ", ".join(mismatched.get("missing") or []) or "none",
                "unexpected": ", ".join(original_names.get(c, c) for c in mismatched.get("unexpected") or []) or "none",
                "observed": _show(_original_names(details.get("observed_value"), original_names)),
            }
            findings.append(
                Finding(
                    rule, severity, template.format(column=column, value=facts["observed"], **facts), None, column, None
                )
            )
    return ValidationOutcome(suite_name, tuple(_without_consequences(findings, depends_on)))


def _without_consequences(findings: list[Finding], depends_on: dict[str, list[str]]) -> list[Finding]:
    """Drop a row's finding when a rule it depends on already failed on that row."""
    failed = {(f.rule, f.row_number) for f in findings if f.row_number is not None}
    return [
        f
        for f in findings
        if f.row_number is None or not any((rule, f.row_number) in failed for rule in depends_on.get(f.rule, []))
    ]


def _original_names(observed: Any, original_names: dict[str, str]) -> Any:
    """An observed list of column names (the header check) as the file had them."""
    if isinstance(observed, list):
        return [original_names.get(c, c) if isinstance(c, str) else c for c in observed]
    return observed


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [kwargs["column"]]
    if kwargs.get("column_list"):
        return list(kwargs["column_list"])
    return [kwargs[key] for key in ("column_A", "column_B") if kwargs.get(key)]


def _show(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) >= 1 else f"{value:.3f}"
    if isinstance(value, (tuple, list)):
        return " | ".join("" if v is None else str(v) for v in value)
    return str(value)
