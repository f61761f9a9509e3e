"""The reader on generated files: every cell text, row numbers as a person sees them, clear refusals.

No database: files are built in tmp_path with openpyxl or as bytes.
"""

from __future__ import annotations

import codecs
import datetime as dt
import io
import zipfile

import openpyxl
import pytest
from openpyxl.styles import Font

from efficiency_warehouse.datasets import COUNCIL_RETURNS
from efficiency_warehouse.readers import UnreadableFile, read_rows
from efficiency_warehouse.templates import DICTIONARY_SHEET, write_templates

pytestmark = pytest.mark.fast  # needs no pipeline run: part of `make test-fast`

HEADER = COUNCIL_RETURNS.column_names
ROW = [
    "E06000001",
    "Hartlepool Borough Council",
    "2009-10",
    "forecast",
    "3120.4",
    "2510.0",
    "610.4",
    "",
    "2009-10-14",
    "",
]
ROW_2 = ["PRE09-12", "Cornwall County Council", "2008-09", "actual", "9876.5", "", "", "1200.0", "2009-07-20", "x"]


def csv_text(rows: list[list[str]], header: list[str] = HEADER, delimiter: str = ",") -> str:
    return "".join(delimiter.join(line) + "\n" for line in [header, *rows])


def write(tmp_path, name: str, content: bytes | str):
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def workbook(tmp_path, rows: list[list[object]], sheet: str = "Return", name: str = "return.xlsx", setup=None):
    book = openpyxl.Workbook()
    worksheet = book.active
    worksheet.title = sheet
    for row in rows:
        worksheet.append(row)
    if setup:
        setup(book, worksheet)
    path = tmp_path / name
    book.save(path)
    return path


def unreadable(path, **kwargs) -> UnreadableFile:
    with pytest.raises(UnreadableFile) as caught:
        read_rows(path, COUNCIL_RETURNS, **kwargs)
    assert path.name in caught.value.message
    return caught.value


def cells(frame, row: int, *columns: str) -> tuple:
    return tuple(None if frame.isna().loc[row, c] else frame.loc[row, c] for c in columns)


# --- Excel -------------------------------------------------------------------------------------------


def test_workbook_rows_are_text_indexed_by_spreadsheet_row(tmp_path):
    typed = ["E06000001", "Hartlepool", "2009-10", "forecast", 3120.4, 2510, None, None, dt.date(2009, 10, 14), None]
    path = workbook(tmp_path, [HEADER, typed, ROW_2])

    frame = read_rows(path, COUNCIL_RETURNS)

    assert list(frame.index) == [2, 3]
    assert list(frame.columns) == HEADER
    assert cells(frame, 2, "council_code", "ni179_value_gbp_thousands", "revenue_gbp_thousands") == (
        "E06000001",
        "3120.4",
        "2510",
    )
    assert cells(frame, 2, "capital_gbp_thousands", "submitted_date", "comment") == (None, "2009-10-14", None)
    assert cells(frame, 3, "council_code", "sr04_carry_over_gbp_thousands") == ("PRE09-12", "1200.0")
    assert frame.attrs["format"] == "xlsx" and frame.attrs["sheet"] == "Return" and frame.attrs["header_row"] == 1
    assert "sheet_requested" not in frame.attrs


def test_title_rows_and_merged_cells_above_the_header_are_skipped(tmp_path):
    def setup(book, worksheet):
        worksheet.merge_cells("A1:J1")
        worksheet.merge_cells("A2:C2")

    rows = [["NI 179 return, October 2009"], ["Prepared by: finance"], [], [h.upper() + "  " for h in HEADER], ROW]
    frame = read_rows(workbook(tmp_path, rows, setup=setup), COUNCIL_RETURNS)

    assert list(frame.index) == [5]
    assert list(frame.columns) == HEADER
    assert frame.attrs["header_row"] == 4
    assert frame.loc[5, "council_code"] == "E06000001"


def test_cells_become_the_text_a_person_sees(tmp_path):
    header = ["council_code", "financial_year", "return_type", "ni179_value_gbp_thousands", "submitted_date", "comment"]

    def setup(book, worksheet):
        worksheet["E3"].number_format = "dd/mm/yyyy"  # a date and time, shown as a date
        worksheet["E6"].number_format = "dd/mm/yyyy hh:mm"  # a date and time, shown as such

    rows = [
        header,
        [" E06000001 ", "2009-10", "forecast", "1234.5", dt.datetime(2009, 10, 15), True],  # number stored as text
        ["E06000002", "2009-10", "forecast", 1234.5, dt.datetime(2009, 10, 15, 14, 30), False],  # time not shown
        ["E06000003", "2009-10", "forecast", 1234.0, dt.date(2009, 10, 15), 7],
        ["E06000004", "2009-10", "forecast", 1234.4999999999998, "15/10/2009", 0.1 + 0.2],
        ["E06000005", "2009-10", "forecast", -0.5, dt.datetime(2009, 10, 15, 14, 30), 12345678901234.0],
    ]
    frame = read_rows(workbook(tmp_path, rows, setup=setup), COUNCIL_RETURNS)

    assert frame["council_code"].tolist() == [f"E0600000{n}" for n in range(1, 6)]
    assert frame["ni179_value_gbp_thousands"].tolist() == ["1234.5", "1234.5", "1234", "1234.5", "-0.5"]
    assert frame["submitted_date"].tolist() == [
        "2009-10-15",
        "2009-10-15",
        "2009-10-15",
        "15/10/2009",  # typed as text: kept as typed, the gate says it is not YYYY-MM-DD
        "2009-10-15 14:30:00",
    ]
    assert frame["comment"].tolist() == ["TRUE", "FALSE", "7", "0.3", "12345678901234"]


def test_blank_rows_and_formatted_empty_rows_are_dropped(tmp_path):
    def setup(book, worksheet):
        for row in range(5, 40):
            worksheet.cell(row=row, column=3).font = Font(bold=True)  # formatted, never filled
        worksheet.cell(row=41, column=12, value="   ")  # a space far to the right

    frame = read_rows(workbook(tmp_path, [HEADER, ROW, [], ROW_2], setup=setup), COUNCIL_RETURNS)

    assert list(frame.index) == [2, 4]
    assert list(frame.columns) == HEADER


def test_a_renamed_data_sheet_is_found_by_its_header_and_said(tmp_path):
    def setup(book, worksheet):
        book.create_sheet("Notes").append(["Anything"])

    frame = read_rows(workbook(tmp_path, [HEADER, ROW], sheet="Sheet1", setup=setup), COUNCIL_RETURNS)

    assert list(frame.index) == [2]
    assert (frame.attrs["sheet"], frame.attrs["sheet_requested"]) == ("Sheet1", "Return")


def test_sheet_name_is_matched_whatever_its_case_and_spaces(tmp_path):
    frame = read_rows(workbook(tmp_path, [HEADER, ROW], sheet=" RETURN "), COUNCIL_RETURNS)

    assert list(frame.index) == [2]
    assert "sheet_requested" not in frame.attrs


def test_the_caller_names_the_sheet(tmp_path):
    def setup(book, worksheet):
        book.create_sheet("Section B").append(["b_column"])
        book["Section B"].append(["value"])

    path = workbook(tmp_path, [HEADER, ROW], setup=setup)

    assert list(read_rows(path, COUNCIL_RETURNS).index) == [2]
    section = read_rows(path, COUNCIL_RETURNS, sheet="Section B")
    assert section.attrs["sheet"] == "Section B" and section.loc[2, "b_column"] == "value"


def test_missing_sheet_names_the_sheets_found(tmp_path):
    def setup(book, worksheet):
        book.create_sheet("Notes")

    error = unreadable(workbook(tmp_path, [["Summary of returns"]], sheet="Summary", setup=setup))

    assert error.rule == "missing_sheet"
    assert "'Return'" in error.message and "'Summary', 'Notes'" in error.message


def test_an_empty_data_sheet_is_an_empty_file(tmp_path):
    assert unreadable(workbook(tmp_path, [])).rule == "empty_file"


def test_a_header_only_workbook_has_no_rows(tmp_path):
    frame = read_rows(workbook(tmp_path, [HEADER]), COUNCIL_RETURNS)

    assert frame.empty and list(frame.columns) == HEADER


@pytest.mark.parametrize(
    ("name", "content", "rule", "says"),
    [
        ("return.xlsx", csv_text([ROW]).encode(), "file_format", "not an Excel workbook"),
        ("return.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "unreadable_workbook", "damaged"),
        ("return.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "unreadable_workbook", "password"),
        ("return.csv", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "file_format", "rename it to .xls"),
        ("return.ods", b"PK\x03\x04 truncated zip", "unreadable_workbook", "cannot be opened"),
        ("return.xlsx", b"PK\x03\x04 truncated zip", "unreadable_workbook", "cannot be opened"),
        ("return.pdf", b"%PDF-1.4 not a spreadsheet", "file_format", "not a CSV file or an Excel workbook"),
        ("return.csv", b"%PDF-1.4 not a spreadsheet", "file_format", "PDF"),
        ("return.csv", b"PK\x03\x04\x14\x00\x00\x00 zipped", "file_format", "rename it to .xlsx"),
        ("return.csv", b"council_code\x00\x01\x02", "file_format", "not text"),
        ("return.csv", b"", "empty_file", "empty"),
        ("return.csv", b"\xef\xbb\xbf\r\n\r\n", "empty_file", "empty"),
    ],
)
def test_files_that_are_not_csv_or_xlsx_are_refused_plainly(tmp_path, name, content, rule, says):
    error = unreadable(write(tmp_path, name, content))

    assert (error.rule, says in error.message) == (rule, True), error.message


def test_a_zip_that_is_not_a_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "not a workbook")

    assert unreadable(write(tmp_path, "return.xlsx", buffer.getvalue())).rule == "unreadable_workbook"


# --- CSV ---------------------------------------------------------------------------------------------


def test_csv_with_byte_order_mark(tmp_path):
    frame = read_rows(write(tmp_path, "bom.csv", codecs.BOM_UTF8 + csv_text([ROW]).encode()), COUNCIL_RETURNS)

    assert list(frame.columns) == HEADER
    assert frame.loc[2, "council_code"] == "E06000001"
    assert (frame.attrs["encoding"], frame.attrs["delimiter"]) == ("utf-8", ",")


def test_windows_1252_is_read_and_said(tmp_path):
    row = ROW[:1] + ["Café – Borough Council £"] + ROW[2:]
    frame = read_rows(write(tmp_path, "latin.csv", csv_text([row]).encode("cp1252")), COUNCIL_RETURNS)

    assert frame.loc[2, "council_name"] == "Café – Borough Council £"
    assert frame.attrs["encoding"] == "cp1252"


def test_latin_1_bytes_read_as_windows_1252(tmp_path):
    content = ",".join(HEADER).encode() + b"\nE06000001,Caf\xe9,2009-10,forecast,1,,,,2009-10-01,\n"

    frame = read_rows(write(tmp_path, "latin1.csv", content), COUNCIL_RETURNS)

    assert frame.loc[2, "council_name"] == "Café"
    assert frame.attrs["encoding"] == "cp1252"


def test_bytes_that_are_neither_utf8_nor_windows_1252_are_refused(tmp_path):
    content = ",".join(HEADER).encode() + b"\nE06000001,Caf\x81\xe9,2009-10,forecast,1,,,,2009-10-01,\n"

    error = unreadable(write(tmp_path, "odd.csv", content))

    assert error.rule == "encoding" and "CSV UTF-8" in error.message


def test_utf16_tab_separated_text_from_excel_is_read(tmp_path):
    content = codecs.BOM_UTF16_LE + csv_text([ROW], delimiter="\t").replace("\n", "\r\n").encode("utf-16-le")

    frame = read_rows(write(tmp_path, "unicode.csv", content), COUNCIL_RETURNS)

    assert frame.loc[2, "council_name"] == "Hartlepool Borough Council"
    assert (frame.attrs["encoding"], frame.attrs["delimiter"]) == ("utf-16", "\t")


def test_semicolon_separated_file_is_read_and_said(tmp_path):
    row = ROW[:4] + ["3120,4"] + ROW[5:]  # a European decimal comma: kept as text, the gate refuses it
    frame = read_rows(write(tmp_path, "semi.csv", csv_text([row, ROW_2], delimiter=";")), COUNCIL_RETURNS)

    assert list(frame.columns) == HEADER
    assert list(frame.index) == [2, 3]
    assert frame.loc[2, "ni179_value_gbp_thousands"] == "3120,4"
    assert frame.attrs["delimiter"] == ";"


def test_formatted_numbers_are_kept_verbatim_for_the_gate(tmp_path):
    row = ROW[:4] + ['"£1,234.5"', "1 234"] + ROW[6:]
    frame = read_rows(write(tmp_path, "money.csv", csv_text([row])), COUNCIL_RETURNS)
    typed = workbook(tmp_path, [HEADER, ROW[:4] + ["£1,234.5", "1 234"] + ROW[6:]])

    for read in (frame, read_rows(typed, COUNCIL_RETURNS)):
        assert cells(read, 2, "ni179_value_gbp_thousands", "revenue_gbp_thousands") == ("£1,234.5", "1 234")


def test_unknown_columns_are_kept_and_order_does_not_matter(tmp_path):
    header = list(reversed(HEADER)) + ["Cashable_Gain_GBP "]
    row = list(reversed(ROW)) + ["125000"]

    frame = read_rows(write(tmp_path, "extra.csv", csv_text([row], header=header)), COUNCIL_RETURNS)

    assert set(frame.columns) == set(HEADER) | {"cashable_gain_gbp"}
    assert cells(frame, 2, "council_code", "cashable_gain_gbp") == ("E06000001", "125000")


def test_missing_columns_are_left_to_the_gate(tmp_path):
    header = [c for c in HEADER if c not in ("submitted_date", "comment")]
    row = [value for column, value in zip(HEADER, ROW, strict=True) if column in header]

    frame = read_rows(write(tmp_path, "short.csv", csv_text([row], header=header)), COUNCIL_RETURNS)

    assert "submitted_date" not in frame.columns  # required: absent, for the gate to report
    assert "comment" in frame.columns and frame["comment"].isna().all()  # optional: added empty


def test_blank_header_columns_are_dropped_when_empty_and_kept_when_not(tmp_path):
    trailing = "".join(line + ",\n" for line in [",".join(HEADER), ",".join(ROW)])
    frame = read_rows(write(tmp_path, "trailing.csv", trailing), COUNCIL_RETURNS)
    assert list(frame.columns) == HEADER

    filled = "".join(line + "\n" for line in [",".join(HEADER) + ",", ",".join(ROW) + ",note"])
    frame = read_rows(write(tmp_path, "filled.csv", filled), COUNCIL_RETURNS)
    assert frame.loc[2, "(blank header, column 11)"] == "note"


def test_a_column_named_twice_is_refused(tmp_path):
    error = unreadable(write(tmp_path, "twice.csv", csv_text([ROW + ["y"]], header=HEADER + ["Comment"])))

    assert error.rule == "duplicate_column" and "columns 10 and 11" in error.message


def test_row_numbers_are_line_numbers_across_blank_lines_and_multi_line_values(tmp_path):
    multi_line = ROW[:9] + ['"first line\r\nsecond line\nthird"']
    content = csv_text([ROW, [], multi_line, ROW_2, []]).replace("\n", "\r\n", 1)

    frame = read_rows(write(tmp_path, "lines.csv", content), COUNCIL_RETURNS)

    assert list(frame.index) == [2, 4, 7]
    assert frame.loc[4, "comment"] == "first line\r\nsecond line\nthird"
    assert frame.loc[7, "council_code"] == "PRE09-12"


def test_title_lines_above_a_csv_header_are_skipped(tmp_path):
    content = "NI 179 return" + "," * 9 + "\n" + "," * 9 + "\n" + csv_text([ROW])

    frame = read_rows(write(tmp_path, "titled.csv", content), COUNCIL_RETURNS)

    assert list(frame.index) == [4] and frame.attrs["header_row"] == 3


def test_a_short_title_line_above_a_csv_header_is_skipped(tmp_path):
    frame = read_rows(write(tmp_path, "titled.csv", "NI 179 return\n" + csv_text([ROW, ROW_2])), COUNCIL_RETURNS)

    assert list(frame.index) == [3, 4] and frame.loc[4, "council_code"] == "PRE09-12"


def test_a_row_with_too_many_values_names_its_line(tmp_path):
    multi_line = ROW[:9] + ['"two\nlines"']
    bad = ROW[:1] + ["Hartlepool, Borough Council"] + ROW[2:]  # an unquoted comma
    content = csv_text([multi_line, ROW_2, bad])

    error = unreadable(write(tmp_path, "commas.csv", content))

    assert error.rule == "csv_structure"
    assert "line 5 has 11 values but the header has 10" in error.message and "double quotes" in error.message


def test_file_cut_off_mid_row_keeps_the_good_rows_and_flags_the_last(tmp_path):
    content = csv_text([ROW, ROW_2]) + "E06000003,Middlesbrough,2009-10,forecast,12"

    frame = read_rows(write(tmp_path, "cut.csv", content), COUNCIL_RETURNS)

    assert list(frame.index) == [2, 3, 4]
    assert cells(frame, 4, "ni179_value_gbp_thousands", "submitted_date") == ("12", None)
    assert frame.attrs["incomplete_rows"] == [4]


def test_file_cut_off_inside_a_quoted_value_keeps_the_good_rows(tmp_path):
    content = csv_text([ROW, ROW_2]) + 'E06000003,Middlesbrough,2009-10,forecast,12,,,,2009-10-14,"Filed by Mid'

    frame = read_rows(write(tmp_path, "cut.csv", content), COUNCIL_RETURNS)

    assert list(frame.index) == [2, 3, 4]
    assert frame.loc[4, "comment"] == "Filed by Mid"
    assert frame.attrs["incomplete_rows"] == [4]


def test_a_complete_file_has_no_incomplete_rows(tmp_path):
    content = csv_text([ROW, ROW_2]).rstrip("\n")  # no line break at the end, but every value there

    frame = read_rows(write(tmp_path, "whole.csv", content), COUNCIL_RETURNS)

    assert list(frame.index) == [2, 3] and frame.attrs["incomplete_rows"] == []


def test_a_quote_never_closed_names_its_line(tmp_path):
    stray = ROW[:9] + ['"He said fine']
    content = csv_text([ROW, stray, ROW_2, ROW_2])

    error = unreadable(write(tmp_path, "quote.csv", content))

    assert error.rule == "csv_structure"
    assert "line 3 opens a quoted value" in error.message and "lines 3 to 5" in error.message


def test_a_large_csv_is_read_whole(tmp_path):
    rows = 50_000
    body = "".join(f"E06{n:06d},Council {n},2009-10,forecast,{n}.5,,,,2009-10-14,\n" for n in range(rows))
    path = write(tmp_path, "large.csv", ",".join(HEADER) + "\n" + body + '1,"quoted\nvalue"' + ",x" * 8 + "\n")

    frame = read_rows(path, COUNCIL_RETURNS)

    assert len(frame) == rows + 1
    assert frame.index[0] == 2 and frame.index[rows - 1] == rows + 1 and frame.index[rows] == rows + 2
    assert frame.loc[rows + 1, "ni179_value_gbp_thousands"] == f"{rows - 1}.5"


# --- templates ---------------------------------------------------------------------------------------


def test_template_filled_in_reads_back(tmp_path):
    xlsx, csv_path = write_templates(tmp_path / "templates")
    assert (xlsx.name, csv_path.name) == ("council_return_template_v1.xlsx", "council_return_template_v1.csv")
    assert read_rows(csv_path, COUNCIL_RETURNS).empty
    assert csv_path.read_text(encoding="utf-8").strip() == ",".join(HEADER)

    book = openpyxl.load_workbook(xlsx)
    assert book.sheetnames == ["Return", DICTIONARY_SHEET]
    sheet = book["Return"]
    assert [cell.value for cell in sheet[1]] == HEADER and sheet.freeze_panes == "A2"
    drop_downs = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert drop_downs["C2"] == '"2008-09,2009-10,2010-11"' and drop_downs["D2"] == '"forecast,actual"'
    dictionary = [[cell.value for cell in row] for row in book[DICTIONARY_SHEET].iter_rows(values_only=False)]
    assert dictionary[0] == ["sheet", "column", "required", "type", "allowed values", "description"]
    assert dictionary[5][:4] == ["Return", "ni179_value_gbp_thousands", "yes", "number"]
    sheet.append(["E06000001", "Hartlepool", "2009-10", "forecast", 3120.4, 2510, None, None, dt.date(2009, 10, 14)])
    sheet.append(["PRE09-12", None, "2008-09", "actual", 9876.5, None, None, 1200.0, dt.datetime(2009, 7, 20)])
    book.save(tmp_path / "filled.xlsx")

    frame = read_rows(tmp_path / "filled.xlsx", COUNCIL_RETURNS)

    assert list(frame.index) == [2, 3] and list(frame.columns) == HEADER
    assert cells(frame, 2, "financial_year", "ni179_value_gbp_thousands", "revenue_gbp_thousands") == (
        "2009-10",
        "3120.4",
        "2510",
    )
    assert cells(frame, 3, "council_name", "sr04_carry_over_gbp_thousands", "submitted_date") == (
        None,
        "1200",
        "2009-07-20",
    )


def test_an_xls_sheet_keeps_spreadsheet_row_numbers_and_columns_past_a_blank_first_column(tmp_path):
    """Excel 97-2003: a title above the header, the table starting in column B, a blank row between."""
    import xlwt

    book = xlwt.Workbook()
    sheet = book.add_sheet("Return")
    sheet.write(0, 1, "Efficiency return 2009-10")
    for position, name in enumerate(HEADER):
        sheet.write(2, position + 1, name)
    for row_index, row in ((3, ROW), (5, ROW_2)):
        for position, value in enumerate(row):
            if value:
                sheet.write(row_index, position + 1, float(value) if value[0].isdigit() and "-" not in value else value)
    buffer = io.BytesIO()
    book.save(buffer)

    frame = read_rows(write(tmp_path, "return.xls", buffer.getvalue()), COUNCIL_RETURNS)

    assert (frame.attrs["format"], frame.attrs["header_row"]) == ("xls", 3)
    assert list(frame.index) == [4, 6]
    assert frame.loc[4, "ni179_value_gbp_thousands"] == "3120.4" and frame.loc[4, "revenue_gbp_thousands"] == "2510"
    assert frame.loc[6, "council_code"] == "PRE09-12" and frame.loc[6, "comment"] == "x"
