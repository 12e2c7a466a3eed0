"""The feature catalog: what every feature column means, for people and for reason codes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

__all__ = [
    "CATALOG_COLUMNS",
    "DIRECTIONS",
    "FAMILIES",
    "INPUTS",
    "LEARNING_FAMILIES",
    "FeatureSpec",
    "Guard",
    "catalog_frame",
]

#: Feature families, in the order their columns appear in :func:`talentml.features.build`.
FAMILIES = ("learning", "learning_baseline", "reviews", "hris")
#: Families computed by the learning plan (statement-scale work, in chunks).
LEARNING_FAMILIES = ("learning", "learning_baseline")
#: How a feature relates to a good outcome for the employee and the organization.
DIRECTIONS = ("higher_is_better", "lower_is_better", "neutral")
#: Columns of :func:`talentml.features.catalog`.
CATALOG_COLUMNS = (
    "name",
    "description",
    "unit",
    "family",
    "window",
    "actionable",
    "direction",
    "sensitive_proxy",
    "template",
    "dtype",
    "inputs",
)
#: Every input a feature can need: a table, or a column of one (``table.column``). A feature
#: is computed only when all its inputs are present and hold at least one value; otherwise it
#: is missing (NaN) on every row and named in the build report.
INPUTS = (
    "statements",
    "employees.hire_date",
    "employees.timezone",
    "employees.job_family",
    "employees.job_level",
    "employees.department",
    "employees.manager_id",
    "employees.termination_type",
    "job_events",
    "reviews",
    "reviews.potential_rating",
    "reviews.goal_attainment",
    "competency_ratings",
    "catalog.voluntary",
    "catalog.skills",
    "catalog.level",
    "catalog.mandatory",
    "catalog.program",
)
_DTYPES = ("int64", "float64", "string")


@dataclass(frozen=True)
class Guard:
    """When a feature is unknown for one row although its inputs are present.

    Some values of an input may be missing: a catalog activity whose ``voluntary`` is not
    known, an employee without a time zone. For a window ``[lo, hi)`` (probe names of
    :mod:`talentml.features._learning`) the feature is missing (NaN) when the row has facts
    of ``base`` in it and every one of them has an unknown value (counted by ``unknown``).
    For ``employees.timezone`` the feature is missing when the employee's zone is unknown.
    Guards apply only when the input is partly missing, so complete inputs give exactly the
    values they always gave.
    """

    input: str
    hi: str = ""
    lo: str = ""
    unknown: str = ""
    base: str = ""


@dataclass(frozen=True)
class FeatureSpec:
    """One feature column: its catalog entry and how to compute it.

    ``expr`` is a SQL expression over the family's final CTE (learning features use
    ``{series@probe}`` placeholders, see :mod:`talentml.features._learning`); ``group``
    names a unit of computation that features can share (e.g. the mandatory-compliance
    join), so that a selection computes only what it needs. ``needs`` are the inputs it
    cannot do without (:data:`INPUTS`); ``guards`` make it missing on the rows where a
    partly missing input is unknown (:class:`Guard`).
    """

    name: str
    description: str
    unit: str
    family: str
    window: str
    actionable: bool
    direction: str
    template: str
    dtype: str
    expr: str
    sensitive_proxy: bool = False
    group: str = "main"
    needs: tuple[str, ...] = field(default=())
    guards: tuple[Guard, ...] = field(default=())

    def __post_init__(self) -> None:
        unknown = [n for n in self.needs + tuple(g.input for g in self.guards) if n not in INPUTS]
        if unknown:
            raise ValueError(f"{self.name}: unknown input(s) {unknown}")
        if self.family not in FAMILIES:
            raise ValueError(f"{self.name}: unknown family {self.family!r}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"{self.name}: unknown direction {self.direction!r}")
        if self.dtype not in _DTYPES:
            raise ValueError(f"{self.name}: unknown dtype {self.dtype!r}")
        if "{value" not in self.template:
            raise ValueError(f"{self.name}: the template must show {{value}}")

    @property
    def sql_type(self) -> str:
        return {"int64": "BIGINT", "float64": "DOUBLE", "string": "STRING"}[self.dtype]


def catalog_frame(specs: list[FeatureSpec]) -> pd.DataFrame:
    """The catalog rows of ``specs`` as a DataFrame with :data:`CATALOG_COLUMNS`."""
    rows = [
        {
            "name": s.name,
            "description": s.description,
            "unit": s.unit,
            "family": s.family,
            "window": s.window,
            "actionable": s.actionable,
            "direction": s.direction,
            "sensitive_proxy": s.sensitive_proxy,
            "template": s.template,
            "dtype": s.dtype,
            "inputs": "; ".join(s.needs),
        }
        for s in specs
    ]
    out = pd.DataFrame(rows, columns=list(CATALOG_COLUMNS))
    for col in (
        "name",
        "description",
        "unit",
        "family",
        "window",
        "direction",
        "template",
        "dtype",
        "inputs",
    ):
        out[col] = out[col].astype("string")
    for col in ("actionable", "sensitive_proxy"):
        out[col] = out[col].astype(bool)
    return out


CATALOG_DOC_START = "<!-- feature-catalog:start -->"
CATALOG_DOC_END = "<!-- feature-catalog:end -->"


def catalog_markdown(frame: pd.DataFrame) -> str:
    """The catalog as Markdown tables, one per family (for docs/features.md)."""
    parts = []
    titles = {
        "learning": "Learning",
        "learning_baseline": "Learning relative to the personal baseline",
        "reviews": "Reviews",
        "hris": "HRIS",
    }
    for family in FAMILIES:
        rows = frame[frame["family"] == family]
        parts.append(f"### {titles[family]} ({len(rows)} features)\n")
        parts.append(
            "| feature | description | unit | window | actionable | direction | "
            "reason-code template | inputs |"
        )
        parts.append("|---|---|---|---|---|---|---|---|")
        for r in rows.itertuples(index=False):
            flag = " ⚠ *sensitive proxy*" if r.sensitive_proxy else ""
            cells = [
                f"`{r.name}`{flag}",
                r.description,
                r.unit,
                r.window,
                "yes" if r.actionable else "no",
                r.direction.replace("_", " "),
                f"“{r.template}”",
                ", ".join(f"`{i}`" for i in r.inputs.split("; ")),
            ]
            parts.append("| " + " | ".join(c.replace("|", "/") for c in cells) + " |")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"


def replace_between(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what lies between the ``start`` and ``end`` markers replaced by ``body``."""
    i, j = text.index(start) + len(start), text.index(end)
    return text[:i] + "\n" + body.rstrip() + "\n" + text[j:]
