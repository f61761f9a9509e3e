"""The datasets the warehouse receives, each described once: its template, tables and suites.

One ingestion mechanism serves every dataset; what differs between them is here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    sql_type: str  # the raw table's type; the file's text is cast by COPY after validation
    required: bool
    description: str


@dataclass(frozen=True)
class Dataset:
    name: str
    template_version: int
    columns: tuple[Column, ...]
    raw_table: str
    key_columns: tuple[str, ...]  # one current row per key; a later file supersedes an earlier one
    landing_suite: str
    parameters_sql: dict[str, str] = field(default_factory=dict)  # GX suite parameters read from the warehouse

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]


COUNCIL_RETURNS = Dataset(
    name="council_returns",
    template_version=1,
    columns=(
        Column(
            "council_code",
            "text",
            True,
            "GSS code of the council (E06, E07, E08, E09 or E10), "
            "or the PRE09-nn code of a council abolished on 1 April 2009",
        ),
        Column(
            "council_name", "text", False, "Name of the council, for people reading the file; the code is authoritative"
        ),
        Column("financial_year", "text", True, "Financial year the figure is for, written 2008-09, 2009-10 or 2010-11"),
        Column(
            "return_type",
            "text",
            True,
            "forecast (sent in October for the current year) or actual (sent in July for the year just ended)",
        ),
        Column(
            "ni179_value_gbp_thousands",
            "numeric(14, 1)",
            True,
            "NI 179: net ongoing cash-releasing value for money gains since 1 April 2008, cumulative, in £ thousands",
        ),
        Column(
            "revenue_gbp_thousands",
            "numeric(14, 1)",
            False,
            "Optional: the revenue part of the NI 179 value, £ thousands",
        ),
        Column(
            "capital_gbp_thousands",
            "numeric(14, 1)",
            False,
            "Optional: the capital part of the NI 179 value, £ thousands",
        ),
        Column(
            "sr04_carry_over_gbp_thousands",
            "numeric(14, 1)",
            False,
            "Optional: SR04 gains above 7.5% of the 2004-05 baseline included in the value, £ thousands",
        ),
        Column("submitted_date", "date", True, "Date the council submitted the return, YYYY-MM-DD"),
        Column("comment", "text", False, "Optional free text from the council"),
    ),
    raw_table="raw.council_returns",
    key_columns=("council_code", "financial_year", "return_type"),
    landing_suite="council_returns__landing",
    parameters_sql={
        "known_council_codes": "select council_code from reference.councils",
        "programme_years": "select financial_year from reference.financial_years",
        # A council may report only for a year it existed in: predecessors for 2008-09 only,
        # the 2009 unitaries from 2009-10.
        "council_years": """
            select councils.council_code, years.financial_year
            from reference.councils as councils
            join reference.financial_years as years
              on coalesce(councils.valid_from_date, date '1900-01-01') <= years.year_end_date
             and coalesce(councils.valid_to_date, date '9999-12-31') >= years.year_end_date
        """,
    },
)

DATASETS = {dataset.name: dataset for dataset in (COUNCIL_RETURNS,)}
