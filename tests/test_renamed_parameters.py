"""Renamed parameters (issue 20): the old keyword works for one release, with a FutureWarning.

Every (function, old, new) pair is read from :data:`talentml._validation.RENAMED` (filled by
:func:`talentml._validation.renamed_parameters`): each is checked for its signature, for the
warning and the mapping (the decorated function's body swapped for a recorder), and for the
``TypeError`` when both names are passed. A few cheap real calls check that the old name
gives the same result as the new one end to end.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import warnings
from typing import Any

import numpy as np
import pandas as pd
import pytest

from talentml._validation import MSG_RENAMED, RENAMED, renamed_parameters

#: Every rename of issue 20 (the changelog's "Renamed" list): a new one must be added here.
EXPECTED: dict[str, dict[str, str]] = {
    "talentml.explain._coder.ReasonCoder.__init__": {"catalog": "feature_catalog"},
    "talentml.explain._columns.describe_columns": {"catalog": "feature_catalog"},
    "talentml.explain._plots.plot_importance": {"top": "max_display"},
    "talentml.explain._plots.plot_segments": {"top": "max_display"},
    "talentml.explain._recourse.recourse": {"catalog": "feature_catalog"},
    "talentml.explain._shap.Explanation.segments": {"top": "k"},
    "talentml.fairness._audit.audit": {"top_k": "top_fraction"},
    "talentml.fairness._caregiver.caregiver_hours": {"top_k": "top_fraction"},
    "talentml.fairness._mitigate.mitigate": {"top_k": "top_fraction"},
    "talentml.features._build.build": {"catalog": "course_catalog"},
    "talentml.features._build.build_report": {"catalog": "course_catalog"},
    "talentml.loop._bench.BenchStrength.learning_paths": {"catalog": "course_catalog"},
    "talentml.loop._bench.skill_profile": {"catalog": "course_catalog"},
    "talentml.loop._flags.calibration_flags": {"catalog": "course_catalog"},
    "talentml.loop._flags.failed_mandatory": {"catalog": "course_catalog"},
    "talentml.loop._impact.track_completions": {"catalog": "course_catalog"},
    "talentml.loop._ontology.SkillOntology.add_catalog": {"catalog": "course_catalog"},
    "talentml.loop._ontology.SkillOntology.map_activities": {"catalog": "course_catalog"},
    "talentml.loop._ruleset.RuleSet.evaluate": {"catalog": "course_catalog"},
    "talentml.models._backtest.backtest": {"top": "top_fraction"},
    "talentml.models._evaluate.evaluate": {"top": "top_fraction"},
    "talentml.models._metrics.lift_at": {"top": "top_fraction"},
    "talentml.models._plots.plot_lift": {"top": "top_fraction"},
    "talentml.serving._drift.DriftReport.plot": {"top": "max_display"},
    "talentml.serving._profile.TrainingProfile.from_frame": {"catalog": "feature_catalog"},
    "talentml.serving._scorer.Scorer.__init__": {"catalog": "feature_catalog"},
    "talentml.tracking._train.train": {"catalog": "feature_catalog"},
    "talentml.xapi._catalog.infer_catalog": {"progress": "show_progress"},
    "talentml.xapi._ingest.ingest": {"progress": "show_progress"},
    "talentml.xapi._lrs.LRSClient.__init__": {"progress": "show_progress"},
    "talentml.xapi._lrs.LRSClient.iter_statements": {"progress": "show_progress"},
    "talentml.xapi._lrs.LRSClient.post_statements": {"progress": "show_progress"},
    "talentml.xapi._resolve.ActivityResolver.fit": {"catalog": "course_catalog"},
}

PAIRS = [(key, old, new) for key, renames in EXPECTED.items() for old, new in renames.items()]


PACKAGES = ("xapi", "features", "labels", "datasets", "models", "explain", "fairness", "loop")
PACKAGES += ("serving", "tracking", "report")


def _library_renames() -> dict[str, dict[str, str]]:
    for package in PACKAGES:  # every package registers its renames on import
        importlib.import_module(f"talentml.{package}")
    # a doctest of renamed_parameters registers its own example under talentml._validation
    return {k: v for k, v in RENAMED.items() if not k.startswith("talentml._validation.")}


def _wrapper(key: str) -> Any:
    """The decorated function of ``RENAMED``'s key (module, then qualified name)."""
    parts = key.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for name in parts[cut:]:
            obj = inspect.getattr_static(obj, name)
        return obj.__func__ if isinstance(obj, classmethod | staticmethod) else obj
    raise LookupError(key)


@contextlib.contextmanager
def _recording(wrapper: Any):
    """Swap the decorated function's body for one that returns its arguments."""
    cell = next(c for c in wrapper.__closure__ if c.cell_contents is wrapper.__wrapped__)
    original = cell.cell_contents
    cell.cell_contents = lambda *args, **kwargs: (args, kwargs)
    try:
        yield
    finally:
        cell.cell_contents = original


def test_the_table_lists_every_rename():
    assert _library_renames() == EXPECTED


@pytest.mark.parametrize(("key", "old", "new"), PAIRS, ids=[f"{k}:{o}" for k, o, _ in PAIRS])
def test_old_name_warns_and_maps_to_the_new_one(key, old, new):
    wrapper = _wrapper(key)
    params = inspect.signature(wrapper).parameters
    assert new in params and old not in params
    assert wrapper.__doc__ == wrapper.__wrapped__.__doc__
    value = object()
    with _recording(wrapper):
        with pytest.warns(FutureWarning, match=f"`{old}` was renamed `{new}` in talentml 0.1"):
            got = wrapper("first", **{old: value})
        assert got == (("first",), {new: value})
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            assert wrapper("first", **{new: value}) == got
    with pytest.raises(TypeError, match=f"both `{old}` and its new name `{new}`"):
        wrapper("first", **{old: value, new: value})


def test_the_decorator_refuses_a_rename_it_cannot_apply():
    with pytest.raises(TypeError, match="cannot rename"):
        renamed_parameters(top="top_fraction")(lambda *, top=1: top)
    with pytest.raises(TypeError, match="cannot rename"):
        renamed_parameters(top="missing")(lambda *, top_fraction=1: top_fraction)
    assert "the old name will be removed in the next release" in MSG_RENAMED


def _same_with_old_name(call, old: str, new: str, value: Any) -> tuple[Any, Any]:
    with pytest.warns(FutureWarning, match=f"`{old}` was renamed `{new}`"):
        before = call(**{old: value})
    return before, call(**{new: value})


def test_real_calls_give_the_same_result():
    from talentml import explain, fairness, loop, models, xapi

    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype(int)
    p = np.clip(y * 0.3 + rng.random(200) * 0.7, 0, 1)
    a, b = _same_with_old_name(lambda **kw: models.lift_at(y, p, **kw), "top", "top_fraction", 0.2)
    assert a == b

    scores = np.arange(100, dtype=float)
    sens = pd.DataFrame({"team_kind": ["a"] * 50 + ["b"] * 50})
    X = pd.DataFrame(index=range(100))
    a, b = _same_with_old_name(
        lambda **kw: fairness.audit(scores, X, sensitive=sens, n_bootstrap=0, **kw),
        "top_k",
        "top_fraction",
        0.1,
    )
    assert a.to_json() == b.to_json()

    described = explain.describe_columns({"x": "a column"})
    a, b = _same_with_old_name(
        lambda **kw: explain.describe_columns({"y": "another"}, **kw),
        "catalog",
        "feature_catalog",
        described,
    )
    pd.testing.assert_frame_equal(a, b)

    catalog = pd.DataFrame({"activity_id": ["l1", "l2"], "program": ["leadership"] * 2})
    st = pd.DataFrame(
        {
            "employee_id": ["e1", "e1"],
            "object_id": ["l1", "l2"],
            "verb": ["completed", "completed"],
            "timestamp": pd.to_datetime(["2025-01-05", "2025-02-01"], utc=True),
            "stored": pd.to_datetime(["2025-01-05", "2025-02-01"], utc=True),
        }
    )
    a, b = _same_with_old_name(
        lambda **kw: loop.track_completions(st, **kw), "catalog", "course_catalog", catalog
    )
    pd.testing.assert_frame_equal(a, b)

    statement = {
        "actor": {"account": {"homePage": "https://hr.example.com", "name": "E1"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
        "object": {"id": "https://lms.example.com/c/1"},
        "timestamp": "2025-03-01T09:30:00Z",
        "stored": "2025-03-01T09:31:00Z",
    }
    a, b = _same_with_old_name(
        lambda **kw: xapi.ingest([statement], secret="a-long-test-secret", **kw).statements,
        "progress",
        "show_progress",
        False,
    )
    pd.testing.assert_frame_equal(a, b)
    a, b = _same_with_old_name(
        lambda **kw: xapi.LRSClient("http://127.0.0.1:9/xAPI/", **kw).show_progress,
        "progress",
        "show_progress",
        False,
    )
    assert a is b is False


def _public_random_states() -> list[tuple[str, Any]]:
    import talentml as tml

    found = []
    for pkg in ("datasets", "models", "explain", "fairness", "loop", "serving", "tracking"):
        module = getattr(tml, pkg)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            target = obj.__init__ if isinstance(obj, type) else obj
            if not callable(target):
                continue
            try:
                params = inspect.signature(target).parameters
            except (TypeError, ValueError):
                continue
            if "random_state" in params:
                found.append((f"{pkg}.{name}", params["random_state"].default))
    return found


def test_every_public_random_state_defaults_to_zero():
    found = _public_random_states()
    assert {"models.FlightRisk", "models.evaluate", "fairness.audit"} <= {n for n, _ in found}
    # Workforce is a result: its random_state field records the seed that made it
    assert [(n, d) for n, d in found if d != 0 and n != "datasets.Workforce"] == []


@pytest.mark.parametrize(
    "random_state",
    [np.random.RandomState(0), np.random.default_rng(0)],
    ids=["RandomState", "Generator"],
)
def test_random_state_objects_are_accepted(random_state):
    from talentml import FlightRisk, fairness, models

    rng = np.random.default_rng(1)
    X = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    y = (rng.random(120) < 0.3).astype(int)
    model = FlightRisk(n_estimators=5, random_state=random_state).fit(X, y)
    ev = models.evaluate(model, X, y, n_bootstrap=5, random_state=random_state, show_progress=False)
    assert len(ev.metrics)
    sens = pd.DataFrame({"team_kind": ["a"] * 60 + ["b"] * 60})
    result = fairness.audit(
        model,
        X,
        y,
        sensitive=sens,
        top_fraction=0.2,
        n_bootstrap=5,
        proxies=False,
        random_state=random_state,
        show_progress=False,
    )
    assert result.meta["decision"]["n_selected"] == 24
