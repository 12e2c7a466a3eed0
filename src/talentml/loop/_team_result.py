"""The result of :func:`talentml.loop.team_view`: tables, plots, HTML, JSON and "assign"."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from .._html import dumps, records
from .._validation import check_purpose
from ._action_table import normalize_actions
from ._actions import ActionStore
from ._team_html import STATUSES, plot_heatmap, plot_progress, view_to_html
from ._webhooks import WebhookSender
from ._xapi_sink import emit_xapi

__all__ = ["STATUSES", "TeamView"]

_TABLES = ("members", "heatmap", "progress", "agility", "open_actions", "suggestions")
MSG_UNKNOWN_ACTION = (
    "action_key {key!r} is neither an open nor a suggested action of this team view "
    "({n} known); see TeamView.actions()"
)


@dataclass(frozen=True)
class TeamView:
    """A manager's team at one point in time (the result of :func:`team_view`).

    Attributes
    ----------
    manager_id : str
        The manager (pseudonymous id).
    as_of : pandas.Timestamp
        The view's time: every fact shown was known before it.
    indirect : bool
        Whether indirect reports are included.
    members : pandas.DataFrame
        ``employee_id``, ``level`` (1 = direct), ``reports_to``, ``relation`` (direct /
        indirect), ``job_family``, ``job_level``, ``department``, ``tenure_days``.
    heatmap : pandas.DataFrame
        Tidy: ``employee_id``, ``skill``, ``source`` (``competency``: latest rating;
        ``learning``: highest completed catalog level), ``role``, ``required``, ``level``,
        ``margin`` (level - required), ``status`` (gap, meets, strength, unknown),
        ``evidence_at``.
    progress : pandas.DataFrame
        ``employee_id``, the learning feature, ``skill_level_gain_365d``, the performance
        feature and ``rating_change``.
    agility : pandas.DataFrame
        The learning-agility ranking: ``rank``, ``employee_id``, the opportunity-normalized
        measure, ``mastery_per_activity_365d``, ``skill_level_gain_365d``,
        ``n_voluntary_completions_365d``.
    open_actions : pandas.DataFrame
        The team's actions open at ``as_of`` (:data:`ACTION_COLUMNS`).
    suggestions : pandas.DataFrame
        New actions of the rule set for the team (:data:`ACTION_COLUMNS`), not yet recorded.
    settings : dict
        The measures, targets, roles and rules used.

    Examples
    --------
    >>> from talentml.loop import TeamView
    >>> sorted(TeamView.__dataclass_fields__)[:3]
    ['agility', 'as_of', 'heatmap']
    """

    manager_id: str
    as_of: pd.Timestamp
    indirect: bool
    members: pd.DataFrame
    heatmap: pd.DataFrame
    progress: pd.DataFrame
    agility: pd.DataFrame
    open_actions: pd.DataFrame
    suggestions: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in _TABLES:
            check_purpose(
                getattr(self, name).columns,
                table=f"TeamView.{name}",
                message="a manager's view never shows a protected attribute",
            )

    def __repr__(self) -> str:
        return (
            f"TeamView(manager_id={self.manager_id!r}, as_of={self.as_of.isoformat()!r}, "
            f"people={len(self.members)}, open_actions={len(self.open_actions)}, "
            f"suggestions={len(self.suggestions)})"
        )

    # ------------------------------------------------------------------- tables
    def grid(self) -> pd.DataFrame:
        """The heatmap as a person x skill table of statuses.

        Returns
        -------
        pandas.DataFrame
            Index ``employee_id`` (the members' order), one column per skill.

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.grid)
        True
        """
        hm = self.heatmap
        out = hm.pivot(index="employee_id", columns="skill", values="status")
        return out.reindex(self.members["employee_id"].astype("string"))

    def actions(self) -> pd.DataFrame:
        """Open and suggested actions, with ``state`` (``open`` / ``suggested``).

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.actions)
        True
        """
        return pd.concat(
            [
                self.open_actions.assign(state="open"),
                self.suggestions.assign(state="suggested"),
            ],
            ignore_index=True,
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per person: who, learning and performance, agility rank, skill counts.

        Returns
        -------
        pandas.DataFrame
            ``members`` joined with ``progress`` and ``agility`` (by ``employee_id``), the
            count of heatmap cells of each status (``n_gap``, ...), ``n_open_actions`` and
            ``n_suggestions``.

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.to_frame)
        True
        """
        out = self.members.merge(self.progress, on="employee_id", how="left")
        extra = [c for c in self.agility.columns if c not in out.columns or c == "employee_id"]
        out = out.merge(self.agility[extra], on="employee_id", how="left")
        counts = (
            self.heatmap.groupby(["employee_id", "status"], observed=False)
            .size()
            .unstack("status")
            .reindex(columns=list(STATUSES), fill_value=0)
        )
        for s in STATUSES:
            out[f"n_{s}"] = out["employee_id"].map(counts[s]).fillna(0).astype("int64")
        for name, col in (("open_actions", "n_open_actions"), ("suggestions", "n_suggestions")):
            n = getattr(self, name)["employee_id"].value_counts()
            out[col] = out["employee_id"].map(n).fillna(0).astype("int64")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The view as JSON-safe Python data.

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.to_dict)
        True
        """
        return {
            "report": "talentml.loop.team_view",
            "manager_id": self.manager_id,
            "as_of": self.as_of.isoformat(),
            "indirect": self.indirect,
            "settings": self.settings,
            **{name: records(getattr(self, name)) for name in _TABLES},
        }

    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Strict JSON of the view (written to ``path`` when given).

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.to_json)
        True
        """
        text = dumps(self.to_dict(), indent=indent)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def to_html(self, path: str | Path | None = None) -> str:
        """A static, self-contained HTML page (heatmap and progress plot as inline PNGs).

        Parameters
        ----------
        path : str or Path, optional
            File to write.

        Returns
        -------
        str
            The HTML document.

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.to_html)
        True
        """
        text = view_to_html(self)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    # -------------------------------------------------------------------- plots
    def plot_heatmap(self, ax: Any = None) -> Any:
        """Skill x person heatmap: gaps red, meets pale green, strengths green, unknown grey.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.plot_heatmap)
        True
        """
        return plot_heatmap(self, ax)

    def plot_progress(self, ax: Any = None) -> Any:
        """Scatter of learning progress against performance, one labelled point per person.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.plot_progress)
        True
        """
        return plot_progress(self, ax)

    plot = plot_heatmap

    # ------------------------------------------------------------------- assign
    def assign(
        self,
        action_key: str,
        *,
        sink: Any,
        actors: pd.DataFrame | None = None,
        store: ActionStore | None = None,
    ) -> pd.DataFrame:
        """Assign one open or suggested action through the existing channels, once.

        Idempotent on the action key: the LRS recognizes the statement id (the UUID 5 of the
        key) and stores nothing new; a webhook carries the key as ``Idempotency-Key``; the
        store keeps one row per key. Clicking twice, or retrying after a lost answer,
        delivers the action once.

        Parameters
        ----------
        action_key : str
            The action (from ``open_actions`` or ``suggestions``).
        sink : LRSClient, WebhookSender or ActionStore
            Where it goes: an xAPI ``was-assigned`` statement (:func:`emit_xapi`; ``enroll``
            actions only), a signed webhook (:meth:`WebhookSender.send`), or recorded as open
            (:meth:`ActionStore.record`).
        actors : pandas.DataFrame, optional
            The HRIS directory for the LRS (see :func:`assignment_statements`); required
            with an LRS client. It is used for the statement and never kept.
        store : ActionStore, optional
            Record the action as open and its delivery (skipped when already delivered).

        Returns
        -------
        pandas.DataFrame
            The channel's delivery report (one row): ``action_key``, ``status``,
            ``delivered`` and the channel's details.

        Examples
        --------
        >>> from talentml.loop import TeamView
        >>> callable(TeamView.assign)
        True
        """
        from ..xapi import LRSClient

        acts = self.actions()
        row = acts[acts["action_key"].astype(str) == str(action_key)]
        if row.empty:
            raise ValueError(MSG_UNKNOWN_ACTION.format(key=str(action_key), n=len(acts)))
        row = normalize_actions(row.drop(columns=["state"]).head(1))
        if isinstance(sink, ActionStore):
            added = sink.record(row)
            return pd.DataFrame(
                {
                    "action_key": row["action_key"],
                    "channel": "store",
                    "status": "recorded" if len(added) else "already_recorded",
                    "delivered": True,
                }
            )
        if store is not None:
            store.record(row)
        if isinstance(sink, WebhookSender):
            return sink.send(row, store=store)
        if isinstance(sink, LRSClient):
            if str(row["action"].iloc[0]) != "enroll":
                raise ValueError(
                    f"action {action_key!r} is a {row['action'].iloc[0]!r} action: only "
                    "'enroll' actions are xAPI assignments; send it with a WebhookSender"
                )
            if actors is None:
                raise ValueError(
                    "assign to an LRS needs actors= (the HRIS directory: employee_id with "
                    "lms_homepage + lms_user, or email)"
                )
            return emit_xapi(row, sink, actors=actors, store=store, batch_size=1)
        raise TypeError(
            "sink must be a talentml.xapi.LRSClient, a WebhookSender or an ActionStore, got "
            f"{type(sink).__name__}"
        )
