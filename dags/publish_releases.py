"""
### Publish releases

When the marts have been rebuilt and tested, publishes a Treasury release per return cycle into
`outputs/releases/<cycle>/v<n>/` (CSV with CSV on the Web metadata, a manifest, SHA256SUMS and a
revisions log), loads the `published` tables the Treasury role reads, and writes the ICE Board pack
and the outputs index. Publication is gated: the last dbt build must have passed every test and the
`*__publication` Great Expectations suites must pass; otherwise the task fails, saying why, and the
previous release stands. Unchanged figures publish nothing new; changed ones publish the next version.
Each step holds the warehouse lock `build_and_publish`, so no build runs during it; the extract and the
packs are written from the build whose releases the first step published, or skipped when a newer
build has come in (its own publication follows).
"""

from airflow.sdk import AssetOrTimeSchedule, CronTriggerTimetable, dag, task

from efficiency_warehouse.assets import NATIONAL_POSITION
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    # After each build, and every night: a cycle whose close passes with no new data since its last build
    # is published at 00:30 after its close, not with the next delivery. (On a deployment's first start
    # the nightly run comes at once and skips: no build has passed yet.)
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable("30 0 * * *", timezone="Europe/London"), assets=[NATIONAL_POSITION]
    ),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=["publish", "treasury", "board"],
    doc_md=__doc__,
)
def publish_releases():
    @task
    def publish_treasury_releases():
        from efficiency_warehouse import pipeline

        return _skip_if_superseded(pipeline.publish_releases_of_the_last_build())

    @task
    def write_national_extract(published):
        from efficiency_warehouse import pipeline

        return _skip_if_superseded(pipeline.publish_national_extract(published["build"]))

    @task
    def write_board_packs_and_index(published):
        from efficiency_warehouse import pipeline

        return _skip_if_superseded(pipeline.write_board_packs_and_index(published["build"]))

    published = publish_treasury_releases()
    write_national_extract(published) >> write_board_packs_and_index(published)


def _skip_if_superseded(outcome: dict) -> dict:
    """Skip the task (and what follows it) when the step had nothing of its own build to publish."""
    from airflow.sdk.exceptions import AirflowSkipException

    if "skipped" in outcome:
        raise AirflowSkipException(outcome["skipped"])
    return outcome


publish_releases()
