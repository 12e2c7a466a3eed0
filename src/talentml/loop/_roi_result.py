"""The :class:`ROI` result of :func:`talentml.loop.roi`: tables, JSON, HTML and the plot."""

from __future__ import annotations

import base64
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import _html
from .._html import esc, scalar

__all__ = ["ROI"]

#: What every output says about the money: which figures are the user's assumptions.
ASSUMPTION_NOTE = (
    "Figures of kind 'assumption' are inputs set by the user (or talentml's documented "
    "defaults), not measurements: costs, salaries, hourly rates, the replacement-cost multiple, "
    "the value of a rating point and the minutes a manual action takes. Figures of kind "
    "'measured' are estimated from the data with bootstrap intervals; 'derived' figures combine "
    "both. Change an assumption and the money changes: see the sensitivity table."
)

_FRAMES = (
    "money", "retention", "productivity", "ramp_up", "inputs", "sensitivity", "curves", "excluded",
)  # fmt: skip
_INDEXED = ("retention", "productivity", "ramp_up")

_CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222;max-width:980px}"
    "table{border-collapse:collapse;margin:.5em 0 1.5em}th,td{padding:.25em .6em;"
    "border-bottom:1px solid #ddd;text-align:left}td.num{text-align:right;"
    "font-variant-numeric:tabular-nums}.note{color:#555;font-size:.92em}"
    "tr.assumption td{background:#fff7e0}.b-assumption{background:#f6b26b;padding:0 .4em;"
    "border-radius:3px}img{max-width:100%}"
)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in frame.to_dict(orient="records"):
        clean = {}
        for k, v in row.items():
            v = scalar(v)
            if isinstance(v, pd.Timestamp):
                v = v.isoformat()
            elif isinstance(v, float) and math.isinf(v):
                v = None
            clean[str(k)] = v
        out.append(clean)
    return out


@dataclass
class ROI:
    """The return on a learning program (:func:`roi`): retention, productivity, efficiency, money.

    Attributes
    ----------
    program : str
        The program analysed.
    horizon : str
        The follow-up window after completion (e.g. ``"365D"``).
    confidence : float
        Confidence level of the intervals.
    net_value, net_value_ci_low, net_value_ci_high : float
        Benefits minus costs over the horizon, and the bootstrap interval.
    roi, roi_ci_low, roi_ci_high : float
        ``net_value / cost``, and the interval.
    money : pandas.DataFrame
        One row per line item (``item``, ``value``, ``ci_low``, ``ci_high``, ``kind``:
        ``measured``, ``assumption`` or ``derived``, ``basis``: how it is computed).
    retention : pandas.DataFrame
        Exit probability within the horizon of participants and matched comparisons, their
        difference and the rate ratio of voluntary exits, with intervals.
    productivity : pandas.DataFrame
        The estimates of :func:`learning_impact` (empty when not asked for).
    ramp_up : pandas.DataFrame
        Median days to productivity of early completers and matched comparison hires, their
        difference (negative: faster) with intervals, and both counts (empty without
        ``ramp_up``).
    inputs : pandas.DataFrame
        Every assumption: ``name``, ``value``, ``kind`` (``assumption``), ``source``
        (``user`` or ``default``), ``description``.
    sensitivity : pandas.DataFrame
        One-at-a-time changes of each assumption by -50% and +50% (net value and ROI) and
        its break-even value (where the net value is 0, holding the others).
    curves : pandas.DataFrame
        Survival (still employed, no voluntary exit) of both groups by day, with bands.
    excluded : pandas.DataFrame
        Completers left out (``employee_id``, ``analysis``: ``retention`` or ``ramp-up``,
        ``reason``).
    n_participants, n_comparison, n_actions : int
        Completers matched, distinct comparison employees used, automated actions counted.
    bootstrap : pandas.DataFrame
        The replicates (``difference``, ``rating_change``, ``ramp_up_days_saved``,
        ``net_value``, ``roi``).

    Examples
    --------
    >>> from talentml.loop import ROI
    >>> ROI(program="p", horizon="365D", net_value=10.0, net_value_ci_low=-1.0,
    ...     net_value_ci_high=20.0, roi=0.1, roi_ci_low=-0.01, roi_ci_high=0.2).to_dict()["roi"]
    0.1
    """

    program: str
    horizon: str
    net_value: float
    net_value_ci_low: float
    net_value_ci_high: float
    roi: float
    roi_ci_low: float
    roi_ci_high: float
    confidence: float = 0.95
    money: pd.DataFrame = field(default_factory=pd.DataFrame)
    retention: pd.DataFrame = field(default_factory=pd.DataFrame)
    productivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    ramp_up: pd.DataFrame = field(default_factory=pd.DataFrame)
    inputs: pd.DataFrame = field(default_factory=pd.DataFrame)
    sensitivity: pd.DataFrame = field(default_factory=pd.DataFrame)
    curves: pd.DataFrame = field(default_factory=pd.DataFrame)
    excluded: pd.DataFrame = field(default_factory=pd.DataFrame)
    n_participants: int = 0
    n_comparison: int = 0
    n_actions: int = 0
    bootstrap: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)

    # ----------------------------------------------------------------- tables
    def to_frame(self) -> pd.DataFrame:
        """The business case: one row per line item, with its interval and kind.

        Returns
        -------
        pandas.DataFrame
            A copy of :attr:`money` (``kind`` says which figures are assumptions).

        Examples
        --------
        >>> from talentml.loop import ROI
        >>> ROI("p", "365D", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0).to_frame().empty
        True
        """
        return self.money.copy()

    def to_dict(self) -> dict[str, Any]:
        """Flat metrics (for MLflow or a dashboard); assumptions are prefixed ``assumption.``.

        Returns
        -------
        dict
            ``roi``, ``net_value`` and their intervals, the counts, each money item
            (``money.<item>``), each retention and ramp-up estimate (``retention.<row>.<col>``,
            ``ramp_up.<row>.<col>``) and each
            assumption (``assumption.<name>``), numbers only.

        Examples
        --------
        >>> from talentml.loop import ROI
        >>> sorted(ROI("p", "365D", 1.0, 0.0, 2.0, 0.5, 0.0, 1.0).to_dict())[:3]
        ['confidence', 'n_actions', 'n_comparison']
        """
        out: dict[str, Any] = {
            "roi": self.roi,
            "roi_ci_low": self.roi_ci_low,
            "roi_ci_high": self.roi_ci_high,
            "net_value": self.net_value,
            "net_value_ci_low": self.net_value_ci_low,
            "net_value_ci_high": self.net_value_ci_high,
            "confidence": self.confidence,
            "n_participants": self.n_participants,
            "n_comparison": self.n_comparison,
            "n_actions": self.n_actions,
        }
        for _, row in self.money.iterrows():
            out[f"money.{row['item']}"] = row["value"]
        for prefix, frame in (("retention", self.retention), ("ramp_up", self.ramp_up)):
            for name, row in frame.iterrows():
                for col in ("estimate", "ci_low", "ci_high"):
                    out[f"{prefix}.{name}.{col}"] = row[col]
        for _, row in self.inputs.iterrows():
            out[f"assumption.{row['name']}"] = row["value"]
        return {k: float(v) if not isinstance(v, int) else v for k, v in out.items()}

    # ------------------------------------------------------------------- JSON
    def to_json(self, path: str | Path | None = None, *, indent: int | None = 2) -> str:
        """Strict JSON of the whole result (read back with :meth:`from_json`).

        Parameters
        ----------
        path : str or Path, optional
            File to write.
        indent : int or None, default 2
            JSON indentation.

        Returns
        -------
        str
            The JSON text; ``assumption_note`` and each row's ``kind`` say which figures are
            assumptions.

        Examples
        --------
        >>> import json
        >>> from talentml.loop import ROI
        >>> json.loads(ROI("p", "365D", 1.0, 0.0, 2.0, 0.5, 0.0, 1.0).to_json())["roi"]
        0.5
        """
        doc: dict[str, Any] = {
            "report": "talentml.loop.roi",
            "assumption_note": ASSUMPTION_NOTE,
        }
        for name in ("program", "horizon", "confidence", "net_value", "net_value_ci_low",
                     "net_value_ci_high", "roi", "roi_ci_low", "roi_ci_high", "n_participants",
                     "n_comparison", "n_actions"):  # fmt: skip
            doc[name] = scalar(getattr(self, name))
        for name in (*_FRAMES, "bootstrap"):
            frame = getattr(self, name)
            keep_index = name in _INDEXED
            doc[name] = _records(frame.reset_index() if keep_index else frame)
        text = json.dumps(doc, indent=indent, allow_nan=False, ensure_ascii=False)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, text: str) -> ROI:
        """Read a result written by :meth:`to_json`.

        Parameters
        ----------
        text : str
            The JSON text.

        Returns
        -------
        ROI

        Examples
        --------
        >>> from talentml.loop import ROI
        >>> r = ROI("p", "365D", 1.0, 0.0, 2.0, 0.5, 0.0, 1.0)
        >>> ROI.from_json(r.to_json()).to_dict() == r.to_dict()
        True
        """
        doc = json.loads(text)
        kwargs: dict[str, Any] = {}
        for name in ("program", "horizon", "confidence", "net_value", "net_value_ci_low",
                     "net_value_ci_high", "roi", "roi_ci_low", "roi_ci_high", "n_participants",
                     "n_comparison", "n_actions"):  # fmt: skip
            v = doc[name]
            kwargs[name] = float("nan") if v is None else v
        for name in (*_FRAMES, "bootstrap"):
            frame = pd.DataFrame.from_records(doc.get(name, []))
            if name in _INDEXED and "index" in frame.columns:
                frame = frame.set_index("index")
                frame.index.name = None
            for col in frame.columns:  # a column of nulls only (e.g. counts' intervals)
                if frame[col].dtype == object and frame[col].isna().all():
                    frame[col] = np.nan
            kwargs[name] = frame.fillna(np.nan) if len(frame) else frame
        return cls(**kwargs)

    # ------------------------------------------------------------------- plot
    def plot(self, *, ax: Any = None):
        """Survival of participants and matched comparisons (no voluntary exit) with bands.

        Parameters
        ----------
        ax : matplotlib.axes.Axes, optional
            Axes to draw on (default: a new figure).

        Returns
        -------
        matplotlib.axes.Axes

        Examples
        --------
        >>> import pandas as pd
        >>> from talentml.loop import ROI
        >>> curves = pd.DataFrame({"day": [0, 365], "participants": [1, .9],
        ...     "participants_low": [1, .85], "participants_high": [1, .95],
        ...     "comparison": [1, .85], "comparison_low": [1, .8], "comparison_high": [1, .9]})
        >>> ROI("p", "365D", 0, 0, 0, 0, 0, 0, curves=curves).plot().get_xlabel()
        'Days after completion'
        """
        from matplotlib.figure import Figure

        if ax is None:
            ax = Figure(figsize=(7.0, 4.0)).add_subplot()
        c = self.curves
        for group, color, label in (
            ("participants", "#1f4e79", f"completed {self.program}"),
            ("comparison", "#b45f06", "matched non-participants"),
        ):
            if group not in c:
                continue
            ax.step(c["day"], c[group], where="post", color=color, label=label)
            ax.fill_between(
                c["day"], c[f"{group}_low"], c[f"{group}_high"], step="post", color=color,
                alpha=0.15, lw=0,
            )  # fmt: skip
        ax.set_xlabel("Days after completion")
        ax.set_ylabel("Share with no voluntary exit")
        ax.set_title(
            f"Retention after {self.program} ({self.confidence:.0%} bootstrap bands)", fontsize=10
        )
        ax.legend(frameon=False, fontsize=9, loc="lower left")
        return ax

    # ------------------------------------------------------------------- HTML
    def to_html(self, path: str | Path | None = None) -> str:
        """A self-contained HTML page: the business case, assumptions, retention, sensitivity.

        Parameters
        ----------
        path : str or Path, optional
            File to write.

        Returns
        -------
        str
            The HTML document (every value escaped; the plot inlined as a PNG).

        Examples
        --------
        >>> from talentml.loop import ROI
        >>> "&lt;b&gt;" in ROI("<b>", "365D", 0, 0, 0, 0, 0, 0).to_html()
        True
        """
        pct = f"{self.confidence:.0%}"
        summary = _html.kv_table(
            [
                ("program", self.program),
                ("horizon", self.horizon),
                ("participants (matched completers)", self.n_participants),
                ("comparison employees", self.n_comparison),
                ("automated actions", self.n_actions),
                (
                    f"net value ({pct} interval)",
                    f"{self.net_value:,.0f} "
                    f"[{self.net_value_ci_low:,.0f}, {self.net_value_ci_high:,.0f}]",
                ),
                (
                    f"ROI ({pct} interval)",
                    f"{self.roi:.1%} [{self.roi_ci_low:.1%}, {self.roi_ci_high:.1%}]",
                ),
            ],  # fmt: skip
            numbers=False,
        )
        body = [
            _html.section("summary", "Summary", summary + _html.note(esc(ASSUMPTION_NOTE))),
            _html.section(
                "money",
                "Business case",
                _html.table(
                    self.money,
                    [
                        ("item", "item", None),
                        ("value", "value", ",.0f"),
                        ("ci_low", "low", ",.0f"),
                        ("ci_high", "high", ",.0f"),
                        ("kind", "kind", None),
                        ("basis", "basis", None),
                    ],
                    row_class=lambda r: str(r.get("kind", "")),
                ),  # fmt: skip
            ),
            _html.section(
                "assumptions",
                "Assumptions (set by the user, not measured)",
                _html.table(
                    self.inputs,
                    [
                        ("name", "assumption", None),
                        ("value", "value", ",.4g"),
                        ("source", "source", None),
                        ("description", "meaning", None),
                    ],
                    row_class=lambda r: "assumption",
                ),  # fmt: skip
            ),
            _html.section(
                "retention",
                "Retention (measured)",
                _html.table(
                    self.retention.reset_index(names="measure"),
                    [
                        ("measure", "measure", None),
                        ("estimate", "estimate", ".3f"),
                        ("ci_low", "low", ".3f"),
                        ("ci_high", "high", ".3f"),
                    ],
                )  # fmt: skip
                + self._figure(),
            ),
            _html.section(
                "sensitivity",
                "Sensitivity (one assumption at a time, -50% / +50%)",
                _html.table(
                    self.sensitivity,
                    [
                        ("name", "assumption", None),
                        ("value", "value", ",.4g"),
                        ("net_value_low", "net at -50%", ",.0f"),
                        ("net_value_high", "net at +50%", ",.0f"),
                        ("roi_low", "ROI at -50%", ".1%"),
                        ("roi_high", "ROI at +50%", ".1%"),
                        ("break_even", "break-even value", ",.4g"),
                    ],
                ),  # fmt: skip
            ),
        ]
        if len(self.productivity):
            body.insert(
                4,
                _html.section(
                    "productivity",
                    "Productivity (measured: rating change, matched difference in differences)",
                    _html.table(
                        self.productivity.reset_index(names="estimate_name"),
                        [
                            ("estimate_name", "estimate", None),
                            ("estimate", "value", ".3f"),
                            ("ci_low", "low", ".3f"),
                            ("ci_high", "high", ".3f"),
                        ],
                    ),  # fmt: skip
                ),
            )
        if len(self.ramp_up):
            body.insert(
                len(body) - 1,
                _html.section(
                    "ramp-up",
                    "Ramp-up (measured: median days to productivity, early completers vs "
                    "matched hires)",
                    _html.table(
                        self.ramp_up.reset_index(names="measure"),
                        [
                            ("measure", "measure", None),
                            ("estimate", "estimate", ",.1f"),
                            ("ci_low", "low", ",.1f"),
                            ("ci_high", "high", ",.1f"),
                        ],
                    ),  # fmt: skip
                ),
            )
        text = _html.page(f"ROI of {self.program}", "".join(body), css=_CSS)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text

    def _figure(self) -> str:
        if self.curves.empty:
            return ""
        ax = self.plot()
        buf = io.BytesIO()
        ax.figure.savefig(buf, format="png", dpi=90, bbox_inches="tight")
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        return f'<img alt="survival curves" src="data:image/png;base64,{data}">'
