"""Exceptions and warnings raised by talentml."""

from __future__ import annotations

__all__ = [
    "ConfigurationError",
    "ContractError",
    "PurposeLimitationError",
    "TalentMLError",
]


class TalentMLError(Exception):
    """Base class of every error raised by talentml."""


class ConfigurationError(TalentMLError, ValueError):
    """A required setting (for example the pseudonymization secret) is missing or invalid."""


class ContractError(TalentMLError, ValueError):
    """A table breaks its data contract.

    Attributes
    ----------
    table : str
        Name of the contract table (for example ``"employees"``).
    failures : pandas.DataFrame
        One row per failed check and offending row: ``column``, ``rule``, ``row`` (the index
        label), ``value``.
    """

    def __init__(self, message: str, *, table: str, failures=None) -> None:
        super().__init__(message)
        self.table = table
        self.failures = failures


class PurposeLimitationError(TalentMLError, ValueError):
    """A sensitive attribute was used where only the fairness module may use it."""
