"""Blank templates for councils: an Excel workbook and a header-only CSV, generated from the dataset spec.

The workbook's data sheet is what the reader reads (``readers.sheet_name_for``), its header row is
row 1 (so "Save as CSV" from it gives a valid CSV too), and its columns, drop-downs and formats come
from ``Dataset.columns``: a template cannot drift from the columns the warehouse checks.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from efficiency_warehouse.datasets import COUNCIL_RETURNS, Column, Dataset
from efficiency_warehouse.readers import sheet_name_for

DICTIONARY_SHEET = "Data dictionary"
LAST_TEMPLATE_ROW = 1_048_576  # drop-downs and prompts cover the whole sheet, however many rows are filled

# File names of the templates sent to councils; other datasets get "<dataset>_template_v<n>".
_TEMPLATE_STEMS = {"council_returns": "council_return_template"}

_NUMBER_FORMAT = "0.0###"  # one decimal place shown, and any further ones the council typed (the gate refuses them)
_DATE_FORMAT = "yyyy-mm-dd"
_TEXT_FORMAT = "@"  # so that Excel keeps 2009-10 as typed rather than turning it into October 2009


def allowed_values(dataset: Dataset, column: Column) -> tuple[str, ...]:
    return column.allowed_values


def kind_of(column: Column) -> str:
    """The column's type as the data dictionary names it for a person."""
    sql_type = column.sql_type.lower()
    if sql_type.startswith(("numeric", "decimal", "real", "double")):
        return "number"
    if sql_type in ("integer", "int", "bigint", "smallint"):
        return "whole number"
    if sql_type == "date":
        return "date"
    return "text"


def template_stem(dataset: Dataset) -> str:
    return f"{_TEMPLATE_STEMS.get(dataset.name, dataset.name + '_template')}_v{dataset.template_version}"


def write_templates(folder: Path, datasets: tuple[Dataset, ...] = (COUNCIL_RETURNS,)) -> list[Path]:
    """Write each dataset's blank workbook and header-only CSV into ``folder``; the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for dataset in datasets:
        stem = template_stem(dataset)
        written.append(write_excel_template(dataset, folder / f"{stem}.xlsx"))
        for part in dataset.parts:  # the CSV alternative: one file per section
            suffix = f"__{sheet_name_for(part).lower()}" if dataset.sections else ""
            written.append(write_csv_template(part, folder / f"{stem}{suffix}.csv"))
    return written


def write_csv_template(dataset: Dataset, path: Path) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(dataset.column_names)
    path.write_bytes(buffer.getvalue().encode("utf-8"))
    return path


def write_excel_template(dataset: Dataset, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    workbook = Workbook()
    bold = Font(bold=True)
    for number, part in enumerate(dataset.parts):  # one sheet per section of the delivery
        sheet = workbook.active if number == 0 else workbook.create_sheet()
        sheet.title = sheet_name_for(part)
        _write_data_sheet(sheet, part, bold)

    dictionary = workbook.create_sheet(DICTIONARY_SHEET)
    headings = ("sheet", "column", "required", "type", "allowed values", "description")
    dictionary.append(headings)
    for cell in dictionary[1]:
        cell.font = bold
    for part in dataset.parts:
        for column in part.columns:
            dictionary.append(
                (
                    sheet_name_for(part),
                    column.name,
                    "yes" if column.required else "no",
                    kind_of(column),
                    ", ".join(allowed_values(part, column)),
                    column.description,
                )
            )
    for letter, width in zip("ABCDEF", (14, 32, 10, 14, 28, 90), strict=True):
        dictionary.column_dimensions[letter].width = width
    for row in dictionary.iter_rows(min_row=2):
        row[5].alignment = Alignment(wrap_text=True, vertical="top")
    dictionary.freeze_panes = "A2"

    workbook.properties.title = f"{dataset.name} template v{dataset.template_version}"
    path.parent.mkdir(parents=True, exist_ok=True)
    workbook.save(path)
    return path


def _write_data_sheet(sheet, dataset: Dataset, bold) -> None:
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    for position, column in enumerate(dataset.columns, start=1):
        letter = get_column_letter(position)
        cell = sheet.cell(row=1, column=position, value=column.name)
        cell.font = bold
        cell.number_format = "General"
        dimension = sheet.column_dimensions[letter]
        dimension.width = max(14, len(column.name) + 4)
        kind = kind_of(column)
        # A column style: Excel applies it to every cell typed into the column.
        dimension.number_format = {"number": _NUMBER_FORMAT, "whole number": "0", "date": _DATE_FORMAT}.get(
            kind, _TEXT_FORMAT
        )
        cells = f"{letter}2:{letter}{LAST_TEMPLATE_ROW}"
        values = allowed_values(dataset, column)
        if values:
            validation = DataValidation(
                type="list",
                formula1='"' + ",".join(values) + '"',
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_title(column.name),
                error=_limit(f"Choose one of: {', '.join(values)}."),
            )
        elif kind in ("number", "whole number"):
            validation = DataValidation(
                type="decimal" if kind == "number" else "whole",
                operator="between",
                formula1="-999999999999",
                formula2="999999999999",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_title(column.name),
                error="Type a plain number, e.g. 1234.5: no £ sign, no spaces.",
            )
        elif kind == "date":
            validation = DataValidation(
                type="date",
                operator="greaterThan",
                formula1="DATE(2000,1,1)",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle=_title(column.name),
                error="Type a date, e.g. 2009-10-15.",
            )
        else:
            validation = DataValidation(allow_blank=True)
        validation.showInputMessage = True
        validation.promptTitle = _title(column.name)
        validation.prompt = _limit(("Required. " if column.required else "Optional. ") + column.description)
        validation.add(cells)
        sheet.add_data_validation(validation)
    sheet.freeze_panes = "A2"


def _title(text: str) -> str:
    return text[:32]  # Excel's limit for a prompt or error title


def _limit(text: str) -> str:
    return text if len(text) <= 255 else text[:254] + "…"  # Excel's limit for a prompt or error message
