"""Reason codes: business features, stable codes, catalog texts, point-in-time peer medians."""

from __future__ import annotations

import re

import matplotlib
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import talentml as tml
from talentml.explain import _reasons, explain, plot_importance, plot_reasons, plot_segments
from talentml.explain._business import CONCEPTS, business_features, feature_token
from talentml.explain._peers import manager_at
from talentml.explain._reasons import (
    PROXY_NOTE,
    REASON_COLUMNS,
    _format,
    format_values,
    render_values,
)
from talentml.models import FlightRisk, HighPotential, RampUp

matplotlib.use("Agg")

CODE = re.compile(r"^(FR|HP|RU|M)-(LEARN|REVIEW|HRIS|FEAT)-[A-Z0-9]+(-[A-Z0-9]+)*-(UP|DOWN)$")
UTC = "UTC"
DROP = "voluntary_dropoff_30d_vs_prior_90d"


def workforce_frame(n=1200, seed=0):
    """Rows at two cutoffs with catalog columns; the drop-off and inactivity drive exits."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "employee_id": [f"E{i % (n // 2):04d}" for i in range(n)],
            "as_of": np.where(
                np.arange(n) < n // 2,
                pd.Timestamp("2025-01-01", tz=UTC),
                pd.Timestamp("2025-02-01", tz=UTC),
            ),
            DROP: np.clip(rng.normal(0.2, 0.5, n), -3, 1),
            "days_since_last_activity": rng.exponential(25, n),
            "n_statements_30d": rng.poisson(6, n).astype("int64"),
            "n_voluntary_completions_90d": rng.poisson(2, n).astype("int64"),
            "offhours_share_90d": rng.uniform(0, 1, n),
            "tenure_days": rng.uniform(30, 4000, n),
            "job_family": rng.choice(["Sales", "Data", "Finance"], n),
        }
    )
    X["as_of"] = pd.to_datetime(X["as_of"], utc=True)
    X.loc[rng.random(n) < 0.05, DROP] = np.nan
    risk = (
        -2.5
        + 2.0 * X[DROP].fillna(0).clip(0, 1)
        + X["days_since_last_activity"] / 40
        - 0.25 * X["n_voluntary_completions_90d"]
        + 0.8 * X["offhours_share_90d"]
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = workforce_frame()
    model = FlightRisk(
        n_estimators=60, max_depth=3, random_state=0, calibration=None, n_jobs=1
    ).fit(X, y)
    return X, y, model


def test_codes_are_stable_unique_and_well_formed():
    assert feature_token(DROP) == "DROPOFF"
    assert feature_token("days_since_last_activity") == "INACTIVE-DAYS"
    assert feature_token("team_voluntary_exits_365d") == "TEAM-VOLUNTARY-EXITS-365D"
    assert feature_token("n_statements_30d") == "STATEMENTS-30D"
    assert feature_token("YearsAtCompany") == "YEARS-AT-COMPANY"
    cat = tml.features.catalog()
    names = cat["name"].tolist()
    for groups in (None, "auto"):
        bf = business_features(names, cat, groups=groups)
        for prefix in ("FR", "HP", "RU"):
            for direction in ("UP", "DOWN"):
                codes = bf.codes(prefix, direction)
                assert len(set(codes)) == len(codes)
                assert all(CODE.match(c) for c in codes), codes
    auto = business_features(names, cat, groups="auto")
    assert "learning_dropoff" in auto.names
    assert "FR-LEARN-DROPOFF-UP" in auto.codes("FR", "UP")
    members = auto.records["learning_dropoff"]["columns"]
    assert DROP in members and "days_since_last_activity" in members
    assert all(re.fullmatch(CONCEPTS["learning_dropoff"]["pattern"], m) for m in members)
    assert not any(cat.set_index("name").loc[members, "sensitive_proxy"])
    assert len(auto.names) == len(names) - len(members) + 1


def test_template_rendering():
    assert render_values(
        "voluntary learning dropped {value:.0%} in the last 30 days compared with the prior 90",
        np.array([0.8, -0.5]),
    ) == [
        "voluntary learning dropped 80% in the last 30 days compared with the prior 90",
        "voluntary learning rose 50% in the last 30 days compared with the prior 90",
    ]
    assert render_values("works in the {value} department", np.array(["Sales"], dtype=object)) == [
        "works in the Sales department"
    ]
    assert render_values("a {{literal}} {value:.1f} b", np.array([2.25])) == ["a {literal} 2.2 b"]


def test_top_reasons_table(fitted):
    X, _, model = fitted
    ex = explain(model, X, peers="job_family")
    reasons = ex.top_reasons(3)
    assert list(reasons.columns) == ["employee_id", "as_of", *REASON_COLUMNS]
    assert reasons["code"].map(lambda c: bool(CODE.match(c))).all()
    up = reasons["direction"] == "up"
    assert (reasons.loc[up, "contribution"] > 0).all()
    assert (reasons.loc[~up, "contribution"] < 0).all()
    assert reasons["code"].str.endswith("-UP").eq(up).all()
    per_row = reasons.groupby(["employee_id", "as_of", "direction"])["rank"]
    assert per_row.max().le(3).all()
    assert (per_row.apply(lambda r: list(r) == list(range(1, len(r) + 1)))).all()
    # ranked by size within a row and direction
    size = reasons["contribution"].abs()
    ordered = size.groupby([reasons["employee_id"], reasons["as_of"], reasons["direction"]])
    assert ordered.apply(lambda s: s.is_monotonic_decreasing).all()
    # the same contribution as the business-feature SHAP value
    first = reasons.iloc[0]
    row = np.flatnonzero(
        (X["employee_id"] == first["employee_id"]) & (X["as_of"] == first["as_of"])
    )[0]
    assert first["contribution"] == pytest.approx(ex.business_values.iloc[row][first["feature"]])
    # direction filters and k
    assert set(ex.top_reasons(1, direction="up")["direction"]) == {"up"}
    assert set(ex.top_reasons(2, direction="down")["rank"]) <= {1, 2}
    with pytest.raises(ValueError, match="k must be a positive integer"):
        ex.top_reasons(0)
    with pytest.raises(ValueError, match="direction must be one of"):
        ex.top_reasons(3, direction="sideways")


def test_peer_medians_are_point_in_time(fitted):
    X, _, model = fitted
    ex = explain(model, X, peers="job_family", groups=None)
    reasons = ex.top_reasons(3)
    r = reasons[reasons["feature"] == "tenure_days"].iloc[0]
    same = (X["as_of"] == r["as_of"]) & (
        X["job_family"]
        == X.loc[
            (X["employee_id"] == r["employee_id"]) & (X["as_of"] == r["as_of"]), "job_family"
        ].item()
    )
    assert r["peer_value"] == pytest.approx(X.loc[same, "tenure_days"].median())
    assert r["peer_scope"] == "job family median"
    assert f"(job family median: {r['peer_value']:.0f})" in r["text"]
    # a change to rows at another cutoff does not move the reference
    other = X.copy()
    later = other["as_of"] != r["as_of"]
    other.loc[later, "tenure_days"] = 99_999.0
    again = explain(model, other, peers="job_family", groups=None).top_reasons(3)
    match = again[
        (again["employee_id"] == r["employee_id"])
        & (again["as_of"] == r["as_of"])
        & (again["feature"] == "tenure_days")
    ]
    assert match["peer_value"].item() == pytest.approx(r["peer_value"])


def test_small_groups_fall_back_to_everyone(fitted):
    X, _, model = fitted
    labels = np.where(np.arange(len(X)) % 200 == 0, "tiny", "big")  # tiny groups: 3 rows
    reasons = explain(model, X, peers=labels, min_peers=5, groups=None).top_reasons(3)
    tiny = reasons.merge(
        X[["employee_id", "as_of"]].assign(label=labels), on=["employee_id", "as_of"]
    )
    scopes = tiny.loc[tiny["label"] == "tiny", "peer_scope"]
    numeric = tiny.loc[tiny["label"] == "tiny", "evidence"] != "job_family"
    assert set(scopes[numeric]) == {"median of all employees"}
    assert set(tiny.loc[tiny["label"] == "big", "peer_scope"]) <= {"group median", ""}
    none = explain(model, X.head(20), peers=None).top_reasons(1)
    assert (none["peer_scope"] == "").all() and none["peer_value"].isna().all()


def test_missing_values_proxies_and_negative_dropoff(fitted):
    X, _, model = fitted
    ex = explain(model, X, peers="all", groups=None)
    reasons = ex.top_reasons(5)
    drop = reasons[reasons["feature"] == DROP]
    missing = drop[drop["value"].isna()]
    assert (
        len(missing) and missing["text"].str.startswith("drop in voluntary learning: no data").all()
    )
    negative = drop[pd.to_numeric(drop["value"]) < 0]
    assert len(negative) and negative["text"].str.contains("voluntary learning rose").all()
    proxy = reasons[reasons["feature"] == "offhours_share_90d"]
    assert len(proxy) and proxy["sensitive_proxy"].all()
    assert proxy["text"].str.endswith(PROXY_NOTE).all()
    assert not reasons.loc[~reasons["sensitive_proxy"], "text"].str.contains("sensitive").any()
    without = ex.top_reasons(5, include_proxies=False)
    assert "offhours_share_90d" not in set(without["feature"])


def test_concepts_fold_the_learning_dropoff(fitted):
    X, _, model = fitted
    auto = explain(model, X, peers="all")
    plain = explain(model, X, peers="all", groups=None)
    members = [DROP, "days_since_last_activity", "n_statements_30d", "n_voluntary_completions_90d"]
    assert auto.business.set_index("business_feature").loc["learning_dropoff", "columns"] == members
    folded = plain.values[members].sum(axis=1)
    assert np.allclose(auto.business_values["learning_dropoff"], folded)
    reasons = auto.top_reasons(3, direction="up")
    concept = reasons[reasons["feature"] == "learning_dropoff"]
    assert len(concept) and (concept["code"] == "FR-LEARN-DROPOFF-UP").all()
    # each text speaks through the member with the largest upward contribution
    for r in concept.head(20).itertuples():
        row = np.flatnonzero((X["employee_id"] == r.employee_id) & (X["as_of"] == r.as_of))[0]
        assert r.evidence == plain.values.iloc[row][members].idxmax()


def test_one_hot_and_explicit_groups():
    rng = np.random.default_rng(5)
    n = 800
    dept = rng.choice(["Sales", "Data", "Ops"], n)
    X = pd.DataFrame(
        {
            "department_Sales": (dept == "Sales").astype(int),
            "department_Data": (dept == "Data").astype(int),
            "department_Ops": (dept == "Ops").astype(int),
            "tenure_days": rng.uniform(30, 3000, n),
            "log_income": rng.normal(10, 1, n),
            "income_sq": rng.normal(100, 10, n),
        }
    )
    y = (rng.random(n) < np.where(dept == "Sales", 0.5, 0.1)).astype(int)
    model = FlightRisk(n_estimators=30, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
    ex = explain(model, X, groups={"income": ["log_income", "income_sq"]})
    business = ex.business.set_index("business_feature")
    assert business.index.tolist() == ["department", "tenure_days", "income"]
    assert business.loc["income", "kind"] == "group"
    assert business.loc["department", "kind"] == "onehot"
    assert business.loc["department", "columns"] == [
        "department_Sales",
        "department_Data",
        "department_Ops",
    ]
    dep = ex.business_values["department"]
    assert np.allclose(dep, ex.values[business.loc["department", "columns"]].sum(axis=1))
    reasons = ex.top_reasons(1, direction="up")
    sales = reasons[(reasons["feature"] == "department")]
    assert len(sales)
    labels = dict(zip(X.index, dept, strict=True))
    assert all(
        t == f"works in the {labels[r]} department"
        for r, t in zip(sales["row"], sales["text"], strict=True)
    )
    assert sales["code"].eq("FR-HRIS-DEPARTMENT-UP").all()
    grouped = explain(model, X, groups={"log_income": "income", "income_sq": "income"})
    assert np.allclose(
        grouped.business_values["income"], ex.values[["log_income", "income_sq"]].sum(axis=1)
    )
    assert set(explain(model, X, groups=None).business["business_feature"]) == {
        "department",
        "tenure_days",
        "log_income",
        "income_sq",
    }
    with pytest.raises(ValueError, match="not model columns"):
        explain(model, X, groups={"nope": "x"})


def test_team_peers_rebuild_the_manager_at_as_of():
    t = lambda s: pd.Timestamp(s, tz=UTC)  # noqa: E731
    employees = pd.DataFrame({"employee_id": ["A", "B", "C"], "manager_id": ["M3", "M1", None]})
    job_events = pd.DataFrame(
        {
            "employee_id": ["A", "A", "B"],
            "effective_date": [t("2025-01-10"), t("2025-03-01"), t("2025-02-01")],
            "recorded_at": [t("2025-01-10"), t("2025-03-01"), t("2025-04-15")],
            "event": ["manager_change"] * 3,
            "from_value": ["M1", "M2", "M0"],
            "to_value": ["M2", "M3", "M1"],
        }
    )
    keys = pd.DataFrame(
        {
            "employee_id": ["A", "A", "A", "B", "B", "C"],
            "as_of": [
                t("2025-01-01"),
                t("2025-02-01"),
                t("2025-04-01"),
                t("2025-03-01"),
                t("2025-05-01"),
                t("2025-03-01"),
            ],
        }
    )
    got = (
        manager_at(keys, employees, job_events)
        .astype(object)
        .where(lambda s: s.notna(), None)
        .tolist()
    )
    # A: before any change M1; after the first M2; after both M3. B: the change effective in
    # February is recorded in April, so in March the manager is still the earlier one (M0)
    assert got == ["M1", "M2", "M3", "M0", "M1", None]
    snapshot = manager_at(keys, employees)
    assert snapshot.iloc[:5].tolist() == ["M3", "M3", "M3", "M1", "M1"]
    assert snapshot.isna().iloc[5]


def test_global_views_and_plots(fitted):
    import matplotlib.pyplot as plt

    X, _, model = fitted
    ex = explain(model, X, peers="all")
    imp = ex.importance()
    assert imp["rank"].tolist() == list(range(1, len(imp) + 1))
    assert imp["share"].sum() == pytest.approx(1.0)
    assert imp["mean_abs_contribution"].is_monotonic_decreasing
    assert imp.loc[0, "feature"] == "learning_dropoff"
    fam = ex.importance(by="family")
    assert list(fam.columns) == [
        "rank",
        "family",
        "mean_abs_contribution",
        "mean_contribution",
        "share",
    ]
    by_col = ex.importance(by="feature")
    assert set(by_col["feature"]) == set(ex.feature_names)
    seg = ex.segments("job_family", k=2)
    assert set(seg["job_family"]) == {"Sales", "Data", "Finance"}
    assert (seg.groupby("job_family")["n"].first().sum()) == len(X)
    sales = X["job_family"] == "Sales"
    first = seg[(seg["job_family"] == "Sales") & (seg["rank"] == 1)].iloc[0]
    assert first["mean_contribution"] == pytest.approx(
        ex.business_values.loc[sales, first["feature"]].mean()
    )
    assert first["mean_margin"] == pytest.approx(ex.margin[sales].mean())
    with pytest.raises(ValueError, match="is not a column"):
        ex.segments("department")
    assert plot_importance(ex).get_xlabel() == "mean |SHAP| (log-odds)"
    assert len(plot_reasons(ex, row=3).patches) >= 1
    assert [t.get_text() for t in plot_segments(ex, "job_family").get_yticklabels()] == [
        "Data",
        "Finance",
        "Sales",
    ]
    plt.close("all")


def test_prefixes_by_model():
    X, y = workforce_frame(n=400, seed=3)
    hp = HighPotential(n_estimators=10, random_state=0, n_jobs=1).fit(X, y)
    assert explain(hp, X, peers="all").top_reasons(1)["code"].str.startswith("HP-").all()
    days = np.exp(4 + 0.01 * X["days_since_last_activity"])
    ru = RampUp(n_estimators=10, random_state=0, n_jobs=1).fit(X, days)
    reasons = explain(ru, X, peers="all").top_reasons(1)
    assert reasons["code"].str.startswith("RU-").all()


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(
        st.one_of(
            st.floats(allow_nan=True, allow_infinity=True, width=64),
            st.integers(-(10**6), 10**6).map(float),
            st.sampled_from([0.0, -0.0, 0.5, 999.5, 1e15, -1e15, 1234567.0]),
        ),
        min_size=1,
        max_size=200,
    ),
    spec=st.sampled_from(["", ".0%", ".1f", ",.2f", ".3g", "d"]),
)
def test_bulk_formatting_matches_value_by_value(values, spec):
    """The bulk formatter of the whole-population texts writes what one-by-one formatting does."""
    floats = np.asarray(values, dtype=np.float64)
    ints = np.asarray([int(v) for v in values if abs(v) < 2**62], dtype=np.int64)
    repeated = np.repeat(floats, 3)  # the once-per-distinct-value path
    for array in (floats, ints, repeated, floats.astype(object)):
        assert format_values(array, spec).tolist() == [_format(v, spec) for v in array]
    assert _format(-0.0, "") == "0" and _format(-0.0, ".1f") == "0.0"


def test_top_k_kernel_matches_the_sort():
    rng = np.random.default_rng(3)
    G = np.round(rng.normal(size=(3000, 70)), 1)  # many ties
    G[rng.random(G.shape) < 0.05] = np.nan
    for sign in (1, -1):
        for k in (1, 3, 70, 90):
            small = _reasons._select(G[:10], k, sign)  # below the kernel's size: a sort
            big = _reasons._select(G, k, sign)  # the compiled kernel
            assert G.size >= _reasons._KERNEL_SIZE > G[:10].size
            rows, feats = big
            keep = rows < 10
            np.testing.assert_array_equal(rows[keep], small[0])
            np.testing.assert_array_equal(feats[keep], small[1])
            S = sign * G
            for r in (0, 17, 2999):
                mine = feats[rows == r]
                order = np.argsort(-S[r], kind="stable")[: min(k, 70)]
                expect = order[S[r, order] > _reasons.TOL]
                np.testing.assert_array_equal(mine, expect)
