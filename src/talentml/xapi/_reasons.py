"""Reason codes: every outcome of an ingest and every rejection, with the rule behind it.

A reason code is a short, stable, machine-readable string (``actor.ifi.missing``). Each one
maps to the rule it enforces: a requirement of xAPI 1.0.3 / IEEE 9274.1.1 (xAPI 2.0), cited by
its section of the 1.0.3 Data document and its conformance-requirement id (``XAPI-000nn``), or
a talentml rule (the contract of the ``statements`` table, deduplication and voiding).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import NamedTuple

import pandas as pd

__all__ = ["REASONS", "Reason", "reason_table"]


class Reason(NamedTuple):
    """One reason code and the rule it stands for.

    Examples
    --------
    >>> from talentml.xapi import REASONS
    >>> REASONS["verb.id.not_iri"].outcome
    'quarantined'
    """

    code: str
    outcome: str  # "quarantined", "duplicate", "voided" or "accepted"
    source: str  # "xAPI" (the specification) or "talentml" (this library's contract)
    section: str  # where the rule is written
    rule: str  # the rule, in one sentence


_Q = "quarantined"
_X = "xAPI"
_T = "talentml"

_RAW: tuple[tuple[str, str, str, str, str], ...] = (
    # -- outcomes that are not rejections ------------------------------------------------------
    (
        "accepted",
        "accepted",
        _T,
        "talentml ingest",
        "A valid statement, first time seen, not voided: one row of the statements table.",
    ),
    (
        "duplicate",
        "duplicate",
        _X,
        "Data 2.3.1 (statement immutability)",
        "A statement whose id was already read with the same content (ignoring stored, authority and version) counts once.",
    ),
    (
        "voided",
        "voided",
        _X,
        "Data 2.3.2, XAPI-00016",
        "A statement targeted by a voiding statement is removed, whichever of the two arrived first.",
    ),
    (
        "voiding.applied",
        "voided",
        _X,
        "Data 2.3.2, XAPI-00019",
        "A voiding statement whose target was read in the same ingest: it is a control record, not a learning event.",
    ),
    (
        "voiding.unmatched",
        "voided",
        _X,
        "Data 2.3.2.s2.b4",
        "A voiding statement whose target was not accepted in this ingest (the LRS does not reject it; nothing is removed).",
    ),
    # -- parsing and statement structure -------------------------------------------------------
    (
        "json.invalid",
        _Q,
        _X,
        "Data 2.2 (JSON serialization)",
        "A statement is one well-formed JSON value.",
    ),
    ("statement.not_object", _Q, _X, "Data 2.2", "A statement is a JSON object."),
    (
        "property.unknown",
        _Q,
        _X,
        "Data 2.2.s4.b1.b5, XAPI-00008, XAPI-00010",
        "An object uses only the properties the specification defines for it, spelled with the exact case (contextAgents and contextGroups exist from xAPI 2.0 on).",
    ),
    (
        "property.null",
        _Q,
        _X,
        "Data 2.2.s4.b1.b1, XAPI-00001",
        "No property has the value null, except inside an extensions object.",
    ),
    (
        "statement.id.not_uuid",
        _Q,
        _X,
        "Data 2.4.1, XAPI-00027..XAPI-00030",
        "A statement id is a UUID in standard string form.",
    ),
    ("actor.missing", _Q, _X, "Data 2.2.s2.b3, XAPI-00003", "A statement has an actor."),
    ("verb.missing", _Q, _X, "Data 2.2.s2.b3, XAPI-00004", "A statement has a verb."),
    ("object.missing", _Q, _X, "Data 2.2.s2.b3, XAPI-00005", "A statement has an object."),
    (
        "timestamp.invalid",
        _Q,
        _X,
        "Data 2.4.7, Data 4.5, XAPI-00022, XAPI-00123",
        "A timestamp is an ISO 8601 date and time (extended or basic format); the offsets -00, -0000 and -00:00 are not allowed.",
    ),
    (
        "stored.invalid",
        _Q,
        _X,
        "Data 2.4.8, Data 4.5",
        "stored is an ISO 8601 date and time, like timestamp.",
    ),
    (
        "version.invalid",
        _Q,
        _X,
        "Data 2.4.10, XAPI-00101",
        "version is 1.0 or 1.0.x (xAPI 1.0.3), or also 2.0 or 2.0.x (xAPI 2.0).",
    ),
    # -- agents and groups (actor, authority, instructor, team, member, object, context agents) --
    ("actor.not_object", _Q, _X, "Data 2.4.2", "An actor (Agent or Group) is a JSON object."),
    (
        "actor.object_type.invalid",
        _Q,
        _X,
        "Data 2.4.2.1, Data 2.4.2.2, XAPI-00031, XAPI-00032",
        'An actor\'s objectType is the string "Agent" or "Group" (exact case).',
    ),
    (
        "actor.name.not_string",
        _Q,
        _X,
        "Data 2.4.2.1.s2.table1.row2, XAPI-00033",
        "An actor's name is a string.",
    ),
    (
        "actor.ifi.missing",
        _Q,
        _X,
        "Data 2.4.2.1.s2.b1, XAPI-00034",
        "An Agent (and an identified Group) uses exactly one of mbox, mbox_sha1sum, openid, account.",
    ),
    (
        "actor.ifi.multiple",
        _Q,
        _X,
        "Data 2.4.2.1.s2.b2, Data 2.4.2.2.s5.b1, XAPI-00034, XAPI-00037",
        "An Agent or Group uses no more than one inverse functional identifier.",
    ),
    (
        "actor.mbox.invalid",
        _Q,
        _X,
        "Data 2.4.2.3.s3.table1.row1, XAPI-00038",
        "mbox is an IRI of the form mailto:email-address.",
    ),
    (
        "actor.mbox_sha1sum.invalid",
        _Q,
        _X,
        "Data 2.4.2.3.s3.table1.row2, XAPI-00039",
        "mbox_sha1sum is a string: the hex SHA-1 of a mailto IRI (40 hex digits).",
    ),
    ("actor.openid.invalid", _Q, _X, "Data 2.4.2.3.s3.table1.row3, XAPI-00040", "openid is a URI."),
    (
        "actor.account.invalid",
        _Q,
        _X,
        "Data 2.4.2.4, XAPI-00041",
        "account is an object with exactly the properties homePage and name.",
    ),
    (
        "actor.account.home_page.invalid",
        _Q,
        _X,
        "Data 2.4.2.4.s2.table1.row1, XAPI-00042",
        "An account has a homePage, and it is an IRL.",
    ),
    (
        "actor.account.name.invalid",
        _Q,
        _X,
        "Data 2.4.2.4.s2.table1.row2, XAPI-00043, XAPI-00007",
        "An account has a name, and it is a non-empty string.",
    ),
    (
        "actor.group.member.missing",
        _Q,
        _X,
        "Data 2.4.2.2.s2.table1.row3, XAPI-00035",
        "An anonymous Group lists its members in a non-empty member array.",
    ),
    (
        "actor.group.member.invalid",
        _Q,
        _X,
        "Data 2.4.2.2.s2.table2.row3, XAPI-00036",
        "member is an array of Agents (a Group cannot be a member).",
    ),
    (
        "authority.invalid",
        _Q,
        _X,
        "Data 2.4.9.s3.b1, XAPI-00024, XAPI-00098",
        "authority is an Agent, or an anonymous Group of exactly two Agents.",
    ),
    # -- verb and language maps ------------------------------------------------------------------
    ("verb.not_object", _Q, _X, "Data 2.4.3", "verb is an object."),
    ("verb.id.missing", _Q, _X, "Data 2.4.3.s3.table1.row1, XAPI-00044", "A verb has an id."),
    (
        "verb.id.not_iri",
        _Q,
        _X,
        "Data 2.4.3.s3.table1.row1, XAPI-00044",
        "A verb id is an absolute IRI.",
    ),
    (
        "language_map.invalid",
        _Q,
        _X,
        "Data 4.2, XAPI-00045, XAPI-00056, XAPI-00059, XAPI-00106",
        "A language map is an object whose values are strings.",
    ),
    (
        "language_map.tag.invalid",
        _Q,
        _X,
        "Data 4.2.s1, RFC 5646, XAPI-00013, XAPI-00121",
        "Each key of a language map is a well-formed RFC 5646 language tag.",
    ),
    # -- objects -----------------------------------------------------------------------------------
    ("object.not_object", _Q, _X, "Data 2.4.4", "object is a JSON object."),
    (
        "object.object_type.invalid",
        _Q,
        _X,
        "Data 2.4.4.s2, XAPI-00046",
        "An object's objectType is Activity, Agent, Group, StatementRef or SubStatement (exact case).",
    ),
    (
        "object.id.missing",
        _Q,
        _X,
        "Data 2.4.4.1.s1.table1.row2, XAPI-00047",
        "An Activity has an id.",
    ),
    (
        "object.id.not_iri",
        _Q,
        _X,
        "Data 2.4.4.1.s1.table1.row2, XAPI-00047",
        "An Activity id is an absolute IRI.",
    ),
    (
        "object.definition.invalid",
        _Q,
        _X,
        "Data 2.4.4.1.s1.table1.row3, XAPI-00048",
        "An Activity definition is an object.",
    ),
    (
        "object.definition.type.not_iri",
        _Q,
        _X,
        "Data 2.4.4.1.s2.table1.row3, XAPI-00060",
        "An Activity definition's type is an IRI.",
    ),
    (
        "object.definition.more_info.not_irl",
        _Q,
        _X,
        "Data 2.4.4.1.s2.table1.row4, XAPI-00061",
        "An Activity definition's moreInfo is an IRL.",
    ),
    (
        "object.definition.interaction_type.invalid",
        _Q,
        _X,
        "Data 2.4.4.1.s8.table1.row1, XAPI-00049, XAPI-00009",
        "interactionType is one of true-false, choice, fill-in, long-fill-in, matching, performance, sequencing, likert, numeric, other (exact case).",
    ),
    (
        "object.definition.interaction.invalid",
        _Q,
        _X,
        "Data 2.4.4.1.s8, Data 2.4.4.1.s11",
        "correctResponsesPattern is an array of strings; choices, scale, source, target and steps are arrays of interaction components with distinct string ids and language-map descriptions.",
    ),
    (
        "object.statement_ref.invalid",
        _Q,
        _X,
        "Data 2.4.4.3.s4, XAPI-00072, XAPI-00073",
        'A StatementRef has objectType "StatementRef" and an id that is a UUID, and nothing else.',
    ),
    (
        "object.substatement.nested",
        _Q,
        _X,
        "Data 2.4.4.3.s8.b4, XAPI-00071",
        "A SubStatement cannot contain a SubStatement.",
    ),
    (
        "object.substatement.property_forbidden",
        _Q,
        _X,
        "Data 2.4.4.3.s8.b3, XAPI-00067..XAPI-00070",
        "A SubStatement has no id, stored, version or authority.",
    ),
    (
        "voiding.object.not_statement_ref",
        _Q,
        _X,
        "Data 2.3.2.s2.b1, XAPI-00017, XAPI-00020",
        "A voiding statement's object is a StatementRef.",
    ),
    # -- result ------------------------------------------------------------------------------------
    ("result.not_object", _Q, _X, "Data 2.4.5", "result is an object."),
    (
        "result.success.not_boolean",
        _Q,
        _X,
        "Data 2.4.5.s2.table1.row1, XAPI-00074",
        'success is a JSON boolean (not the string "true").',
    ),
    (
        "result.completion.not_boolean",
        _Q,
        _X,
        "Data 2.4.5.s2.table1.row2, XAPI-00075",
        "completion is a JSON boolean.",
    ),
    (
        "result.response.not_string",
        _Q,
        _X,
        "Data 2.4.5.s2.table1.row3, XAPI-00076",
        "response is a string.",
    ),
    (
        "result.duration.invalid",
        _Q,
        _X,
        "Data 2.4.5.s2.table1.row4, Data 4.6, XAPI-00077, XAPI-00124",
        "duration is an ISO 8601:2004 4.4.3.2 duration (PnYnMnDTnHnMnS, or PnW alone).",
    ),
    (
        "result.score.not_object",
        _Q,
        _X,
        "Data 2.4.5.1, XAPI-00079",
        "score is an object with only scaled, raw, min, max.",
    ),
    (
        "result.score.not_number",
        _Q,
        _X,
        "Data 2.4.5.1.s2, Data 2.2.s4.b2, XAPI-00006",
        "scaled, raw, min and max are JSON numbers (not strings).",
    ),
    (
        "result.score.scaled_out_of_range",
        _Q,
        _X,
        "Data 2.4.5.1.s2.table1.row1, XAPI-00083",
        "scaled is between -1 and 1, inclusive.",
    ),
    (
        "result.score.raw_out_of_range",
        _Q,
        _X,
        "Data 2.4.5.1.s2.table1.row2, XAPI-00082",
        "raw is between min and max, inclusive, where they are present.",
    ),
    (
        "result.score.min_above_max",
        _Q,
        _X,
        "Data 2.4.5.1.s2.table1.row3, XAPI-00080, XAPI-00081",
        "min is not greater than max (min == max, seen in real data, is accepted).",
    ),
    # -- context -----------------------------------------------------------------------------------
    ("context.not_object", _Q, _X, "Data 2.4.6", "context is an object."),
    (
        "context.registration.not_uuid",
        _Q,
        _X,
        "Data 2.4.6.s3.table1.row1, XAPI-00087",
        "registration is a UUID.",
    ),
    ("context.team.not_group", _Q, _X, "Data 2.4.6.s3.table1.row3, XAPI-00088", "team is a Group."),
    (
        "context.context_activities.invalid",
        _Q,
        _X,
        "Data 2.4.6.2, XAPI-00086, XAPI-00093, XAPI-00094",
        "contextActivities is an object with keys parent, grouping, category, other, each an Activity or an array of Activities.",
    ),
    (
        "context.revision.not_string",
        _Q,
        _X,
        "Data 2.4.6.s3.table1.row5, XAPI-00089",
        "revision is a string.",
    ),
    (
        "context.platform.not_string",
        _Q,
        _X,
        "Data 2.4.6.s3.table1.row6, XAPI-00090",
        "platform is a string.",
    ),
    (
        "context.revision.not_allowed",
        _Q,
        _X,
        "Data 2.4.6.s4.b1, XAPI-00084",
        "revision is only used when the object is an Activity.",
    ),
    (
        "context.platform.not_allowed",
        _Q,
        _X,
        "Data 2.4.6.s4.b2, XAPI-00085",
        "platform is only used when the object is an Activity.",
    ),
    (
        "context.language.invalid",
        _Q,
        _X,
        "Data 2.4.6.s3.table1.row7, XAPI-00091, RFC 5646",
        "language is a string holding a well-formed RFC 5646 tag.",
    ),
    (
        "context.statement.invalid",
        _Q,
        _X,
        "Data 2.4.6.s3.table1.row8, XAPI-00092",
        "context.statement is a StatementRef.",
    ),
    (
        "context.context_agents.invalid",
        _Q,
        _X,
        "IEEE 9274.1.1 (xAPI 2.0) context agents",
        'contextAgents is an array of objects with objectType "contextAgent", an Agent in agent, and optionally relevantTypes: a non-empty array of IRIs.',
    ),
    (
        "context.context_groups.invalid",
        _Q,
        _X,
        "IEEE 9274.1.1 (xAPI 2.0) context groups",
        'contextGroups is an array of objects with objectType "contextGroup", a Group in group, and optionally relevantTypes: a non-empty array of IRIs.',
    ),
    # -- extensions and attachments -----------------------------------------------------------------
    (
        "extensions.not_object",
        _Q,
        _X,
        "Data 4.1, XAPI-00057, XAPI-00078, XAPI-00120",
        "extensions is an object.",
    ),
    (
        "extensions.key.not_iri",
        _Q,
        _X,
        "Data 4.1.s3.b1, XAPI-00118",
        "Each key of an extensions object is an IRI.",
    ),
    (
        "attachments.not_array",
        _Q,
        _X,
        "Data 2.4.s1.table1.row11, XAPI-00025",
        "attachments is an array of Attachment objects.",
    ),
    (
        "attachment.invalid",
        _Q,
        _X,
        "Data 2.4.11",
        "An attachment is an object with usageType, display, contentType, length and sha2.",
    ),
    (
        "attachment.usage_type.not_iri",
        _Q,
        _X,
        "Data 2.4.11.s2.table1.row1, XAPI-00107",
        "usageType is an IRI.",
    ),
    (
        "attachment.content_type.invalid",
        _Q,
        _X,
        "Data 2.4.11.s2.table1.row4, XAPI-00105",
        "contentType is an Internet media type (type/subtype).",
    ),
    (
        "attachment.length.invalid",
        _Q,
        _X,
        "Data 2.4.11.s2.table1.row5, XAPI-00102",
        "length is a non-negative integer.",
    ),
    (
        "attachment.sha2.invalid",
        _Q,
        _X,
        "Data 2.4.11.s2.table1.row6, XAPI-00103",
        "sha2 is the hex SHA-2 hash of the attachment (a string).",
    ),
    (
        "attachment.file_url.not_irl",
        _Q,
        _X,
        "Data 2.4.11.s2.table1.row7, XAPI-00104",
        "fileUrl is an IRL.",
    ),
    # -- talentml rules (ingest and the statements contract) ----------------------------------------
    (
        "statement.id.conflict",
        _Q,
        _X,
        "Data 2.3.1, Communication 2.1.1 (409 Conflict)",
        "A statement id read twice with different content: every distinct version is quarantined.",
    ),
    (
        "voiding.target_is_voiding",
        _Q,
        _X,
        "Data 2.3.2.s2.b3",
        "A voiding statement cannot target another voiding statement.",
    ),
    (
        "statement.time.missing",
        _Q,
        _T,
        "talentml statements contract",
        "A statement has a timestamp or a stored time (each stands in for the other).",
    ),
    (
        "timestamp.out_of_range",
        _Q,
        _T,
        "talentml statements contract",
        "timestamp and stored fall between 1677-09-22 and 2262-04-11 (datetime64[ns]).",
    ),
    (
        "stored.before_timestamp",
        _Q,
        _T,
        "talentml statements contract (MAX_CLOCK_SKEW)",
        "stored is not more than 10 minutes before timestamp.",
    ),
)

#: Every reason code, read-only: ``REASONS[code]`` is a :class:`Reason`.
REASONS: Mapping[str, Reason] = MappingProxyType({row[0]: Reason(*row) for row in _RAW})


def reason_table() -> pd.DataFrame:
    """All reason codes, the outcome they lead to and the rule behind each.

    Returns
    -------
    pandas.DataFrame
        One row per code: ``code``, ``outcome`` (accepted, duplicate, voided, quarantined),
        ``source`` (``xAPI`` for a requirement of the specification, ``talentml`` for a rule
        of this library's contract), ``section`` and ``rule``.

    Examples
    --------
    >>> from talentml.xapi import reason_table
    >>> table = reason_table()
    >>> table.set_index("code").loc["actor.ifi.missing", "section"]
    'Data 2.4.2.1.s2.b1, XAPI-00034'
    >>> sorted(table["outcome"].unique())
    ['accepted', 'duplicate', 'quarantined', 'voided']
    """
    return pd.DataFrame(list(REASONS.values()), columns=list(Reason._fields)).astype("string")
