"""Validation of xAPI statements against xAPI 1.0.3 and IEEE 9274.1.1 (xAPI 2.0).

The validator walks a parsed statement (plain dicts and lists, as ``orjson`` or ``json``
produce them) once, with precompiled regular expressions and no schema library, and stops at
the first broken rule. It raises :class:`Reject` carrying a reason code (see
:mod:`talentml.xapi._reasons`), the JSON path of the offending value and a message. The
message never repeats an identifier of a person (mbox, openid, account, name).

While it walks, it also extracts what the ``statements`` table needs (timestamps in
nanoseconds, the duration in seconds, scores), so an accepted statement is never parsed twice.

The statement walk is here; the building blocks (:class:`Reject`, value checks, caches) are in
``_validate_base``, actors, verbs and activities in ``_validate_parts``, results, contexts and
attachments in ``_validate_context``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import pandas as pd

from ._normalize import parse_timestamp
from ._reasons import REASONS
from ._validate_base import (  # noqa: F401 - used by _ingest and the tests
    _VERSION_1,
    _VERSION_2,
    Extract,
    Reject,
    _actor_memo,
    _context_memo_1,
    _context_memo_2,
    _dumps,
    _is_langtag,
    _is_uuid,
    _join,
    _null,
    _object_memo,
    _remember,
    _show,
    _type_error,
    _unknown,
    _verb_memo,
    compact,
)
from ._validate_context import _attachments, _context, _result
from ._validate_parts import _activity, _actor, _authority, _statement_ref, _verb

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
