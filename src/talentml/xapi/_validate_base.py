"""The building blocks of the xAPI validator: :class:`Reject`, :class:`Extract`, value checks
and the caches of sub-objects already seen valid (see :mod:`talentml.xapi._validate`).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

import orjson


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
