"""HTTP helpers shared by every client talentml has (the LRS client, webhook senders).

Base layer: imports nothing from talentml, so any package may use it.
"""

from __future__ import annotations

import email.utils
import logging
import math
from datetime import UTC, datetime

__all__ = ["retry_after_seconds"]

logger = logging.getLogger(__name__)


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP-date).

    Parameters
    ----------
    value : str or None
        The header's value: delta-seconds (``"120"``) or an HTTP-date
        (``"Wed, 21 Oct 2015 07:28:00 GMT"``, compared with the current time).

    Returns
    -------
    float or None
        Seconds to wait, at least 0 (a date in the past is 0); None when the header is
        absent, blank or cannot be read (a warning is logged).

    Examples
    --------
    >>> retry_after_seconds("7"), retry_after_seconds("-3"), retry_after_seconds(None)
    (7.0, 0.0, None)
    >>> retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT")
    0.0
    """
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            logger.warning("ignoring an unparsable Retry-After header %r", value)
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if not math.isfinite(seconds):
        return None
    return max(0.0, seconds)
