"""xAPI validation of results, contexts and attachments (see :mod:`talentml.xapi._validate`)."""

from __future__ import annotations

from typing import Any

from ._normalize import parse_duration
from ._validate_base import (
    _CACHE_MAX,
    _CONTENT_TYPE,
    _SHA2,
    Reject,
    _context_activities_memo,
    _is_iri,
    _is_langtag,
    _is_uuid,
    _memo_key,
    _null,
    _registrations,
    _remember,
    _show,
    _type_error,
    _unknown,
)
from ._validate_parts import _activity, _actor, _extensions, _language_map, _statement_ref

# -- result -----------------------------------------------------------------------------------------

_RESULT_KEYS = frozenset({"score", "success", "completion", "response", "duration", "extensions"})
_SCORE_KEYS = frozenset({"scaled", "raw", "min", "max"})


_INF = float("inf")
_BIG = 10**308


def _score(score: Any, path: str) -> tuple[float | None, float | None, float | None, float | None]:
    if type(score) is not dict:
        raise _type_error("result.score.not_object", path, score, "an object")
    if not _SCORE_KEYS.issuperset(score):
        raise _unknown(score, _SCORE_KEYS, path)
    for key, x in score.items():
        t = type(x)
        if (
            t is not float
            and t is not int
            or (t is float and (x != x or x == _INF or x == -_INF))
            or (t is int and not -_BIG < x < _BIG)  # beyond float64
        ):
            if x is None:
                _null(score, key, path)
            raise _type_error("result.score.not_number", f"{path}.{key}", x, "a number")
    scaled = score.get("scaled")
    raw = score.get("raw")
    smin = score.get("min")
    smax = score.get("max")
    if scaled is not None and not -1.0 <= scaled <= 1.0:
        raise Reject(
            "result.score.scaled_out_of_range",
            path + ".scaled",
            f"{path}.scaled is {scaled!r}, outside [-1, 1]",
        )
    if smin is not None and smax is not None and smin > smax:
        raise Reject(
            "result.score.min_above_max",
            path + ".min",
            f"{path}.min ({smin!r}) is greater than max ({smax!r})",
        )
    if raw is not None and ((smin is not None and raw < smin) or (smax is not None and raw > smax)):
        raise Reject(
            "result.score.raw_out_of_range",
            path + ".raw",
            f"{path}.raw ({raw!r}) is outside [min, max] = [{smin!r}, {smax!r}]",
        )
    return scaled, raw, smin, smax


def _result(r: Any, path: str) -> tuple:
    if type(r) is not dict:
        raise _type_error("result.not_object", path, r, "an object")
    if not _RESULT_KEYS.issuperset(r):
        raise _unknown(r, _RESULT_KEYS, path)
    success = completion = scaled = raw = smin = smax = duration = None
    for key, value in r.items():
        if value is None:
            _null(r, key, path)
        if key == "score":
            scaled, raw, smin, smax = _score(value, path + ".score")
        elif key == "success":
            if type(value) is not bool:
                raise _type_error(
                    "result.success.not_boolean", path + ".success", value, "true or false"
                )
            success = value
        elif key == "completion":
            if type(value) is not bool:
                raise _type_error(
                    "result.completion.not_boolean", path + ".completion", value, "true or false"
                )
            completion = value
        elif key == "response":
            if type(value) is not str:
                raise _type_error(
                    "result.response.not_string", path + ".response", value, "a string"
                )
        elif key == "duration":
            duration = parse_duration(value) if type(value) is str else None
            if duration is None:
                raise _type_error(
                    "result.duration.invalid",
                    path + ".duration",
                    value,
                    "an ISO 8601 duration such as PT1H30M",
                )
        else:
            _extensions(value, path + ".extensions")
    return success, completion, scaled, raw, smin, smax, duration


# -- context ----------------------------------------------------------------------------------------

_CONTEXT_KEYS_1 = frozenset(
    {
        "registration",
        "instructor",
        "team",
        "contextActivities",
        "revision",
        "platform",
        "language",
        "statement",
        "extensions",
    }
)
_CONTEXT_KEYS_2 = _CONTEXT_KEYS_1 | {"contextAgents", "contextGroups"}
_CONTEXT_ACTIVITY_KEYS = frozenset({"parent", "grouping", "category", "other"})
_CONTEXT_AGENT_KEYS = frozenset({"objectType", "agent", "relevantTypes"})
_CONTEXT_GROUP_KEYS = frozenset({"objectType", "group", "relevantTypes"})


def _context_activity(a: Any, path: str) -> None:
    if type(a) is not dict:
        raise _type_error("context.context_activities.invalid", path, a, "an Activity object")
    ot = a.get("objectType")
    if ot is not None and ot != "Activity":
        raise Reject(
            "context.context_activities.invalid",
            path + ".objectType",
            f'{path}.objectType must be "Activity", got {_show(ot)}',
        )
    _activity(a, path)


def _context_members(value: Any, path: str, kind: str) -> None:
    code = (
        "context.context_agents.invalid"
        if kind == "contextAgent"
        else "context.context_groups.invalid"
    )
    inner, keys = (
        ("agent", _CONTEXT_AGENT_KEYS) if kind == "contextAgent" else ("group", _CONTEXT_GROUP_KEYS)
    )
    if type(value) is not list:
        raise _type_error(code, path, value, f"an array of {kind} objects")
    for i, item in enumerate(value):
        p = f"{path}[{i}]"
        if type(item) is not dict:
            raise _type_error(code, p, item, f"a {kind} object")
        if not keys.issuperset(item):
            raise _unknown(item, keys, p)
        if item.get("objectType") != kind:
            raise Reject(
                code,
                p + ".objectType",
                f'{p}.objectType must be "{kind}", got {_show(item.get("objectType"))}',
            )
        who = item.get(inner)
        if who is None:
            _null(item, inner, p)
            raise Reject(code, f"{p}.{inner}", f"{p} has no {inner}")
        if kind == "contextAgent":
            _actor(who, f"{p}.agent", agent_only=True)
        else:
            if type(who) is not dict or who.get("objectType") != "Group":
                raise Reject(code, f"{p}.group", f'{p}.group must be a Group (objectType "Group")')
            _actor(who, f"{p}.group")
        types = item.get("relevantTypes")
        if types is not None:
            if type(types) is not list or not types:
                raise Reject(
                    code,
                    p + ".relevantTypes",
                    f"{p}.relevantTypes must be a non-empty array of IRIs",
                )
            for t in types:
                if not _is_iri(t):
                    raise _type_error(code, p + ".relevantTypes", t, "an IRI")
        elif "relevantTypes" in item:
            _null(item, "relevantTypes", p)


def _context(c: Any, path: str, v2: bool, object_type: str) -> tuple[str | None, str | None]:
    if type(c) is not dict:
        raise _type_error("context.not_object", path, c, "an object")
    if not (_CONTEXT_KEYS_2 if v2 else _CONTEXT_KEYS_1).issuperset(c):
        note = ""
        if not v2 and c.keys() & {"contextAgents", "contextGroups"}:
            note = "; contextAgents and contextGroups exist only from xAPI 2.0 on"
        raise _unknown(c, _CONTEXT_KEYS_2 if v2 else _CONTEXT_KEYS_1, path, note)
    registration = platform = None
    for key, value in c.items():
        if value is None:
            _null(c, key, path)
        if key == "registration":
            if type(value) is not str or (value not in _registrations and not _is_uuid(value)):
                raise _type_error(
                    "context.registration.not_uuid", path + ".registration", value, "a UUID"
                )
            if len(_registrations) >= _CACHE_MAX:
                _registrations.clear()
            _registrations.add(value)
            registration = value.lower()
        elif key == "contextActivities":
            p = path + ".contextActivities"
            memo_key = _memo_key(value)
            if memo_key is not None and memo_key in _context_activities_memo:
                continue
            if type(value) is not dict:
                raise _type_error(
                    "context.context_activities.invalid",
                    p,
                    value,
                    "an object with keys parent, grouping, category, other",
                )
            if not _CONTEXT_ACTIVITY_KEYS.issuperset(value):
                extra = sorted(k for k in value if k not in _CONTEXT_ACTIVITY_KEYS)
                raise Reject(
                    "context.context_activities.invalid",
                    p,
                    f"{p} has key(s) {extra}; allowed: category, grouping, other, parent",
                )
            for kind, acts in value.items():
                if type(acts) is list:
                    for i, a in enumerate(acts):
                        _context_activity(a, f"{p}.{kind}[{i}]")
                elif acts is None:
                    _null(value, kind, p)
                else:
                    _context_activity(acts, f"{p}.{kind}")
            _remember(_context_activities_memo, memo_key)
        elif key == "extensions":
            _extensions(value, path + ".extensions")
        elif key == "platform" or key == "revision":
            if type(value) is not str:
                raise _type_error(f"context.{key}.not_string", f"{path}.{key}", value, "a string")
            if object_type != "Activity":
                raise Reject(
                    f"context.{key}.not_allowed",
                    f"{path}.{key}",
                    f"{path}.{key} is only allowed when the object is an Activity, not a {object_type}",
                )
            if key == "platform":
                platform = value
        elif key == "language":
            if type(value) is not str or not _is_langtag(value):
                raise _type_error(
                    "context.language.invalid",
                    path + ".language",
                    value,
                    "an RFC 5646 language tag",
                )
        elif key == "instructor":
            _actor(value, path + ".instructor")
        elif key == "team":
            if type(value) is not dict or value.get("objectType") != "Group":
                raise Reject(
                    "context.team.not_group",
                    path + ".team",
                    f'{path}.team must be a Group (objectType "Group")',
                )
            _actor(value, path + ".team")
        elif key == "statement":
            _statement_ref(value, path + ".statement", "context.statement.invalid")
        elif key == "contextAgents":
            _context_members(value, path + ".contextAgents", "contextAgent")
        else:  # contextGroups
            _context_members(value, path + ".contextGroups", "contextGroup")
    return registration, platform


# -- attachments --------------------------------------------------------------------------------------

_ATTACHMENT_KEYS = frozenset(
    {"usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"}
)
_ATTACHMENT_REQUIRED = ("usageType", "display", "contentType", "length", "sha2")


def _attachments(value: Any, path: str) -> None:
    if type(value) is not list:
        raise _type_error("attachments.not_array", path, value, "an array of Attachment objects")
    for i, a in enumerate(value):
        p = f"{path}[{i}]"
        if type(a) is not dict:
            raise _type_error("attachment.invalid", p, a, "an Attachment object")
        if not _ATTACHMENT_KEYS.issuperset(a):
            raise _unknown(a, _ATTACHMENT_KEYS, p)
        for key in _ATTACHMENT_REQUIRED:
            if a.get(key) is None:
                _null(a, key, p)
                raise Reject("attachment.invalid", f"{p}.{key}", f"{p} has no {key}")
        if not _is_iri(a["usageType"]):
            raise _type_error(
                "attachment.usage_type.not_iri", p + ".usageType", a["usageType"], "an IRI"
            )
        _language_map(a["display"], p + ".display")
        if a.get("description") is not None:
            _language_map(a["description"], p + ".description")
        elif "description" in a:
            _null(a, "description", p)
        ct = a["contentType"]
        if type(ct) is not str or _CONTENT_TYPE(ct) is None:
            raise _type_error(
                "attachment.content_type.invalid", p + ".contentType", ct, "an Internet media type"
            )
        length = a["length"]
        if type(length) is not int or length < 0:
            raise _type_error(
                "attachment.length.invalid", p + ".length", length, "a non-negative integer"
            )
        sha2 = a["sha2"]
        if type(sha2) is not str or _SHA2(sha2) is None:
            raise _type_error("attachment.sha2.invalid", p + ".sha2", sha2, "a hex SHA-2 hash")
        url = a.get("fileUrl")
        if url is not None:
            if not _is_iri(url):
                raise _type_error("attachment.file_url.not_irl", p + ".fileUrl", url, "an IRL")
        elif "fileUrl" in a:
            _null(a, "fileUrl", p)
