"""Pseudonymous identities: actor keys for xAPI actors and the ``identities`` table.

An actor's key is the keyed hash (HMAC-SHA256, see :mod:`talentml._pseudonym`) of its
canonical inverse functional identifier (IFI). HRIS records go through the same function, so a
learner in the LRS and an employee in the HRIS meet on the key without either side's raw
e-mail address or account name ever reaching a feature table, a log or MLflow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pandas as pd

from .. import schemas
from .._pseudonym import actor_ifi, actor_key, email_ifi
from ..config import resolve_secret
from ..exceptions import ContractError

__all__ = ["build_identities", "pseudonym"]

logger = logging.getLogger(__name__)

_IFI_KEYS = ("mbox", "mbox_sha1sum", "openid", "account")
IDENTIFIER_COLUMNS = ("email", "mbox", "mbox_sha1sum", "openid", "account_homepage", "account_name")


def pseudonym(actor: Mapping[str, Any], secret: bytes) -> str:
    """The actor key of a valid Agent or Group.

    An anonymous Group (no IFI of its own) is identified by the sorted IFIs of its members.
    """
    if any(k in actor for k in _IFI_KEYS):
        return actor_key(actor_ifi(actor), secret)
    members = sorted(actor_ifi(m) for m in actor.get("member", ()))
    return actor_key("group:" + "\x1f".join(members), secret)


def build_identities(hris: pd.DataFrame, *, secret: str | bytes | None = None) -> pd.DataFrame:
    """Build the ``identities`` table (actor_key -> employee_id) from HRIS identity records.

    Every identifier an employee is known by in learning systems becomes one row, keyed the
    same way :func:`talentml.xapi.ingest` keys the actors of statements, so statements map to
    employees without raw identifiers ever being stored.

    Parameters
    ----------
    hris : pandas.DataFrame
        One row per employee (or per identifier): ``employee_id`` and any of ``email``
        (an address; ``mailto:`` optional), ``mbox`` (a ``mailto:`` IRI), ``mbox_sha1sum``,
        ``openid``, and ``account_homepage`` together with ``account_name`` (an LMS account).
        Null cells are skipped.
    secret : str or bytes, optional, keyword-only
        Pseudonymization key; default from :func:`talentml.set_config` or the
        ``TALENTML_SECRET`` environment variable. Use the same one as for ``ingest``.

    Returns
    -------
    pandas.DataFrame
        The ``identities`` contract table: ``actor_key``, ``employee_id`` (string dtype), one
        row per distinct identifier.

    Raises
    ------
    talentml.ContractError
        If ``employee_id`` is missing or null, if only one of ``account_homepage`` /
        ``account_name`` is given in a row, or if one identifier belongs to two employees;
        the message names the column and the rows.
    talentml.ConfigurationError
        If no secret is configured.

    Examples
    --------
    >>> import pandas as pd
    >>> from talentml.xapi import build_identities
    >>> hris = pd.DataFrame(
    ...     {
    ...         "employee_id": ["E1", "E2"],
    ...         "email": ["ada@example.com", None],
    ...         "account_homepage": ["https://lms.example.com", "https://lms.example.com"],
    ...         "account_name": ["ada", "bob"],
    ...     }
    ... )
    >>> ids = build_identities(hris, secret="a-secret-of-some-length")
    >>> ids.shape, sorted(ids["employee_id"].unique())
    ((3, 2), ['E1', 'E2'])
    >>> bool(ids["actor_key"].str.contains("ada").any())
    False
    """
    key = resolve_secret(secret)
    if not isinstance(hris, pd.DataFrame):
        raise TypeError(f"hris must be a pandas DataFrame, got {type(hris).__name__}")
    if "employee_id" not in hris.columns:
        raise ContractError(
            f"table 'hris' has no column 'employee_id'; it has {list(hris.columns)}", table="hris"
        )
    present = [c for c in IDENTIFIER_COLUMNS if c in hris.columns]
    if not present:
        raise ContractError(
            f"table 'hris' has none of the identifier columns {list(IDENTIFIER_COLUMNS)}",
            table="hris",
        )
    missing_id = hris.index[hris["employee_id"].isna()].tolist()
    if missing_id:
        raise ContractError(
            f"table 'hris' column 'employee_id' is null in {len(missing_id)} row(s), first rows {missing_id[:5]}",
            table="hris",
        )
    if ("account_homepage" in hris.columns) != ("account_name" in hris.columns):
        raise ContractError(
            "table 'hris': columns 'account_homepage' and 'account_name' go together", table="hris"
        )
    if "account_homepage" in hris.columns:
        half = hris["account_homepage"].isna() != hris["account_name"].isna()
        if half.any():
            rows = hris.index[half].tolist()
            raise ContractError(
                f"table 'hris' columns 'account_homepage'/'account_name': only one of the two is "
                f"set in {len(rows)} row(s), first rows {rows[:5]}",
                table="hris",
            )

    keys: list[str] = []
    employees: list[str] = []
    labels: list[Any] = []
    sources: list[str] = []
    records = hris.to_dict("records")
    for label, rec in zip(hris.index, records, strict=True):
        employee = str(rec["employee_id"])
        ifis = []
        for column in ("email", "mbox"):
            value = rec.get(column)
            if _present(value):
                ifis.append((column, email_ifi(str(value))))
        value = rec.get("mbox_sha1sum")
        if _present(value):
            ifis.append(("mbox_sha1sum", actor_ifi({"mbox_sha1sum": str(value).strip()})))
        value = rec.get("openid")
        if _present(value):
            ifis.append(("openid", actor_ifi({"openid": str(value).strip()})))
        home, name = rec.get("account_homepage"), rec.get("account_name")
        if _present(home) and _present(name):
            ifis.append(
                ("account", actor_ifi({"account": {"homePage": str(home), "name": str(name)}}))
            )
        for column, ifi in ifis:
            keys.append(actor_key(ifi, key))
            employees.append(employee)
            labels.append(label)
            sources.append(column)
    n_none = len(hris) - len(set(labels))
    if n_none:
        logger.info(
            "%d HRIS row(s) carry no learning-system identifier and map to no actor", n_none
        )

    table = pd.DataFrame(
        {"actor_key": keys, "employee_id": employees, "_row": labels, "_column": sources}
    )
    clash = table.drop_duplicates(["actor_key", "employee_id"])
    clash = clash[clash.duplicated("actor_key", keep=False)]
    if len(clash):
        rows = clash["_row"].tolist()
        columns = sorted(set(clash["_column"]))
        raise ContractError(
            f"table 'hris': {clash['actor_key'].nunique()} identifier(s) in column(s) {columns} "
            f"belong to more than one employee_id, rows {rows[:10]}",
            table="hris",
        )
    out = table.drop_duplicates(["actor_key", "employee_id"])[["actor_key", "employee_id"]]
    out = out.reset_index(drop=True).astype("string")
    return schemas.validate("identities", out)


def _present(value: Any) -> bool:
    if value is None:
        return False
    try:
        if pd.isna(value):
            return False
    except (TypeError, ValueError):
        pass
    return bool(str(value).strip())
