"""Review features: latest rating, its change and trajectory, competency gaps, goal attainment.

A review or competency rating is visible at ``as_of`` only if ``submitted_at < as_of``
(:func:`talentml.features._pit.visible`): a cycle whose period ended before ``as_of`` but whose
ratings were submitted after it does not exist yet. "Latest" means the visible review with the
latest ``period_end`` (ties: latest ``submitted_at``, then ``cycle_id``); for competencies, the
visible cycle submitted last.
"""

from __future__ import annotations

from ._catalog import FeatureSpec
from ._pit import visible
from ._sql import Dialect, days_between, ratio

__all__ = ["COMPETENCY_THRESHOLD", "TRAJECTORY_CYCLES", "review_ctes", "review_specs"]

#: Competency ratings strictly below this value count as gaps (3 = meets expectations).
COMPETENCY_THRESHOLD = 3
#: Number of most recent visible cycles the rating trajectory is fitted on.
TRAJECTORY_CYCLES = 3


# size: a data table (the review feature catalog), one FeatureSpec per feature
def review_specs() -> list[FeatureSpec]:
    """The review features, in output order."""

    def spec(name, description, unit, window, direction, template, dtype, expr, group="reviews"):
        needs = {
            "potential_latest": ("reviews", "reviews.potential_rating"),
            "potential_mean_all": ("reviews", "reviews.potential_rating"),
            "potential_change": ("reviews", "reviews.potential_rating"),
            "goal_attainment_latest": ("reviews", "reviews.goal_attainment"),
        }.get(name, ("competency_ratings",) if group == "competencies" else ("reviews",))
        return FeatureSpec(
            needs=needs,
            name=name,
            description=description,
            unit=unit,
            family="reviews",
            window=window,
            actionable=False,
            direction=direction,
            template=template,
            dtype=dtype,
            expr=expr,
            group=group,
        )

    latest = "latest review"
    return [
        spec(
            "n_reviews",
            "Performance reviews submitted before as_of.",
            "reviews",
            "all history",
            "neutral",
            "{value:.0f} performance reviews so far",
            "int64",
            "COALESCE(ra.n, 0)",
        ),
        spec(
            "rating_latest",
            "Overall rating (1-5) of the latest visible review; missing before the first.",
            "rating (1-5)",
            latest,
            "higher_is_better",
            "latest overall rating {value:.0f} of 5",
            "float64",
            "ra.r1",
        ),
        spec(
            "rating_change",
            "Latest overall rating minus the previous one; missing with fewer than two reviews.",
            "rating points",
            "latest two reviews",
            "higher_is_better",
            "overall rating changed by {value:+.0f} since the previous review",
            "float64",
            "(ra.r1 - ra.r2)",
        ),
        spec(
            "rating_trajectory",
            f"Least-squares slope of the overall rating over the last {TRAJECTORY_CYCLES} "
            "visible reviews (rating points per cycle); missing with fewer than two.",
            "rating points per cycle",
            f"last {TRAJECTORY_CYCLES} reviews",
            "higher_is_better",
            "overall rating trend of {value:+.1f} points per review cycle",
            "float64",
            "CASE WHEN ra.n3 >= 2 THEN (ra.n3 * ra.sxy - ra.sx * ra.sy) "
            "/ (ra.n3 * ra.sxx - ra.sx * ra.sx) END",
        ),
        spec(
            "potential_latest",
            "Potential rating (1-3) of the latest visible review; missing if not rated.",
            "rating (1-3)",
            latest,
            "higher_is_better",
            "latest potential rating {value:.0f} of 3",
            "float64",
            "ra.pot1",
        ),
        spec(
            "goal_attainment_latest",
            "Share of goals attained in the latest visible review (1 = 100%).",
            "share",
            latest,
            "higher_is_better",
            "attained {value:.0%} of goals in the latest review",
            "float64",
            "ra.goal1",
        ),
        spec(
            "days_since_last_review",
            "Days since the latest visible review was submitted; missing before the first.",
            "days",
            latest,
            "neutral",
            "last review submitted {value:.0f} days ago",
            "float64",
            days_between("sp.a", "ra.su1"),
        ),
        spec(
            "competency_min",
            "Lowest competency rating (1-5) in the latest visible review cycle.",
            "rating (1-5)",
            latest,
            "higher_is_better",
            "lowest competency rating {value:.0f} of 5",
            "float64",
            "cl.mn",
            group="competencies",
        ),
        spec(
            "competency_mean",
            "Mean competency rating (1-5) in the latest visible review cycle.",
            "rating (1-5)",
            latest,
            "higher_is_better",
            "average competency rating {value:.1f} of 5",
            "float64",
            ratio("cl.sm", "cl.n"),
            group="competencies",
        ),
        spec(
            "competencies_below_threshold",
            f"Competencies rated below {COMPETENCY_THRESHOLD} (meets expectations) in the "
            "latest visible review cycle; missing without competency ratings.",
            "competencies",
            latest,
            "lower_is_better",
            f"{{value:.0f}} competencies rated below {COMPETENCY_THRESHOLD}",
            "float64",
            "CAST(cl.nb AS DOUBLE)",
            group="competencies",
        ),
        spec(
            "rating_mean_all",
            "Mean overall rating (1-5) of every review submitted before as_of; missing before "
            "the first.",
            "rating (1-5)",
            "all history",
            "higher_is_better",
            "average overall rating {value:.1f} of 5 over all reviews",
            "float64",
            "ra.rmean",
        ),
        spec(
            "rating_trend_all",
            "Least-squares slope of the overall rating over every visible review (rating "
            "points per cycle); missing with fewer than two.",
            "rating points per cycle",
            "all history",
            "higher_is_better",
            "overall rating trend of {value:+.2f} points per review cycle over all reviews",
            "float64",
            "CASE WHEN ra.na >= 2 THEN (ra.na * ra.axy - ra.ax * ra.ay) "
            "/ (ra.na * ra.axx - ra.ax * ra.ax) END",
        ),
        spec(
            "potential_mean_all",
            "Mean potential rating (1-3) of every visible review with one; missing if never rated.",
            "rating (1-3)",
            "all history",
            "higher_is_better",
            "average potential rating {value:.1f} of 3 over all reviews",
            "float64",
            "ra.pmean",
        ),
        spec(
            "potential_change",
            "Potential rating of the latest visible review minus that of the previous one; "
            "missing unless both are rated.",
            "rating points",
            "latest two reviews",
            "higher_is_better",
            "potential rating changed by {value:+.0f} since the previous review",
            "float64",
            "(ra.pot1 - ra.pot2)",
        ),
        spec(
            "competency_mean_all",
            "Mean of every competency rating (1-5) of every visible review cycle.",
            "rating (1-5)",
            "all history",
            "higher_is_better",
            "average competency rating {value:.1f} of 5 over all review cycles",
            "float64",
            ratio("cl.sm_all", "cl.n_all"),
            group="competencies",
        ),
        spec(
            "competency_mean_change",
            "Mean competency rating of the latest visible review cycle minus that of the "
            "previous one; missing with fewer than two cycles.",
            "rating points",
            "latest two review cycles",
            "higher_is_better",
            "average competency rating changed by {value:+.1f} since the previous cycle",
            "float64",
            f"({ratio('cl.sm', 'cl.n')} - {ratio('cl.sm2', 'cl.n2')})",
            group="competencies",
        ),
    ]


def _nan_null(expr: str) -> str:
    return f"CASE WHEN isnan({expr}) THEN NULL ELSE {expr} END"


def review_ctes(
    d: Dialect, t: dict[str, str], columns: dict[str, set[str]], specs: list[FeatureSpec]
) -> tuple[list[tuple[str, str]], str]:
    """CTEs and final SELECT (``rid`` + one column per spec) of the review features."""
    ep = d.epoch_us
    groups = {s.group for s in specs}
    ctes: list[tuple[str, str]] = []
    joins = []
    if "reviews" in groups:
        have = columns.get("reviews", set())
        pot = (
            f"CAST({_nan_null('x.potential_rating')} AS DOUBLE)"
            if "potential_rating" in have
            else "CAST(NULL AS DOUBLE)"
        )
        goal = (
            f"CAST({_nan_null('x.goal_attainment')} AS DOUBLE)"
            if "goal_attainment" in have
            else "CAST(NULL AS DOUBLE)"
        )
        ctes.append(
            (
                "r_v",
                f"""SELECT sp.rid, CAST(x.overall_rating AS DOUBLE) AS rating, {pot} AS pot,
                  {goal} AS goal, {ep("x.period_end")} AS pe, {ep("x.submitted_at")} AS su,
                  x.cycle_id
                FROM sp JOIN {t["reviews"]} x ON x.employee_id = sp.eid
                WHERE {visible(ep("x.submitted_at"), "sp.a")}""",
            )
        )
        ctes.append(
            (
                "r_rk",
                """SELECT r.*, ROW_NUMBER() OVER (PARTITION BY rid
                  ORDER BY pe DESC, su DESC, cycle_id DESC) AS rn FROM r_v r""",
            )
        )
        n = TRAJECTORY_CYCLES
        x = "CAST(1 - rn AS DOUBLE)"
        ctes.append(
            (
                "r_agg",
                f"""SELECT rid, COUNT(*) AS n,
                  MAX(CASE WHEN rn = 1 THEN rating END) AS r1,
                  MAX(CASE WHEN rn = 2 THEN rating END) AS r2,
                  MAX(CASE WHEN rn = 1 THEN pot END) AS pot1,
                  MAX(CASE WHEN rn = 2 THEN pot END) AS pot2,
                  AVG(rating) AS rmean, AVG(pot) AS pmean,
                  CAST(COUNT(rating) AS DOUBLE) AS na,
                  SUM(CASE WHEN rating IS NOT NULL THEN {x} END) AS ax, SUM(rating) AS ay,
                  SUM(CASE WHEN rating IS NOT NULL THEN {x} * {x} END) AS axx,
                  SUM({x} * rating) AS axy,
                  MAX(CASE WHEN rn = 1 THEN goal END) AS goal1,
                  MAX(CASE WHEN rn = 1 THEN su END) AS su1,
                  CAST(SUM(CASE WHEN rn <= {n} THEN 1 ELSE 0 END) AS DOUBLE) AS n3,
                  SUM(CASE WHEN rn <= {n} THEN {x} END) AS sx,
                  SUM(CASE WHEN rn <= {n} THEN rating END) AS sy,
                  SUM(CASE WHEN rn <= {n} THEN {x} * {x} END) AS sxx,
                  SUM(CASE WHEN rn <= {n} THEN {x} * rating END) AS sxy
                FROM r_rk GROUP BY rid""",
            )
        )
        joins.append("LEFT JOIN r_agg ra ON ra.rid = sp.rid")
    if "competencies" in groups:
        ctes.append(
            (
                "c_g",
                f"""SELECT employee_id AS eid, cycle_id, {ep("submitted_at")} AS su,
                  MIN(CAST(rating AS DOUBLE)) AS mn, SUM(CAST(rating AS DOUBLE)) AS sm,
                  COUNT(*) AS n,
                  SUM(CASE WHEN rating < {COMPETENCY_THRESHOLD} THEN 1 ELSE 0 END) AS nb
                FROM {t["competency_ratings"]} WHERE rating IS NOT NULL
                GROUP BY employee_id, cycle_id, {ep("submitted_at")}""",
            )
        )
        ctes.append(
            (
                "c_v",
                f"""SELECT sp.rid, g.cycle_id, MIN(g.mn) AS mn, SUM(g.sm) AS sm, SUM(g.n) AS n,
                  SUM(g.nb) AS nb, MAX(g.su) AS su
                FROM sp JOIN c_g g ON g.eid = sp.eid
                WHERE {visible("g.su", "sp.a")}
                GROUP BY sp.rid, g.cycle_id""",
            )
        )
        ctes.append(
            (
                "c_l",
                """SELECT rid, MAX(CASE WHEN rn = 1 THEN mn END) AS mn,
                  MAX(CASE WHEN rn = 1 THEN sm END) AS sm, MAX(CASE WHEN rn = 1 THEN n END) AS n,
                  MAX(CASE WHEN rn = 1 THEN nb END) AS nb,
                  MAX(CASE WHEN rn = 2 THEN sm END) AS sm2, MAX(CASE WHEN rn = 2 THEN n END) AS n2,
                  SUM(sm) AS sm_all, SUM(n) AS n_all FROM (
                  SELECT c.*, ROW_NUMBER() OVER (PARTITION BY rid
                    ORDER BY su DESC, cycle_id DESC) AS rn FROM c_v c) z
                GROUP BY rid""",
            )
        )
        joins.append("LEFT JOIN c_l cl ON cl.rid = sp.rid")
    cols = ", ".join(
        f"CAST({s.expr} AS {d.string if s.dtype == 'string' else s.sql_type}) AS {s.name}"
        for s in specs
    )
    return ctes, f"SELECT sp.rid, {cols} FROM sp {' '.join(joins)}"
