"""One self-contained HTML report of a talentml run: models, reasons, 9-box, fairness, actions.

:func:`build_report` checks its inputs (:mod:`._checks`), renders a section for each input
given (:mod:`._sections`) and writes the page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from .._html import page, section
from ..config import show_progress as _show_progress
from ._checks import (
    MSG_COLUMNS,
    MSG_EMPTY,
    MSG_KIND,
    MSG_MAX_ROWS,
    MSG_NAME_COLUMN,
    MSG_ROWS,
    MSG_RUN_ID,
    MSG_SENSITIVE_COLUMN,
    MSG_SUFFIX,
    MSG_TYPE,
    MSG_UI,
    check_inputs,
    check_path,
)
from ._loop_sections import roi_section, team_section
from ._sections import (
    CSS,
    SECTIONS,
    _actions,
    _calibration_flags,
    _fairness,
    _flight_risk,
    _mlflow,
    _nine_box,
    _ramp_up,
    _reasons,
    _shap,
    _summary,
)

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
    "SECTIONS",
    "build_report",
]

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------- public API
def build_report(
    path: str | Path,
    *,
    title: str = "talentml report",
    organization: Mapping[str, Any] | pd.Series | None = None,
    tables: Mapping[str, int] | None = None,
    ingest: Any = None,
    settings: Mapping[str, Any] | None = None,
    flight_risk: Any = None,
    explanation: Any = None,
    reasons: pd.DataFrame | None = None,
    nine_box: pd.DataFrame | None = None,
    high_potential: Any = None,
    ramp_up: Any = None,
    bias_audit: Any = None,
    caregiver: Any = None,
    actions: pd.DataFrame | None = None,
    calibration_flags: pd.DataFrame | None = None,
    team: Any = None,
    roi: Any = None,
    mlflow_runs: Mapping[str, str] | pd.DataFrame | None = None,
    tracking_uri: str | None = None,
    mlflow_ui: str | None = None,
    max_rows: int = 20,
    show_progress: bool | None = None,
) -> Path:
    """Write one self-contained HTML report of a talentml run.

    The report shows what the library already computed; nothing is re-fitted or
    re-scored here. Each input is optional and adds its section (a section without input
    is left out); at least one is needed. Figures are inline PNGs (base64) and the styles
    are inline, so the file opens from disk in any browser with no server and no network.
    Only pseudonymous employee ids appear: a table with a name or contact column, or with a
    sensitive attribute next to employee rows, is refused.

    Parameters
    ----------
    path : str or Path
        The ``.html`` file to write (its folder is created).
    title : str, default "talentml report"
        Heading and ``<title>`` of the page.
    organization : mapping or pandas.Series, optional
        Headline figures of the organization (e.g. ``Workforce.summary()``).
    tables : mapping of str to int, optional
        Rows of each input table.
    ingest : IngestReport, optional
        The ``report`` of :func:`talentml.xapi.ingest` (counts and quarantine reasons).
    settings : mapping, optional
        How the run was made (seed, sizes, horizons, time split, timings).
    flight_risk : Evaluation, optional
        :func:`talentml.models.evaluate` of a flight-risk model on held-out rows: metrics,
        calibration and lift plots.
    explanation : Explanation, optional
        :func:`talentml.explain.explain` of the flight-risk model: the SHAP summary.
    reasons : pandas.DataFrame, optional
        :meth:`Explanation.top_reasons` of the highest-risk employees (``employee_id``,
        ``rank``, ``code``, ``text``; ``as_of``, ``direction`` and a ``score`` column, which
        orders the employees, when present).
    nine_box : pandas.DataFrame, optional
        :func:`talentml.models.nine_box` output: the grid and the personas.
    high_potential : Evaluation, optional
        Evaluation of the high-potential model behind the 9-box's potential axis.
    ramp_up : Evaluation, optional
        Evaluation of a :class:`~talentml.models.RampUp` model (interval target): predicted
        against observed days.
    bias_audit : BiasAudit, optional
        :func:`talentml.fairness.audit` result: impact-ratio plots, lowest ratios, flags.
    caregiver : CaregiverHours, optional
        :func:`talentml.fairness.caregiver_hours` result.
    actions : pandas.DataFrame, optional
        Actions of :meth:`talentml.loop.RuleSet.evaluate` (``employee_id``, ``rule_id``,
        ``action``, ``reason``).
    calibration_flags : pandas.DataFrame, optional
        :func:`talentml.loop.calibration_flags` output (``employee_id``, ``flag``,
        ``evidence``).
    team : TeamView, optional
        :func:`talentml.loop.team_view` of one manager: the skill heatmap, the agility
        ranking and the suggested assignments.
    roi : ROI, optional
        :func:`talentml.loop.roi` of a program: the business case (assumptions marked),
        retention, sensitivity and survival curves.
    mlflow_runs : mapping of str to str or pandas.DataFrame, optional
        MLflow runs of this run: ``{label: run_id}``, or a frame with ``run_id`` and
        optionally ``name``, ``experiment_id`` and ``url``.
    tracking_uri : str, optional
        The MLflow tracking URI, shown with the command that opens the UI on it.
    mlflow_ui : str, optional
        Base URL of the MLflow UI (``"http://127.0.0.1:5000"``): runs with an
        ``experiment_id`` get a link.
    max_rows : int, default 20
        Longest table of rows (employees in the reasons table, actions, flags).
    show_progress : bool, optional
        tqdm bar over the sections (default: talentml's ``show_progress`` setting).

    Returns
    -------
    pathlib.Path
        The file written.

    Raises
    ------
    TypeError
        If an input is not of the type the library returns (the parameter is named).
    ValueError
        If nothing is given, ``path`` is not an ``.html`` file, a table lacks a column, has
        missing employee ids (rows named) or a name or contact column, or an evaluation is of
        the wrong kind.
    talentml.PurposeLimitationError
        If a table puts a sensitive attribute next to employee rows.

    See Also
    --------
    talentml.models.evaluate : The evaluations shown.
    talentml.fairness.BiasAudit.to_html : The full audit report (this report summarizes it).

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from talentml.models import evaluate
    >>> from talentml.report import build_report
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(400, 2))
    >>> y = (X[:, 0] + rng.normal(size=400) > 1).astype(int)
    >>> ev = evaluate(LogisticRegression().fit(X, y), X, y, n_bootstrap=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = build_report(Path(tmp) / "report.html", flight_risk=ev,
    ...                         organization={"employees": 400}, show_progress=False)
    ...     page = path.read_text(encoding="utf-8")
    >>> page.count('<img src="data:image/png;base64,')
    2
    >>> 'data-section="flight-risk"' in page
    True
    """
    out, max_rows = check_path(path, max_rows)
    org, tbl, sets, runs = check_inputs(
        organization=organization,
        tables=tables,
        ingest=ingest,
        settings=settings,
        flight_risk=flight_risk,
        explanation=explanation,
        reasons=reasons,
        nine_box=nine_box,
        high_potential=high_potential,
        ramp_up=ramp_up,
        bias_audit=bias_audit,
        caregiver=caregiver,
        actions=actions,
        calibration_flags=calibration_flags,
        mlflow_runs=mlflow_runs,
        mlflow_ui=mlflow_ui,
        team=team,
        roi=roi,
    )

    builders: list[tuple[str, Callable[[], str]]] = []
    if org or tbl or ingest is not None or sets:
        builders.append(("summary", lambda: _summary(org, tbl, ingest, sets, max_rows)))
    if flight_risk is not None:
        builders.append(("flight-risk", lambda: _flight_risk(flight_risk)))
    if explanation is not None:
        builders.append(("shap", lambda: _shap(explanation, max_rows)))
    if reasons is not None:
        builders.append(("reasons", lambda: _reasons(reasons, max_rows)))
    if nine_box is not None:
        builders.append(("nine-box", lambda: _nine_box(nine_box, high_potential)))
    if ramp_up is not None:
        builders.append(("ramp-up", lambda: _ramp_up(ramp_up)))
    if bias_audit is not None or caregiver is not None:
        builders.append(("fairness", lambda: _fairness(bias_audit, caregiver, max_rows)))
    if actions is not None:
        builders.append(("actions", lambda: _actions(actions, max_rows)))
    if calibration_flags is not None:
        builders.append(
            ("calibration-flags", lambda: _calibration_flags(calibration_flags, max_rows))
        )
    if team is not None:
        builders.append(("team", lambda: team_section(team, max_rows)))
    if roi is not None:
        builders.append(("roi", lambda: roi_section(roi, max_rows)))
    if runs is not None:
        builders.append(("mlflow", lambda: _mlflow(runs, tracking_uri, mlflow_ui)))
    if not builders:
        raise ValueError(MSG_EMPTY)

    show = _show_progress() if show_progress is None else bool(show_progress)
    body = []
    for key, build in tqdm(builders, desc="report", unit="section", disable=not show):
        body.append(section(key, SECTIONS[key], build()))
        logger.debug("report: section %s built", key)
    from .._version import __version__

    subtitle = (
        f"talentml {__version__}: "
        + ", ".join(SECTIONS[k].split(":")[0].lower() for k, _ in builders)
        + ". Pseudonymous employee ids only."
    )
    document = page(
        title,
        "".join(body),
        css=CSS,
        subtitle=subtitle,
        toc=[(k, SECTIONS[k]) for k, _ in builders],
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(document, encoding="utf-8")
    logger.info("report: %d sections written to %s (%d bytes)", len(builders), out, len(document))
    return out
