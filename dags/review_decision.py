"""
### Review decision

Decide on a council return held for review: a row loaded with a warning that could move a published
total (a figure too big for the council, an actual under half its own forecast, a cumulative figure
that fell, a resubmission far from the return it replaces, or a figure the publication's movement gate
stopped). Trigger it from the UI with the item's number (`make review` lists them), the decision,
your name and why. It records the decision in `ingest.review_items`, the table the command line
(`python -m efficiency_warehouse.review confirm|reject`) writes too. A confirmed figure goes through
on the next build of the marts, which the decision triggers (Asset `warehouse://ingest/review_items`);
a rejected one never does, and stays in the history.
"""

from airflow.sdk import Param, dag, task

from efficiency_warehouse.assets import REVIEW_DECISIONS
from efficiency_warehouse.dag_defaults import DEFAULT_ARGS, START_DATE


@dag(
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    default_args=DEFAULT_ARGS,
    tags=["review", "operator"],
    doc_md=__doc__,
    params={
        "review_id": Param(0, type="integer", minimum=0, description="The item's number, as `make review` lists it"),
        "decision": Param("confirmed", type="string", enum=["confirmed", "rejected"]),
        "decided_by": Param("", type="string", description="Who decides"),
        "reason": Param("", type="string", description="Why: kept with the decision"),
    },
)
def review_decision():
    @task(outlets=[REVIEW_DECISIONS])  # the transform rebuilds the marts with it; publication follows
    def record_decision() -> dict:
        from airflow.sdk import get_current_context

        from efficiency_warehouse import review, warehouse

        params = get_current_context()["params"]
        with warehouse.connect() as conn:
            review.decide(conn, int(params["review_id"]), params["decision"], params["decided_by"], params["reason"])
        return {"review_id": params["review_id"], "decision": params["decision"]}

    record_decision()


review_decision()
