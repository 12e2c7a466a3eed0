"""The xAPI validator against the ADL LRS conformance suite and the rules it does not cover.

Every case of ``../shared/data/xapi/adl/_meta/cts_*_cases_labelled.json`` is a test: VALID
statements must be accepted, INVALID ones rejected, except the misses listed in
``KNOWN_MISSES`` (documented in docs/xapi.md with the rule each needs). A new miss, or a
listed miss that starts being rejected, fails.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from talentml.xapi import REASONS, Violation, reason_table, validate, validate_statement
from talentml.xapi._normalize import parse_duration, parse_timestamp, pick_language, verb_short_name
from talentml.xapi._read import split_json_values
from talentml.xapi._validate import _is_langtag, _is_uuid, normalize_version

ROOT = Path(__file__).resolve().parent.parent
ADL = ROOT.parent / "shared" / "data" / "xapi" / "adl"
SUITES = {"2.0": "cts_v2_0_cases_labelled.json", "1.0.3": "cts_v1_0_3_cases_labelled.json"}

#: INVALID conformance cases the validator accepts, per version: (index, name). Empty: every
#: INVALID case is rejected. Keep in sync with the "Remaining misses" section of docs/xapi.md.
KNOWN_MISSES: dict[str, set[tuple[int, str]]] = {"2.0": set(), "1.0.3": set()}


def _cases(version: str) -> list[dict]:
    return json.loads((ADL / "_meta" / SUITES[version]).read_text())


CASES = [(version, i, case) for version in SUITES for i, case in enumerate(_cases(version))]


def _outcome(case: dict, version: str | None) -> Violation | None:
    return validate_statement(case["body"], version=version)


@pytest.mark.parametrize(
    ("version", "index", "case"),
    CASES,
    ids=[f"{v}-{i:03d}-{'valid' if c['valid'] else 'invalid'}" for v, i, c in CASES],
)
def test_conformance_case(version: str, index: int, case: dict) -> None:
    violation = _outcome(case, version)
    if case["valid"]:
        assert violation is None, f"{case['name']}: rejected with {violation}"
    elif (index, case["name"]) in KNOWN_MISSES[version]:
        assert violation is None, f"known miss now rejected, update KNOWN_MISSES: {case['name']}"
    else:
        assert violation is not None, (
            f"accepted an INVALID case: {case['requirement']} / {case['name']}"
        )
        assert violation.reason in REASONS


@pytest.mark.parametrize("version", list(SUITES))
def test_conformance_rates(version: str) -> None:
    cases = _cases(version)
    valid = [c for c in cases if c["valid"]]
    invalid = [c for c in cases if not c["valid"]]
    accepted_valid = sum(_outcome(c, version) is None for c in valid)
    rejected_invalid = sum(_outcome(c, version) is not None for c in invalid)
    assert accepted_valid == len(valid)
    assert rejected_invalid / len(invalid) >= 0.98
    assert len(invalid) - rejected_invalid == len(KNOWN_MISSES[version])


@pytest.mark.parametrize("version", list(SUITES))
def test_valid_cases_pass_without_a_version(version: str) -> None:
    """No parameter, no header: a statement valid under either version passes."""
    for case in _cases(version):
        if case["valid"]:
            assert _outcome(case, None) is None, case["name"]


def test_files_of_rendered_statements_match_the_labelled_cases() -> None:
    for version, folder in (("2.0", "cts_v2_0"), ("1.0.3", "cts_v1_0_3")):
        cases = _cases(version)
        for label, valid in (("VALID", True), ("INVALID", False)):
            bodies = json.loads((ADL / folder / f"{label}_statements.json").read_text())
            assert len(bodies) == sum(c["valid"] is valid for c in cases)
            checked = validate(bodies, version=version)
            assert checked["valid"].all() if valid else not checked["valid"].any()


def test_spec_examples() -> None:
    for path in sorted((ADL / "spec_1_0_3").glob("*.json")):
        body = json.loads(path.read_text())
        violation = validate_statement(body, version="1.0.3")
        if path.name.startswith("INVALID"):
            assert violation is not None and violation.reason == "property.unknown"
        else:
            assert violation is None, (path.name, violation)


# -- version rules ---------------------------------------------------------------------------------


def _statement(**extra: object) -> dict:
    base = {
        "actor": {"mbox": "mailto:ada@example.com"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-US": "attended"}},
        "object": {"id": "http://example.com/meetings/1"},
    }
    base.update(extra)
    return base


CONTEXT_AGENTS = {
    "contextAgents": [
        {
            "objectType": "contextAgent",
            "agent": {"mbox": "mailto:coach@example.com"},
            "relevantTypes": ["https://example.com/types/coach"],
        }
    ]
}


def test_context_agents_exist_from_2_0_on() -> None:
    stmt = _statement(context=CONTEXT_AGENTS)
    assert validate_statement(stmt, version="2.0") is None
    assert validate_statement(stmt) is None  # valid under either version
    v = validate_statement(stmt, version="1.0.3")
    assert v.reason == "property.unknown" and "2.0" in v.detail
    # the statement's own version decides when nothing else does
    assert validate_statement(dict(stmt, version="1.0.3")).reason == "property.unknown"
    assert validate_statement(dict(stmt, version="2.0.0")) is None


@pytest.mark.parametrize(
    ("version", "rules", "ok"),
    [
        ("1.0", "1.0.3", True),
        ("1.0.3", "1.0.3", True),
        ("2.0.0", "1.0.3", False),
        ("2.0.0", "2.0", True),
        ("1.0.9", "2.0", True),
        ("1.1.0", "2.0", False),
        ("2.1.0", None, False),
        ("0.9", None, False),
    ],
)
def test_version_property(version: str, rules: str | None, ok: bool) -> None:
    v = validate_statement(_statement(version=version), version=rules)
    assert (v is None) is ok
    if not ok:
        assert v.reason == "version.invalid"


def test_version_parameter_is_checked() -> None:
    assert normalize_version("2.0.0") == "2.0"
    assert normalize_version("1.0.1") == "1.0.3"
    with pytest.raises(ValueError, match="unsupported xAPI version"):
        validate_statement(_statement(), version="3.0")


# -- rules beyond the conformance suite -----------------------------------------------------------


@pytest.mark.parametrize(
    ("patch", "reason", "path"),
    [
        (
            {"actor": {"mbox_sha1sum": "not-hex"}},
            "actor.mbox_sha1sum.invalid",
            "actor.mbox_sha1sum",
        ),
        (
            {"actor": {"objectType": "Group", "member": []}},
            "actor.group.member.missing",
            "actor.member",
        ),
        (
            {"actor": {"objectType": "Group", "member": [{"objectType": "Group", "member": []}]}},
            "actor.group.member.invalid",
            "actor.member[0]",
        ),
        (
            {"actor": {"account": {"homePage": "https://x.org", "name": ""}}},
            "actor.account.name.invalid",
            "actor.account.name",
        ),
        (
            {"result": {"score": {"raw": float("nan")}}},
            "result.score.not_number",
            "result.score.raw",
        ),
        ({"result": {"score": {"raw": True}}}, "result.score.not_number", "result.score.raw"),
        ({"result": {"score": {"max": 10**400}}}, "result.score.not_number", "result.score.max"),
        ({"result": {"duration": "PT1.5H30M"}}, "result.duration.invalid", "result.duration"),
        ({"timestamp": "2024-03-05"}, "timestamp.invalid", "timestamp"),
        ({"timestamp": "2024-03-05 10:00:00Z"}, "timestamp.invalid", "timestamp"),
        ({"timestamp": "2024-02-30T10:00:00Z"}, "timestamp.invalid", "timestamp"),
        ({"stored": "yesterday"}, "stored.invalid", "stored"),
        ({"context": {"language": "en_US"}}, "context.language.invalid", "context.language"),
        (
            {"context": {"registration": "ec531277b57b4c158d91d292c5b2b8f7"}},
            "context.registration.not_uuid",
            "context.registration",
        ),
        (
            {"context": {"contextActivities": {"parent": []}, "extensions": {"no iri": 1}}},
            "extensions.key.not_iri",
            "context.extensions",
        ),
        (
            {
                "object": {
                    "id": "http://example.com/a",
                    "definition": {"choices": [{"id": "a"}, {"id": "a"}]},
                }
            },
            "object.definition.interaction.invalid",
            "object.definition.choices[1].id",
        ),
        (
            {
                "object": {
                    "objectType": "StatementRef",
                    "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee",
                    "definition": {},
                }
            },
            "property.unknown",
            "object.definition",
        ),
        (
            {"verb": {"id": "http://adlnet.gov/expapi/verbs/voided"}},
            "voiding.object.not_statement_ref",
            "object",
        ),
        (
            {
                "attachments": [
                    {
                        "usageType": "http://x.org/u",
                        "display": {"en": "a"},
                        "contentType": "text/plain",
                        "length": 1.5,
                        "sha2": "ab" * 32,
                    }
                ]
            },
            "attachment.length.invalid",
            "attachments[0].length",
        ),
        ({"Actor": {}}, "property.unknown", "Actor"),
        ({"result": None}, "property.null", "result"),
    ],
)
def test_rule(patch: dict, reason: str, path: str) -> None:
    v = validate_statement(_statement(**patch), version="2.0")
    assert v is not None and (v.reason, v.path) == (reason, path), v
    assert v.rule.startswith(REASONS[reason].section)


def test_details_never_repeat_personal_identifiers() -> None:
    secret_mail = "mailto:Ada.Lovelace@example.com"
    cases = [
        {"actor": {"mbox": secret_mail, "openid": "http://ada.example.com/"}},
        {"actor": {"mbox": "Ada.Lovelace@example.com"}},
        {"actor": {"account": {"homePage": "ada-home", "name": "Ada.Lovelace"}}},
        {"actor": {"name": {"first": "Ada.Lovelace"}, "mbox": secret_mail}},
        {"actor": {"mbox_sha1sum": "Ada.Lovelace"}},
    ]
    for patch in cases:
        v = validate_statement(_statement(**patch))
        assert v is not None
        assert "Lovelace" not in v.detail and "ada" not in v.detail.lower().replace("data", "")


def test_memo_never_masks_a_broken_copy() -> None:
    """Valid sub-objects are remembered; an invalid one is walked (and reported) every time."""
    good = _statement()
    assert validate_statement(good) is None
    bad = _statement(actor={"mbox": "mailto:ada@example.com", "openid": "http://ada.example.com/"})
    for _ in range(2):
        assert validate_statement(bad).reason == "actor.ifi.multiple"
    # a valid actor reused where only a Group may go is still rejected
    assert (
        validate_statement(_statement(context={"team": good["actor"]})).reason
        == "context.team.not_group"
    )
    # objects remembered as valid stay valid in a SubStatement, and nesting is still caught
    sub = {"objectType": "SubStatement", **_statement()}
    assert validate_statement(_statement(object=sub)) is None
    nested = {"objectType": "SubStatement", **_statement(object=sub)}
    assert validate_statement(_statement(object=nested)).reason == "object.substatement.nested"


def test_python_objects_that_are_not_json() -> None:
    v = validate_statement(_statement(actor={"mbox": "mailto:a@b.org", 1: "x"}))
    assert v.reason == "property.unknown"
    v = validate_statement(_statement(timestamp=datetime(2024, 1, 1, tzinfo=UTC)))
    assert v.reason == "timestamp.invalid"


def test_validate_table() -> None:
    checked = validate(
        [_statement(id="6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"), _statement(verb={}), 7]
    )
    assert list(checked.columns) == [
        "position",
        "statement_id",
        "valid",
        "reason",
        "path",
        "detail",
        "rule",
    ]
    assert checked["valid"].tolist() == [True, False, False]
    assert checked["reason"].tolist()[1:] == ["verb.id.missing", "statement.not_object"]
    assert checked["statement_id"].iloc[0] == "6690E6C9-3EF0-4ED3-8B37-7F3964730BEE"
    assert checked["reason"].dtype == "string"


def test_every_code_the_validator_can_raise_is_documented() -> None:
    xapi = ROOT / "src" / "talentml" / "xapi"
    source = "".join(p.read_text() for p in sorted(xapi.glob("_validate*.py")))
    codes = set(re.findall(r'(?:Reject|_type_error)\(\s*"([a-z_.]+)"', source))
    codes |= {f"{key}.missing" for key in ("actor", "verb", "object")}
    codes |= {
        f"context.{key}.{what}"
        for key in ("revision", "platform")
        for what in ("not_string", "not_allowed")
    }
    codes |= {
        "timestamp.invalid",
        "stored.invalid",
        "context.context_agents.invalid",
        "context.context_groups.invalid",
    }
    assert len(codes) > 50
    assert codes <= set(REASONS), sorted(codes - set(REASONS))
    table = reason_table()
    assert table["code"].is_unique and set(table["code"]) == set(REASONS)
    assert (table["section"].str.len() > 0).all() and (table["rule"].str.len() > 0).all()


def test_every_reason_code_is_in_the_docs() -> None:
    docs = (ROOT / "docs" / "xapi.md").read_text()
    missing = [code for code in REASONS if f"`{code}`" not in docs]
    assert not missing


# -- primitives -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "ok"),
    [
        ("en", True),
        ("en-US", True),
        ("zh-Hant", True),
        ("sr-Latn-RS", True),
        ("es-419", True),
        ("cmn", True),
        ("de-CH-1996", True),
        ("x-private", True),
        ("i-klingon", True),
        ("en-a-bbb-x-a-ccc", True),
        ("tlh", True),
        ("a12345678", False),
        ("something", False),
        ("en-something-AU", False),
        ("zh-z-aaa-z-bbb", False),
        ("de-1996-1996", False),
        ("", False),
        ("en_US", False),
    ],
)
def test_language_tags(tag: str, ok: bool) -> None:
    assert _is_langtag(tag) is ok


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("6690e6c9-3ef0-4ed3-8b37-7f3964730bee", True),
        ("6690E6C9-3EF0-4ED3-8B37-7F3964730BEE", True),
        ("6690e6c9-3ef0-4ed3-8b37-7f3964730be", False),
        ("6690e6c9-3ef0-4ed3-8b37-7f3964730beg", False),
        ("6690e6c9 3ef0-4ed3-8b37-7f3964730bee", False),
        ("6690e6c9-3ef0-4ed3-8b37-7f39647 0bee", False),
        ("+690e6c9-3ef0-4ed3-8b37-7f3964730bee", False),
        ("6690e6c93ef04ed38b377f3964730bee", False),
        (12345, False),
    ],
)
def test_uuids(value: object, ok: bool) -> None:
    assert _is_uuid(value) is ok


@pytest.mark.parametrize(
    ("value", "ns"),
    [
        ("1970-01-01T00:00:00Z", 0),
        ("1970-01-01T00:00:00.123456789Z", 123_456_000),
        ("1970-01-01T01:00:00+01:00", 0),
        ("1970-01-01T01:00:00+0100", 0),
        ("1970-01-01T01:00:00+01", 0),
        ("1969-12-31T23:00:00-01:00", 0),
        ("1970-01-01T00:00:00", 0),
        ("19700101T000001Z", 1_000_000_000),
        ("1970-01-01t00:00:01z", 1_000_000_000),
        ("1970-01-01T00:00:60Z", 60_000_000_000),
        ("1970-01-01T00:00:00,5Z", 500_000_000),
        ("2008-09-15T15:53:00.601+00:00", 1_221_493_980_601_000_000),
    ],
)
def test_timestamps(value: str, ns: int) -> None:
    assert parse_timestamp(value) == ns


@pytest.mark.parametrize(
    "value",
    [
        "2008-09-15T15:53:00.601-00",
        "2008-09-15T15:53:00.601-0000",
        "2008-09-15T15:53:00.601-00:00",
        "01/011/2015",
        "should fail",
        "2015-11-18",
        "2015-11-18 12:17:00Z",
        "2015-11-18T12:17:00.Z",
        "2015-13-01T00:00:00Z",
        "2015-11-18T25:00:00Z",
    ],
)
def test_invalid_timestamps(value: str) -> None:
    assert parse_timestamp(value) is None


@settings(max_examples=200, deadline=None)
@given(
    st.datetimes(min_value=datetime(1700, 1, 1), max_value=datetime(2200, 1, 1)),
    st.integers(min_value=-14 * 60, max_value=14 * 60),
    st.sampled_from(["", "Z", "offset"]),
)
def test_timestamps_round_trip(moment: datetime, offset_minutes: int, zone: str) -> None:
    if zone == "offset":
        tz = timezone(timedelta(minutes=offset_minutes))
        text = moment.replace(tzinfo=tz).isoformat()
        expected = moment.replace(tzinfo=tz)
    else:
        text = moment.isoformat() + zone
        expected = moment.replace(tzinfo=UTC)
    if "T" not in text:
        return
    assert parse_timestamp(text) == pd.Timestamp(expected).value


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("PT1H30M15.5S", 5415.5),
        ("PT03M15S", 195.0),
        ("PT0S", 0.0),
        ("P1D", 86400.0),
        ("P1W", 604800.0),
        ("P1DT12H", 129600.0),
        ("PT1,5S", 1.5),
        ("P1Y", 31_556_952.0),
        ("P1M", 2_629_746.0),
        ("PT1H30.5M", 5430.0),
    ],
)
def test_durations(value: str, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize(
    "value", ["P", "PT", "P1DT", "P4W1D", "PT1.5H30M", "PA1H", "PT5S3M", "1H", "PT1.5.5S", "P-1D"]
)
def test_invalid_durations(value: str) -> None:
    assert parse_duration(value) is None


def test_language_pick_and_verb_names() -> None:
    names = {"fr-FR": "Réunion", "en-GB": "Meeting (GB)", "en-US": "Meeting"}
    assert pick_language(names, "en-US") == "Meeting"
    assert pick_language(names, "en") == "Meeting (GB)"  # first en-* in sorted order
    assert pick_language(dict(reversed(names.items())), "en") == "Meeting (GB)"  # order-free
    assert pick_language({"und": "x", "fr": "y"}, "de") == "x"
    assert pick_language({"fr": "y", "es": "z"}, "de") == "z"
    assert verb_short_name("urn:xapi:verb:done") == "done"


def test_split_json_values_at_every_chunk_boundary() -> None:
    values = [{"a": ']}"{[', "b": [1, {"c": None}]}, {"x": "\\"}, [1, 2]]
    data = json.dumps(values, indent=1).encode()
    for size in (1, 2, 3, 7, 64):
        chunks = [data[i : i + size] for i in range(0, len(data), size)]
        assert [json.loads(v) for v in split_json_values(chunks)] == values
