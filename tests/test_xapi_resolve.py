"""ActivityResolver: one canonical activity for the IRIs of the same learning, reviewably."""

from __future__ import annotations

import io
import json
import random
import re
from pathlib import Path

import pandas as pd
import pytest
from sklearn.exceptions import NotFittedError

from talentml import ContractError
from talentml.xapi import ActivityResolver, ingest
from talentml.xapi._matching import MERGE_COLUMNS, MSG_CATALOG_ID, MSG_STATUS, MSG_TABLE
from talentml.xapi._resolve import MSG_NO_PAIR, MSG_NOT_FITTED, MSG_STATEMENTS

SECRET = "resolve-test-secret-of-some-length"
ROOT = Path(__file__).resolve().parent.parent
XAPI = ROOT.parent / "shared" / "data" / "xapi"
MOODLE = XAPI / "moodle" / "statements"
DATASIM = XAPI / "datasim"

ADL = "http://adlnet.gov/expapi/activities/"
COURSE = ADL + "course"
CMI5_COURSE = "https://w3id.org/xapi/cmi5/activitytype/course"
VIDEO = "https://w3id.org/xapi/video/activity-type/video"
LMS = "https://lms.acme.example"
EDX = "https://openedx.acme.example"
EDX_COURSE = "AcmeX+CS101+2024_T1"


def _prefix(template: str) -> str:
    return re.escape(template.split("{", 1)[0])


# -- the hand-made hard cases: (IRI, name, type, catalog activity it truly is or None) ------------
CATALOG = pd.DataFrame(
    {
        "activity_id": [
            f"{LMS}/course/cs101",
            f"{LMS}/course/golf-explained",
            f"{LMS}/course/negotiation-part-1",
            f"{LMS}/course/negotiation-part-2",
            f"{LMS}/course/data-literacy",
            f"{LMS}/course/sql-in-10-minutes",
        ],
        "title": [
            "Intro to Computing",
            "Golf Explained",
            "Negotiation Part 1",
            "Negotiation Part 2",
            "Data Literacy",
            "SQL in 10 Minutes",
        ],
        "activity_type": [COURSE, CMI5_COURSE, COURSE, COURSE, COURSE, ADL + "media"],
    }
)
CASES = [
    # aliases the rule must accept
    (f"{EDX}/courses/course-v1:{EDX_COURSE}/about", "Intro to Computing", COURSE, "cs101"),
    (
        f"{EDX}/xblock/block-v1:{EDX_COURSE}+type@course+block@course",
        "Intro to Computing",
        COURSE,
        "cs101",
    ),
    (
        f"{LMS}/scorm/4a7f3c9e21/golf-explained/index_lms.html",
        "Golf Explained",
        CMI5_COURSE,
        "golf-explained",
    ),
    (
        f"{LMS}/scorm/9b81d0c377/golf-explained/index_lms.html",
        "Golf Explained",
        CMI5_COURSE,
        "golf-explained",
    ),
    ("https://video.acme.example/watch/sql-in-10-minutes", "SQL in 10 Minutes", VIDEO,
     "sql-in-10-minutes"),
    ("https://academy.acme.example/learn/negotiation-part-1", "Negotiation: Part 1", COURSE,
     "negotiation-part-1"),
    # an alias only a person can confirm: the re-import's IRI carries nothing readable
    (f"{LMS}/mod/scorm/view.php?id=57", "Golf Explained", CMI5_COURSE, "golf-explained"),
    # near-duplicates that must NOT merge
    (
        f"{EDX}/xblock/block-v1:{EDX_COURSE}+type@video+block@5e1f2a7c9b3d4e6f8a0b1c2d3e4f5a6b",
        "Intro to Computing",
        VIDEO,
        None,
    ),  # the course's welcome video, named like the course: a part, not the course
    (f"{LMS}/assessment/data-literacy", "Data Literacy", ADL + "assessment", None),
    (f"{LMS}/course/negotiation", "Negotiation Part 3", COURSE, None),
    ("https://video.acme.example/watch/negotiation", "Negotiation Part 4", COURSE, None),
    ("https://a.example/course/python", "Python 101", COURSE, None),
    ("https://b.example/course/python", "Python 201", COURSE, None),
]  # fmt: skip


def _statements(cases=CASES, *, seed: int | None = None) -> list[dict]:
    out = []
    for k, (iri, name, kind, _) in enumerate(cases):
        for j in range(1 + k % 3):
            out.append(
                {
                    "actor": {"mbox": f"mailto:learner{j}@acme.example"},
                    "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                    "object": {"id": iri, "definition": {"name": {"en": name}, "type": kind}},
                    "timestamp": f"2024-05-{1 + k:02d}T09:{10 + j:02d}:00Z",
                }
            )
    for iri in CATALOG["activity_id"]:  # the catalog's own activities are used too
        out.append(
            {
                "actor": {"mbox": "mailto:learner9@acme.example"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/launched"},
                "object": {"id": iri},
                "timestamp": "2024-06-01T09:00:00Z",
            }
        )
    if seed is not None:
        random.Random(seed).shuffle(out)
    return out


@pytest.fixture(scope="module")
def ingested():
    return ingest(_statements(), secret=SECRET)


@pytest.fixture
def hard(ingested):
    """The ingest of the hard cases and a resolver fitted on it (fresh for every test)."""
    return ingested, ActivityResolver().fit(ingested, course_catalog=CATALOG)


def _truth() -> dict[str, str]:
    return {iri: f"{LMS}/course/{target}" for iri, _, _, target in CASES if target is not None}


def test_hard_cases_precision_and_recall(hard) -> None:
    result, resolver = hard
    truth = _truth()
    mapping = resolver.mapping()
    wrong = {k: v for k, v in mapping.items() if truth.get(k) != v}
    assert wrong == {}  # precision 1.0: nothing merged that should not be
    missed = sorted(set(truth) - set(mapping))
    assert missed == [f"{LMS}/mod/scorm/view.php?id=57"]  # recall 6/7 by the rule alone
    table = resolver.to_frame()
    iri = f"{LMS}/mod/scorm/view.php?id=57"
    opaque = table[(table["source_id"] == iri) | (table["canonical_id"] == iri)]
    # proposed against the catalog course and against each of its re-imports
    assert set(opaque["status"]) == {"proposed"} and len(opaque) == 3
    opaque = opaque[opaque["source_id"] == iri]
    assert set(opaque["evidence"]) == {"slug unknown; name equal; type equal"}
    proposal = opaque.set_index("canonical_id").loc[f"{LMS}/course/golf-explained"]
    # a person accepts it: recall 7/7, still no wrong merge
    resolver.accept(f"{LMS}/mod/scorm/view.php?id=57", proposal.name)
    assert resolver.mapping() == dict(sorted(truth.items()))
    reviewed = resolver.to_frame().set_index(["source_id", "canonical_id"])
    assert reviewed.loc[(iri, proposal.name), "decided_by"] == "user"
    resolver.reject(f"{LMS}/mod/scorm/view.php?id=57", proposal.name)
    assert f"{LMS}/mod/scorm/view.php?id=57" not in resolver.mapping()


def test_hard_cases_rejections_say_why(hard) -> None:
    _, resolver = hard
    table = resolver.to_frame()
    rejected = table[table["status"] == "rejected"]

    def why(source: str, canonical: str) -> str:
        hit = rejected[
            ((rejected["source_id"] == source) & (rejected["canonical_id"] == canonical))
            | ((rejected["source_id"] == canonical) & (rejected["canonical_id"] == source))
        ]
        assert len(hit) == 1, (source, canonical)
        return str(hit["evidence"].iloc[0])

    video_block = CASES[7][0]
    assert "types differ (course / media)" in why(video_block, f"{LMS}/course/cs101")
    assert "different Open edX courses or blocks" in why(video_block, CASES[0][0])
    # same slug, same name, different type: a course and its assessment
    reason = why(f"{LMS}/assessment/data-literacy", f"{LMS}/course/data-literacy")
    assert reason.startswith("slug equal; name equal; type differs")
    # "Part 3" / "Part 4" on one slug, "Python 101" / "Python 201" on another
    assert "numbers in the names differ ([3] / [4])" in why(
        f"{LMS}/course/negotiation", "https://video.acme.example/watch/negotiation"
    )
    assert "numbers in the names differ" in why(
        "https://a.example/course/python", "https://b.example/course/python"
    )
    assert set(rejected["decided_by"]) == {"rule"}
    # Part 1 and Part 2 of the catalog are never even compared (two catalog activities)
    both = set(CATALOG["activity_id"])
    assert not (table["source_id"].isin(both) & table["canonical_id"].isin(both)).any()


def test_hard_cases_counts_reconcile(hard) -> None:
    result, resolver = hard
    summary = resolver.summary().set_index("outcome")
    assert summary.loc["total", "n_statements"] == result.report.accepted
    assert summary.loc["total", "n_activities"] == len(CATALOG) + len(CASES)
    assert summary.loc["catalog", "n_activities"] == len(CATALOG)
    assert summary.loc["resolved", "n_activities"] == 6
    assert summary.loc["merged", "n_activities"] == 0
    assert summary.loc["unchanged", "n_activities"] == len(CASES) - 6
    acts = resolver.activities().set_index("object_id")
    assert (acts.loc[list(_truth())[:2], "outcome"] == "resolved").all()
    applied = resolver.apply(result)
    moved = applied["object_id"] != applied["object_id_raw"]
    assert int(moved.sum()) == summary.loc["resolved", "n_statements"]
    # applying twice changes nothing
    again = resolver.apply(applied)
    pd.testing.assert_frame_equal(again, applied)


def test_same_input_same_output_in_any_row_order(hard) -> None:
    _, resolver = hard
    shuffled = ingest(_statements(seed=7), secret=SECRET)
    other = ActivityResolver().fit(
        shuffled.statements.sample(frac=1.0, random_state=3), course_catalog=CATALOG.iloc[::-1]
    )
    fresh = ActivityResolver().fit(ingest(_statements(), secret=SECRET), course_catalog=CATALOG)
    pd.testing.assert_frame_equal(other.to_frame(), fresh.to_frame())
    assert other.mapping() == fresh.mapping()
    assert list(fresh.to_frame().columns) == list(MERGE_COLUMNS)


def test_round_trips_keep_decisions(hard, tmp_path) -> None:
    result, _ = hard
    resolver = ActivityResolver().fit(result, course_catalog=CATALOG)
    resolver.accept(f"{LMS}/mod/scorm/view.php?id=57", f"{LMS}/course/golf-explained")
    resolver.override({"https://b.example/course/python": "https://lms.acme.example/course/py201"})
    expected = resolver.mapping()
    assert expected["https://b.example/course/python"] == f"{LMS}/course/py201"
    table = resolver.to_frame()
    assert ActivityResolver.from_frame(table).mapping() == expected
    # through a CSV file, as a reviewer would edit it
    buffer = io.StringIO()
    table.to_csv(buffer, index=False)
    buffer.seek(0)
    assert ActivityResolver.from_frame(pd.read_csv(buffer)).mapping() == expected
    # JSON, as text and as a file
    path = tmp_path / "resolver.json"
    text = resolver.to_json(path)
    assert json.loads(text)["format"] == "talentml.ActivityResolver"
    assert ActivityResolver.from_json(text).mapping() == expected
    assert ActivityResolver.from_json(path).mapping() == expected
    restored = ActivityResolver.from_json(path)
    pd.testing.assert_frame_equal(
        restored.apply(result.statements), resolver.apply(result.statements)
    )
    with pytest.raises(ValueError, match="built from a table"):
        restored.activities()


def test_review_a_table_edited_by_a_person(hard) -> None:
    result, _ = hard
    resolver = ActivityResolver().fit(result, course_catalog=CATALOG)
    table = resolver.to_frame()
    edited = table.copy()
    opaque = edited["source_id"] == f"{LMS}/mod/scorm/view.php?id=57"
    video = edited["source_id"] == "https://video.acme.example/watch/sql-in-10-minutes"
    edited.loc[opaque, "status"] = "accepted"
    edited.loc[video, "status"] = "rejected"
    mapping = resolver.review(edited).mapping()
    assert mapping[f"{LMS}/mod/scorm/view.php?id=57"] == f"{LMS}/course/golf-explained"
    assert "https://video.acme.example/watch/sql-in-10-minutes" not in mapping
    assert set(resolver.to_frame().loc[opaque | video, "decided_by"]) == {"user"}
    bad = edited.assign(status="maybe")
    with pytest.raises(ContractError, match=_prefix(MSG_STATUS)):
        resolver.review(bad)
    with pytest.raises(ContractError, match=_prefix(MSG_TABLE)):
        resolver.review(edited.drop(columns="status"))


def test_auto_accept_off_leaves_everything_to_review(hard) -> None:
    result, _ = hard
    resolver = ActivityResolver(auto_accept=False).fit(result, course_catalog=CATALOG)
    assert resolver.mapping() == {}
    assert "accepted" not in set(resolver.to_frame()["status"])


def test_overrides_win_and_keep_apart(hard) -> None:
    result, _ = hard
    resolver = ActivityResolver().fit(result, course_catalog=CATALOG)
    video = "https://video.acme.example/watch/sql-in-10-minutes"
    resolver.override({video: video})  # keep it apart from every merge
    assert video not in resolver.mapping()
    row = resolver.to_frame().set_index("source_id").loc[video]
    assert (row["status"] == "rejected").any() and (row["evidence"] == "override").any()
    # an override to an alias follows the alias to its canonical activity
    resolver.override({"https://a.example/course/python": CASES[0][0]})
    assert resolver.mapping()["https://a.example/course/python"] == f"{LMS}/course/cs101"


def test_open_edx_course_and_its_root_block_without_a_catalog() -> None:
    st = pd.DataFrame(
        {
            "object_id": [CASES[0][0], CASES[1][0], CASES[1][0], CASES[7][0]],
            "object_name": [None, "Intro to Computing", "Intro to Computing", "Welcome"],
            "activity_type": [None, COURSE, COURSE, VIDEO],
        }
    )
    resolver = ActivityResolver().fit(st)
    # the root block has more statements: it names the group
    assert resolver.mapping() == {CASES[0][0]: CASES[1][0]}
    row = resolver.to_frame().iloc[0]
    assert row["evidence"].startswith("same Open edX course") and row["score"] == 1.0
    assert resolver.summary().set_index("outcome").loc["merged", "n_statements"] == 1


def test_generic_names_propose_nothing() -> None:
    n = 8
    st = pd.DataFrame(
        {
            "object_id": [f"https://lms.example/m/view.php?id={i}" for i in range(n)],
            "object_name": ["Introduction"] * n,
        }
    )
    resolver = ActivityResolver(max_group=5).fit(st)
    assert len(resolver.to_frame()) == 0
    assert resolver.generic_ == ["name 'introduction' (8 IRIs)"]
    assert len(ActivityResolver().fit(st).to_frame()) == n * (n - 1) // 2


# -- real third-party statements ------------------------------------------------------------------
def test_moodle_course_and_module_iris_are_never_merged_by_the_rule() -> None:
    result = ingest(MOODLE, secret=SECRET)
    resolver = ActivityResolver().fit(result)
    table = resolver.to_frame()
    # Moodle names its fixtures "test_name": dozens of distinct course modules share it
    assert set(table["status"]) == {"proposed", "rejected"}
    assert resolver.mapping() == {}
    proposed = table[table["status"] == "proposed"]
    assert len(proposed) == 5
    assert set(proposed["evidence"]) == {"slug unknown; name equal; type equal"}
    course, package = (
        "http://www.example.org/course/view.php?id=2",
        ("http://www.example.org/mod/imscp/view.php?id=1"),
    )
    assert ((proposed["source_id"] == package) & (proposed["canonical_id"] == course)).any()
    rejected = table[table["status"] == "rejected"]
    assert rejected["evidence"].str.contains("rule: types differ").all()
    # a person rejects the course / content package pair: nothing moves
    resolver.reject(package, course)
    applied = resolver.apply(result)
    assert (applied["object_id"] == applied["object_id_raw"]).all()
    summary = resolver.summary().set_index("outcome")
    assert summary.loc["unchanged", "n_activities"] == 65
    assert summary.loc["total", "n_statements"] == result.report.accepted == 169


def test_datasim_media_ids_are_opaque() -> None:
    result = ingest(DATASIM, secret=SECRET)
    resolver = ActivityResolver().fit(result)
    assert len(resolver.to_frame()) == 0
    acts = resolver.activities()
    media = acts[acts["object_id"].str.contains("allogy.com/v1/tenant/8/media/")]
    assert len(media) == 8 and media["slug"].isna().all()  # ids are UUIDs: no slug
    # their names are distinct ("SOFT-T Self (looped)" / "(routed)"): nothing to compare
    assert media["name"].is_unique
    questions = acts[acts["object_id"].str.contains("#question-")]
    assert questions["slug"].is_unique and len(questions) == 16


# -- errors ------------------------------------------------------------------------------------------
def test_errors_name_the_fix() -> None:
    st = pd.DataFrame({"object_id": ["https://a.example/c/golf", "https://b.example/v/golf"]})
    with pytest.raises(NotFittedError, match=_prefix(MSG_NOT_FITTED)):
        ActivityResolver().to_frame()
    resolver = ActivityResolver().fit(st.assign(object_name="Golf"))
    with pytest.raises(KeyError, match="override"):
        resolver.accept("https://a.example/c/golf", "https://c.example/x")
    assert "override" in MSG_NO_PAIR
    with pytest.raises(TypeError, match=_prefix(MSG_STATEMENTS)):
        ActivityResolver().fit(pd.DataFrame({"id": [1]}))
    dup = pd.DataFrame({"activity_id": ["https://a.example/c/golf"] * 2})
    with pytest.raises(ContractError, match=_prefix(MSG_CATALOG_ID)) as err:
        ActivityResolver().fit(st, course_catalog=dup)
    assert "rows [0, 1]" in str(err.value) and "drop_duplicates" in str(err.value)
    for bad in ({"threshold": 0}, {"threshold": 1.5}, {"max_group": 1}):
        with pytest.raises(ValueError):
            ActivityResolver(**bad).fit(st)
    with pytest.raises(TypeError, match="auto_accept"):
        ActivityResolver(auto_accept="yes").fit(st)
    with pytest.raises(ValueError, match="both must be activity ids"):
        resolver.override({"https://a.example/c/golf": ""})
