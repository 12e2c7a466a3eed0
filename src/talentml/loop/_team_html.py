"""Plots and the static HTML page of a team view (matplotlib; PNGs inlined, values escaped).

The page is one self-contained file per manager: inline CSS, the heatmap and the progress plot
as base64 PNGs (no software or date metadata: the same view gives the same bytes), tables
built with :mod:`talentml._html` (every value escaped), no script and no external resource.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _html

__all__ = ["COLORS", "STATUSES", "plot_heatmap", "plot_progress", "view_to_html"]

#: Heatmap statuses, in legend order.
STATUSES = ("gap", "meets", "strength", "unknown")
#: Their colours: gap red, strength green, meets pale green, unknown grey.
COLORS = {"gap": "#d73027", "meets": "#d9ef8b", "strength": "#1a9850", "unknown": "#bdbdbd"}
#: A mark per status, so the heatmap reads without colour vision too.
MARKS = {"gap": "-", "meets": "=", "strength": "+", "unknown": "?"}


def _axes(ax: Any, size: tuple[float, float]) -> Any:
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, ax = plt.subplots(figsize=size)
    return ax


def heatmap_size(view: Any) -> tuple[float, float]:
    """A figure size that fits the team and its skills."""
    n_people = view.heatmap["employee_id"].nunique()
    n_skills = view.heatmap[["source", "skill"]].drop_duplicates().shape[0]
    return (max(6.0, 0.55 * n_skills + 2.5), max(3.0, 0.32 * n_people + 1.6))


def plot_heatmap(view: Any, ax: Any = None) -> Any:
    """Skill x person grid coloured by status (gap red, strength green, unknown grey)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    hm = view.heatmap
    people = view.members["employee_id"].astype(str).tolist()
    skills = list(
        dict.fromkeys(zip(hm["source"].astype(str), hm["skill"].astype(str), strict=True))
    )
    ax = _axes(ax, heatmap_size(view))
    code = {s: i for i, s in enumerate(STATUSES)}
    grid = np.full((len(people), len(skills)), np.nan)
    row = {p: i for i, p in enumerate(people)}
    col = {k: j for j, k in enumerate(skills)}
    for r in hm.itertuples(index=False):
        i, j = row[str(r.employee_id)], col[(str(r.source), str(r.skill))]
        grid[i, j] = code[str(r.status)]
        text = MARKS[str(r.status)]
        if not math.isnan(r.level):
            text = f"{r.level:g}/{r.required:g}"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            fontsize=7,
            color="white" if r.status in ("gap", "strength") else "#222222",
        )
    cmap = ListedColormap([COLORS[s] for s in STATUSES])
    cmap.set_bad("white")
    ax.imshow(
        np.ma.masked_invalid(grid),
        cmap=cmap,
        vmin=-0.5,
        vmax=len(STATUSES) - 0.5,
        aspect="auto",
        interpolation="nearest",
    )
    ax.set_xticks(range(len(skills)))
    ax.set_xticklabels(
        [f"{s}{' (rating)' if src == 'competency' else ''}" for src, s in skills],
        rotation=45,
        ha="right",
        fontsize=8,
    )
    ax.set_yticks(range(len(people)))
    ax.set_yticklabels(people, fontsize=8)
    ax.set_xticks(np.arange(-0.5, len(skills)), minor=True)
    ax.set_yticks(np.arange(-0.5, len(people)), minor=True)
    ax.grid(which="minor", color="white", lw=1.5)
    ax.tick_params(which="minor", length=0)
    handles = [Patch(color=COLORS[s], label=f"{s} ({MARKS[s]})") for s in STATUSES]
    ax.legend(
        handles=handles,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        title="level / required",
        title_fontsize=8,
        frameon=False,
    )
    ax.set_title(
        f"Team of {view.manager_id} at {view.as_of.date().isoformat()}: skills "
        "against requirements",
        fontsize=10,
    )
    return ax


def plot_progress(view: Any, ax: Any = None) -> Any:
    """Learning progress (x) against performance (y), one labelled point per person."""
    learning, performance = view.settings["learning"], view.settings["performance"]
    pr = view.progress
    ax = _axes(ax, (6.5, 4.5))
    x = pr[learning].to_numpy(float)
    y = pr[performance].to_numpy(float)
    ok = ~(np.isnan(x) | np.isnan(y))
    direct = view.members.set_index("employee_id")["relation"].reindex(pr["employee_id"])
    is_direct = (direct == "direct").to_numpy(bool)
    for mask, label, color in (
        (is_direct, "direct report", "#2c7bb6"),
        (~is_direct, "indirect report", "#fdae61"),
    ):
        m = ok & mask
        if m.any():
            ax.scatter(x[m], y[m], s=36, color=color, label=label, edgecolor="#333333", lw=0.5)
    labels: dict[tuple[float, float], list[str]] = {}
    for xi, yi, e in zip(x[ok], y[ok], pr["employee_id"].astype(str).to_numpy()[ok], strict=True):
        labels.setdefault((float(xi), float(yi)), []).append(e)
    for (xi, yi), names in labels.items():  # people at the same point share one label
        ax.annotate(
            "\n".join(names),
            (xi, yi),
            xytext=(4, 3),
            textcoords="offset points",
            fontsize=7,
            rotation=35,
            rotation_mode="anchor",
            va="bottom",
        )
    from matplotlib.ticker import MaxNLocator

    for values, axis in ((x[ok], ax.xaxis), (y[ok], ax.yaxis)):
        if len(values) and np.all(values == np.round(values)):  # counts and ratings
            axis.set_major_locator(MaxNLocator(integer=True))
    if ok.any():
        ax.margins(x=0.08, y=0.18)
    if ok.any():
        ax.axvline(float(np.median(x[ok])), color="#999999", ls="--", lw=0.8)
        ax.axhline(float(np.median(y[ok])), color="#999999", ls="--", lw=0.8, label="team median")
    missing = int((~ok).sum())
    ax.set_xlabel(learning.replace("_", " "))
    ax.set_ylabel(performance.replace("_", " "))
    title = "Learning progress against performance"
    if missing:
        title += f" ({missing} without both values not shown)"
    ax.set_title(title, fontsize=10)
    if ok.any():
        ax.legend(fontsize=8, frameon=False)
    return ax


# --------------------------------------------------------------------------- HTML
CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
line-height:1.45}header{padding:1rem 2rem;background:#f4f6f8;border-bottom:1px solid #ddd}
h1{font-size:1.5rem;margin:0}header p{margin:.2rem 0 0;color:#555}
nav{padding:.4rem 2rem;border-bottom:1px solid #ddd}nav a{margin-right:1rem}
main{max-width:1150px;margin:0 auto;padding:0 1rem 2rem}
h2{font-size:1.15rem;margin-top:1.8rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.82rem}
th,td{border:1px solid #ddd;padding:.2rem .45rem;text-align:left;vertical-align:top}
th{background:#f4f6f8}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.date{white-space:nowrap}.note{color:#555;font-size:.85rem}figure{margin:1rem 0}
img{max-width:100%;height:auto}
td.st-gap{background:#d73027;color:#fff}td.st-meets{background:#d9ef8b}
td.st-strength{background:#1a9850;color:#fff}td.st-unknown{background:#bdbdbd}
"""


def _grid_table(view: Any) -> str:
    """The heatmap as a table: one row per person, cells classed by status."""
    hm = view.heatmap
    skills = list(
        dict.fromkeys(zip(hm["source"].astype(str), hm["skill"].astype(str), strict=True))
    )
    cells = {
        (str(r.employee_id), str(r.source), str(r.skill)): r for r in hm.itertuples(index=False)
    }
    head = "".join(
        f"<th>{_html.esc(s)}{' (rating)' if src == 'competency' else ''}</th>" for src, s in skills
    )
    body = []
    for e in view.members["employee_id"].astype(str):
        tds = []
        for src, s in skills:
            r = cells.get((e, src, s))
            if r is None:
                tds.append("<td></td>")
                continue
            level = "?" if math.isnan(r.level) else f"{r.level:g}"
            tds.append(
                f'<td class="st-{_html.esc(r.status)}" title="{_html.esc(r.status)}">'
                f"{MARKS[str(r.status)]} {level}/{r.required:g}</td>"
            )
        body.append(f"<tr><th>{_html.esc(e)}</th>{''.join(tds)}</tr>")
    return (
        f'<table data-table="heatmap"><thead><tr><th>employee</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


_ACTION_COLS = [
    ("action_key", "action key (assign)", None),
    ("employee_id", "employee", None),
    ("rule_id", "rule", None),
    ("action", "action", None),
    ("title", "title", None),
    ("due_date", "due", None),
    ("reason", "reason", None),
]


def view_to_html(view: Any) -> str:
    """The self-contained HTML page of a team view."""
    s = view.settings
    counts = view.heatmap["status"].value_counts()
    summary = _html.kv_table(
        [
            ("manager", view.manager_id),
            ("as of", view.as_of),
            ("reports", "direct and indirect" if view.indirect else "direct"),
            ("people", len(view.members)),
            *[(f"skill cells: {k}", int(counts.get(k, 0))) for k in STATUSES],
            ("open actions", len(view.open_actions)),
            ("suggested actions", len(view.suggestions)),
        ]
    )
    members = _html.table(
        view.members,
        [
            ("employee_id", "employee", None),
            ("relation", "relation", None),
            ("reports_to", "reports to", None),
            ("job_family", "job family", None),
            ("job_level", "level", "d"),
            ("department", "department", None),
            ("tenure_days", "tenure (days)", "d"),
        ],
    )
    heat = _html.png_figure(
        lambda ax: plot_heatmap(view, ax),
        size=heatmap_size(view),
        alt="team skill heatmap: gaps in red, strengths in green, unknown in grey",
        key="heatmap",
    )
    progress = _html.png_figure(
        lambda ax: plot_progress(view, ax),
        size=(6.5, 4.5),
        alt="learning progress against performance",
        key="progress",
    )
    prog_cols = [(c, c.replace("_", " "), ".3g") for c in view.progress.columns[1:]]
    ag_cols = [(c, c.replace("_", " "), ".3g") for c in view.agility.columns[2:]]
    sections = [
        ("summary", "Summary", summary + members),
        (
            "skills",
            "Skills against requirements",
            heat
            + _html.note(
                "Latest competency rating submitted before the view's date against the "
                "target (default 3, Meets), and skill level from completed catalog activities "
                "against the role; unknown: no evidence yet (not a gap)."
            )
            + _grid_table(view),
        ),
        (
            "progress",
            "Learning and performance",
            progress + _html.table(view.progress, [("employee_id", "employee", None), *prog_cols]),
        ),
        (
            "agility",
            "Learning agility",
            _html.note(
                f"Ranked by {_html.esc(s['agility'])}: opportunity-normalized (per working "
                "day employed, or per activity), independent of the time of day. The off-hours "
                "share is never used: it reflects when people can learn, not how well."
            )
            + _html.table(
                view.agility, [("rank", "rank", "d"), ("employee_id", "employee", None), *ag_cols]
            ),
        ),
        (
            "actions",
            "Actions",
            "<h3>Open</h3>"
            + (
                _html.table(view.open_actions, _ACTION_COLS)
                if len(view.open_actions)
                else _html.note("No open action.")
            )
            + "<h3>Suggested</h3>"
            + (
                _html.table(view.suggestions, _ACTION_COLS)
                if len(view.suggestions)
                else _html.note("No suggestion.")
            )
            + _html.note(
                "Assign one with <code>TeamView.assign(action_key, sink=...)</code>: "
                "it is delivered once, to the LRS, a webhook or the action store."
            ),
        ),
    ]
    body = "".join(_html.section(k, t, b) for k, t, b in sections)
    return _html.page(
        f"Team view: {view.manager_id}",
        body,
        css=CSS,
        subtitle=f"as of {view.as_of.isoformat()} - pseudonymous ids only",
        toc=[(k, t) for k, t, _ in sections],
    )
