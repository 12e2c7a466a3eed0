"""Validation of xAPI statements against xAPI 1.0.3 and IEEE 9274.1.1 (xAPI 2.0).

The validator walks a parsed statement (plain dicts and lists, as ``orjson`` or ``json``
produce them) once, with precompiled regular expressions and no schema library, and stops at
the first broken rule. It raises :class:`Reject` carrying a reason code (see
:mod:`talentml.xapi._reasons`), the JSON path of the offending value and a message. The
message never repeats an identifier of a person (mbox, openid, account, name).

While it walks, it also extracts what the ``statements`` table needs (timestamps in
nanoseconds, the duration in seconds, scores), so an accepted statement is never parsed twice.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import orjson
import pandas as pd

from ._normalize import parse_duration, parse_timestamp
from ._reasons import REASONS

__all__ = [
    "VERSIONS",
    "VOIDED",
    "Extract",
    "Reject",
    "Violation",
    "check",
    "check_fast",
    "rules_version",
    "validate",
    "validate_statement",
]

#: The xAPI versions whose rules can be asked for explicitly.
VERSIONS = ("1.0.3", "2.0")
#: The verb that voids a statement.
VOIDED = "http://adlnet.gov/expapi/verbs/voided"


class Reject(Exception):
    """A statement broke a rule: ``code`` (a key of REASONS), JSON ``path`` and ``detail``."""

    def __init__(self, code: str, path: str, detail: str) -> None:
        super().__init__(f"{code} at {path or '<statement>'}: {detail}")
        self.code = code
        self.path = path
        self.detail = detail


class Extract(NamedTuple):
    """What normalization needs from a valid statement."""

    actor: dict
    verb_id: str
    obj: dict
    object_type: str
    success: bool | None
    completion: bool | None
    scaled: float | None
    raw: float | None
    smin: float | None
    smax: float | None
    duration_s: float | None
    timestamp_ns: int | None
    stored_ns: int | None
    registration: str | None
    platform: str | None
    actor_key: bytes | None  # the actor serialized: a cache key for its pseudonym
    object_key: bytes | None  # the object serialized (not for SubStatements)


# -- primitive checks ---------------------------------------------------------------------------

_IRI = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+").fullmatch
_MBOX = re.compile(r"mailto:[^@\s<>\"]+@[^@\s<>\"]+").fullmatch
_SHA1 = re.compile(r"[0-9a-fA-F]{40}").fullmatch
_VERSION_1 = re.compile(r"1\.0(?:\.\d+)?").fullmatch
_VERSION_2 = re.compile(r"(?:1|2)\.0(?:\.\d+)?").fullmatch
_CONTENT_TYPE = re.compile(
    r"[A-Za-z0-9!#$&^_.+\-]+/[A-Za-z0-9!#$&^_.+\-]+(?:\s*;.*)?", re.S
).fullmatch
_SHA2 = re.compile(
    r"(?:[0-9a-fA-F]{56}|[0-9a-fA-F]{64}|[0-9a-fA-F]{96}|[0-9a-fA-F]{128})"
).fullmatch
_LANGTAG = re.compile(
    r"""(?:
        (?:[a-z]{2,3}(?:-[a-z]{3}){0,3}|[a-z]{4}|[a-z]{5,8})   # language, extlang
        (?:-[a-z]{4})?                                         # script
        (?:-(?:[a-z]{2}|[0-9]{3}))?                            # region
        (?P<variants>(?:-(?:[a-z0-9]{5,8}|[0-9][a-z0-9]{3}))*)
        (?P<extensions>(?:-[0-9a-wyz](?:-[a-z0-9]{2,8})+)*)
        (?:-x(?:-[a-z0-9]{1,8})+)?                             # private use
      | x(?:-[a-z0-9]{1,8})+
      | en-gb-oed|i-ami|i-bnn|i-default|i-enochian|i-hak|i-klingon|i-lux|i-mingo
      | i-navajo|i-pwn|i-tao|i-tay|i-tsu|sgn-be-fr|sgn-be-nl|sgn-ch-de
    )""",
    re.I | re.X,
).fullmatch

_NUMBER = (int, float)
_CACHE_MAX = 50_000
_iri_ok: set[str] = set()
_registrations: set[str] = set()  # valid registration UUIDs: a session repeats its own
_tag_ok: dict[str, bool] = {}


def _is_uuid(value: Any) -> bool:
    """A UUID in standard string form (8-4-4-4-12 hex digits, any case)."""
    if type(value) is not str or len(value) != 36:
        return False
    if value[8] != "-" or value[13] != "-" or value[18] != "-" or value[23] != "-":
        return False
    try:  # 32 hex digits once the four dashes are gone; fromhex takes no signs or underscores
        return len(bytes.fromhex(value.replace("-", ""))) == 16
    except ValueError:
        return False


def _is_iri(value: Any) -> bool:
    if type(value) is not str:
        return False
    if value in _iri_ok:
        return True
    if _IRI(value) is None:
        return False
    if len(_iri_ok) < _CACHE_MAX:
        _iri_ok.add(value)
    return True


def _is_langtag(tag: str) -> bool:
    if type(tag) is not str:
        return False
    known = _tag_ok.get(tag)
    if known is not None:
        return known
    m = _LANGTAG(tag)
    ok = m is not None
    if ok and m.group("variants"):
        variants = [v.lower() for v in m.group("variants").split("-") if v]
        ok = len(variants) == len(set(variants))
    if ok and m.group("extensions"):
        singletons = [p.lower() for p in m.group("extensions").split("-") if len(p) == 1]
        ok = len(singletons) == len(set(singletons))
    if len(_tag_ok) < _CACHE_MAX:
        _tag_ok[tag] = ok
    return ok


_JSON_TYPES = {
    dict: "object",
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_error(code: str, path: str, value: Any, expected: str, *, show: bool = True) -> Reject:
    if value is None:
        return Reject("property.null", path, f"{path} is null; only extension values may be null")
    got = _kind(value)
    if show and got in ("string", "number"):
        return Reject(code, path, f"{path} must be {expected}, got {got} {_show(value)}")
    return Reject(code, path, f"{path} must be {expected}, got {got}")


def _unknown(obj: dict, allowed: frozenset, path: str, note: str = "") -> Reject:
    extra = sorted(k for k in obj if k not in allowed)
    where = path or "the statement"
    return Reject(
        "property.unknown",
        _join(path, extra[0]),
        f"{where} has propert{'y' if len(extra) == 1 else 'ies'} {', '.join(map(repr, extra))} "
        f"that xAPI does not define there (allowed: {', '.join(sorted(allowed))}){note}",
    )


def _null(obj: dict, key: str, path: str) -> None:
    if key in obj:
        p = _join(path, key)
        raise Reject("property.null", p, f"{p} is null; only extension values may be null")


# -- agents and groups ------------------------------------------------------------------------------

_AGENT_KEYS = frozenset({"objectType", "name", "mbox", "mbox_sha1sum", "openid", "account"})
_GROUP_KEYS = _AGENT_KEYS | {"member"}
_ACCOUNT_KEYS = frozenset({"homePage", "name"})


def _ifis(a: dict, path: str) -> int:
    """Validate the inverse functional identifiers present in ``a``; return how many there are."""
    n = 0
    v = a.get("mbox")
    if v is not None:
        n += 1
        if type(v) is not str or _MBOX(v) is None:
            raise Reject(
                "actor.mbox.invalid",
                path + ".mbox",
                f"{path}.mbox must be a mailto: IRI of an e-mail address",
            )
    elif "mbox" in a:
        _null(a, "mbox", path)
    v = a.get("mbox_sha1sum")
    if v is not None:
        n += 1
        if type(v) is not str or _SHA1(v) is None:
            raise Reject(
                "actor.mbox_sha1sum.invalid",
                path + ".mbox_sha1sum",
                f"{path}.mbox_sha1sum must be a string of 40 hex digits, got {_kind(v)}",
            )
    elif "mbox_sha1sum" in a:
        _null(a, "mbox_sha1sum", path)
    v = a.get("openid")
    if v is not None:
        n += 1
        if not _is_iri(v):
            raise Reject("actor.openid.invalid", path + ".openid", f"{path}.openid must be a URI")
    elif "openid" in a:
        _null(a, "openid", path)
    v = a.get("account")
    if v is not None:
        n += 1
        p = path + ".account"
        if type(v) is not dict:
            raise _type_error(
                "actor.account.invalid", p, v, "an object with homePage and name", show=False
            )
        if not _ACCOUNT_KEYS.issuperset(v):
            raise Reject(
                "actor.account.invalid", p, f"{p} may only have homePage and name, got {sorted(v)}"
            )
        hp = v.get("homePage")
        if not _is_iri(hp):
            if hp is None and "homePage" in v:
                _null(v, "homePage", p)
            raise Reject(
                "actor.account.home_page.invalid",
                p + ".homePage",
                f"{p}.homePage must be present and an IRL",
            )
        nm = v.get("name")
        if type(nm) is not str or not nm:
            if nm is None and "name" in v:
                _null(v, "name", p)
            raise Reject(
                "actor.account.name.invalid",
                p + ".name",
                f"{p}.name must be present and a non-empty string",
            )
    elif "account" in a:
        _null(a, "account", path)
    return n


def _name(a: dict, path: str) -> None:
    nm = a.get("name")
    if nm is not None:
        if type(nm) is not str:
            raise Reject(
                "actor.name.not_string",
                path + ".name",
                f"{path}.name must be a string, got {_kind(nm)}",
            )
    elif "name" in a:
        _null(a, "name", path)


def _actor(a: Any, path: str, *, agent_only: bool = False) -> bool:
    """Validate an Agent or Group; return True for a Group."""
    if type(a) is not dict:
        raise _type_error("actor.not_object", path, a, "an Agent or Group object", show=False)
    ot = a.get("objectType")
    if ot is None or ot == "Agent":
        if ot is None and "objectType" in a:
            _null(a, "objectType", path)
        if not _AGENT_KEYS.issuperset(a):
            note = '; only a Group (objectType "Group") has members' if "member" in a else ""
            raise _unknown(a, _AGENT_KEYS, path, note)
        _name(a, path)
        n = _ifis(a, path)
        if n != 1:
            if n == 0:
                raise Reject(
                    "actor.ifi.missing",
                    path,
                    f"{path} (an Agent) needs one of mbox, mbox_sha1sum, openid, account",
                )
            raise Reject(
                "actor.ifi.multiple",
                path,
                f"{path} uses {n} inverse functional identifiers; an Agent uses exactly one",
            )
        return False
    if ot == "Group" and not agent_only:
        if not _GROUP_KEYS.issuperset(a):
            raise _unknown(a, _GROUP_KEYS, path)
        _name(a, path)
        n = _ifis(a, path)
        if n > 1:
            raise Reject(
                "actor.ifi.multiple",
                path,
                f"{path} uses {n} inverse functional identifiers; a Group uses at most one",
            )
        members = a.get("member")
        if members is None:
            _null(a, "member", path)
            if n == 0:
                raise Reject(
                    "actor.group.member.missing",
                    path + ".member",
                    f"{path} is an anonymous Group (no identifier) and needs a member array",
                )
            return True
        if type(members) is not list:
            raise _type_error(
                "actor.group.member.invalid",
                path + ".member",
                members,
                "an array of Agents",
                show=False,
            )
        if n == 0 and not members:
            raise Reject(
                "actor.group.member.missing",
                path + ".member",
                f"{path} is an anonymous Group and its member array is empty",
            )
        for i, m in enumerate(members):
            p = f"{path}.member[{i}]"
            if type(m) is dict and m.get("objectType") == "Group":
                raise Reject(
                    "actor.group.member.invalid",
                    p,
                    f"{p} is a Group; the members of a Group are Agents",
                )
            _actor(m, p, agent_only=True)
        return True
    if type(ot) is str:
        expected = '"Agent"' if agent_only else '"Agent" or "Group"'
        raise Reject(
            "actor.object_type.invalid",
            path + ".objectType",
            f"{path}.objectType must be {expected} (exact case), got {_show(ot)}",
        )
    raise _type_error(
        "actor.object_type.invalid", path + ".objectType", ot, 'the string "Agent" or "Group"'
    )


def _authority(a: Any) -> None:
    if _actor(a, "authority"):
        n_ifi = sum(1 for k in ("mbox", "mbox_sha1sum", "openid", "account") if k in a)
        members = a.get("member") or []
        if n_ifi or len(members) != 2:
            raise Reject(
                "authority.invalid",
                "authority",
                f"a Group as authority must be an anonymous Group of exactly two Agents, got "
                f"{'an identified' if n_ifi else 'an anonymous'} Group of {len(members)} member(s)",
            )


# -- language maps, extensions ---------------------------------------------------------------------


def _language_map(m: Any, path: str) -> None:
    if type(m) is not dict:
        raise _type_error(
            "language_map.invalid", path, m, "a language map (an object of language tag -> string)"
        )
    for tag, text in m.items():
        if not _is_langtag(tag):
            raise Reject(
                "language_map.tag.invalid",
                path,
                f"{path} has key {_show(tag)}, which is not an RFC 5646 language tag",
            )
        if type(text) is not str:
            raise _type_error("language_map.invalid", f"{path}.{tag}", text, "a string")


def _extensions(e: Any, path: str) -> None:
    if type(e) is not dict:
        raise _type_error("extensions.not_object", path, e, "an object of IRI -> value")
    for key in e:
        if key not in _iri_ok and not _is_iri(key):
            raise Reject(
                "extensions.key.not_iri", path, f"{path} has key {_show(key)}, which is not an IRI"
            )


# -- verb -------------------------------------------------------------------------------------------

_VERB_KEYS = frozenset({"id", "display"})


def _verb(v: Any, path: str) -> str:
    if type(v) is not dict:
        raise _type_error("verb.not_object", path, v, "an object with an id IRI")
    if not _VERB_KEYS.issuperset(v):
        raise _unknown(v, _VERB_KEYS, path)
    vid = v.get("id")
    if vid is None:
        _null(v, "id", path)
        raise Reject("verb.id.missing", path + ".id", f"{path} has no id")
    if not _is_iri(vid):
        raise _type_error("verb.id.not_iri", path + ".id", vid, "an absolute IRI")
    display = v.get("display")
    if display is not None:
        _language_map(display, path + ".display")
    elif "display" in v:
        _null(v, "display", path)
    return vid


# -- objects ----------------------------------------------------------------------------------------

_ACTIVITY_KEYS = frozenset({"objectType", "id", "definition"})
_DEFINITION_KEYS = frozenset(
    {
        "name",
        "description",
        "type",
        "moreInfo",
        "interactionType",
        "correctResponsesPattern",
        "choices",
        "scale",
        "source",
        "target",
        "steps",
        "extensions",
    }
)
_INTERACTION_TYPES = frozenset(
    {
        "true-false",
        "choice",
        "fill-in",
        "long-fill-in",
        "matching",
        "performance",
        "sequencing",
        "likert",
        "numeric",
        "other",
    }
)
_COMPONENT_LISTS = ("choices", "scale", "source", "target", "steps")
_COMPONENT_KEYS = frozenset({"id", "description"})
_STATEMENT_REF_KEYS = frozenset({"objectType", "id"})


def _activity(o: dict, path: str) -> None:
    if not _ACTIVITY_KEYS.issuperset(o):
        raise _unknown(o, _ACTIVITY_KEYS, path)
    aid = o.get("id")
    if aid is None:
        _null(o, "id", path)
        raise Reject("object.id.missing", path + ".id", f"{path} (an Activity) has no id")
    if not _is_iri(aid):
        raise _type_error("object.id.not_iri", path + ".id", aid, "an absolute IRI")
    d = o.get("definition")
    if d is not None:
        _definition(d, path + ".definition")
    elif "definition" in o:
        _null(o, "definition", path)


def _definition(d: Any, path: str) -> None:
    if type(d) is not dict:
        raise _type_error("object.definition.invalid", path, d, "an object")
    if not _DEFINITION_KEYS.issuperset(d):
        raise _unknown(d, _DEFINITION_KEYS, path)
    for key, value in d.items():
        if value is None:
            _null(d, key, path)
        if key == "name" or key == "description":
            _language_map(value, f"{path}.{key}")
        elif key == "type":
            if not _is_iri(value):
                raise _type_error("object.definition.type.not_iri", path + ".type", value, "an IRI")
        elif key == "moreInfo":
            if not _is_iri(value):
                raise _type_error(
                    "object.definition.more_info.not_irl", path + ".moreInfo", value, "an IRL"
                )
        elif key == "extensions":
            _extensions(value, path + ".extensions")
        elif key == "interactionType":
            if type(value) is not str or value not in _INTERACTION_TYPES:
                raise _type_error(
                    "object.definition.interaction_type.invalid",
                    path + ".interactionType",
                    value,
                    "one of " + ", ".join(sorted(_INTERACTION_TYPES)) + " (exact case)",
                )
        elif key == "correctResponsesPattern":
            if type(value) is not list or any(type(x) is not str for x in value):
                raise Reject(
                    "object.definition.interaction.invalid",
                    path + ".correctResponsesPattern",
                    f"{path}.correctResponsesPattern must be an array of strings",
                )
        else:  # an interaction component list
            _components(value, f"{path}.{key}")


def _components(value: Any, path: str) -> None:
    if type(value) is not list:
        raise _type_error(
            "object.definition.interaction.invalid",
            path,
            value,
            "an array of interaction components",
        )
    seen = set()
    for i, c in enumerate(value):
        p = f"{path}[{i}]"
        if type(c) is not dict:
            raise _type_error(
                "object.definition.interaction.invalid", p, c, "an interaction component object"
            )
        if not _COMPONENT_KEYS.issuperset(c):
            raise _unknown(c, _COMPONENT_KEYS, p)
        cid = c.get("id")
        if type(cid) is not str or not cid:
            if cid is None:
                _null(c, "id", p)
            raise Reject(
                "object.definition.interaction.invalid",
                p + ".id",
                f"{p}.id must be a non-empty string",
            )
        if cid in seen:
            raise Reject(
                "object.definition.interaction.invalid",
                p + ".id",
                f"{p}.id {_show(cid)} repeats an id of the same list",
            )
        seen.add(cid)
        desc = c.get("description")
        if desc is not None:
            _language_map(desc, p + ".description")
        elif "description" in c:
            _null(c, "description", p)


def _statement_ref(o: Any, path: str, code: str) -> str:
    if type(o) is not dict:
        raise _type_error(code, path, o, "a StatementRef object")
    ot = o.get("objectType")
    if ot != "StatementRef":
        if ot is None:
            _null(o, "objectType", path)
        raise Reject(
            code,
            path + ".objectType",
            f'{path}.objectType must be "StatementRef" (exact case), got {_show(ot)}',
        )
    if not _STATEMENT_REF_KEYS.issuperset(o):
        raise _unknown(o, _STATEMENT_REF_KEYS, path)
    sid = o.get("id")
    if not _is_uuid(sid):
        if sid is None:
            _null(o, "id", path)
            raise Reject(code, path + ".id", f"{path} has no id")
        raise _type_error(code, path + ".id", sid, "a UUID")
    return sid


def _object(o: Any, path: str, v2: bool, sub: bool) -> str:
    """Validate the object of a statement; return its objectType."""
    if type(o) is not dict:
        raise _type_error("object.not_object", path, o, "an object")
    ot = o.get("objectType")
    if ot is None or ot == "Activity":
        if ot is None and "objectType" in o:
            _null(o, "objectType", path)
        _activity(o, path)
        return "Activity"
    if ot == "Agent" or ot == "Group":
        return "Group" if _actor(o, path) else "Agent"
    if ot == "StatementRef":
        _statement_ref(o, path, "object.statement_ref.invalid")
        return "StatementRef"
    if ot == "SubStatement":
        if sub:
            raise Reject(
                "object.substatement.nested",
                path,
                f"{path} is a SubStatement inside a SubStatement",
            )
        _substatement(o, path, v2)
        return "SubStatement"
    if type(ot) is str:
        raise Reject(
            "object.object_type.invalid",
            path + ".objectType",
            f"{path}.objectType must be Activity, Agent, Group, StatementRef or SubStatement (exact case), got {_show(ot)}",
        )
    raise _type_error("object.object_type.invalid", path + ".objectType", ot, "a string")


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


# -- statements ----------------------------------------------------------------------------------------

_STATEMENT_KEYS = frozenset(
    {
        "id",
        "actor",
        "verb",
        "object",
        "result",
        "context",
        "timestamp",
        "stored",
        "authority",
        "version",
        "attachments",
    }
)
_SUBSTATEMENT_KEYS = frozenset(
    {"objectType", "actor", "verb", "object", "result", "context", "timestamp", "attachments"}
)
_SUBSTATEMENT_FORBIDDEN = ("id", "stored", "version", "authority")


def _substatement(o: dict, path: str, v2: bool) -> None:
    if not _SUBSTATEMENT_KEYS.issuperset(o):
        for key in _SUBSTATEMENT_FORBIDDEN:
            if key in o:
                raise Reject(
                    "object.substatement.property_forbidden",
                    f"{path}.{key}",
                    f"{path} is a SubStatement and cannot have {key!r} (nor id, stored, version, authority)",
                )
        raise _unknown(o, _SUBSTATEMENT_KEYS, path)
    _core(o, path, v2, True)


def _required(s: dict, key: str, path: str) -> Any:
    value = s.get(key)
    if value is None:
        _null(s, key, path)
        raise Reject(f"{key}.missing", _join(path, key), f"{path or 'the statement'} has no {key}")
    return value


def _time(s: dict, key: str, path: str) -> int | None:
    value = s.get(key)
    if value is None:
        if key in s:
            _null(s, key, path)
        return None
    ns = parse_timestamp(value) if type(value) is str else None
    if ns is None:
        p = _join(path, key)
        raise _type_error(
            f"{key}.invalid", p, value, "an ISO 8601 date and time such as 2024-05-01T09:30:00Z"
        )
    return ns


# Valid sub-objects seen before, keyed by their serialized JSON: actors, verbs, objects and
# contextActivities repeat across statements (a catalog of activities, a population of
# learners), and checking a dict key is much cheaper than walking the object again. Only
# successes are remembered (a failure is re-walked to report its path); the caches are
# cleared when full, so memory stays bounded.
_MEMO_MAX = 20_000
_actor_memo: set[bytes] = set()
_verb_memo: dict[bytes, str] = {}
_object_memo: dict[bytes, str] = {}
_context_activities_memo: set[bytes] = set()
_context_memo_1: dict[bytes, tuple] = {}
_context_memo_2: dict[bytes, tuple] = {}
_dumps = orjson.dumps


def _memo_key(value: Any) -> bytes | None:
    try:
        return _dumps(value)
    except TypeError:  # not plain JSON (e.g. a dict built in Python with non-str keys)
        return None


def _remember(memo: set | dict, key: bytes | None, value: Any = None) -> None:
    if key is None:
        return
    if len(memo) >= _MEMO_MAX:
        memo.clear()
    key = compact(key)
    if type(memo) is set:
        memo.add(key)
    else:
        memo[key] = value


def compact(data: bytes) -> bytes:
    """A right-sized copy of ``data``: orjson's output keeps its over-allocated buffer."""
    return bytes(memoryview(data))


def _core(s: dict, path: str, v2: bool, sub: bool) -> tuple:
    """Actor, verb, object, result, context, timestamp, attachments: shared by statements and SubStatements."""
    dumps = _dumps
    actor = s.get("actor")
    if actor is None:
        _required(s, "actor", path)
    try:
        actor_key = dumps(actor)
    except TypeError:  # not plain JSON (a dict built in Python): validated, never remembered
        actor_key = None
    if actor_key is None or actor_key not in _actor_memo:
        _actor(actor, _join(path, "actor"))
        _remember(_actor_memo, actor_key)
    verb = s.get("verb")
    if verb is None:
        _required(s, "verb", path)
    try:
        verb_key = dumps(verb)
    except TypeError:
        verb_key = None
    verb_id = _verb_memo.get(verb_key) if verb_key is not None else None
    if verb_id is None:
        verb_id = _verb(verb, _join(path, "verb"))
        _remember(_verb_memo, verb_key, verb_id)
    obj = s.get("object")
    if obj is None:
        _required(s, "object", path)
    try:
        object_key = dumps(obj)
    except TypeError:
        object_key = None
    object_type = _object_memo.get(object_key) if object_key is not None else None
    if object_type is None:
        object_type = _object(obj, _join(path, "object"), v2, sub)
        if object_type == "SubStatement":
            object_key = None  # its rules depend on the version: never remembered
        else:
            _remember(_object_memo, object_key, object_type)
    if object_type != "StatementRef" and verb_id == VOIDED:
        raise Reject(
            "voiding.object.not_statement_ref",
            _join(path, "object"),
            f"the verb is {VOIDED} (voiding) but the object is a {object_type}, not a StatementRef",
        )
    result = s.get("result")
    scores = _NO_RESULT
    if result is not None:
        scores = _result(result, _join(path, "result"))
    elif "result" in s:
        _null(s, "result", path)
    registration = platform = None
    context = s.get("context")
    if context is not None:
        # a context repeats within a session (same registration): remember valid ones, per
        # version, for Activity objects (revision and platform depend on the object type)
        memo = _context_memo_2 if v2 else _context_memo_1
        context_key = None
        if object_type == "Activity":
            try:
                context_key = dumps(context)
            except TypeError:
                context_key = None
        known = memo.get(context_key) if context_key is not None else None
        if known is None:
            known = _context(context, _join(path, "context"), v2, object_type)
            _remember(memo, context_key, known)
        registration, platform = known
    elif "context" in s:
        _null(s, "context", path)
    timestamp = s.get("timestamp")
    if timestamp is not None:
        timestamp = _time(s, "timestamp", path)
    elif "timestamp" in s:
        _null(s, "timestamp", path)
    attachments = s.get("attachments")
    if attachments is not None:
        _attachments(attachments, _join(path, "attachments"))
    elif "attachments" in s:
        _null(s, "attachments", path)
    return (
        actor,
        verb_id,
        obj,
        object_type,
        scores,
        registration,
        platform,
        timestamp,
        actor_key,
        object_key,
    )


_NO_RESULT = (None,) * 7


def check(s: Any, v2: bool = True) -> Extract:
    """Validate one parsed statement under xAPI 2.0 (``v2``) or 1.0.3 rules; raise :class:`Reject`.

    The 2.0 rules are a superset of the 1.0.3 ones here: 2.0 adds ``context.contextAgents``,
    ``context.contextGroups`` and version ``2.0.x``. So "valid under either version" is
    "valid under the 2.0 rules".
    """
    return Extract(*check_fast(s, v2))


def check_fast(s: Any, v2: bool) -> tuple:
    """:func:`check`, returning a plain tuple in :class:`Extract` order (the ingest's hot path)."""
    if type(s) is not dict:
        raise _type_error("statement.not_object", "", s, "a JSON object", show=False)
    if not _STATEMENT_KEYS.issuperset(s):
        raise _unknown(s, _STATEMENT_KEYS, "")
    sid = s.get("id")
    if sid is not None:
        if not _is_uuid(sid):
            raise _type_error("statement.id.not_uuid", "id", sid, "a UUID")
    elif "id" in s:
        _null(s, "id", "")
    version = s.get("version")
    if version is not None:
        if type(version) is not str or (_VERSION_2 if v2 else _VERSION_1)(version) is None:
            allowed = "1.0, 1.0.x, 2.0 or 2.0.x" if v2 else "1.0 or 1.0.x (the 1.0.3 rules apply)"
            raise _type_error("version.invalid", "version", version, allowed)
    elif "version" in s:
        _null(s, "version", "")
    (
        actor,
        verb_id,
        obj,
        object_type,
        scores,
        registration,
        platform,
        timestamp,
        actor_key,
        object_key,
    ) = _core(s, "", v2, False)
    stored = s.get("stored")
    if stored is not None:
        stored = _time(s, "stored", "")
    elif "stored" in s:
        _null(s, "stored", "")
    authority = s.get("authority")
    if authority is not None:
        _authority(authority)
    elif "authority" in s:
        _null(s, "authority", "")
    return (
        actor,
        verb_id,
        obj,
        object_type,
        *scores,
        timestamp,
        stored,
        registration,
        platform,
        actor_key,
        object_key,
    )


def rules_version(explicit: str | None, statement_version: Any) -> bool:
    """Which rules apply: True for 2.0, False for 1.0.3.

    ``explicit`` (a parameter or the LRS's ``X-Experience-API-Version`` header) wins; else the
    statement's own ``version``; else 2.0, whose rules accept whatever 1.0.3 accepts.
    """
    if explicit is not None:
        return explicit == "2.0"
    if type(statement_version) is str and statement_version.startswith("1.0"):
        return False
    return True


def normalize_version(value: Any) -> str | None:
    """Map a version string (``"1.0.3"``, ``"2.0.0"``, a header value) to ``"1.0.3"``/``"2.0"``."""
    if value is None:
        return None
    text = str(value).strip()
    if text in VERSIONS:
        return text
    if _VERSION_1(text):
        return "1.0.3"
    if re.fullmatch(r"2\.0(?:\.\d+)?", text):
        return "2.0"
    raise ValueError(
        f"unsupported xAPI version {value!r}; use one of {VERSIONS} (or 1.0.x / 2.0.x)"
    )


# -- public API ------------------------------------------------------------------------------------------


class Violation(NamedTuple):
    """Why a statement is invalid: reason code, JSON path, message, and the rule broken.

    Examples
    --------
    >>> from talentml.xapi import validate_statement
    >>> v = validate_statement({"actor": {"mbox": "mailto:a@b.org"}, "verb": {"id": "completed"},
    ...                         "object": {"id": "https://lms.example.com/c/1"}})
    >>> v.reason, v.path
    ('verb.id.not_iri', 'verb.id')
    """

    reason: str
    path: str
    detail: str
    rule: str


def _violation(exc: Reject) -> Violation:
    reason = REASONS[exc.code]
    return Violation(exc.code, exc.path, exc.detail, f"{reason.section}: {reason.rule}")


def validate_statement(
    statement: Mapping[str, Any], *, version: str | None = None
) -> Violation | None:
    """Check one xAPI statement; return None if it is valid, else the first broken rule.

    Parameters
    ----------
    statement : dict
        A parsed statement (for example from ``json.loads``).
    version : {None, "1.0.3", "2.0"}, keyword-only
        Rules to apply. None: the statement's own ``version`` (1.0.x -> 1.0.3, 2.0.x -> 2.0);
        without one, a statement valid under either version passes.

    Returns
    -------
    Violation or None
        ``reason`` (a code of :data:`talentml.xapi.REASONS`), ``path`` (JSON path of the
        offending value), ``detail`` (a message) and ``rule`` (section and rule text).

    Examples
    --------
    >>> from talentml.xapi import validate_statement
    >>> stmt = {
    ...     "actor": {"account": {"homePage": "https://lms.example.com", "name": "u42"}},
    ...     "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
    ...     "object": {"id": "https://lms.example.com/course/7"},
    ...     "result": {"score": {"scaled": 1.5}},
    ... }
    >>> v = validate_statement(stmt)
    >>> v.reason, v.path
    ('result.score.scaled_out_of_range', 'result.score.scaled')
    >>> del stmt["result"]
    >>> validate_statement(stmt) is None
    True
    """
    explicit = normalize_version(version)
    if isinstance(statement, Mapping) and not isinstance(statement, dict):
        statement = dict(statement)
    try:
        check(
            statement,
            rules_version(
                explicit, statement.get("version") if isinstance(statement, dict) else None
            ),
        )
    except Reject as exc:
        return _violation(exc)
    return None


def validate(
    statements: Iterable[Mapping[str, Any]], *, version: str | None = None
) -> pd.DataFrame:
    """Check many statements; one row per statement, valid or not.

    Parameters
    ----------
    statements : iterable of dict
        Parsed statements.
    version : {None, "1.0.3", "2.0"}, keyword-only
        Rules to apply; see :func:`validate_statement`.

    Returns
    -------
    pandas.DataFrame
        ``position``, ``statement_id`` (when the statement has a string id), ``valid``,
        ``reason``, ``path``, ``detail``, ``rule`` (null for valid statements).

    Examples
    --------
    >>> from talentml.xapi import validate
    >>> agent = {"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}
    >>> verb = {"id": "http://adlnet.gov/expapi/verbs/attended"}
    >>> checked = validate(
    ...     [
    ...         {"actor": agent, "verb": verb, "object": {"id": "http://example.com/m/1"}},
    ...         {"actor": agent, "verb": verb, "object": {"id": "not an IRI"}},
    ...     ]
    ... )
    >>> checked[["valid", "reason", "path"]]
       valid             reason       path
    0   True               <NA>       <NA>
    1  False  object.id.not_iri  object.id
    """
    rows = []
    for position, statement in enumerate(statements):
        sid = statement.get("id") if isinstance(statement, Mapping) else None
        v = (
            validate_statement(statement, version=version)
            if isinstance(statement, Mapping)
            else _violation(
                _type_error("statement.not_object", "", statement, "a JSON object", show=False)
            )
        )
        rows.append(
            (
                position,
                sid if isinstance(sid, str) else None,
                v is None,
                *(v if v is not None else (None,) * 4),
            )
        )
    out = pd.DataFrame(
        rows, columns=["position", "statement_id", "valid", "reason", "path", "detail", "rule"]
    )
    for col in ("statement_id", "reason", "path", "detail", "rule"):
        out[col] = out[col].astype("string")
    out["valid"] = out["valid"].astype(bool)
    out["position"] = out["position"].astype("int64")
    return out
