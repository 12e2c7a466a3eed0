"""Global configuration: :func:`set_config`, :func:`get_config` and :func:`config_context`.

Settings come from, in order: an explicit argument, :func:`set_config` /
:func:`config_context`, then environment variables ``TALENTML_*``.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

from .exceptions import ConfigurationError

__all__ = ["config_context", "configured_secret", "get_config", "resolve_secret", "set_config"]

_ENV = {
    "secret": "TALENTML_SECRET",
    "show_progress": "TALENTML_SHOW_PROGRESS",
}
_DEFAULTS: dict[str, Any] = {"secret": None, "show_progress": None}
_local = threading.local()


def _state() -> dict[str, Any]:
    if not hasattr(_local, "config"):
        _local.config = dict(_DEFAULTS)
    return _local.config


def get_config() -> dict[str, Any]:
    """Return the current settings, with environment defaults applied.

    The pseudonymization secret is never returned in clear; its presence is shown as ``"***"``.

    Returns
    -------
    dict
        ``secret`` (``"***"`` or ``None``) and ``show_progress`` (bool).

    Examples
    --------
    >>> import talentml as tml
    >>> sorted(tml.get_config())
    ['secret', 'show_progress']
    """
    state = _state()
    secret = state["secret"] or os.environ.get(_ENV["secret"])
    return {"secret": "***" if secret else None, "show_progress": show_progress()}


def set_config(*, secret: str | None = None, show_progress: bool | None = None) -> None:
    """Change global settings for this thread.

    Parameters
    ----------
    secret : str, optional
        Key of the keyed hash that pseudonymizes actor identifiers
        (see :func:`talentml.xapi.build_identities`). Never written to outputs or logs.
    show_progress : bool, optional
        Show progress bars on long work. Default: shown when running interactively
        (``TALENTML_SHOW_PROGRESS=0`` hides them).

    Examples
    --------
    >>> import talentml as tml
    >>> tml.set_config(show_progress=False)
    >>> tml.get_config()["show_progress"]
    False
    >>> tml.set_config(show_progress=None)  # back to the default
    """
    state = _state()
    if secret is not None:
        if not isinstance(secret, str) or len(secret) < 8:
            raise ConfigurationError("secret must be a string of at least 8 characters")
        state["secret"] = secret
    state["show_progress"] = show_progress


@contextlib.contextmanager
def config_context(
    *, secret: str | None = None, show_progress: bool | None = None
) -> Iterator[None]:
    """Temporarily change settings inside a ``with`` block.

    Examples
    --------
    >>> import talentml as tml
    >>> with tml.config_context(show_progress=False):
    ...     tml.get_config()["show_progress"]
    False
    """
    state = _state()
    saved = dict(state)
    try:
        set_config(secret=secret, show_progress=show_progress)
        yield
    finally:
        state.clear()
        state.update(saved)


def resolve_secret(secret: str | bytes | None = None) -> bytes:
    """Return the pseudonymization key: explicit, then configured, then ``TALENTML_SECRET``.

    Raises
    ------
    ConfigurationError
        If no secret is available anywhere.

    Examples
    --------
    >>> from talentml.config import resolve_secret
    >>> resolve_secret("a-long-secret")
    b'a-long-secret'
    """
    value = secret if secret is not None else _state()["secret"]
    if value is None:
        value = os.environ.get(_ENV["secret"])
    if not value:
        raise ConfigurationError(
            "no pseudonymization secret: pass secret=..., call talentml.set_config(secret=...) "
            f"or set the environment variable {_ENV['secret']}"
        )
    return value.encode() if isinstance(value, str) else bytes(value)


def configured_secret() -> str | None:
    """The pseudonymization secret set with :func:`set_config` or ``TALENTML_SECRET``, or None.

    Unlike :func:`resolve_secret` it never raises: for callers with a fallback of their own
    (the simulator's documented secret).

    Examples
    --------
    >>> import talentml as tml
    >>> from talentml.config import configured_secret
    >>> with tml.config_context(secret="a-long-secret"):
    ...     configured_secret()
    'a-long-secret'
    """
    value = _state()["secret"] or os.environ.get(_ENV["secret"])
    if isinstance(value, bytes):
        value = value.decode()
    return value or None


def show_progress() -> bool:
    """Whether progress bars are shown (setting, then ``TALENTML_SHOW_PROGRESS``, then a TTY check)."""
    value = _state()["show_progress"]
    if value is not None:
        return bool(value)
    env = os.environ.get(_ENV["show_progress"])
    if env is not None:
        return env.strip().lower() not in {"0", "false", "no", "off", ""}
    import sys

    return sys.stderr.isatty()
