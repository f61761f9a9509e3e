"""Turn a received file into rows of text, or say plainly why it cannot be read.

Every cell stays text here: types are the quality gate's business, so that a bad cell becomes a
quarantined row with its offending value rather than a parse error that loses the file.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from efficiency_warehouse.datasets import Dataset

# The first data row is row 2, as a spreadsheet shows it under its header row.
FIRST_DATA_ROW = 2


class UnreadableFile(Exception):
    """The file as a whole cannot be read; ``rule`` names why for the quarantine."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


def read_rows(path: Path, dataset: Dataset) -> pd.DataFrame:
    """Rows of ``path`` as text, indexed by source row number, with the template's columns."""
    suffix = path.suffix.lower()
    if suffix != ".csv":
        raise UnreadableFile(
            "file_format",
            f"'{path.name}' is not a CSV file: send the {dataset.name} return as CSV "
            f"following template v{dataset.template_version}.",
        )
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile("empty_file", f"'{path.name}' is empty: there is nothing to load.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UnreadableFile(
            "encoding", f"'{path.name}' is not UTF-8 text (byte {error.start} cannot be read): save it as CSV UTF-8."
        ) from error
    try:
        frame = pd.read_csv(
            io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False, quoting=csv.QUOTE_MINIMAL
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise UnreadableFile("csv_structure", f"'{path.name}' cannot be read as CSV: {error}") from error

    frame.columns = [str(column).strip().lower() for column in frame.columns]
    frame.index = pd.RangeIndex(FIRST_DATA_ROW, FIRST_DATA_ROW + len(frame))
    frame = frame.apply(lambda column: column.str.strip()).replace("", None)
    frame = frame.dropna(how="all")  # blank lines, including trailing ones, are not rows
    for column in dataset.column_names:
        if column not in frame.columns:  # optional columns may be left out of the file
            if column in dataset.required_columns:
                continue  # the gate reports it; adding it would hide the mistake
            frame[column] = None
    return frame
