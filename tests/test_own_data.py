"""An organization's own data, end to end: raw third-party statements and a minimal HR table.

The statements are real exports of other systems (DATASIM's simulated learners on a video
platform, Moodle's xAPI log store): no ``stored``, no catalog, e-mail and LMS-account actors.
The HR table is what a spreadsheet gives: integer ids, naive dates, three columns. From there
to explained predictions with talentml's public API only, every count reconciled on the way.

Six learners over two weeks are enough to show every step working, not to judge a model: the
fit and the reasons here are plumbing checks (the models' quality is tested on the simulator
and the public HR tables).
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

import talentml as tml

SECRET = "a-secret-of-some-length-for-tests"

#: What an HR spreadsheet export looks like: integer ids, naive dates, three columns.
HR_CSV = """Employee ID,Hire Date,Job Family
101,2014-03-01,Nursing
102,2016-07-15,Nursing
103,2018-01-08,Medic
104,2019-05-20,Medic
105,2017-11-02,Instructor
106,2019-09-30,Instructor
201,2012-02-01,Admin
202,2013-08-19,Admin
"""

#: Who is who: the e-mail addresses of the video platform and the Moodle account names.
PEOPLE = pd.DataFrame(
    {
        "kind": ["mbox"] * 6 + ["account"] * 2,
        "value": [
            "mailto:alice@example.org",
            "mailto:sally@example.org",
            "mailto:bob@example.org",
            "mailto:fred@example.org",
            "mailto:steve@example.org",
            "mailto:phil@example.org",
            "1",
            "2",
        ],
        "homepage": [None] * 6 + ["http://www.example.org"] * 2,
        "employee_id": ["101", "102", "103", "104", "105", "106", "201", "202"],
    }
)


@pytest.fixture(scope="module")
def flow(shared_data):
    raw = [
        shared_data / "xapi" / "datasim" / "tccc_dev_simulated.json",
        shared_data / "xapi" / "moodle" / "statements",
    ]
    coerced = tml.schemas.coerce(
        "employees",
        pd.read_csv(io.StringIO(HR_CSV)),
        timezone="America/New_York",
        defaults={"timezone": "America/New_York"},
    )
    employees = coerced.frame
    first = tml.xapi.ingest(raw, secret=SECRET, redact=False)
    actors = first.actors()
    ing = first.map_identities(PEOPLE)
    catalog = tml.xapi.infer_catalog(ing)
    resolver = tml.xapi.ActivityResolver().fit(ing, course_catalog=catalog)
    statements = resolver.apply(ing.statements)
    cutoffs = pd.DataFrame({"as_of": pd.date_range("2020-02-11", "2020-02-26", tz="UTC")})
    spine = tml.features.make_spine(employees, cutoffs=cutoffs)
    X = tml.features.build(
        spine, statements=statements, employees=employees, course_catalog=catalog
    )
    return {
        "coerced": coerced,
        "employees": employees,
        "first": first,
        "actors": actors,
        "ingest": ing,
        "catalog": catalog,
        "resolver": resolver,
        "statements": statements,
        "spine": spine,
        "X": X,
    }


def test_the_spreadsheet_is_coerced_and_every_change_reported(flow):
    employees, report = flow["coerced"]
    tml.schemas.validate("employees", employees)
    assert employees["employee_id"].tolist()[:2] == ["101", "102"]  # integer ids to strings
    assert str(employees["hire_date"].dtype) == "datetime64[ns, UTC]"
    # naive dates read in the stated zone: midnight in New York is 05:00 UTC in March
    assert employees["hire_date"].iloc[0] == pd.Timestamp("2014-03-01 05:00", tz="UTC")
    changed = set(report["column"])
    assert {"employee_id", "hire_date", "job_family", "timezone"} <= changed
    assert report["count"].gt(0).all()


def test_ingest_counts_mapping_and_filled_times_reconcile(flow):
    first, ing = flow["first"], flow["ingest"]
    for r in (first.report, ing.report):
        assert r.read == r.accepted + r.duplicates + r.voided + r.quarantined
        assert r.mapped_statements + r.unmapped_statements == r.accepted
    # neither export has `stored`: every accepted statement's available time was filled in
    assert first.report.stored_from_timestamp == first.report.accepted
    assert first.report.notes  # and the report says what that means
    assert first.report.mapped_statements == 0  # nothing maps before the identities
    # the actors list is what a user builds the mapping from, and it covers every statement
    actors = flow["actors"]
    assert actors["n_statements"].sum() == first.report.accepted
    assert set(actors["kind"]) == {"mbox", "account"}
    # after mapping: every actor but Moodle's anonymous user, and no statement re-read
    assert ing.report.mapped_actors == 8 and ing.report.unmapped_actors == 1
    assert ing.report.read == first.report.read and len(ing.statements) == len(first.statements)
    unmapped = ing.statements["employee_id"].isna()
    assert int(unmapped.sum()) == ing.report.unmapped_statements
    assert set(ing.statements["employee_id"].dropna()) == set(PEOPLE["employee_id"])


def test_the_inferred_catalog_covers_every_activity_and_says_unknown(flow):
    catalog, statements = flow["catalog"], flow["ingest"].statements
    tml.schemas.validate("catalog", catalog)
    assert set(catalog["activity_id"]) == set(statements["object_id"])
    assert catalog["n_statements"].sum() == len(statements)
    # titles and types come from the activity definitions; what no statement says is NA
    assert catalog["title"].notna().mean() > 0.9
    # voluntary or assigned only with evidence (Moodle's manual enrolment, an assigned
    # parent's registration), never guessed: DATASIM's videos say nothing, so NA
    known = catalog["voluntary"].notna()
    assert catalog.loc[known, "voluntary_source"].notna().all()
    assert catalog.loc[~known, "voluntary_source"].isna().all()
    videos = catalog["activity_id"].str.startswith("https://books.allogy.com")
    assert videos.sum() >= 5 and catalog.loc[videos, "voluntary"].isna().all()


def test_resolution_keeps_every_statement(flow):
    statements, resolved = flow["ingest"].statements, flow["statements"]
    assert len(resolved) == len(statements)
    assert (resolved["object_id_raw"] == statements["object_id"]).all()
    mapping = flow["resolver"].mapping()
    assert set(resolved["object_id"]) <= set(flow["catalog"]["activity_id"]) | set(
        mapping.values() if isinstance(mapping, dict) else mapping["canonical_id"]
    )


def test_features_are_computed_where_inputs_allow_and_missing_elsewhere(flow):
    X, spine = flow["X"], flow["spine"]
    assert len(X) == len(spine) == 8 * 16
    report = tml.features.build_report(
        statements=flow["statements"], employees=flow["employees"], course_catalog=flow["catalog"]
    )
    catalog = tml.features.catalog()
    learning = set(catalog.loc[catalog["family"] == "learning", "name"])
    missing = set(report.loc[report["status"] == "missing", "name"])
    computed = set(report.loc[report["status"] == "computed", "name"]) & learning
    # an absent input gives a missing feature, never 0: voluntary, skills, reviews ...
    assert missing and X[sorted(missing)].isna().all().all()
    assert "n_reviews" in missing or "n_reviews" not in X.columns
    # ... and the learning family is not empty: counts, completions, recency from statements
    assert len(computed) >= 20
    assert (X[sorted(computed)].fillna(0) != 0).any().sum() >= 15
    # a count by hand: statements each employee had stored in the 30 days before as_of
    st = flow["statements"].dropna(subset=["employee_id"])
    row = X[(X["employee_id"] == "101") & (X["as_of"] == pd.Timestamp("2020-02-20", tz="UTC"))]
    as_of = row["as_of"].iloc[0]
    mine = st[st["employee_id"] == "101"]
    expected = ((mine["stored"] < as_of) & (mine["stored"] >= as_of - pd.Timedelta(days=30))).sum()
    assert row["n_statements_30d"].iloc[0] == expected > 0
    # the build says once what it skipped and why
    assert X.attrs["talentml_build_report"]["missing"]


def test_fit_and_explain_on_the_own_features(flow):
    X, employees = flow["X"], flow["employees"]
    # exits come from the HR team's own records (the three-column table has none)
    exits = pd.DataFrame(
        {
            "employee_id": ["103", "105"],
            "termination_date": pd.to_datetime(["2020-02-21", "2020-02-24"], utc=True),
            "termination_type": ["voluntary", "voluntary"],
        }
    )
    people = employees.drop(columns=["termination_date", "termination_type"], errors="ignore")
    people = people.merge(exits, on="employee_id", how="left")
    tml.schemas.validate("employees", people)
    y = tml.labels.flight_risk(X[["employee_id", "as_of"]], people, horizon="7D")
    assert y["label"].notna().sum() > 0 and set(y["label"].dropna()) == {0, 1}
    model = tml.FlightRisk(
        n_estimators=30, min_child_weight=1, calibration=None, random_state=0, n_jobs=1
    )
    model.fit(X, y)
    p = model.predict_proba(X)[:, 1]
    assert np.isfinite(p).all() and ((0 <= p) & (p <= 1)).all()
    top = X.iloc[np.argsort(-p)[:8]]
    reasons = tml.explain.explain(model, top, show_progress=False).top_reasons(3)
    assert len(reasons) and reasons["text"].str.len().gt(10).all()
    # plain language: no raw "name = value" and no snake_case names in the texts
    assert not reasons["text"].str.contains(r"\b[a-z]+_[a-z_]+\s*=", regex=True).any()
