"""Turn a received file into rows of text, or say plainly why it cannot be read.

Every cell stays text here: types are the quality gate's business, so that a bad cell becomes a
quarantined row with its offending value rather than a parse error that loses the file.

Row numbers are the ones a person sees: the spreadsheet row in a workbook, the line in a CSV file
(a quoted value that spans lines moves the rows after it down, as in a text editor).

What the reader had to assume to read a file is recorded in ``frame.attrs`` for the caller to report:

- ``format``: ``"csv"``, ``"xlsx"``, ``"xls"`` (Excel 97-2003) or ``"ods"`` (OpenDocument).

Workbooks of every format are read to the same text, as typed (docs/council_return_template.md says it
for senders): text as typed, trimmed; a number as Excel shows it in the General format (up to 15
significant digits, no exponent, no trailing zeros: 1000.0 is "1000"), a percentage as the fraction it
holds (15.5% is "0.155"); a date as YYYY-MM-DD, with its time of day only when it has one (for .xlsx,
only when the cell's format shows it: .xls and .ods are read without formats); TRUE or FALSE; a formula
as its saved result. .xlsx is read with openpyxl, which also says which formulas were saved without a
result; .xls and .ods with python-calamine, where such a formula reads as an empty cell.
- ``encoding`` (CSV): ``"utf-8"`` (with or without a byte-order mark); ``"cp1252"`` when the bytes are
  not UTF-8 but are clean Windows-1252 (Excel's "CSV (Comma delimited)" on Windows); ``"utf-16"`` when
  the file starts with a UTF-16 byte-order mark. Anything but ``"utf-8"`` deserves a warning.
- ``delimiter`` (CSV): ``","``, or ``";"`` / ``"\\t"`` when the header only makes sense split on that
  (Excel in a European locale, or "Text (Tab delimited)"). Anything but ``","`` deserves a warning.
- ``sheet`` (workbook): the sheet the rows came from; ``sheet_requested`` is set as well when that is
  not the sheet asked for (the workbook had no such visible sheet, and exactly one visible sheet held the
  template's header), which deserves a warning; ``hidden_sheets_ignored`` names hidden sheets that had the
  name asked for (a person opening the file does not see them, so they are never read when a visible
  sheet fits).
- ``header_row``: the row or line number of the header (rows above it, titles, are not data).
- ``incomplete_rows``: row numbers that look cut off (the file ends without a line break inside or
  at the end of a row that has fewer values than the header): the file was probably truncated in
  transfer, and these rows should not be trusted even if their values pass the gate.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import itertools
import re
import warnings
import zipfile
from decimal import Decimal
from pathlib import Path

import pandas as pd

from efficiency_warehouse import settings
from efficiency_warehouse.datasets import Dataset

# The first data row is row 2, as a spreadsheet shows it under its header row.
FIRST_DATA_ROW = 2
# The header is looked for among the first rows that are not blank: title rows above it are skipped.
HEADER_SEARCH_ROWS = 20
# The worksheet holding the rows, when neither the caller nor the dataset names one.
DEFAULT_SHEET = "Return"

CSV_SUFFIXES = (".csv",)
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 .xls, and password-protected .xlsx
_ODS_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet"  # the first entry of an .ods
_PDF_MAGIC = b"%PDF"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CANDIDATE_DELIMITERS = (";", "\t")
_SAVE_AS = "save it as 'CSV UTF-8 (Comma delimited)' or 'Excel Workbook (.xlsx)'"


class UnreadableFile(Exception):
    """The file as a whole cannot be read; ``rule`` names why for the quarantine."""

    def __init__(self, rule: str, message: str):
        super().__init__(message)
        self.rule = rule
        self.message = message


def sheet_name_for(dataset: Dataset) -> str:
    """The worksheet a dataset's rows are on, in its template and in the workbooks received."""
    return getattr(dataset, "landing_sheet", None) or DEFAULT_SHEET


def read_rows(
    path: Path, dataset: Dataset, sheet: str | None = None, limits: settings.ReadingLimits | None = None
) -> pd.DataFrame:
    """Rows of ``path`` as text, indexed by source row number, with the template's columns.

    ``sheet`` names the worksheet for a workbook (default: the dataset's ``landing_sheet``, else
    ``"Return"``); it is ignored for CSV. A file beyond ``limits`` (default: the settings) is refused
    before the part that would cost the memory or the time is read.
    """
    limits = limits or settings.reading_limits()
    suffix = path.suffix.lower()
    size = path.stat().st_size
    if size > limits.file_bytes:
        raise UnreadableFile(
            "file_too_large",
            f"'{path.name}' is {size:,} bytes; the warehouse reads files of up to {limits.file_bytes:,} bytes "
            "(LANDING_MAX_FILE_BYTES). A return is far smaller: check that it is the right file.",
        )
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile("empty_file", f"'{path.name}' is empty: there is nothing to load.")
    expected = (
        f"send the {dataset.name} return as CSV or a workbook (.xlsx, .xls, .ods) following template "
        f"v{dataset.template_version}"
    )
    if suffix in WORKBOOK_SUFFIXES:
        kind = _workbook_kind(data)
        if kind is None:
            raise UnreadableFile(
                "file_format",
                f"'{path.name}' is named {suffix} but is not an Excel workbook (it may be a CSV or another file "
                f"renamed): open it in Excel, {_SAVE_AS}, and send it again.",
            )
        if kind != "xls":
            _check_expanded_size(path, data, limits)
        frame = _read_workbook(path, data, dataset, sheet or sheet_name_for(dataset), limits, kind)
    elif suffix in CSV_SUFFIXES and data.startswith(_OLE_MAGIC):
        raise UnreadableFile(
            "file_format",
            f"'{path.name}' is an Excel 97-2003 workbook named .csv: rename it to .xls, or {_SAVE_AS}, and send it "
            "again.",
        )
    elif suffix in CSV_SUFFIXES:
        frame = _read_csv(path, data, dataset, limits)
    else:
        raise UnreadableFile("file_format", f"'{path.name}' is not a CSV file or an Excel workbook: {expected}.")
    _check_cells(path, frame, limits)
    return frame


# --- limits ---------------------------------------------------------------------------------------


def _too_many(path: Path, what: str, found: str, limit: int, variable: str) -> UnreadableFile:
    return UnreadableFile(
        f"too_many_{what}",
        f"'{path.name}' has {found} {what}; the warehouse reads at most {limit:,} ({variable}). A return has "
        "far fewer: check that it is the right file, and that nothing was pasted far outside the table.",
    )


def _check_expanded_size(path: Path, data: bytes, limits: settings.ReadingLimits) -> None:
    """A workbook is a zip: the sizes its parts declare are checked before anything is decompressed (and
    Python's zip reader stops at the declared size, so a part cannot expand past it)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            expanded = sum(member.file_size for member in archive.infolist())
    except zipfile.BadZipFile:
        return  # the workbook reader says why it cannot be opened
    if expanded > limits.workbook_expanded_bytes:
        raise UnreadableFile(
            "workbook_too_large",
            f"'{path.name}' is {len(data):,} bytes but expands to {expanded:,} bytes when opened; the warehouse "
            f"opens workbooks of up to {limits.workbook_expanded_bytes:,} bytes expanded "
            "(LANDING_MAX_WORKBOOK_EXPANDED_BYTES). A return expands to far less: check that it is the right "
            "file, or copy the return's rows into a new workbook from the template.",
        )


def _check_cells(path: Path, frame: pd.DataFrame, limits: settings.ReadingLimits) -> None:
    if len(frame) > limits.rows:
        raise _too_many(path, "rows", f"{len(frame):,}", limits.rows, "LANDING_MAX_ROWS")
    for column in frame.columns:
        where = "a column name"
        if len(column) <= limits.cell_characters:
            try:
                lengths = frame[column].str.len()  # every cell is text, or missing when blank
            except AttributeError:  # no text at all: an optional column the file left out
                continue
            if not lengths.notna().any() or lengths.max() <= limits.cell_characters:
                continue
            where = f"row {lengths.idxmax()}, column"
        raise UnreadableFile(
            "cell_too_long",
            f"'{path.name}' has {where} '{column[:60]}' holding more than {limits.cell_characters:,} "
            "characters (LANDING_MAX_CELL_CHARACTERS): shorten it and send the file again.",
        )


# --- shared ---------------------------------------------------------------------------------------


def _column_name(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value).strip().lower()


def _header_position(rows: list[list[str | None]], dataset: Dataset) -> int:
    """The first row holding every required column name; else the one with most known names; else 0."""
    required, known = set(dataset.required_columns), set(dataset.column_names)
    best, best_score = 0, 0
    for position, cells in enumerate(rows[:HEADER_SEARCH_ROWS]):
        names = {_column_name(cell) for cell in cells}
        if required <= names:
            return position
        score = len(names & known)
        if score > best_score:
            best, best_score = position, score
    return best


def _finish(
    path: Path, dataset: Dataset, data: pd.DataFrame, header: list[object], column_label, attrs: dict
) -> pd.DataFrame:
    """Name the columns from the header, drop what holds nothing, add absent optional columns.

    ``data`` has positional column labels and stripped text cells (None for blank), indexed by row.
    """
    names: list[str] = []
    keep: list[int] = []
    first_seen: dict[str, int] = {}
    for position in range(data.shape[1]):
        name = _column_name(header[position]) if position < len(header) else ""
        if not name:
            if data[position].isna().all():
                continue  # a column with neither a name nor a value (formatting, trailing delimiters)
            name = f"(blank header, column {column_label(position)})"  # kept: the gate rejects it by name
        if name in first_seen:
            raise UnreadableFile(
                "duplicate_column",
                f"'{path.name}' has the column '{name}' twice (columns {column_label(first_seen[name])} and "
                f"{column_label(position)}): keep one of them and send the file again.",
            )
        first_seen[name] = position
        names.append(name)
        keep.append(position)
    frame = data[keep]
    frame.columns = names
    frame = frame.dropna(how="all")  # blank rows, including trailing and formatted ones, are not rows
    for column in dataset.column_names:
        if column not in frame.columns:  # optional columns may be left out of the file
            if column in dataset.required_columns:
                continue  # the gate reports it; adding it would hide the mistake
            frame[column] = None
    frame.attrs.update(attrs)
    return frame


# --- workbooks ------------------------------------------------------------------------------------


def _workbook_kind(data: bytes) -> str | None:
    """What the bytes are, whatever the name says: a zip is .xlsx or .ods, an OLE file .xls (or a
    password-protected .xlsx, which fails to open as .xls and is told so)."""
    if data.startswith(_ZIP_MAGIC):
        return "ods" if _ODS_MIMETYPE in data[:100] else "xlsx"
    if data.startswith(_OLE_MAGIC):
        return "xls"
    return None


def _open_workbook(path: Path, data: bytes, kind: str):
    try:
        if kind == "xlsx":
            import openpyxl  # imported here: DAG files import this module and must parse fast

            return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        return _CalamineBook(data)
    except Exception as error:  # a damaged zip, a zip that is no workbook, Strict Open XML, ...
        if kind == "xls":
            raise UnreadableFile(
                "unreadable_workbook",
                f"'{path.name}' cannot be opened as an Excel 97-2003 workbook ({type(error).__name__}: {error}): it "
                f"may be password-protected or damaged. Remove any password, {_SAVE_AS}, and send it again.",
            ) from error
        what = "an OpenDocument spreadsheet" if kind == "ods" else "an Excel workbook"
        raise UnreadableFile(
            "unreadable_workbook",
            f"'{path.name}' cannot be opened as {what} ({type(error).__name__}: {error}): open it in Excel, "
            f"{_SAVE_AS}, and send it again.",
        ) from error


class _CalamineSheet:
    """A sheet of an .xls or .ods workbook, with the two things the reader asks of an openpyxl sheet."""

    def __init__(self, book, title: str, visible: bool):
        self.book, self.title = book, title
        self.sheet_state = "visible" if visible else "hidden"

    def rows(self):
        """(row number, values) from row 1; python-calamine starts each row at the first used column."""
        sheet = self.book.get_sheet_by_name(self.title)
        first_column = sheet.start[1] if sheet.start else 0
        for index, values in enumerate(sheet.iter_rows()):
            yield index + 1, [None] * first_column + list(values)


class _CalamineBook:
    def __init__(self, data: bytes):
        from python_calamine import CalamineWorkbook, SheetTypeEnum, SheetVisibleEnum

        self.book = CalamineWorkbook.from_filelike(io.BytesIO(data))
        self.worksheets = [
            _CalamineSheet(self.book, sheet.name, sheet.visible == SheetVisibleEnum.Visible)
            for sheet in self.book.sheets_metadata
            if sheet.typ == SheetTypeEnum.WorkSheet  # not chart sheets, as for .xlsx
        ]

    def close(self) -> None:
        self.book.close()


def _read_workbook(
    path: Path, data: bytes, dataset: Dataset, wanted: str, limits: settings.ReadingLimits, kind: str = "xlsx"
) -> pd.DataFrame:
    from openpyxl.utils import get_column_letter

    with warnings.catch_warnings():
        # openpyxl warns about features it does not read (data validation, conditional formats).
        warnings.simplefilter("ignore")
        workbook = _open_workbook(path, data, kind)
        try:
            worksheet = _data_sheet(path, workbook, dataset, wanted, limits)
            if kind == "xlsx":
                _refuse_uncalculated_formulas(path, data, worksheet)
            rows, row_numbers = [], []
            for number, texts in _sheet_rows(path, worksheet, limits):
                rows.append(texts)
                row_numbers.append(number)
                if len(rows) > limits.rows + HEADER_SEARCH_ROWS:
                    raise _too_many(path, "rows", f"more than {limits.rows:,}", limits.rows, "LANDING_MAX_ROWS")
        finally:
            workbook.close()
    if not rows:
        raise UnreadableFile(
            "empty_file", f"sheet '{worksheet.title}' of '{path.name}' is empty: there is nothing to load."
        )
    position = _header_position(rows, dataset)
    body = pd.DataFrame(rows[position + 1 :], index=pd.Index(row_numbers[position + 1 :], dtype="int64"), dtype=str)
    width = max(len(rows[position]), body.shape[1])
    body = body.reindex(columns=range(width))
    attrs = {"format": kind, "sheet": worksheet.title, "header_row": row_numbers[position]}
    if _sheet_key(worksheet.title) != _sheet_key(wanted):
        attrs["sheet_requested"] = wanted
        hidden = [w.title for w in _hidden(workbook) if _sheet_key(w.title) == _sheet_key(wanted)]
        if hidden:
            attrs["hidden_sheets_ignored"] = hidden
    return _finish(path, dataset, body, rows[position], lambda p: get_column_letter(p + 1), attrs)


def _sheet_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def _hidden(workbook) -> list:
    return [w for w in workbook.worksheets if w.sheet_state != "visible"]  # "hidden" or "veryHidden"


def _data_sheet(path: Path, workbook, dataset: Dataset, wanted: str, limits: settings.ReadingLimits):
    """The workbook read as a person sees it: the visible sheet named ``wanted`` (case and spaces aside),
    else the only visible sheet holding the header. A hidden sheet is never the source: when only hidden
    sheets fit, or several visible ones do, the file is stopped with a message naming them."""
    visible = [w for w in workbook.worksheets if w.sheet_state == "visible"]  # not chart sheets
    for worksheet in visible:
        if worksheet.title == wanted:
            return worksheet
    for worksheet in visible:
        if _sheet_key(worksheet.title) == _sheet_key(wanted):
            return worksheet
    holding = [w for w in visible if _holds_header(path, w, dataset, limits)]
    if len(holding) == 1:
        return holding[0]
    found = ", ".join(f"'{w.title}'" + ("" if w.sheet_state == "visible" else " (hidden)") for w in workbook.worksheets)
    if len(holding) > 1:
        raise UnreadableFile(
            "ambiguous_sheets",
            f"'{path.name}' has no visible sheet named '{wanted}', and several visible sheets hold the template's "
            f"columns ({', '.join(repr(w.title) for w in holding)}; sheets: {found}): the warehouse cannot tell "
            f"which is the return. Keep the rows on one sheet named '{wanted}', as in template "
            f"v{dataset.template_version}, delete the other copies, and send the file again.",
        )
    hidden = [
        w
        for w in _hidden(workbook)
        if _sheet_key(w.title) == _sheet_key(wanted) or _holds_header(path, w, dataset, limits)
    ]
    if hidden:
        raise UnreadableFile(
            "hidden_sheet",
            f"'{path.name}' has the template's rows only on hidden sheets ({', '.join(repr(w.title) for w in hidden)};"
            f" sheets: {found}): a person opening the file does not see them, so they are not read. If they are the"
            " figures to send, unhide the sheet in Excel (right-click a sheet tab, Unhide), check them, save and send"
            " the file again.",
        )
    raise UnreadableFile(
        "missing_sheet",
        f"'{path.name}' has no sheet named '{wanted}' (sheets found: {found}): put the rows on a sheet "
        f"named '{wanted}', as in template v{dataset.template_version}, and send the file again.",
    )


def _holds_header(path: Path, worksheet, dataset: Dataset, limits: settings.ReadingLimits) -> bool:
    required = set(dataset.required_columns)
    for count, (_, texts) in enumerate(_sheet_rows(path, worksheet, limits), start=1):
        if required <= {_column_name(text) for text in texts}:
            return True
        if count == HEADER_SEARCH_ROWS:
            return False
    return False


_SHEET_NS = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def _refuse_uncalculated_formulas(path: Path, data: bytes, worksheet) -> None:
    """Formula cells saved without their result (by a program that does not calculate, or with manual
    calculation) read as empty: say so, rather than let the gate report missing values."""
    from xml.etree.ElementTree import iterparse

    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        part = worksheet._worksheet_path.lstrip("/")  # openpyxl's read-only sheets keep their part's name
        xml = archive.read(part)
    if b"<f" not in xml and b":f" not in xml:
        return
    uncalculated = []
    for _, cell in iterparse(io.BytesIO(xml)):
        if cell.tag != f"{_SHEET_NS}c":
            continue
        formula, value = cell.find(f"{_SHEET_NS}f"), cell.find(f"{_SHEET_NS}v")
        # An empty <v/> on a text result (t="str") is a formula that calculated to "": it has a result.
        if formula is not None and (value is None or (not value.text and cell.get("t") != "str")):
            uncalculated.append(f"{cell.get('r')} ={formula.text or '(shared formula)'}")
        cell.clear()
    if uncalculated:
        shown = ", ".join(uncalculated[:5]) + (f" and {len(uncalculated) - 5} more" if len(uncalculated) > 5 else "")
        raise UnreadableFile(
            "formula_not_calculated",
            f"'{path.name}' has formulas on sheet '{worksheet.title}' saved without their results ({shown}): "
            "their values cannot be read. Open the file in Excel, recalculate (F9) and save it, then send it again.",
        )


def _sheet_rows(path: Path, worksheet, limits: settings.ReadingLimits):
    """(row number, cell texts) of every row that is not blank, in order; no wider than the limit."""
    if isinstance(worksheet, _CalamineSheet):
        yield from _calamine_rows(path, worksheet, limits)
        return
    worksheet.reset_dimensions()  # some writers record a wrong used range; read every row there is
    for cells in worksheet.iter_rows():
        if len(cells) > limits.columns:
            beyond = next((cell for cell in cells[limits.columns :] if cell.value is not None), None)
            if beyond is not None:
                raise _too_many(
                    path,
                    "columns",
                    f"a value in column {beyond.column_letter} (row {beyond.row}), so more than {limits.columns:,}",
                    limits.columns,
                    "LANDING_MAX_COLUMNS",
                )
            cells = cells[: limits.columns]  # formatted but empty: nothing is lost
        texts = [_cell_text(cell) for cell in cells]
        for cell, text in zip(cells, texts, strict=True):
            if text is not None:
                yield cell.row, texts
                break


def _calamine_rows(path: Path, worksheet: _CalamineSheet, limits: settings.ReadingLimits):
    from openpyxl.utils import get_column_letter

    for number, values in worksheet.rows():
        beyond = next((p for p, v in enumerate(values[limits.columns :], limits.columns) if v not in (None, "")), None)
        if beyond is not None:
            raise _too_many(
                path,
                "columns",
                f"a value in column {get_column_letter(beyond + 1)} (row {number}), so more than {limits.columns:,}",
                limits.columns,
                "LANDING_MAX_COLUMNS",
            )
        # The format is not read: a date shows its time of day whenever it has one.
        texts = [_value_text(value, shows_time=True) for value in values[: limits.columns]]
        if any(text is not None for text in texts):
            yield number, texts


def _cell_text(cell) -> str | None:
    """An openpyxl cell as the text a person sees in it."""
    return _value_text(cell.value, shows_time=isinstance(cell.value, dt.datetime) and _shows_time(cell.number_format))


def _value_text(value: object, shows_time: bool) -> str | None:
    """A cell's value as the text a person sees (numbers in full, dates as YYYY-MM-DD); None if blank.
    ``shows_time``: whether the cell's format shows a date's time of day."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        if value.time() != dt.time(0) and shows_time:
            return value.isoformat(sep=" ", timespec="seconds")
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat(timespec="seconds")
    return str(value).strip() or None


def _shows_time(number_format: str) -> bool:
    from openpyxl.styles.numbers import is_datetime

    return is_datetime(number_format or "General") in ("datetime", "time")


def _number_text(value: float) -> str:
    """A float as Excel shows it: 15 significant digits, no exponent, no trailing zeros."""
    if value != value or value in (float("inf"), float("-inf")):
        return str(value)
    text = format(Decimal(f"{value:.15g}"), "f")
    return "0" if text == "-0" else text


# --- CSV ------------------------------------------------------------------------------------------


def _read_csv(path: Path, data: bytes, dataset: Dataset, limits: settings.ReadingLimits) -> pd.DataFrame:
    text, encoding = _decode(path, data)
    if not text.strip():
        raise UnreadableFile("empty_file", f"'{path.name}' is empty: there is nothing to load.")
    delimiter = _delimiter(text, dataset)
    _check_csv_shape(path, text, delimiter, limits)
    incomplete: list[int] = []
    try:
        records = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
        )
        starts = _record_start_lines(records, text)
    except pd.errors.EmptyDataError as error:
        raise UnreadableFile("empty_file", f"'{path.name}' is empty: there is nothing to load.") from error
    except pd.errors.ParserError as error:
        records, starts, incomplete = _read_csv_slowly(path, text, delimiter, dataset, error)

    head = records.head(HEADER_SEARCH_ROWS)
    position = _header_position(head.apply(lambda column: column.str.strip()).values.tolist(), dataset)
    header = records.iloc[position].tolist()
    body = records.iloc[position + 1 :]
    body.index = pd.Index(starts[position + 1 :], dtype="int64")
    body = body.apply(lambda column: column.str.strip()).replace("", None)
    if not incomplete and len(body) and not text.endswith(("\n", "\r")):
        incomplete = _cut_off_last_row(text, int(body.index[-1]), delimiter, len(header))
    attrs = {
        "format": "csv",
        "encoding": encoding,
        "delimiter": delimiter,
        "header_row": int(starts[position]),
        "incomplete_rows": incomplete,
    }
    frame = _finish(path, dataset, body, header, lambda p: p + 1, attrs)
    frame.attrs["incomplete_rows"] = [row for row in incomplete if row in frame.index]
    return frame


def _check_csv_shape(path: Path, text: str, delimiter: str, limits: settings.ReadingLimits) -> None:
    """Lines and the width of the header rows, counted before the file is parsed: a later line wider than
    its header is refused by the parse itself (csv_structure)."""
    lines = text.count("\n")
    if lines > limits.rows + HEADER_SEARCH_ROWS:
        raise _too_many(path, "rows", f"{lines:,} lines, so more than {limits.rows:,}", limits.rows, "LANDING_MAX_ROWS")
    head = itertools.islice(io.StringIO(text, newline=""), HEADER_SEARCH_ROWS)
    try:
        widest = max((len(record) for record in csv.reader(head, delimiter=delimiter)), default=0)
    except csv.Error:
        return  # the parse says what is wrong with it
    if widest > limits.columns:
        raise _too_many(path, "columns", f"{widest:,}", limits.columns, "LANDING_MAX_COLUMNS")


def _decode(path: Path, data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was read with; binary files are refused."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as error:
            raise UnreadableFile(
                "encoding", f"'{path.name}' starts as UTF-16 text but cannot be read as such: {_SAVE_AS}."
            ) from error
    if data.startswith(_ZIP_MAGIC):
        raise UnreadableFile(
            "file_format",
            f"'{path.name}' is an Excel workbook (or another zip archive) named .csv: rename it to .xlsx if it is "
            f"a workbook, or open it in Excel and {_SAVE_AS}.",
        )
    if data.startswith(_PDF_MAGIC) or b"\x00" in data:
        kind = "a PDF" if data.startswith(_PDF_MAGIC) else "not text"
        raise UnreadableFile("file_format", f"'{path.name}' is {kind}, not a CSV file: {_SAVE_AS} and send it again.")
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as error:
        utf8_error = error
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = None
    if text is None or _CONTROL_CHARACTERS.search(text):
        raise UnreadableFile(
            "encoding",
            f"'{path.name}' is not UTF-8 text (byte {utf8_error.start} cannot be read) nor Windows-1252 text: "
            f"open it in Excel and save it as 'CSV UTF-8 (Comma delimited)'.",
        ) from utf8_error
    return text, "cp1252"


def _delimiter(text: str, dataset: Dataset) -> str:
    """Comma, unless the header reads as the template's columns only when split on ``;`` or a tab."""
    known = set(dataset.column_names)
    enough = min(2, len(known))
    for line in itertools.islice(io.StringIO(text, newline=None), HEADER_SEARCH_ROWS):
        for delimiter in (",", *_CANDIDATE_DELIMITERS):
            if delimiter in line:
                names = {_column_name(name) for name in next(csv.reader([line.rstrip("\n")], delimiter=delimiter))}
                if len(names & known) >= enough:
                    return delimiter
    return ","


def _record_start_lines(records: pd.DataFrame, text: str) -> list[int]:
    """The line each record starts on: a quoted value spanning lines pushes the later records down."""
    if '"' not in text or records.empty:
        return list(range(1, len(records) + 1))
    breaks = sum(records[column].str.count("\n") for column in records.columns)
    lines = 1 + breaks
    return (1 + lines.cumsum() - lines).astype("int64").tolist()


def _walk_csv(path: Path, text: str, delimiter: str) -> tuple[list[list[str]], list[int], int]:
    """Records with their first lines, and the last line of the last record (Python's csv: error path only)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records, starts, previous_end = [], [], 0
    try:
        for record in reader:
            records.append(record)
            starts.append(previous_end + 1)
            previous_end = reader.line_num
    except csv.Error as error:  # a value larger than csv's limit: a quote opened and never closed, mostly
        raise UnreadableFile(
            "csv_structure",
            f"'{path.name}' cannot be read as CSV from line {previous_end + 1} ({error}): a quoted value (starting "
            'with a double quote ") is probably never closed. Close the quote or remove the stray quote mark, and '
            "send the file again.",
        ) from error
    return records, starts, previous_end


def _read_csv_slowly(
    path: Path, text: str, delimiter: str, dataset: Dataset, error: pd.errors.ParserError
) -> tuple[pd.DataFrame, list[int], list[int]]:
    """When pandas refuses the file: find the line at fault, or keep the rows if only the end is cut off.

    Handles a title line shorter than the header, and a file cut off inside a quoted value on its last
    line (that row is kept and reported as incomplete). Anything else is a ``csv_structure`` rejection
    naming the line to fix.
    """
    records, starts, last_line = _walk_csv(path, text, delimiter)
    unclosed_quote = "EOF inside string" in str(error)
    incomplete: list[int] = []
    if unclosed_quote and records:
        if last_line > starts[-1] or "\n" in "".join(records[-1]).rstrip("\r\n"):
            raise UnreadableFile(
                "csv_structure",
                f"'{path.name}' line {starts[-1]} opens a quoted value (a double quote \") that is never closed, "
                f"so the rest of the file, lines {starts[-1]} to {last_line}, reads as one value: close the quote "
                "or remove the stray quote mark, and send the file again.",
            )
        records[-1] = [value.rstrip("\r\n") for value in records[-1]]
        incomplete = [starts[-1]]
    rows = [[value.strip() for value in record] for record in records[:HEADER_SEARCH_ROWS]]
    position = _header_position(rows, dataset)
    width = len(records[position]) if records else 0
    for record, start in zip(records[position + 1 :], starts[position + 1 :], strict=True):
        if len(record) > width:
            raise UnreadableFile(
                "csv_structure",
                f"'{path.name}' line {start} has {len(record)} values but the header has {width}: a value that "
                f'contains a {_delimiter_name(delimiter)} must be in double quotes (for example "Smith, J"). '
                "Fix the line and send the file again.",
            )
    if not unclosed_quote and not any(len(record) < width for record in records[:position]):
        raise UnreadableFile(  # pandas saw something the line-by-line reading does not explain
            "csv_structure", f"'{path.name}' cannot be read as CSV ({error}): {_SAVE_AS} and send it again."
        )
    frame = pd.DataFrame(records, dtype=str).reindex(columns=range(max(width, max(map(len, records)))))
    return frame, starts, incomplete


def _cut_off_last_row(text: str, start_line: int, delimiter: str, header_width: int) -> list[int]:
    """[start_line] if the file ends, without a line break, in a row with fewer values than the header."""
    lines_in_record = text.count("\n") + 1 - start_line + 1
    if lines_in_record < 1:
        return []  # lines end in a bare carriage return: not counted here
    tail = "\n".join(text.rsplit("\n", lines_in_record)[-lines_in_record:])
    values = next(csv.reader(io.StringIO(tail, newline=""), delimiter=delimiter), [])
    return [start_line] if len(values) < header_width else []


def _delimiter_name(delimiter: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab"}.get(delimiter, repr(delimiter))
