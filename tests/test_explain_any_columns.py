"""Reasons and recourse for an organization's own columns: the public IBM table, flags, ties.

The model is a FlightRisk fitted on the IBM HR attrition table (1,470 employees) without its
protected columns, as a new user would fit it; nothing in it is in the feature catalog.
"""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

import talentml as tml
from talentml.datasets import load_ibm_attrition
from talentml.explain import (
    ReasonCoder,
    column_label,
    describe_columns,
    explain,
    recourse,
)
from talentml.explain._actionable import MSG_NOTHING_ACTIONABLE
from talentml.explain._business import business_features
from talentml.explain._coder import MSG_TEAM_SAVE
from talentml.explain._columns import (
    DESCRIPTION_COLUMNS,
    MSG_ACTIONABLE_DIRECTION,
    MSG_BAD_DIRECTION,
    MSG_BAD_TEMPLATE,
    MSG_UNKNOWN_KEYS,
)
from talentml.serving import Scorer

CODE = re.compile(r"^FR-FEAT-[A-Z0-9]+(-[A-Z0-9]+)*-(UP|DOWN)$")
#: How the IBM user describes what people can act on (the issue's example).
IBM_ACTIONABLE = {
    "OverTime": {
        "label": "overtime",
        "actionable": True,
        "direction": "lower_is_better",
        "levels": ["No", "Yes"],
    },
    "TrainingTimesLastYear": {
        "actionable": True,
        "direction": "higher_is_better",
        "template": "trained {value:.0f} times last year",
    },
    "WorkLifeBalance": {
        "label": "work-life balance (1-4)",
        "actionable": True,
        "direction": "higher_is_better",
    },
}


def _prefix(message: str) -> str:
    """The fixed start of a message constant, as a regular expression."""
    return re.escape(message.split("{", 1)[0])


@pytest.fixture(scope="module")
def ibm(shared_data):
    data = load_ibm_attrition(data_home=shared_data)
    X, y = data.data, data.target
    assert not set(data.sensitive.columns) & set(X.columns)
    model = tml.FlightRisk(n_estimators=150, max_depth=4, random_state=0, n_jobs=1).fit(X, y)
    return X, y, model


def test_ibm_reasons_read_as_plain_language(ibm):
    X, _, model = ibm
    reasons = explain(model, X).top_reasons(3)
    assert len(reasons) > 0.95 * 6 * len(X)
    texts = reasons["text"]
    assert reasons["code"].map(lambda c: bool(CODE.match(c))).all()
    # no "column = value", no snake_case nor CamelCase names, no flag as "= 1"
    assert not texts.str.contains(" = ").any()
    assert not texts.str.contains(r"[A-Za-z]_[A-Za-z]").any()
    assert not texts.str.contains(r"\b[a-z]+[A-Z][a-z]+").any()
    by_feature = reasons.groupby("feature")["text"].first()
    assert by_feature["MonthlyIncome"].startswith("monthly income: ")
    assert by_feature["YearsAtCompany"].startswith("years at company: ")
    assert re.fullmatch(r"works as [A-Z][\w &]+", by_feature["JobRole"])
    assert re.fullmatch(r"works in the [\w &]+ department", by_feature["Department"])
    travel = reasons.loc[reasons["feature"] == "BusinessTravel", "text"]
    assert set(travel) <= {
        "business travel: Non-Travel",
        "business travel: Travel Rarely",
        "business travel: Travel Frequently",
    }
    # numbers read with separators and never in scientific notation
    income = reasons[reasons["feature"] == "MonthlyRate"].iloc[0]
    assert re.fullmatch(
        r"monthly rate: [\d,]+ \(median of all employees: 14,236\)", income["text"]
    ), income["text"]
    assert not texts.str.contains(r"\de[+-]\d").any()


def test_no_driver_equals_its_peer_reference(ibm):
    X, _, model = ibm
    ex = explain(model, X)
    marked = ex.top_reasons(3, same_as_peers="mark")
    dropped = ex.top_reasons(3)
    same = marked["vs_peers"] == "same"
    # the IBM Likert scales and small counts often equal the median: 7% of the reasons
    assert 0.03 < same.mean() < 0.15, same.mean()
    assert marked.loc[same, "text"].str.endswith("(the same as the median of all employees)").all()
    assert (marked.loc[same, "value"].astype(float) == marked.loc[same, "peer_value"]).all()
    # by default none is a driver, and the next driver takes its place
    assert not (dropped["vs_peers"] == "same").any()
    assert not dropped["text"].str.contains("the same as").any()
    numeric = dropped["peer_scope"] != ""
    value = pd.to_numeric(dropped.loc[numeric, "value"])
    assert (value != dropped.loc[numeric, "peer_value"]).all()
    assert set(dropped.loc[numeric, "vs_peers"]) == {"above", "below"}
    above = dropped.loc[numeric & (dropped["vs_peers"] == "above")]
    assert (pd.to_numeric(above["value"]) > above["peer_value"]).all()
    assert len(dropped) >= 0.995 * len(marked)
    keys = ["row", "direction"]
    per_row = dropped.groupby(keys)["rank"].agg(list)
    assert per_row.map(lambda r: r == list(range(1, len(r) + 1))).all()


def test_served_reasons_equal_the_explanations(ibm, tmp_path):
    X, _, model = ibm
    catalog = describe_columns(IBM_ACTIONABLE)
    scorer = Scorer(model, reference=X, feature_catalog=catalog, k=3, direction="both")
    assert scorer.coder.peer_name_ == "all"
    rows = X.sample(80, random_state=1)
    want = explain(model, rows, reference=X, feature_catalog=catalog).top_reasons(3)
    keys = ["direction", "rank", "code", "text", "vs_peers"]
    want_by_row = {
        r: list(g[keys].itertuples(index=False, name=None)) for r, g in want.groupby("row")
    }

    def served(frame: pd.DataFrame) -> dict:
        out = scorer.predict(frame)
        return {
            i: [tuple(r[k] for k in keys) for r in json.loads(text)]
            for i, text in zip(frame.index, out["reasons"], strict=True)
        }

    batch = served(rows)  # more than 32 rows: the batch path
    single = {}
    for i in range(len(rows)):
        single.update(served(rows.iloc[[i]]))  # one employee: the lean path
    assert batch == single == {i: want_by_row.get(i, []) for i in rows.index}
    # the texts a service returns are the plain-language ones
    assert any(t.startswith("overtime: Yes") for rs in batch.values() for _, _, _, t, _ in rs)
    # saved and loaded (JSON only): the same reasons, with the same peer medians
    again = Scorer.load(scorer.save(tmp_path / "ibm"))
    doc = json.loads((tmp_path / "ibm" / "reasons.json").read_text())
    assert doc["reference"]["name"] == "all" and "rows" not in json.dumps(doc)
    assert again.predict(rows)["reasons"].tolist() == scorer.predict(rows)["reasons"].tolist()
    # a request as a mapping answers the same
    record = {c: rows.iloc[0][c] for c in rows.columns}
    first = json.loads(scorer._predict([record])[0]["reasons"].item())
    assert [tuple(r[k] for k in keys) for r in first] == want_by_row[rows.index[0]]


def test_flags_and_own_columns_read_as_words():
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame(
        {
            "monthly_hrs_avg": rng.normal(200, 45, n).round(),
            "had_accident": (rng.random(n) < 0.15).astype("int64"),
            "is_remote": rng.random(n) < 0.3,
            "promoted_last_5y": (rng.random(n) < 0.05).astype("int64"),
            "salary": rng.choice(["low", "medium", "high"], n),
            "dept": rng.choice(["sales", "technical", "support"], n),
        }
    )
    risk = (
        -2.0
        + (X["monthly_hrs_avg"] - 200) / 40
        - 1.2 * X["had_accident"]
        + 0.8 * X["is_remote"]
        + 0.7 * (X["salary"] == "low")
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-risk))).astype(int)
    model = tml.FlightRisk(n_estimators=60, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
    reasons = explain(model, X).top_reasons(3)
    texts = reasons["text"]
    assert not texts.str.contains(r"= ?[01]\b").any()
    accident = reasons[reasons["feature"] == "had_accident"]
    assert len(accident)
    assert (
        accident["text"]
        .str.match(r"^had accident: (yes|no)( \(median of all employees: (yes|no)\))?$")
        .all()
    )
    # "had accident: no" where the median is no explains nothing: never a driver
    assert not (accident["vs_peers"] == "same").any()
    remote = reasons[reasons["feature"] == "is_remote"]
    assert len(remote) and remote["text"].str.match(r"^is remote: (yes|no)").all()
    hours = reasons[reasons["feature"] == "monthly_hrs_avg"]
    assert (
        hours["text"]
        .str.match(r"^monthly hours average: \d+ \(median of all employees: \d+\)$")
        .all()
    )
    assert set(reasons.loc[reasons["feature"] == "salary", "text"]) <= {
        "salary: low",
        "salary: medium",
        "salary: high",
    }
    assert ReasonCoder().fit(model, X).flags_ == ["had_accident", "is_remote", "promoted_last_5y"]
    # a few rows do not make a flag (a 0-3 level reads 0 and 1 on three rows): on three rows
    # only a flag-like name (had_...) or a boolean dtype does, not promoted_last_5y's values
    assert ReasonCoder().fit(model, X.head(3)).flags_ == ["had_accident", "is_remote"]
    # described: the user's words and units
    described = describe_columns(
        {
            "monthly_hrs_avg": {"template": "works {value:.0f} hours a month"},
            "had_accident": {"label": "had a work accident"},
            "dept": {"label": "department"},
        }
    )
    words = explain(model, X, feature_catalog=described).top_reasons(3)
    hours = words.loc[words["feature"] == "monthly_hrs_avg", "text"]
    assert hours.str.match(r"^works \d+ hours a month \(median of all employees: \d+\)$").all()
    accident = words.loc[words["feature"] == "had_accident", "text"]
    assert accident.str.match(r"^had a work accident: (yes|no)").all()
    dept = words.loc[words["feature"] == "dept", "text"]
    assert (
        len(dept) and dept.str.match(r"^works in the (sales|technical|support) department$").all()
    )


def test_recourse_on_described_ibm_columns(ibm):
    X, _, model = ibm
    score = model.predict_proba(X)[:, 1]
    threshold = float(np.quantile(score, 0.8))
    at_risk = X.iloc[np.argsort(-score)[:60]]
    rec = recourse(
        model,
        at_risk,
        threshold=threshold,
        reference=X,
        feature_catalog=describe_columns(IBM_ACTIONABLE),
    )
    assert set(rec.candidates["feature"]) == set(IBM_ACTIONABLE)
    assert rec.candidates.set_index("feature").loc["OverTime", "levels"] == ["No", "Yes"]
    assert set(rec.excluded["feature"]) == set(X.columns) - set(IBM_ACTIONABLE)
    found = rec.summary["status"] == "found"
    assert found.sum() >= 8, rec
    assert rec.validity == 1.0
    # re-scored independently: every suggestion crosses the threshold
    cf = rec.counterfactuals
    assert (model.predict_proba(cf)[:, 1] < threshold).all()
    before = at_risk.loc[cf.index]
    untouched = [c for c in X.columns if c not in IBM_ACTIONABLE]
    pd.testing.assert_frame_equal(cf[untouched], before[untouched])
    assert set(cf["OverTime"].astype(str)) <= {"No", "Yes"}
    # good directions only, and in words
    for r in rec.changes.itertuples():
        if r.feature == "OverTime":
            assert (r.from_value, r.to_value) == ("Yes", "No")
            assert r.text == "change overtime from Yes to No"
            assert r.code == "FR-FEAT-OVER-TIME-LOWER"
        else:
            assert r.to_value > r.from_value and r.code.endswith("-RAISE")
        if r.feature == "TrainingTimesLastYear":
            assert re.fullmatch(r"aim for: trained \d+ times last year \(now: \d+\)", r.text)
        if r.feature == "WorkLifeBalance":
            assert re.fullmatch(r"raise work-life balance \(1-4\) from \d to \d", r.text)
    assert rec.changes["feature"].nunique() >= 2
    # the mapping alone works too (merged with the default catalog)
    again = recourse(
        model, at_risk.head(10), threshold=threshold, reference=X, feature_catalog=IBM_ACTIONABLE
    )
    assert set(again.candidates["feature"]) == set(IBM_ACTIONABLE)


def test_recourse_says_why_nothing_is_actionable(ibm):
    X, _, model = ibm
    with pytest.raises(ValueError, match=_prefix(MSG_NOTHING_ACTIONABLE)) as err:
        recourse(model, X.head(20), threshold=0.2)
    text = str(err.value)
    assert "27 not described as actionable" in text and "'BusinessTravel'" in text
    assert "describe_columns(" in text and "'actionable': True" in text
    with pytest.raises(
        ValueError,
        match=r"may only change actionable.*'MonthlyIncome' \(not described as actionable\)",
    ):
        recourse(model, X.head(5), threshold=0.2, features=["MonthlyIncome"])
    # a categorical without an order is named, with the fix
    unordered = describe_columns({"OverTime": {"actionable": True, "direction": "lower_is_better"}})
    with pytest.raises(ValueError, match=r"'OverTime' \(a category without ordered levels"):
        recourse(model, X.head(5), threshold=0.2, feature_catalog=unordered, features=["OverTime"])


def test_describe_columns_checks_and_combines_with_the_catalog():
    cat = tml.features.catalog()
    out = describe_columns(
        {"monthly_hrs_avg": {"unit": "hours"}, "had_accident": "had an accident"}
    )
    assert list(out.columns) == list(DESCRIPTION_COLUMNS)
    # the catalog's columns that reasons and recourse read are the same
    assert set(DESCRIPTION_COLUMNS) - {"label", "group", "levels"} <= set(cat.columns)
    assert out.set_index("name").loc["had_accident", "label"] == "had an accident"
    assert out.set_index("name").loc["monthly_hrs_avg", "label"] == "monthly hours average"
    # extends the catalog, and overrides only the given fields of an entry
    both = describe_columns(
        {"tenure_days": {"actionable": True, "direction": "higher_is_better"}, "x_score": {}},
        feature_catalog=cat,
    )
    assert len(both) == len(cat) + 1
    assert set(cat.columns) <= set(both.columns)  # a catalog's own extra columns are kept
    assert both["actionable"].dtype == bool and both["template"].dtype == cat["template"].dtype
    tenure = both.set_index("name").loc["tenure_days"]
    assert tenure["actionable"] and tenure["template"] == "{value:.0f} days with the organization"
    assert (
        both.set_index("name").loc["rating_latest", "template"]
        == "latest overall rating {value:.0f} of 5"
    )
    # concatenated: later rows override
    frame = pd.concat([cat, describe_columns({"tenure_days": {"label": "days here"}})])
    entry = business_features(["tenure_days"], frame).column_records["tenure_days"]
    assert entry["template"] == "days here: {value}"
    # every catalog feature keeps its catalog template
    records = business_features(cat["name"].tolist(), cat).column_records
    assert all(records[r.name]["template"] == r.template for r in cat.itertuples())
    assert not any(records[n]["fallback"] for n in cat["name"])
    for bad, message in (
        ({"a": {"colour": "red"}}, MSG_UNKNOWN_KEYS),
        ({"a": {"direction": "up"}}, MSG_BAD_DIRECTION),
        ({"a": {"actionable": True}}, MSG_ACTIONABLE_DIRECTION),
        ({"a": {"template": "no value here"}}, MSG_BAD_TEMPLATE),
    ):
        with pytest.raises(ValueError, match=_prefix(message)):
            describe_columns(bad)
    with pytest.raises(TypeError, match="must be a mapping"):
        describe_columns(["a"])
    assert column_label("YearsSinceLastPromotion") == "years since last promotion"


def test_groups_fold_own_one_hot_columns():
    rng = np.random.default_rng(2)
    n = 600
    dept = rng.choice(["Sales", "R_D", "HR"], n)
    X = pd.DataFrame(
        {f"Department_{d}": (dept == d).astype(int) for d in ("Sales", "R_D", "HR")}
        | {"tenure_years": rng.integers(0, 20, n)}
    )
    y = (rng.random(n) < np.where(dept == "Sales", 0.5, 0.1)).astype(int)
    model = tml.FlightRisk(n_estimators=30, max_depth=3, random_state=0, n_jobs=1).fit(X, y)
    catalog = describe_columns({c: {"group": "Department"} for c in X.columns[:3]})
    ex = explain(model, X, feature_catalog=catalog)
    business = ex.business.set_index("business_feature")
    assert business.loc["Department", "kind"] == "onehot"
    reasons = ex.top_reasons(1, direction="up")
    dep = reasons[reasons["feature"] == "Department"]
    assert (
        len(dep)
        and dep["text"]
        .isin(
            [
                "works in the Sales department",
                "works in the R D department",
                "works in the HR department",
            ]
        )
        .all()
    )
    assert (dep["code"] == "FR-FEAT-DEPARTMENT-UP").all()


def test_ties_are_ordered_by_column():
    rng = np.random.default_rng(3)
    X = pd.DataFrame(
        {"a": rng.normal(size=200), "b": rng.normal(size=200), "c": rng.normal(size=200)}
    )
    y = (X["a"] + X["b"] > 0).astype(int)
    model = tml.FlightRisk(n_estimators=10, random_state=0, n_jobs=1).fit(X, y)
    coder = ReasonCoder(peers=None).fit(model, X)
    values = np.tile([[0.5, 0.5, 0.5]], (4, 1))
    values[1] = [0.2, 0.7, 0.7]
    values[2] = [0.7, 0.2, 0.7]
    reasons = coder.top_reasons(values, X.head(4), k=3, direction="up")
    order = reasons.groupby("row")["feature"].agg(list).tolist()
    # equal contributions: the earlier model column first, the same on every call
    assert order == [["a", "b", "c"], ["b", "c", "a"], ["a", "c", "b"], ["a", "b", "c"]]
    again = coder.top_reasons(values, X.head(4), k=3, direction="up")
    assert again["feature"].tolist() == reasons["feature"].tolist()


def test_the_coder_round_trips_through_json():
    rng = np.random.default_rng(4)
    n = 400
    X = pd.DataFrame(
        {
            "employee_id": [f"E{i % 200}" for i in range(n)],
            "as_of": pd.to_datetime(
                np.where(np.arange(n) < 200, "2025-01-01", "2025-02-01"), utc=True
            ),
            "job_family": rng.choice(["Sales", "Data"], n),
            "tenure_days": rng.uniform(30, 3000, n).round(),
            "had_accident": (rng.random(n) < 0.2).astype(int),
        }
    )
    y = (rng.random(n) < 0.3).astype(int)
    model = tml.FlightRisk(n_estimators=20, random_state=0, n_jobs=1).fit(X, y)
    coder = ReasonCoder().fit(model, X)
    assert coder.peer_name_ == "job_family"
    again = ReasonCoder.from_dict(json.loads(json.dumps(coder.to_dict())))
    ex = explain(model, X, coder=coder)
    a = ex.top_reasons(2)
    b = explain(model, X, coder=again).top_reasons(2)
    pd.testing.assert_frame_equal(a, b)
    assert (a["peer_scope"] == "job family median").any()
    # a later as_of is compared with the latest snapshot before it (point in time)
    later = X.assign(as_of=pd.Timestamp("2025-03-01", tz="UTC"))
    ref = coder.reference_
    jan_feb = later.copy()
    peers, scope = ref.lookup(jan_feb, jan_feb["job_family"].to_numpy(dtype=object))
    feb = X[X["as_of"] == X["as_of"].max()]
    assert peers.loc[later["job_family"] == "Sales", "tenure_days"].iloc[0] == pytest.approx(
        feb.loc[feb["job_family"] == "Sales", "tenure_days"].median()
    )
    early = X.assign(as_of=pd.Timestamp("2024-12-01", tz="UTC"))
    _, none = ref.lookup(early, early["job_family"].to_numpy(dtype=object))
    assert (none == "").all()
    employees = pd.DataFrame({"employee_id": [f"E{i}" for i in range(200)], "manager_id": "M1"})
    team = ReasonCoder(peers="team").fit(model, X, employees=employees)
    with pytest.raises(ValueError, match=_prefix(MSG_TEAM_SAVE)):
        team.to_dict()
    with pytest.raises(ValueError, match="cannot be served"):
        Scorer(model, reference=X, peers="team")
