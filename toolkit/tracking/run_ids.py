"""Run ids given as any unique prefix (``toolkit compare`` prints the first 8 characters)."""

from __future__ import annotations

from typing import Any, Iterable

# A prefix matching more runs than this is reported by count, not by listing every id.
SHOWN_MATCHES = 5


def resolve_run_id(prefix: str, run_ids: Iterable[str], argument: str = "RUN_ID", where: str = "") -> str:
    """The one id of ``run_ids`` that is ``prefix`` or starts with it.

    Tracker-neutral: give it the ids any tracker lists. ValueError naming ``argument`` when the
    prefix is empty, matches no run, or matches several (the matching ids are named).
    """
    if not isinstance(prefix, str) or not prefix.strip():
        raise ValueError(f"{argument} must be a run id or a prefix of one, got {prefix!r}")
    prefix = prefix.strip()
    ids = list(dict.fromkeys(run_ids))
    if prefix in ids:
        return prefix
    matches = [run_id for run_id in ids if run_id.startswith(prefix)]
    place = f" in {where}" if where else ""
    if not matches:
        raise ValueError(f"{argument} {prefix!r}: no run{place} has an id starting with it")
    if len(matches) > 1:
        shown = ", ".join(sorted(matches)[:SHOWN_MATCHES]) + (", ..." if len(matches) > SHOWN_MATCHES else "")
        raise ValueError(
            f"{argument} {prefix!r} is ambiguous: {len(matches)} runs{place} start with it ({shown}); "
            "give more characters"
        )
    return matches[0]


def resolve_mlflow_run_id(client: Any, prefix: str, argument: str = "RUN_ID") -> str:
    """``prefix`` resolved among the runs of every experiment of an ``MlflowClient``'s store."""
    from toolkit.tracking.redaction import strip_url_credentials

    where = strip_url_credentials(str(client.tracking_uri))
    if isinstance(prefix, str) and len(prefix.strip()) == 32:  # a whole MLflow id: no listing needed
        return prefix.strip()
    experiment_ids = [experiment.experiment_id for experiment in client.search_experiments()]
    return resolve_run_id(prefix, _mlflow_run_ids(client, experiment_ids), argument, where)


def _mlflow_run_ids(client: Any, experiment_ids: list) -> Iterable[str]:
    token = None
    while experiment_ids:
        page = client.search_runs(experiment_ids, max_results=1000, page_token=token)
        yield from (found.info.run_id for found in page)
        token = page.token
        if not token:
            return
