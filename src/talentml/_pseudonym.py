"""Pseudonymized identities: canonical xAPI actor identifiers and their keyed hash.

An actor is identified by exactly one *inverse functional identifier* (IFI): ``mbox``,
``mbox_sha1sum``, ``openid`` or ``account``. :func:`actor_ifi` renders it canonically
(an ``mbox`` becomes the ``mbox_sha1sum`` of the same address, so both spellings of one
person agree) and :func:`actor_key` hashes it with HMAC-SHA256 under a secret key, so the
same person gets the same key across sources while the key reveals nothing without the
secret.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

__all__ = ["actor_ifi", "actor_key", "email_ifi"]


def email_ifi(email: str) -> str:
    """Canonical IFI of an e-mail address (``mbox_sha1sum:<sha1 of mailto:address>``).

    Examples
    --------
    >>> email_ifi("Ada@Example.com") == email_ifi("mailto:ada@example.com")
    True
    """
    address = email.strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    mbox = "mailto:" + address.lower()
    return "mbox_sha1sum:" + hashlib.sha1(mbox.encode()).hexdigest()


def actor_ifi(actor: Mapping) -> str:
    """Canonical IFI string of an xAPI Agent or identified Group.

    Parameters
    ----------
    actor : mapping
        The ``actor`` (or agent object) of a statement.

    Returns
    -------
    str
        ``mbox_sha1sum:<hex>``, ``openid:<uri>`` or ``account:<homePage>|<name>``.

    Raises
    ------
    ValueError
        If the actor carries no IFI.

    Examples
    --------
    >>> actor_ifi({"account": {"homePage": "https://lms.example.com", "name": "u42"}})
    'account:https://lms.example.com|u42'
    >>> import hashlib
    >>> sha1 = hashlib.sha1(b"mailto:a@b.org").hexdigest()
    >>> actor_ifi({"mbox": "mailto:a@b.org"}) == actor_ifi({"mbox_sha1sum": sha1})
    True
    """
    if "account" in actor and isinstance(actor["account"], Mapping):
        account = actor["account"]
        return f"account:{str(account.get('homePage', '')).rstrip('/')}|{account.get('name', '')}"
    if actor.get("mbox"):
        return email_ifi(str(actor["mbox"]))
    if actor.get("mbox_sha1sum"):
        return "mbox_sha1sum:" + str(actor["mbox_sha1sum"]).lower()
    if actor.get("openid"):
        return "openid:" + str(actor["openid"])
    raise ValueError(
        "actor has no inverse functional identifier (mbox, mbox_sha1sum, openid, account)"
    )


def actor_key(ifi: str, secret: bytes | str) -> str:
    """Keyed hash (HMAC-SHA256, 32 hex characters) of a canonical IFI.

    Examples
    --------
    >>> k = actor_key("account:https://lms.example.com|u42", b"demo-secret")
    >>> len(k), k == actor_key("account:https://lms.example.com|u42", "demo-secret")
    (32, True)
    """
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, ifi.encode(), hashlib.sha256).hexdigest()[:32]
