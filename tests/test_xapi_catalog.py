"""infer_catalog: a catalog from the statements, on real third-party statements and hard cases."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from talentml import schemas
from talentml.xapi import ActivityResolver, infer_catalog, ingest
from talentml.xapi._catalog import CATALOG_COLUMNS, MSG_CATALOG_SOURCE

SECRET = "catalog-test-secret-of-some-length"
ROOT = Path(__file__).resolve().parent.parent
XAPI = ROOT.parent / "shared" / "data" / "xapi"
MOODLE = XAPI / "moodle" / "statements"
DATASIM = XAPI / "datasim"
ADL = XAPI / "adl"
RECEIVED = pd.Timestamp("2200-01-01T00:00:00Z")
MOODLE_SITE = "http://www.example.org"
CMI5_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"


@pytest.fixture(scope="module")
def moodle():
    return ingest(MOODLE, secret=SECRET)


@pytest.fixture(scope="module")
def moodle_catalog(moodle):
    return infer_catalog(moodle).set_index("activity_id")


def _moodle_objects() -> dict[str, list[dict]]:
    objects: dict[str, list[dict]] = {}
    for path in sorted(MOODLE.glob("*.json")):
        for s in json.loads(path.read_text()):
            objects.setdefault(s["object"]["id"], []).append(s["object"].get("definition") or {})
    return objects


def _shape(cat: pd.DataFrame) -> None:
    assert list(cat.columns[: len(CATALOG_COLUMNS)]) == list(CATALOG_COLUMNS)
    assert str(cat["level"].dtype) == "Int64"
    assert str(cat["mandatory"].dtype) == str(cat["voluntary"].dtype) == "boolean"
    assert cat["expected_minutes"].dtype == "float64"
    assert cat["skills"].map(lambda v: v is None or isinstance(v, list)).all()
    assert cat["activity_id"].is_unique
    schemas.validate("catalog", cat)


def test_moodle_activity_definitions_types_and_names(moodle, moodle_catalog) -> None:
    cat = moodle_catalog
    objects = _moodle_objects()
    # every activity object of the accepted statements, once (the 21 copies deduplicate)
    assert set(cat.index) == set(moodle.statements["object_id"])
    assert set(cat.index) <= set(objects)
    assert len(cat) == 65 and cat["n_statements"].sum() == moodle.report.accepted
    course = cat.loc[f"{MOODLE_SITE}/course/view.php?id=2"]
    # 8 statements name it "test_name" with the cmi5 course type, one has no definition
    assert (course["title"], course["activity_type"], course["type_family"]) == (
        "test_name",
        CMI5_COURSE,
        "course",
    )
    assert course["n_statements"] == 9
    # the name most statements give wins; ties go to the smaller name (never row order)
    book = cat.loc[f"{MOODLE_SITE}/mod/book/view.php?id=1"]
    assert book["title"] == "test_book_name"
    # descriptions and interaction types come from the raw definitions
    question = cat.loc[f"{MOODLE_SITE}/mod/lesson/view.php?id=1&pageid=1"]
    assert question["type_family"] == "interaction"
    assert question["description"] == "lesson_question_page_contents"
    kinds = {d.get("interactionType") for d in objects[question.name]} - {None}
    assert question["interaction_type"] in kinds
    assert cat["description"].notna().sum() == 17 and cat["interaction_type"].notna().sum() == 5
    badge = cat.loc[f"{MOODLE_SITE}/badges/overview.php?id=1"]
    assert badge["description"] == "test badge description"
    # module activities name their course (and section) as parents
    quiz = cat.loc[f"{MOODLE_SITE}/mod/quiz/view.php?id=1"]
    assert f"{MOODLE_SITE}/course/view.php?id=2" in quiz["parents"]
    assert sorted(cat.loc[f"{MOODLE_SITE}/mod/quiz/attempt.php?attempt=1&cmid=1", "verbs"])
    # one shared timestamp: first and last seen are that moment
    assert (cat["first_seen"] == pd.Timestamp("2015-06-10T14:31:41Z")).all()
    assert str(cat["first_seen"].dtype) == "datetime64[ns, UTC]"
    _shape(cat.reset_index())


def test_moodle_assignment_evidence(moodle_catalog) -> None:
    cat = moodle_catalog
    # a manual enrolment (enrolment-type "manual", by an instructor) assigns the course
    course = cat.loc[f"{MOODLE_SITE}/course/view.php?id=2"]
    assert course["voluntary"] == False  # noqa: E712
    assert "enrolment-type manual" in course["voluntary_source"]
    # Totara assigns its program (verb http://activitystrea.ms/schema/1.0/assign)
    program = cat.loc[f"{MOODLE_SITE}/totara/program/view.php?id=1"]
    assert program["voluntary"] == False and program["voluntary_source"] == "verb assign"  # noqa: E712
    # the course's activities in the same registration are part of the assigned course
    quiz = cat.loc[f"{MOODLE_SITE}/mod/quiz/view.php?id=1"]
    assert quiz["voluntary"] == False  # noqa: E712
    assert quiz["voluntary_source"] == "registration of an assigned parent"
    # what no statement speaks to stays unknown: the site, a search page, a certificate
    for iri in (MOODLE_SITE, f"{MOODLE_SITE}/search/index.php"):
        assert pd.isna(cat.loc[iri, "voluntary"]) and pd.isna(cat.loc[iri, "voluntary_source"])
    assert cat["voluntary"].fillna(True).eq(False).sum() == 60
    assert cat["voluntary"].eq(True).sum() == 0 and cat["mandatory"].isna().all()


def test_moodle_nothing_guessed_from_a_table_alone(moodle) -> None:
    cat = infer_catalog(moodle.statements)
    _shape(cat)
    assert cat["voluntary"].isna().all() and cat["mandatory"].isna().all()
    assert cat["description"].isna().all() and cat["interaction_type"].isna().all()
    same = infer_catalog(moodle).set_index("activity_id")
    assert (
        cat.set_index("activity_id").loc[same.index, "title"].to_numpy(object)
        == same["title"].to_numpy(object)
    ).all()


def test_datasim_catalog() -> None:
    result = ingest(DATASIM, secret=SECRET)
    cat = infer_catalog(result)
    _shape(cat)
    activity = result.statements["object_type"] == "Activity"
    assert cat["n_statements"].sum() == int(activity.sum())
    assert len(cat) == result.statements.loc[activity, "object_id"].nunique()
    assert cat["interaction_type"].notna().sum() == 16
    assert set(cat["interaction_type"].dropna()) <= {
        "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing",
        "true-false", "likert", "numeric", "other",
    }  # fmt: skip
    # the video profile's verbs are seen on media activities
    media = cat[cat["type_family"] == "media"]
    assert len(media) and media["verbs"].map(lambda v: "played" in v or "paused" in v).any()
    assert cat["voluntary"].isna().all()  # no assignment evidence in DATASIM
    # durations: expected minutes only where enough completions say it
    filled = cat["expected_minutes"].notna()
    assert (cat.loc[filled, "duration_n"] >= 3).all()
    assert cat.loc[filled, "expected_minutes_source"].str.startswith("median of").all()


@pytest.mark.parametrize("folder", ["cts_v2_0", "cts_v1_0_3"])
def test_adl_conformance_catalog(folder: str) -> None:
    version = "2.0" if folder == "cts_v2_0" else "1.0.3"
    result = ingest(
        ADL / folder / "VALID_statements.json", secret=SECRET, version=version, received=RECEIVED
    )
    cat = infer_catalog(result)
    _shape(cat)
    activity = result.statements["object_type"] == "Activity"
    assert cat["n_statements"].sum() == int(activity.sum())
    assert set(cat["activity_id"]) == set(result.statements.loc[activity, "object_id"])


# -- hand-made evidence ------------------------------------------------------------------------------
ACTOR = {"account": {"homePage": "https://lms.example.com", "name": "u1"}}
OTHER = {"account": {"homePage": "https://lms.example.com", "name": "u2"}}
COURSE = "https://lms.example.com/course/negotiation"
AU = "https://lms.example.com/au/negotiation-module-1"
REG = "9d0ad0c6-8d6f-4f83-9c2e-0d4b1a0f5e11"


def _s(verb: str, obj: str, *, actor=ACTOR, context=None, definition=None, result=None, day=1):
    s = {
        "actor": actor,
        "verb": {"id": f"http://adlnet.gov/expapi/verbs/{verb}"},
        "object": {"id": obj, "definition": definition or {}},
        "timestamp": f"2024-05-{day:02d}T09:30:00Z",
    }
    if not s["object"]["definition"]:
        del s["object"]["definition"]
    if context:
        s["context"] = context
    if result:
        s["result"] = result
    return s


def _catalog(statements: list[dict], **kw) -> pd.DataFrame:
    cat = infer_catalog(ingest(statements, secret=SECRET), **kw)
    _shape(cat)
    return cat.set_index("activity_id")


def test_registration_carries_an_assignment_to_the_course_units() -> None:
    assigned = _s("launched", COURSE, context={"registration": REG})
    assigned["verb"] = {"id": "https://w3id.org/xapi/acrossx/verbs/was-assigned"}
    unit = _s(
        "completed",
        AU,
        context={"registration": REG, "contextActivities": {"grouping": [{"id": COURSE}]}},
        result={"duration": "PT20M"},
        day=2,
    )
    elsewhere = _s(  # another registration: not covered by the assignment
        "completed",
        "https://lms.example.com/au/other",
        actor=OTHER,
        context={
            "registration": "1d0ad0c6-8d6f-4f83-9c2e-0d4b1a0f5e12",
            "contextActivities": {"grouping": [{"id": COURSE}]},
        },
        day=3,
    )
    cat = _catalog([assigned, unit, elsewhere], min_completions=1)
    assert cat.loc[COURSE, "voluntary"] == False  # noqa: E712
    assert cat.loc[COURSE, "voluntary_source"] == "verb was-assigned"
    assert cat.loc[AU, "voluntary"] == False  # noqa: E712
    assert cat.loc[AU, "voluntary_source"] == "registration of an assigned parent"
    assert cat.loc[AU, "parents"] == [COURSE]
    assert pd.isna(cat.loc["https://lms.example.com/au/other", "voluntary"])
    assert cat.loc[AU, "expected_minutes"] == 20.0


def test_flags_self_enrolment_mixed_evidence_and_extensions() -> None:
    ext = "https://example.com/xapi/extensions/"
    statements = [
        # a self-enrolment: voluntary
        _s("registered", COURSE, context={"extensions": {f"{ext}enrolment-type": "self"}}),
        # an explicit mandatory flag on the definition, with skills, level, program, duration
        _s(
            "completed",
            "https://lms.example.com/course/code-of-conduct",
            definition={
                "name": {"en-US": "Code of Conduct"},
                "extensions": {
                    f"{ext}mandatory": True,
                    f"{ext}skills": "Ethics; Compliance",
                    f"{ext}level": 1,
                    f"{ext}program": "Compliance",
                    f"{ext}duration": "PT30M",
                },
            },
        ),
        # one learner chose it, another was assigned it: mixed evidence, unknown
        _s("launched", AU, context={"extensions": {f"{ext}assigned": "false"}}),
        _s("launched", AU, actor=OTHER, context={"extensions": {f"{ext}assigned": "yes"}}),
    ]
    cat = _catalog(statements)
    assert cat.loc[COURSE, "voluntary"] == True  # noqa: E712
    assert cat.loc[COURSE, "voluntary_source"] == "context enrolment-type self"
    conduct = cat.loc["https://lms.example.com/course/code-of-conduct"]
    assert conduct["mandatory"] == True and conduct["voluntary"] == False  # noqa: E712
    assert conduct["skills"] == ["Compliance", "Ethics"]
    assert (conduct["level"], conduct["level_source"]) == (1, "definition extension")
    assert (conduct["program"], conduct["expected_minutes"]) == ("compliance", 30.0)
    assert conduct["expected_minutes_source"] == "definition extension"
    assert pd.isna(cat.loc[AU, "voluntary"])
    assert (cat.loc[AU, "n_assigned_evidence"], cat.loc[AU, "n_voluntary_evidence"]) == (1, 1)


def test_program_from_a_program_activity_of_the_context_only() -> None:
    program = {"id": "https://lms.example.com/program/leadership"}
    not_a_program = {"id": "https://lms.example.com/course/leadership"}
    cat = _catalog(
        [
            _s("completed", COURSE, context={"contextActivities": {"parent": [program]}}),
            _s("completed", AU, context={"contextActivities": {"parent": [not_a_program]}}),
        ]
    )
    assert cat.loc[COURSE, "program"] == "leadership"
    assert pd.isna(cat.loc[AU, "program"])


def test_resolver_merges_aliases_before_counting() -> None:
    named = {"name": {"en": "Negotiation"}}
    statements = [
        _s("completed", COURSE, definition=named, result={"duration": "PT30M"}),
        _s(
            "completed",
            "https://video.example.com/watch/negotiation",
            definition=named,
            result={"duration": "PT40M"},
            day=2,
        ),
    ]
    result = ingest(statements, secret=SECRET)
    resolver = ActivityResolver().fit(result)
    cat = infer_catalog(result, resolver=resolver, min_completions=2)
    assert len(cat) == 1 and cat["n_statements"].iloc[0] == 2
    assert cat["expected_minutes"].iloc[0] == 35.0


def test_bad_sources_are_refused() -> None:
    import re

    with pytest.raises(TypeError, match=re.escape(MSG_CATALOG_SOURCE.split("{", 1)[0])):
        infer_catalog([{"object_id": "x"}])
    with pytest.raises(TypeError, match="without"):
        infer_catalog(pd.DataFrame({"object_id": ["x"]}))
    with pytest.raises(ValueError, match="min_completions"):
        infer_catalog(pd.DataFrame(), min_completions=0)
