"""Input checks of :func:`~talentml.report.build_report`: types, columns, ids, personal data.

Every input the report is given is checked before any section is built; the messages name
the parameter and what produces a valid value. Only pseudonymous employee ids reach the
report: a name or contact column, or a sensitive attribute next to employee rows, is
refused (purpose limitation, :mod:`talentml._validation`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._html import scalar
from .._validation import normalize_name, sensitive_names
from ..exceptions import PurposeLimitationError

__all__ = [
    "MSG_COLUMNS",
    "MSG_EMPTY",
    "MSG_KIND",
    "MSG_MAX_ROWS",
    "MSG_NAME_COLUMN",
    "MSG_ROWS",
    "MSG_RUN_ID",
    "MSG_SENSITIVE_COLUMN",
    "MSG_SUFFIX",
    "MSG_TYPE",
    "MSG_UI",
    "NAME_COLUMNS",
    "check_inputs",
    "check_path",
]

MSG_TYPE = "build_report: {name} must be {expected}, got {got}"
MSG_KIND = (
    "build_report: {name} must be an evaluation of {expected}, got one of kind {kind!r}{hint}"
)
MSG_COLUMNS = "build_report: {name} lacks column(s) {missing}; pass {producer}"
MSG_ROWS = "build_report: {name}: column {column!r} {rule} in row(s) {rows}"
MSG_EMPTY = (
    "build_report: nothing to report; give at least one of organization, tables, ingest, "
    "flight_risk, explanation, reasons, nine_box, ramp_up, bias_audit, caregiver, actions, "
    "calibration_flags, team, roi or mlflow_runs"
)
MSG_SUFFIX = "build_report: path must name an .html file, got {path!r}"
MSG_MAX_ROWS = "build_report: max_rows must be a positive int, got {value!r}"
MSG_NAME_COLUMN = (
    "build_report: {name} has a column {column!r} that holds names or contact details; the "
    "report shows pseudonymous employee ids only: drop the column"
)
MSG_SENSITIVE_COLUMN = (
    "build_report: {name} has the sensitive column {column!r} next to employee rows; sensitive "
    "attributes reach the report only as the aggregates of a BiasAudit or CaregiverHours"
)
MSG_RUN_ID = "build_report: mlflow_runs: run_id {value!r} of {label!r} is not a run id"
MSG_UI = (
    "build_report: mlflow_ui must be an http(s) URL such as 'http://127.0.0.1:5000', got {value!r}"
)

#: Columns refused in any table given to the report (names and contact details).
NAME_COLUMNS = frozenset(
    {
        "name",
        "first_name",
        "last_name",
        "full_name",
        "given_name",
        "family_name",
        "surname",
        "employee_name",
        "display_name",
        "actor_name",
        "email",
        "mbox",
    }
)


# ------------------------------------------------------------------------------ helpers
def _type_name(value: Any) -> str:
    return type(value).__name__


def _rows(labels: Any) -> str:
    labels = list(labels)
    shown = ", ".join(repr(scalar(v)) for v in labels[:10])
    return shown + (f", ... ({len(labels):,} in all)" if len(labels) > 10 else "")


def _frame(value: Any, name: str, required: tuple[str, ...], producer: str) -> pd.DataFrame:
    if not isinstance(value, pd.DataFrame):
        raise TypeError(
            MSG_TYPE.format(name=name, expected="a pandas DataFrame", got=_type_name(value))
        )
    missing = [c for c in required if c not in value.columns]
    if missing:
        raise ValueError(MSG_COLUMNS.format(name=name, missing=missing, producer=producer))
    _check_personal(value, name)
    if "employee_id" in value.columns:
        bad = value["employee_id"].isna().to_numpy()
        if bad.any():
            raise ValueError(
                MSG_ROWS.format(
                    name=name, column="employee_id", rule="is missing", rows=_rows(value.index[bad])
                )
            )
    return value


def _check_personal(frame: pd.DataFrame, name: str) -> None:
    names = {normalize_name(c) for c in NAME_COLUMNS}
    sensitive = sensitive_names()
    for column in frame.columns:
        key = normalize_name(column)
        if key in names:
            raise ValueError(MSG_NAME_COLUMN.format(name=name, column=column))
        if key in sensitive and "employee_id" in frame.columns:
            raise PurposeLimitationError(MSG_SENSITIVE_COLUMN.format(name=name, column=column))


def _evaluation(value: Any, name: str, kinds: tuple[str, ...], expected: str, hint: str) -> Any:
    from ..models import Evaluation

    if not isinstance(value, Evaluation):
        raise TypeError(
            MSG_TYPE.format(
                name=name,
                expected="a talentml.models.Evaluation (from talentml.models.evaluate)",
                got=_type_name(value),
            )
        )
    if value.kind not in kinds:
        raise ValueError(MSG_KIND.format(name=name, expected=expected, kind=value.kind, hint=hint))
    return value


def _instance(value: Any, name: str, cls: type, expected: str) -> Any:
    if not isinstance(value, cls):
        raise TypeError(MSG_TYPE.format(name=name, expected=expected, got=_type_name(value)))
    return value


def _mapping(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, pd.Series):
        return {str(k): v for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): v for k, v in value.items()}
    raise TypeError(
        MSG_TYPE.format(name=name, expected="a mapping or a pandas Series", got=_type_name(value))
    )


def _runs(value: Any) -> pd.DataFrame:
    if isinstance(value, Mapping):
        runs = pd.DataFrame({"name": list(value.keys()), "run_id": list(value.values())})
    elif isinstance(value, pd.DataFrame):
        if "run_id" not in value.columns:
            raise ValueError(
                MSG_COLUMNS.format(
                    name="mlflow_runs",
                    missing=["run_id"],
                    producer="a mapping {name: run_id} or a frame with run_id (and optionally "
                    "name, experiment_id, url)",
                )
            )
        runs = value.reset_index(drop=True).copy()
        if "name" not in runs.columns:
            runs["name"] = [f"run {i + 1}" for i in range(len(runs))]
    else:
        raise TypeError(
            MSG_TYPE.format(
                name="mlflow_runs",
                expected="a mapping {name: run_id} or a pandas DataFrame",
                got=_type_name(value),
            )
        )
    for label, run_id in zip(runs["name"], runs["run_id"], strict=True):
        if not isinstance(run_id, str) or not re.fullmatch(r"[0-9A-Za-z_-]{8,64}", run_id):
            raise ValueError(MSG_RUN_ID.format(value=run_id, label=label))
    return runs


# -------------------------------------------------------------------------------- checks
def check_path(path: Any, max_rows: Any) -> tuple[Path, int]:
    """The report's file (an ``.html`` path) and ``max_rows`` (a positive int), checked."""
    if not isinstance(path, str | Path):
        raise TypeError(
            MSG_TYPE.format(name="path", expected="a str or Path", got=_type_name(path))
        )
    out = Path(path)
    if out.suffix.lower() not in (".html", ".htm"):
        raise ValueError(MSG_SUFFIX.format(path=str(path)))
    if isinstance(max_rows, bool) or not isinstance(max_rows, int | np.integer) or max_rows < 1:
        raise ValueError(MSG_MAX_ROWS.format(value=max_rows))
    return out, int(max_rows)


def check_inputs(
    *,
    organization: Any,
    tables: Any,
    ingest: Any,
    settings: Any,
    flight_risk: Any,
    explanation: Any,
    reasons: Any,
    nine_box: Any,
    high_potential: Any,
    ramp_up: Any,
    bias_audit: Any,
    caregiver: Any,
    actions: Any,
    calibration_flags: Any,
    mlflow_runs: Any,
    mlflow_ui: Any,
    team: Any = None,
    roi: Any = None,
) -> tuple[
    dict[str, Any] | None, dict[str, Any] | None, dict[str, Any] | None, pd.DataFrame | None
]:
    """Check every input of :func:`~talentml.report.build_report` (the parameters it names).

    Returns
    -------
    tuple
        ``organization``, ``tables`` and ``settings`` as dicts and ``mlflow_runs`` as a frame
        (None where not given).
    """
    org = _mapping(organization, "organization") if organization is not None else None
    tbl = _mapping(tables, "tables") if tables is not None else None
    sets = _mapping(settings, "settings") if settings is not None else None
    if ingest is not None:
        for attr in ("read", "accepted", "duplicates", "voided", "quarantined"):
            if not hasattr(ingest, attr):
                raise TypeError(
                    MSG_TYPE.format(
                        name="ingest",
                        expected="the report of talentml.xapi.ingest (IngestReport)",
                        got=_type_name(ingest),
                    )
                )
    if flight_risk is not None:
        _evaluation(
            flight_risk,
            "flight_risk",
            ("classification", "survival"),
            "a binary target",
            " (pass the evaluation of FlightRisk on its flight_risk labels)",
        )
    if high_potential is not None:
        _evaluation(
            high_potential,
            "high_potential",
            ("classification", "survival"),
            "a binary target",
            " (pass the evaluation of HighPotential on its high_potential labels)",
        )
    if ramp_up is not None:
        _evaluation(
            ramp_up,
            "ramp_up",
            ("interval",),
            "interval bounds (ramp-up days)",
            " (pass the evaluation of RampUp on talentml.labels.ramp_up_spine rows)",
        )
    if explanation is not None:
        from ..explain import Explanation

        _instance(
            explanation,
            "explanation",
            Explanation,
            "a talentml.explain.Explanation (from talentml.explain.explain)",
        )
    if reasons is not None:
        _frame(
            reasons,
            "reasons",
            ("employee_id", "rank", "code", "text"),
            "Explanation.top_reasons() of rows with employee_id",
        )
    if nine_box is not None:
        _frame(nine_box, "nine_box", ("box", "persona"), "the output of talentml.models.nine_box")
        box = pd.to_numeric(nine_box["box"], errors="coerce")
        bad = (nine_box["box"].notna() & ~box.between(1, 9)).to_numpy(dtype=bool)
        if bad.any():
            raise ValueError(
                MSG_ROWS.format(
                    name="nine_box",
                    column="box",
                    rule="is not 1-9",
                    rows=_rows(nine_box.index[bad]),
                )
            )
    if bias_audit is not None:
        from ..fairness import BiasAudit

        _instance(bias_audit, "bias_audit", BiasAudit, "a talentml.fairness.BiasAudit (from audit)")
    if caregiver is not None:
        from ..fairness import CaregiverHours

        _instance(
            caregiver,
            "caregiver",
            CaregiverHours,
            "a talentml.fairness.CaregiverHours (from caregiver_hours)",
        )
    if actions is not None:
        _frame(
            actions,
            "actions",
            ("employee_id", "rule_id", "action", "reason"),
            "the actions of talentml.loop.RuleSet.evaluate",
        )
    if calibration_flags is not None:
        _frame(
            calibration_flags,
            "calibration_flags",
            ("employee_id", "flag", "evidence"),
            "the output of talentml.loop.calibration_flags",
        )
    if team is not None:
        from ..loop import TeamView

        _instance(team, "team", TeamView, "a talentml.loop.TeamView (from team_view)")
    if roi is not None:
        from ..loop import ROI

        _instance(roi, "roi", ROI, "a talentml.loop.ROI (from roi)")
    runs = _runs(mlflow_runs) if mlflow_runs is not None else None
    if mlflow_ui is not None and not (
        isinstance(mlflow_ui, str) and re.match(r"https?://\S+$", mlflow_ui)
    ):
        raise ValueError(MSG_UI.format(value=mlflow_ui))
    return org, tbl, sets, runs
