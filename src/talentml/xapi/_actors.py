"""Who the actors of an ingest are, and mapping them to employees after the fact.

An ingest keys every actor with a keyed hash of its inverse functional identifier (IFI) and
keeps, per distinct key, only what a person needs to build the mapping without seeing anyone's
identifier: the IFI *kind* (``mbox``, ``mbox_sha1sum``, ``openid``, ``account``, ``group``),
the account's ``homepage`` (the learning system, not a person) and the e-mail or OpenID
``domain``. The raw identifier itself (``value``) is kept only when the ingest ran with
``redact=False``, for a session working under a data-protection basis.

:meth:`talentml.xapi.Ingest.map_identities` re-keys ``employee_id`` from either the
``identities`` table (``actor_key``, ``employee_id``, e.g. from
:func:`talentml.xapi.build_identities`) or a table of raw identifiers (``kind``, ``value``,
``employee_id``, and ``homepage`` for accounts), hashed here with the ingest's own secret.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd

from .. import schemas
from .._pseudonym import actor_ifi, actor_key, email_ifi
from ..exceptions import ContractError

__all__ = [
    "ACTOR_COLUMNS",
    "IFI_KINDS",
    "MSG_IDENTITIES_COLUMNS",
    "MSG_IDENTITIES_CONFLICT",
    "MSG_IDENTITIES_HOMEPAGE",
    "MSG_IDENTITIES_KIND",
    "MSG_IDENTITIES_VALUE",
    "coverage_counts",
    "describe_actor",
    "identity_map",
]

logger = logging.getLogger(__name__)

#: Columns of :meth:`talentml.xapi.Ingest.actors`.
ACTOR_COLUMNS = (
    "actor_key",
    "kind",
    "homepage",
    "domain",
    "value",
    "employee_id",
    "n_statements",
    "platforms",
)
#: IFI kinds a table of raw identifiers may use (``email`` is an ``mbox`` without ``mailto:``).
IFI_KINDS = ("mbox", "email", "mbox_sha1sum", "openid", "account")

MSG_IDENTITIES_COLUMNS = (
    "table 'identities' needs either columns ['actor_key', 'employee_id'] (e.g. from "
    "build_identities or Ingest.actors()) or columns ['kind', 'value', 'employee_id'] (raw "
    "identifiers, plus 'homepage' for accounts); it has {columns}"
)
MSG_IDENTITIES_KIND = (
    "table 'identities' column 'kind': {count} row(s) have a kind outside {kinds}, e.g. rows "
    "{rows} with values {values}; fix: use one of {kinds} (an e-mail address is 'email' or "
    "'mbox', an LMS login is 'account' with its 'homepage')"
)
MSG_IDENTITIES_VALUE = (
    "table 'identities' column 'value' is null or blank in {count} row(s), e.g. rows {rows}; "
    "fix: drop those rows or fill in the identifier"
)
MSG_IDENTITIES_HOMEPAGE = (
    "table 'identities' column 'homepage': {count} row(s) of kind 'account' have no "
    "homepage, e.g. rows {rows}; fix: add a 'homepage' column with the account's system "
    "(the xAPI account.homePage, e.g. 'https://lms.example.com'; Ingest.actors() lists them)"
)
MSG_IDENTITIES_CONFLICT = (
    "table 'identities': {count} actor(s) map to more than one employee_id, e.g. rows {rows}; "
    "fix: keep one employee per identifier"
)


def describe_actor(actor: Mapping[str, Any], *, keep_value: bool) -> tuple:
    """``(kind, homepage, domain, value)`` of a valid Agent or Group (the kinds of its IFI).

    The IFI is chosen as :func:`talentml._pseudonym.actor_ifi` chooses it (account, then mbox,
    mbox_sha1sum, openid); an anonymous Group is of kind ``group``. ``value`` is None unless
    ``keep_value``.

    Examples
    --------
    >>> from talentml.xapi._actors import describe_actor
    >>> describe_actor({"mbox": "mailto:Ada@Example.com"}, keep_value=False)
    ('mbox', None, 'example.com', None)
    >>> describe_actor({"account": {"homePage": "https://lms.example/", "name": "u1"}},
    ...                keep_value=True)
    ('account', 'https://lms.example', None, 'u1')
    """
    account = actor.get("account")
    if isinstance(account, Mapping):
        home = str(account.get("homePage", "")).rstrip("/")
        return "account", home, None, str(account.get("name", "")) if keep_value else None
    if actor.get("mbox"):
        mbox = str(actor["mbox"]).strip()
        domain = mbox.rpartition("@")[2].lower() or None
        return "mbox", None, domain, mbox if keep_value else None
    if actor.get("mbox_sha1sum"):
        return "mbox_sha1sum", None, None, str(actor["mbox_sha1sum"]) if keep_value else None
    if actor.get("openid"):
        openid = str(actor["openid"])
        host = urlsplit(openid).hostname
        return "openid", None, host, openid if keep_value else None
    return "group", None, None, None


def actors_table(
    statements: pd.DataFrame, info: Mapping[str, tuple], *, redacted: bool
) -> pd.DataFrame:
    """One row per distinct actor of ``statements`` (see :meth:`Ingest.actors`)."""
    keys = statements["actor_key"].astype(object).to_numpy()
    if len(keys) == 0:
        return _empty_actors()
    frame = pd.DataFrame(
        {
            "actor_key": keys,
            "employee_id": statements["employee_id"].astype(object).to_numpy(),
            "platform": statements["platform"].astype(object).to_numpy(),
        }
    )
    grouped = frame.groupby("actor_key", sort=True, dropna=False)
    n = grouped.size()
    employee = grouped["employee_id"].first()
    platforms = grouped["platform"].agg(lambda s: sorted({p for p in s if isinstance(p, str)}))
    described = [info.get(k, ("unknown", None, None, None)) for k in n.index]
    out = pd.DataFrame(
        {
            "actor_key": pd.array(n.index.to_numpy(object), dtype="string"),
            "kind": pd.array([d[0] for d in described], dtype="string"),
            "homepage": pd.array([d[1] for d in described], dtype="string"),
            "domain": pd.array([d[2] for d in described], dtype="string"),
            "value": pd.array([None if redacted else d[3] for d in described], dtype="string"),
            "employee_id": pd.array(employee.to_numpy(object), dtype="string"),
            "n_statements": n.to_numpy(np.int64),
            "platforms": pd.Series(list(platforms.to_numpy(object)), dtype=object).to_numpy(),
        }
    )
    order = np.lexsort((out["actor_key"].to_numpy(object), -out["n_statements"].to_numpy()))
    return out.iloc[order].reset_index(drop=True)


def _empty_actors() -> pd.DataFrame:
    out = pd.DataFrame({c: pd.array([], dtype="string") for c in ACTOR_COLUMNS})
    out["n_statements"] = np.array([], dtype=np.int64)
    out["platforms"] = np.array([], dtype=object)
    return out


def identity_map(
    identities: pd.DataFrame, *, secret: bytes | None = None, table: str = "identities"
) -> tuple[dict[str, str], int]:
    """``actor_key -> employee_id`` of an identities table, and the rows skipped.

    ``identities`` is the ``identities`` contract table (``actor_key``, ``employee_id``) or,
    when it has no ``actor_key`` and a ``secret`` is given, a table of raw identifiers
    (``kind``, ``value``, ``employee_id``, ``homepage`` for accounts) keyed with ``secret``.
    Rows without ``employee_id`` (an actor nobody matched) are skipped and counted.
    """
    if not isinstance(identities, pd.DataFrame):
        raise TypeError(f"identities must be a pandas DataFrame, got {type(identities).__name__}")
    columns = set(identities.columns)
    if {"actor_key", "employee_id"} <= columns:
        keep = identities["employee_id"].notna().to_numpy(bool)
        table_ = identities.loc[keep, ["actor_key", "employee_id"]]
        table_ = table_.astype({"actor_key": "string", "employee_id": "string"})
        schemas.validate("identities", table_.drop_duplicates().reset_index(drop=True))
        return dict(
            zip(table_["actor_key"].tolist(), table_["employee_id"].tolist(), strict=True)
        ), int((~keep).sum())
    if secret is None or not {"kind", "value", "employee_id"} <= columns:
        raise ContractError(
            MSG_IDENTITIES_COLUMNS.format(columns=list(identities.columns)), table=table
        )
    return _raw_identity_map(identities, secret, table)


def _raw_identity_map(
    identities: pd.DataFrame, secret: bytes, table: str
) -> tuple[dict[str, str], int]:
    keep = identities["employee_id"].notna().to_numpy(bool)
    frame = identities.loc[keep]
    kind = frame["kind"].astype("string").str.strip().str.lower()
    bad = ~kind.isin(IFI_KINDS).fillna(False).to_numpy(bool)
    if bad.any():
        rows = frame.index[bad]
        raise ContractError(
            MSG_IDENTITIES_KIND.format(
                count=int(bad.sum()),
                kinds=list(IFI_KINDS),
                rows=rows[:5].tolist(),
                values=frame.loc[rows[:5], "kind"].tolist(),
            ),
            table=table,
        )
    value = frame["value"].astype("string").str.strip()
    blank = (value.isna() | (value == "")).fillna(True).to_numpy(bool)
    if blank.any():
        raise ContractError(
            MSG_IDENTITIES_VALUE.format(
                count=int(blank.sum()), rows=frame.index[blank][:5].tolist()
            ),
            table=table,
        )
    is_account = (kind == "account").to_numpy(bool)
    if "homepage" in frame.columns:
        home = frame["homepage"].astype("string").str.strip()
    else:
        home = pd.Series(pd.NA, index=frame.index, dtype="string")
    no_home = is_account & (home.isna() | (home == "")).fillna(True).to_numpy(bool)
    if no_home.any():
        raise ContractError(
            MSG_IDENTITIES_HOMEPAGE.format(
                count=int(no_home.sum()), rows=frame.index[no_home][:5].tolist()
            ),
            table=table,
        )
    keys: list[str] = []
    for k, v, h in zip(kind.tolist(), value.tolist(), home.tolist(), strict=True):
        if k in ("mbox", "email"):
            ifi = email_ifi(v)
        elif k == "mbox_sha1sum":
            ifi = actor_ifi({"mbox_sha1sum": v})
        elif k == "openid":
            ifi = actor_ifi({"openid": v})
        else:
            ifi = actor_ifi({"account": {"homePage": h, "name": v}})
        keys.append(actor_key(ifi, secret))
    employees = frame["employee_id"].astype(str).tolist()
    seen: dict[str, str] = {}
    clash: list[Any] = []
    for label, key, employee in zip(frame.index, keys, employees, strict=True):
        if seen.setdefault(key, employee) != employee:
            clash.append(label)
    if clash:
        raise ContractError(
            MSG_IDENTITIES_CONFLICT.format(count=len(clash), rows=clash[:5]), table=table
        )
    return seen, int((~keep).sum())


def coverage_counts(statements: pd.DataFrame) -> dict[str, int]:
    """Mapped / unmapped statements and actors of a ``statements`` table."""
    mapped = statements["employee_id"].notna().to_numpy(bool)
    keys = statements["actor_key"]
    n_mapped = int(keys[mapped].nunique())
    return {
        "mapped_statements": int(mapped.sum()),
        "unmapped_statements": int((~mapped).sum()),
        "mapped_actors": n_mapped,
        "unmapped_actors": int(keys.nunique()) - n_mapped,
    }
