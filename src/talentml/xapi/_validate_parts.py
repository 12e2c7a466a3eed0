"""xAPI validation of actors, verbs, language maps, extensions and activities
(see :mod:`talentml.xapi._validate`).
"""

from __future__ import annotations

from typing import Any

from ._validate_base import (
    _MBOX,
    _SHA1,
    Reject,
    _iri_ok,
    _is_iri,
    _is_langtag,
    _is_uuid,
    _kind,
    _null,
    _show,
    _type_error,
    _unknown,
)

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
