"""Evaluating trigger rules: the evaluated table, which rules hold, the new actions' text.

:meth:`talentml.loop.RuleSet.match` and :meth:`~talentml.loop.RuleSet.evaluate` are built from
these steps: :func:`_table` (the spine rows with the competency snapshot and the scores
joined, every column the rules read checked), :func:`_match` (one boolean column per rule),
:func:`_candidates` (one row per firing, in ``as_of`` order) and :func:`_render` (facts,
reason text, model reasons, the actions table). The rules are read, never changed.
"""

from __future__ import annotations

import difflib
import json
import math
import string
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..features import competency_column, competency_snapshot
from ._action_table import ACTION_COLUMNS, action_key, normalize_actions
from ._rules import _OP_WORDS, ActionSpec, Condition, Rule, RuleError, _placeholder
from ._tables import _require, _utc

if TYPE_CHECKING:  # pragma: no cover
    from ._ruleset import RuleSet

__all__: list[str] = []


def _threshold(ruleset: RuleSet, value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_threshold(ruleset, v) for v in value)
    if isinstance(value, str) and value in ruleset.rating_scale:
        return float(ruleset.rating_scale[value])
    return value


def _table(
    ruleset: RuleSet,
    X: pd.DataFrame,
    competency_ratings: pd.DataFrame | None,
    scores: Any,
) -> pd.DataFrame:
    _require(X, ("employee_id", "as_of"), "X")
    _utc(X["as_of"], "X", "as_of")
    if X.index.has_duplicates:
        raise ValueError("X has a duplicated index; reset it (X.reset_index(drop=True))")
    data = X
    extra: dict[str, Any] = {}
    if scores is not None:
        for name, col in _scores(scores, X).items():
            extra[name] = col
    comps = [
        c
        for c in ruleset.competencies
        if competency_column(c) not in X.columns and competency_column(c) not in extra
    ]
    if comps:
        if competency_ratings is None:
            rule = next(
                r
                for r in ruleset.rules
                for c in r.when
                if c.source == "competency" and c.name in comps
            )
            raise RuleError(
                f"reads competency ratings ({comps}); pass competency_ratings=",
                rule=rule.id,
                field="when",
            )
        snap = competency_snapshot(X, competency_ratings, competencies=comps)
        for c in snap.columns:
            extra[c] = snap[c]
    clash = [k for k in extra if k in X.columns]
    if clash:
        raise ValueError(f"scores repeat column(s) of X: {clash}; rename them")
    if extra:
        data = pd.concat([X, pd.DataFrame(extra, index=X.index)], axis=1)
    for rule in ruleset.rules:
        for i, cond in enumerate(rule.when):
            col = cond.column
            if col not in data.columns:
                hints = difflib.get_close_matches(col, [str(c) for c in data.columns], n=3)
                tip = "; pass it in scores=" if cond.source == "score" else ""
                raise RuleError(
                    f"{cond.source} {col!r} is not in the evaluated table (close "
                    f"matches: {hints}){tip}",
                    rule=rule.id,
                    field=f"when[{i}]",
                )
            _check_dtype(ruleset, rule, i, cond, data[col])
    return data


def _check_dtype(ruleset: RuleSet, rule: Rule, i: int, cond: Condition, values: pd.Series) -> None:
    if cond.op in ("missing", "present"):
        return
    numeric = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    )
    thresholds = _threshold(ruleset, cond.value)
    thresholds = thresholds if isinstance(thresholds, tuple) else (thresholds,)
    for t in thresholds:
        if numeric and isinstance(t, str):
            raise RuleError(
                f"column {cond.column!r} is numeric ({values.dtype}); the value {t!r} is text",
                rule=rule.id,
                field=f"when[{i}].value",
            )
        if not numeric and not pd.api.types.is_bool_dtype(values.dtype) and not isinstance(t, str):
            raise RuleError(
                f"column {cond.column!r} holds {values.dtype} values; the value {t!r} is not text",
                rule=rule.id,
                field=f"when[{i}].value",
            )
    if not numeric and cond.op in ("<", "<=", ">", ">="):
        raise RuleError(
            f"column {cond.column!r} is not numeric ({values.dtype}); {cond.op!r} needs numbers",
            rule=rule.id,
            field=f"when[{i}].op",
        )


def _mask(ruleset: RuleSet, cond: Condition, values: pd.Series) -> np.ndarray:
    op = cond.op
    present = values.notna().to_numpy(bool)
    if op == "missing":
        return ~present
    if op == "present":
        return present
    t = _threshold(ruleset, cond.value)
    if op in ("in", "not in"):
        hit = values.isin(list(t)).to_numpy(bool) & present
        return hit if op == "in" else present & ~hit
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        v = values.to_numpy(dtype=float, na_value=np.nan)
        with np.errstate(invalid="ignore"):
            out = {
                "<": v < t,
                "<=": v <= t,
                ">": v > t,
                ">=": v >= t,
                "==": v == t,
                "!=": v != t,
            }[op]
        return out & present
    eq = values.astype(object).eq(t).to_numpy(bool) & present
    return eq if op == "==" else present & ~eq


def _match(ruleset: RuleSet, data: pd.DataFrame) -> pd.DataFrame:
    out = {}
    for rule in ruleset.rules:
        m = np.ones(len(data), dtype=bool)
        for cond in rule.when:
            m &= _mask(ruleset, cond, data[cond.column])
        out[rule.id] = m
    return pd.DataFrame(out, index=data.index, columns=[r.id for r in ruleset.rules])


def _candidates(data, blocks, titles) -> pd.DataFrame:
    cols = ["row_pos", "rule_pos", "action_pos", "rule_id", "action", "target"]
    cols += ["employee_id", "as_of", "open_until", "due_date", "title"]
    parts = []
    for order, a_order, rule, spec, rows in blocks:
        as_of = (
            data["as_of"].iloc[rows].dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
        ).reset_index(drop=True)
        if spec.due_days is not None:
            due = as_of + pd.Timedelta(days=spec.due_days)
        else:
            due = pd.Series(pd.NaT, index=as_of.index, dtype="datetime64[ns, UTC]")
        parts.append(
            pd.DataFrame(
                {
                    "row_pos": rows,
                    "rule_pos": order,
                    "action_pos": a_order,
                    "rule_id": rule.id,
                    "action": spec.action,
                    "target": spec.target,
                    "employee_id": data["employee_id"].iloc[rows].astype(str).to_numpy(),
                    "as_of": as_of,
                    "open_until": as_of + pd.Timedelta(days=spec.open_period),
                    "due_date": due,
                    "title": spec.title or titles.get(spec.target) or spec.target,
                },
                columns=cols,
            )
        )
    if not parts:
        empty = pd.DataFrame({c: pd.Series([], dtype=object) for c in cols})
        for c in ("as_of", "open_until", "due_date"):
            empty[c] = pd.Series([], dtype="datetime64[ns, UTC]")
        return empty
    out = pd.concat(parts, ignore_index=True)
    return out.sort_values(
        ["as_of", "rule_pos", "employee_id", "action_pos"], kind="stable"
    ).reset_index(drop=True)


def _render(
    ruleset: RuleSet, fresh: pd.DataFrame, data: pd.DataFrame, explanations, max_reasons: int
) -> pd.DataFrame:
    rules = {r.id: r for r in ruleset.rules}
    reasons_by = _explanation_lookup(explanations, max_reasons)
    values = {c: data[c].to_numpy(dtype=object) for c in ruleset.columns}
    rows: dict[str, list] = {c: [] for c in ("key", "facts", "reason", "expl", "name")}
    rows.update(kind=[], recipient=[])
    for rec in fresh.itertuples(index=False):
        rule = rules[rec.rule_id]
        spec = rule.then[int(rec.action_pos)]
        facts = {c.column: _plain(values[c.column][int(rec.row_pos)]) for c in rule.when}
        rows["key"].append(action_key(rule.id, rec.employee_id, rec.action, rec.target, rec.as_of))
        rows["facts"].append(json.dumps(facts, sort_keys=True, ensure_ascii=False))
        explanation = None
        if reasons_by is not None and any(c.source == "score" for c in rule.when):
            explanation = reasons_by(rec.employee_id, rec.as_of)
        text = _reason(ruleset, rule, spec, rec, facts)
        if explanation:
            text = f"{text}. Model reasons: {explanation}"
        rows["reason"].append(text)
        rows["expl"].append(explanation)
        rows["name"].append(rule.name)
        rows["kind"].append(rule.kind)
        rows["recipient"].append(spec.recipient)
    out = pd.DataFrame(
        {
            "action_key": rows["key"],
            "rule_id": fresh["rule_id"].to_numpy(object),
            "rule_name": rows["name"],
            "kind": rows["kind"],
            "action": fresh["action"].to_numpy(object),
            "target": fresh["target"].to_numpy(object),
            "title": fresh["title"].to_numpy(object),
            "recipient": rows["recipient"],
            "employee_id": fresh["employee_id"].to_numpy(object),
            "as_of": fresh["as_of"],
            "due_date": fresh["due_date"],
            "open_until": fresh["open_until"],
            "status": "open",
            "facts": rows["facts"],
            "reason": rows["reason"],
            "explanation": rows["expl"],
            "source": "rule",
        },
        columns=list(ACTION_COLUMNS),
    )
    return normalize_actions(out)


def _reason(ruleset: RuleSet, rule: Rule, spec: ActionSpec, rec: Any, facts: dict[str, Any]) -> str:
    due = None if pd.isna(rec.due_date) else pd.Timestamp(rec.due_date)
    if rule.reason is not None:
        values = {_placeholder(k): ("missing" if v is None else v) for k, v in facts.items()}
        values.update(
            employee_id=rec.employee_id,
            as_of=pd.Timestamp(rec.as_of).date().isoformat(),
            title=rec.title,
            target=rec.target,
            due_date=due.date().isoformat() if due is not None else "none",
        )
        return rule.reason.format(**values)
    parts = [_describe(ruleset, c, facts[c.column]) for c in rule.when]
    if spec.action == "enroll":
        what = f"enroll in {rec.title}"
    elif spec.action == "recommend":
        what = f"recommend {rec.title}"
    else:
        what = f"{spec.action} {spec.recipient}"
    if due is not None:
        what += f", due in {spec.due_days} days ({due.date().isoformat()})"
    return f"{rule.name}: {'; '.join(parts)} -> {what}"


def _describe(ruleset: RuleSet, cond: Condition, value: Any) -> str:
    t = _threshold(ruleset, cond.value)
    if cond.source == "competency":
        subject = f"{cond.name} competency rating {_fmt_rating(ruleset, value)}"
        spec = "g"
    elif cond.source == "feature" and cond.name in ruleset._catalog.index:
        template = str(ruleset._catalog.at[cond.name, "template"])
        spec = _value_spec(template)
        rating = "rating" in str(ruleset._catalog.at[cond.name, "unit"])
        if value is None:
            subject = f"{cond.name} missing"
        elif rating:
            subject = f"{_short(cond.name)} {_fmt_rating(ruleset, value)}"
        else:
            try:
                subject = template.format(value=value)
            except (ValueError, TypeError):
                subject = f"{cond.name} {value}"
    else:
        spec = ".3g"
        subject = f"{cond.name} {_fmt(value, spec)}"
    if cond.op in ("missing", "present"):
        return f"{subject} ({cond.op})"
    if isinstance(t, tuple):
        shown = ", ".join(_fmt(v, spec) for v in t)
        return f"{subject}, {_OP_WORDS[cond.op]} [{shown}]"
    shown = (
        _fmt_rating(ruleset, t)
        if cond.source == "competency"
        or (
            cond.source == "feature"
            and isinstance(cond.value, str)
            and cond.value in ruleset.rating_scale
        )
        else _fmt(t, spec)
    )
    return f"{subject}, {_OP_WORDS[cond.op]} {shown}"


def _fmt_rating(ruleset: RuleSet, value: Any) -> str:
    if value is None:
        return "missing"
    label = next((k for k, v in ruleset.rating_scale.items() if v == value), None)
    return f"{value:g} ({label})" if label else f"{value:g}"


def _short(name: str) -> str:
    return {"rating_latest": "rating", "competency_min": "lowest competency rating"}.get(
        name, name.replace("_", " ")
    )


def _value_spec(template: str) -> str:
    for _, f, spec, _ in string.Formatter().parse(template):
        if f == "value":
            return spec or ""
    return ""


def _fmt(value: Any, spec: str) -> str:
    if value is None:
        return "missing"
    if isinstance(value, str):
        return value
    try:
        return (
            format(value, spec)
            if spec
            else format(value, "g")
            if isinstance(value, float)
            else str(value)
        )
    except (ValueError, TypeError):
        return str(value)


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, np.bool_ | bool):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        v = float(value)
        return None if math.isnan(v) else v
    return value


def _scores(scores: Any, X: pd.DataFrame) -> dict[str, pd.Series]:
    if isinstance(scores, pd.Series):
        if scores.name is None:
            raise ValueError("a scores Series needs a name (the column rules refer to)")
        scores = scores.to_frame()
    if isinstance(scores, Mapping):
        out = {}
        for name, values in scores.items():
            if isinstance(values, pd.Series):
                if not values.index.equals(X.index):
                    raise ValueError(f"scores[{name!r}] is not aligned with X (different index)")
                out[str(name)] = values
            else:
                arr = np.asarray(values)
                if arr.ndim != 1 or len(arr) != len(X):
                    raise ValueError(
                        f"scores[{name!r}] must be 1-D with one value per row of X ({len(X)}), "
                        f"got shape {arr.shape}"
                    )
                out[str(name)] = pd.Series(arr, index=X.index)
        return out
    if not isinstance(scores, pd.DataFrame):
        raise TypeError(
            f"scores must be a DataFrame, a named Series or a dict, got {type(scores).__name__}"
        )
    if {"employee_id", "as_of"} <= set(scores.columns):
        keys = scores[["employee_id", "as_of"]]
        if keys.duplicated().any():
            raise ValueError("scores has several rows for the same employee_id and as_of")
        left = pd.DataFrame(
            {
                "employee_id": X["employee_id"].astype(str).to_numpy(),
                "as_of": _utc(X["as_of"], "X", "as_of").to_numpy(),
            }
        )
        right = scores.assign(
            employee_id=scores["employee_id"].astype(str),
            as_of=_utc(scores["as_of"], "scores", "as_of"),
        )
        merged = left.merge(right, on=["employee_id", "as_of"], how="left")
        return {
            str(c): pd.Series(merged[c].to_numpy(), index=X.index)
            for c in scores.columns
            if c not in ("employee_id", "as_of")
        }
    if not scores.index.equals(X.index):
        raise ValueError(
            "scores must share X's index, or have employee_id and as_of columns to merge on"
        )
    return {str(c): scores[c] for c in scores.columns}


def _titles(catalog: pd.DataFrame | None) -> dict[str, str]:
    if catalog is None:
        return {}
    _require(catalog, ("activity_id", "title"), "catalog")
    return dict(zip(catalog["activity_id"].astype(str), catalog["title"].astype(str), strict=True))


def _explanation_lookup(explanations: pd.DataFrame | None, k: int):
    if explanations is None:
        return None
    _require(explanations, ("employee_id", "text"), "explanations")
    ex = explanations.copy()
    if "sensitive_proxy" in ex.columns:
        # a proxy of a protected attribute is never a reason to act on someone
        ex = ex[~ex["sensitive_proxy"].fillna(False).astype(bool)]
    if "direction" in ex.columns:
        up = (
            ex["direction"]
            .astype(str)
            .str.lower()
            .isin(["up", "raises", "increase", "+", "positive"])
        )
        if up.any():
            ex = ex[up]
    sort = [c for c in ("employee_id", "as_of", "rank") if c in ex.columns]
    ex = ex.sort_values(sort, kind="stable")
    has_time = "as_of" in ex.columns
    if has_time:
        ex = ex.assign(as_of=_utc(ex["as_of"], "explanations", "as_of"))
        groups = {
            (str(e), pd.Timestamp(t)): g["text"].astype(str).head(k).tolist()
            for (e, t), g in ex.groupby(["employee_id", "as_of"], sort=False)
        }
    else:
        groups = {
            str(e): g["text"].astype(str).head(k).tolist()
            for e, g in ex.groupby("employee_id", sort=False)
        }

    def lookup(employee_id: str, as_of: Any) -> str | None:
        key = (employee_id, pd.Timestamp(as_of)) if has_time else employee_id
        texts = groups.get(key)
        return "; ".join(texts) if texts else None

    return lookup
