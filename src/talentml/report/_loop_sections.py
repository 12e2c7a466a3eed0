"""The report's manager and ROI sections (issue 21): one example team and the program's ROI.

Both show what :func:`talentml.loop.team_view` and :func:`talentml.loop.roi` computed; nothing
is re-estimated here.
"""

from __future__ import annotations

from typing import Any

from .._html import esc, note, png_figure, table

__all__ = ["roi_section", "team_section"]


def team_section(view: Any, max_rows: int) -> str:
    """A manager's team: the skill heatmap, the agility ranking and the suggested actions."""
    members = view.members
    direct = int((members["relation"] == "direct").sum()) if "relation" in members else len(members)
    status = view.heatmap["status"].value_counts() if len(view.heatmap) else None
    counts = (
        ", ".join(f"{int(status.get(s, 0)):,} {s}" for s in ("gap", "meets", "strength", "unknown"))
        if status is not None
        else "no skill evidence"
    )
    parts = [
        note(
            f"Manager {esc(view.manager_id)} on {esc(str(view.as_of.date()))}: "
            f"{len(members):,} people ({direct:,} direct reports); only facts known before "
            f"that date. Skill cells: {esc(counts)}. Gaps are red, strengths green, no "
            "evidence grey. Sensitive attributes never appear; ids are pseudonymous."
        )
    ]
    if len(view.heatmap):
        n_people = view.heatmap["employee_id"].nunique()
        parts.append(
            png_figure(
                lambda ax: view.plot_heatmap(ax=ax),
                size=(8.0, max(3.0, 0.35 * n_people + 1.5)),
                alt="skill by person heatmap of the team",
                caption="Proficiency against the role's requirements (latest competency "
                "ratings and completed course levels).",
                key="team-heatmap",
            )
        )
    agility = view.agility.head(max_rows)
    measure = view.settings.get("agility") if isinstance(view.settings, dict) else None
    parts += [
        "<h3>Learning agility (opportunity-normalized, never the off-hours share)</h3>",
        table(
            agility,
            [
                ("rank", "rank", "d"),
                ("employee_id", "employee", None),
                *([(measure, "agility", ".3f")] if measure else []),
                ("mastery_per_activity_365d", "skill levels per activity", ".2f"),
                ("n_voluntary_completions_365d", "voluntary completions (365 d)", ".0f"),
            ],
        ),
        "<h3>Suggested assignments</h3>",
    ]
    suggestions = view.suggestions
    if len(suggestions):
        parts.append(
            table(
                suggestions.head(max_rows),
                [
                    ("employee_id", "employee", None),
                    ("rule_id", "rule", None),
                    ("action", "action", None),
                    ("title", "title", None),
                    ("reason", "reason", None),
                ],
            )
        )
        parts.append(
            note(
                f"{len(suggestions):,} suggestions, {len(view.open_actions):,} open actions. "
                "Each suggestion is assigned once, through the LRS or a webhook "
                "(<code>TeamView.assign</code>)."
            )
        )
    else:
        parts.append(note("No rule fires for this team."))
    return "".join(parts)


def roi_section(result: Any, max_rows: int) -> str:
    """The business case of a program: money, retention, sensitivity, survival curves."""
    parts = [
        note(
            f"{esc(result.program)}: {result.n_participants:,} completers matched with "
            f"{result.n_comparison:,} comparison employees, followed for {esc(result.horizon)}. "
            f"Net value {result.net_value:,.0f} ({result.net_value_ci_low:,.0f} to "
            f"{result.net_value_ci_high:,.0f}), ROI {result.roi:.0%} ({result.roi_ci_low:.0%} "
            f"to {result.roi_ci_high:.0%}), {result.confidence:.0%} bootstrap intervals. "
            "Rows of kind <em>assumption</em> are the user's figures, not measurements."
        ),
        table(
            result.money,
            [
                ("item", "item", None),
                ("value", "value", ",.2f"),
                ("ci_low", "low", ",.2f"),
                ("ci_high", "high", ",.2f"),
                ("kind", "kind", None),
                ("basis", "basis", None),
            ],
        ),
        "<h3>Retention</h3>",
        table(
            result.retention.rename_axis("measure").reset_index(),
            [
                ("measure", "measure", None),
                ("estimate", "estimate", ".3f"),
                ("ci_low", "low", ".3f"),
                ("ci_high", "high", ".3f"),
            ],
        ),
    ]
    if len(result.curves):
        parts.append(
            png_figure(
                lambda ax: result.plot(ax=ax),
                size=(7.0, 3.6),
                alt="survival without voluntary exit, completers and matched comparisons",
                caption="Still employed (no voluntary exit) after completing the program, "
                "completers against matched comparisons, with bootstrap bands.",
                key="roi-survival",
            )
        )
    if len(result.sensitivity):
        parts += [
            "<h3>Sensitivity to the assumptions</h3>",
            table(
                result.sensitivity.head(max_rows),
                [
                    ("name", "assumption", None),
                    ("value", "value", ",.4g"),
                    ("net_value_low", "net at -50%", ",.0f"),
                    ("net_value_high", "net at +50%", ",.0f"),
                    ("roi_low", "ROI at -50%", ".1%"),
                    ("roi_high", "ROI at +50%", ".1%"),
                    ("break_even", "break-even value", ",.4g"),
                ],
            ),
        ]
    return "".join(parts)
