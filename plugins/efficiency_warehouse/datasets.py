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
    allowed_values: tuple[str, ...] = ()  # for templates' drop-downs; the suites enforce them


@dataclass(frozen=True)
class Dataset:
    name: str
    template_version: int
    columns: tuple[Column, ...]
    raw_table: str
    key_columns: tuple[str, ...]  # one current row per key; a later file supersedes an earlier one
    landing_suite: str  # rules on the file as received, every cell text
    parameters_sql: dict[str, str] = field(default_factory=dict)  # GX suite parameters read from the warehouse
    # Second stage: rules on the typed rows in the context of the warehouse (history, reference).
    # staged_context_sql selects from the temporary table "incoming" (the file's accepted rows, typed)
    # and returns source_row_number plus the columns the staged suite checks.
    staged_suite: str | None = None
    staged_context_sql: str | None = None
    landing_sheet: str | None = None  # the worksheet that holds the rows, for workbooks
    # A delivery with several sections (a workbook with one sheet per section, or one CSV per
    # section) lists them here; each section is a Dataset of its own with its own raw table.
    sections: tuple[Dataset, ...] = ()
    incoming_table: str = "incoming"  # the temporary table the staged SQL reads this section from
    # Warning rules that can move a published total: a row they flag loads but waits for a decision
    # (efficiency_warehouse.review) before it reaches the marts that feed releases.
    held_for_review: tuple[str, ...] = ()
    # The column naming the council, where a return may use any GSS code the council held during the
    # programme: ingest maps a former code to the current one (reference.former_council_codes) before
    # the gate, and keeps the code as filed in the raw table's ``<column>_as_filed``.
    council_code_column: str | None = None
    # A delivery whose rows are one document (a RIEP annual report: its sections cross-checked against its
    # summary) loads whole or not at all: one stopped row stops every row, so no part of it becomes current.
    loaded_whole: bool = False

    @property
    def as_filed_column(self) -> str | None:
        return f"{self.council_code_column}_as_filed" if self.council_code_column else None

    @property
    def parts(self) -> tuple[Dataset, ...]:
        """The table-shaped datasets a delivery holds: its sections, or itself."""
        return self.sections or (self,)

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [column.name for column in self.columns if column.required]


PROGRAMME_YEARS = ("2008-09", "2009-10", "2010-11")

# Reference sets shared by the suites, read from the warehouse's reference schema.
KNOWN_COUNCILS_SQL = "select council_code from reference.councils"
FORMER_COUNCIL_CODES_SQL = "select former_code, council_code from reference.former_council_codes"

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
        Column(
            "financial_year",
            "text",
            True,
            "Financial year the figure is for, written 2008-09, 2009-10 or 2010-11",
            PROGRAMME_YEARS,
        ),
        Column(
            "return_type",
            "text",
            True,
            "forecast (sent in October for the current year) or actual (sent in July for the year just ended)",
            ("forecast", "actual"),
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
    landing_sheet="Return",
    council_code_column="council_code",
    parameters_sql={
        "known_council_codes": KNOWN_COUNCILS_SQL,
        "former_council_codes": FORMER_COUNCIL_CODES_SQL,
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
    staged_suite="council_returns__staged",
    # Each can be a figure in £ rather than £ thousands, or a typing slip, that would move a national total.
    held_for_review=(
        "implausible_for_council_size",
        "actual_far_below_forecast",
        "cumulative_value_fell",
        "far_from_previous_return",
    ),
    # The filing-window rule (docs/council_return_template.md): a forecast is for the current year,
    # so it must be submitted within that year, and is due in October; an actual is for a year that
    # has ended, so it must be submitted after 31 March, and is due in July. Early is fine, late is
    # flagged; a date that contradicts the return type is an error.
    staged_context_sql="""
        with
        current_baselines as (
            select distinct on (council_code) council_code, revenue_gbp_thousands + capital_gbp_thousands as total
            from raw.council_baselines
            join ingest.load_manifest using (manifest_id)
            where baseline_year = '2007-08'
            order by council_code, received_at desc, manifest_id desc, source_row_number desc
        ),
        -- The latest accepted figure per council, year and type: this file's own rows win over the
        -- warehouse's. Set-based (hash joins), so the cost grows with the rows, not their product.
        -- A row held for review (pending or rejected) is not the figure that stands: the marts skip it too.
        earlier as (
            select distinct on (r.council_code, r.financial_year, r.return_type)
                r.council_code, r.financial_year, r.return_type, r.ni179_value_gbp_thousands
            from raw.council_returns as r
            join ingest.load_manifest as m using (manifest_id)
            where r.council_code in (select council_code from incoming)
              and not exists (
                  select 1 from ingest.review_items as held
                  where held.manifest_id = r.manifest_id and held.source_row_number = r.source_row_number
                    and held.decision <> 'confirmed'
              )
            order by r.council_code, r.financial_year, r.return_type,
                     m.received_at desc, r.manifest_id desc, r.source_row_number desc
        ),
        this_file as (
            select distinct on (council_code, financial_year, return_type)
                council_code, financial_year, return_type, ni179_value_gbp_thousands
            from incoming
            order by council_code, financial_year, return_type, source_row_number desc
        ),
        latest as (
            select * from this_file
            union all
            select earlier.* from earlier
            left join this_file using (council_code, financial_year, return_type)
            where this_file.council_code is null
        )
        select
            incoming.source_row_number,
            incoming.council_code,
            incoming.ni179_value_gbp_thousands::float8 as ni179_value_gbp_thousands,
            case
                when incoming.return_type = 'forecast' and incoming.submitted_date < years.year_start_date
                    then 'forecast_before_year'
                when incoming.return_type = 'forecast' and incoming.submitted_date > years.year_end_date
                    then 'forecast_after_year_end'
                when incoming.return_type = 'actual' and incoming.submitted_date <= years.year_end_date
                    then 'actual_before_year_end'
                when incoming.submitted_date > current_date then 'in_the_future'
                when incoming.return_type = 'forecast' and incoming.submitted_date > years.forecast_window_end_date
                    then 'late'
                when incoming.return_type = 'actual' and incoming.submitted_date > years.actual_window_end_date
                    then 'late'
                when incoming.return_type = 'forecast' and incoming.submitted_date < years.forecast_window_start_date
                    then 'early'
                when incoming.return_type = 'actual' and incoming.submitted_date < years.actual_window_start_date
                    then 'early'
                else 'on_time'
            end as submission_timing,
            (incoming.ni179_value_gbp_thousands / nullif(current_baselines.total, 0))::float8
                as share_of_council_baseline,
            case when incoming.return_type = 'actual' then
                (incoming.ni179_value_gbp_thousands / nullif(forecast.ni179_value_gbp_thousands, 0))::float8
            end as actual_to_forecast_ratio,
            (incoming.ni179_value_gbp_thousands - previous_year.ni179_value_gbp_thousands)::float8
                as change_from_previous_year_gbp_thousands,
            -- a resubmission against the return it replaces (the warehouse's, not this file's)
            (incoming.ni179_value_gbp_thousands / nullif(previous_return.ni179_value_gbp_thousands, 0))::float8
                as ratio_to_previous_return
        from incoming
        join reference.financial_years as years on years.financial_year = incoming.financial_year
        left join reference.financial_years as previous on previous.programme_year = years.programme_year - 1
        left join current_baselines on current_baselines.council_code = incoming.council_code
        left join latest as forecast
            on forecast.council_code = incoming.council_code
            and forecast.financial_year = incoming.financial_year
            and forecast.return_type = 'forecast'
        left join latest as previous_year
            on previous_year.council_code = incoming.council_code
            and previous_year.financial_year = previous.financial_year
            and previous_year.return_type = incoming.return_type
        left join earlier as previous_return
            on previous_return.council_code = incoming.council_code
            and previous_return.financial_year = incoming.financial_year
            and previous_return.return_type = incoming.return_type
    """,
)

COUNCIL_BASELINES = Dataset(
    name="council_baselines",
    template_version=1,
    columns=(
        Column(
            "council_code", "text", True, "GSS code of the council, or PRE09-nn for a council abolished in April 2009"
        ),
        Column("council_name", "text", False, "Name of the council, for people reading the file"),
        Column(
            "baseline_year",
            "text",
            True,
            "2007-08 (the CSR07 baseline) or 2004-05 (the SR04 baseline, for the 7.5% carry-over rule)",
            ("2004-05", "2007-08"),
        ),
        Column("revenue_gbp_thousands", "numeric(14, 1)", True, "Revenue expenditure in the baseline, £ thousands"),
        Column("capital_gbp_thousands", "numeric(14, 1)", True, "Capital expenditure in the baseline, £ thousands"),
        Column("source", "text", False, "Where the figures come from"),
    ),
    raw_table="raw.council_baselines",
    key_columns=("council_code", "baseline_year"),
    landing_suite="council_baselines__landing",
    landing_sheet="Baselines",
    council_code_column="council_code",
    parameters_sql={"known_council_codes": KNOWN_COUNCILS_SQL, "former_council_codes": FORMER_COUNCIL_CODES_SQL},
)

KNOWN_RIEPS_SQL = "select region_code from reference.regions"
PROGRAMME_YEARS_SQL = "select financial_year from reference.financial_years"
RIEP_PARAMETERS = {"known_riep_region_codes": KNOWN_RIEPS_SQL, "programme_years": PROGRAMME_YEARS_SQL}
SPEND_THEMES = (
    "business_process_improvement",
    "collaboration_and_shared_services",
    "procurement",
    "asset_management",
    "support_to_councils_in_difficulty",
    "capacity_building_and_skills",
    "other",
)
FUNDING_STREAMS = ("rsg_top_slice", "clg_capacity_building", "clg_efficiency_support", "other")


def _riep_key_columns() -> tuple[Column, Column]:
    return (
        Column("region_code", "text", True, "ONS code of the RIEP's region, E12000001 to E12000009"),
        Column("financial_year", "text", True, "The year reported on: 2008-09, 2009-10 or 2010-11", PROGRAMME_YEARS),
    )


def _riep_section(name: str, sheet: str, columns: tuple[Column, ...], key: tuple[str, ...], **staged) -> Dataset:
    return Dataset(
        name=name,
        template_version=1,
        columns=(*_riep_key_columns(), *columns),
        raw_table=f"raw.{name}",
        key_columns=("region_code", "financial_year", *key),
        landing_suite=f"{name}__landing",
        parameters_sql=RIEP_PARAMETERS,
        landing_sheet=sheet,
        incoming_table=f"incoming_{name}",
        **staged,
    )


RIEP_REPORT_SPEND = _riep_section(
    "riep_report_spend",
    "Spend",
    (
        Column("theme", "text", True, "What the money was spent on", SPEND_THEMES),
        Column("spend_gbp_thousands", "numeric(14, 1)", True, "Spend in the year on the theme, £ thousands"),
    ),
    ("theme",),
)
RIEP_REPORT_FUNDING = _riep_section(
    "riep_report_funding",
    "Funding",
    (
        Column("funding_stream", "text", True, "The stream the money came from", FUNDING_STREAMS),
        Column(
            "amount_gbp_thousands", "numeric(14, 1)", True, "Funding received in the year from the stream, £ thousands"
        ),
    ),
    ("funding_stream",),
)
RIEP_REPORT_STANDARDS = _riep_section(
    "riep_report_standards",
    "Standards",
    (
        Column(
            "standard_number",
            "integer",
            True,
            "The national strategy's minimum standard, 1 to 5",
            ("1", "2", "3", "4", "5"),
        ),
        Column("status", "text", True, "Whether the standard was met", ("met", "partly_met", "not_met")),
        Column("evidence", "text", True, "The evidence that supports the status"),
    ),
    ("standard_number",),
    staged_suite="riep_report_standards__staged",
    staged_context_sql="""
        select source_row_number, count(*) over (partition by region_code, financial_year) as standards_answered
        from incoming_riep_report_standards
    """,
)
RIEP_REPORT_PRIORITIES = _riep_section(
    "riep_report_priorities",
    "Priorities",
    (
        Column(
            "priority", "text", True, "A priority of the RIEP's three-year regional improvement and efficiency strategy"
        ),
        Column("rag_status", "text", True, "Progress against it: red, amber or green", ("red", "amber", "green")),
        Column("comment", "text", False, "What lies behind the status"),
    ),
    ("priority",),
)
RIEP_REPORT_SUMMARY = _riep_section(
    "riep_report_summary",
    "Summary",
    (
        Column(
            "total_funding_received_gbp_thousands",
            "numeric(14, 1)",
            True,
            "All funding received in the year, £ thousands",
        ),
        Column(
            "total_spend_gbp_thousands",
            "numeric(14, 1)",
            True,
            "All spend in the year, £ thousands: the Spend sheet must add up to it",
        ),
        Column(
            "cash_releasing_savings_gbp_thousands",
            "numeric(14, 1)",
            True,
            "Cash-releasing savings attributed to RIEP-supported projects in the year, £ thousands",
        ),
        Column("councils_supported", "integer", True, "Councils the RIEP supported in the year"),
        Column("councils_in_difficulty_supported", "integer", True, "Of those, councils in difficulty"),
        Column("submitted_date", "date", True, "Date the report was submitted, YYYY-MM-DD"),
    ),
    (),
    staged_suite="riep_report_summary__staged",
    # Sections of the same report come from this file or, when a section was sent on its own
    # earlier, from the warehouse: the latest file that delivered it.
    staged_context_sql="""
        with
        spend_in_file as (
            select region_code, financial_year, sum(spend_gbp_thousands) as spend
            from incoming_riep_report_spend group by region_code, financial_year
        ),
        spend_in_warehouse as (
            select distinct on (s.region_code, s.financial_year) s.region_code, s.financial_year, s.manifest_id
            from raw.riep_report_spend as s join ingest.load_manifest as m using (manifest_id)
            order by s.region_code, s.financial_year, m.received_at desc, s.manifest_id desc
        ),
        spend_current as (
            select s.region_code, s.financial_year, sum(s.spend_gbp_thousands) as spend
            from raw.riep_report_spend as s
            join spend_in_warehouse as latest using (region_code, financial_year, manifest_id)
            group by s.region_code, s.financial_year
        ),
        funding_in_file as (
            select region_code, financial_year, sum(amount_gbp_thousands) as funding
            from incoming_riep_report_funding group by region_code, financial_year
        )
        select
            summary.source_row_number,
            (summary.total_spend_gbp_thousands - coalesce(spend_in_file.spend, spend_current.spend))::float8
                as spend_by_theme_minus_total,
            (summary.total_funding_received_gbp_thousands - funding_in_file.funding)::float8
                as funding_by_stream_minus_total,
            summary.councils_supported - summary.councils_in_difficulty_supported as councils_not_in_difficulty
        from incoming_riep_report_summary as summary
        left join spend_in_file using (region_code, financial_year)
        left join spend_current using (region_code, financial_year)
        left join funding_in_file using (region_code, financial_year)
    """,
)

RIEP_ANNUAL_REPORTS = Dataset(
    name="riep_annual_reports",
    template_version=1,
    columns=(),
    raw_table="",
    key_columns=("region_code", "financial_year"),
    landing_suite="",
    loaded_whole=True,
    # The summary last: its checks read the other sections of the same file.
    sections=(
        RIEP_REPORT_FUNDING,
        RIEP_REPORT_SPEND,
        RIEP_REPORT_STANDARDS,
        RIEP_REPORT_PRIORITIES,
        RIEP_REPORT_SUMMARY,
    ),
)

RIEP_ALLOCATIONS = Dataset(
    name="riep_allocations",
    template_version=1,
    columns=(
        *_riep_key_columns(),
        Column(
            "funding_stream",
            "text",
            True,
            "rsg_top_slice or clg (Communities and Local Government)",
            ("rsg_top_slice", "clg"),
        ),
        Column("amount_gbp_thousands", "numeric(14, 1)", True, "The allocation, £ thousands; positive"),
        Column("status", "text", True, "indicative, firm or final", ("indicative", "firm", "final")),
        Column("set_date", "date", True, "The date the allocation was set, YYYY-MM-DD"),
        Column("note", "text", False, "Optional note"),
    ),
    raw_table="raw.riep_allocations",
    key_columns=("region_code", "financial_year", "funding_stream"),
    landing_suite="riep_allocations__landing",
    landing_sheet="Allocations",
    parameters_sql=RIEP_PARAMETERS,
    staged_suite="riep_allocations__staged",
    staged_context_sql="""
        select incoming.source_row_number, per_year.rieps_in_file_for_year
        from incoming
        join (
            select financial_year, count(distinct region_code) as rieps_in_file_for_year
            from incoming group by financial_year
        ) as per_year using (financial_year)
    """,
)

SIMPLIFICATION_STATUS_UPDATES = Dataset(
    name="simplification_status_updates",
    template_version=1,
    columns=(
        Column(
            "commitment_id",
            "text",
            True,
            "The commitment's identifier in reference.simplification_commitments, e.g. SC01",
        ),
        Column("as_at_date", "date", True, "The date the status describes, YYYY-MM-DD"),
        Column(
            "status",
            "text",
            True,
            "not_started, on_track, at_risk, delivered or dropped",
            ("not_started", "on_track", "at_risk", "delivered", "dropped"),
        ),
        Column("evidence", "text", False, "What the status rests on"),
        Column("reported_by", "text", False, "Who in the board secretariat filed the update"),
    ),
    raw_table="raw.simplification_status_updates",
    key_columns=("commitment_id", "as_at_date"),
    landing_suite="simplification_status_updates__landing",
    landing_sheet="Status updates",
    parameters_sql={"known_commitment_ids": "select commitment_id from reference.simplification_commitments"},
)

DATASETS = {
    dataset.name: dataset
    for dataset in (
        COUNCIL_RETURNS,
        COUNCIL_BASELINES,
        RIEP_ANNUAL_REPORTS,
        RIEP_ALLOCATIONS,
        SIMPLIFICATION_STATUS_UPDATES,
    )
}
