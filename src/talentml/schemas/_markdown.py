"""The contract tables as Markdown, for docs/contracts.md (a test keeps the page current)."""

from __future__ import annotations

from ._contracts import TABLES
from ._validate import describe

__all__ = ["CONTRACTS_DOC_END", "CONTRACTS_DOC_START", "contracts_markdown"]

CONTRACTS_DOC_START = "<!-- contracts:start -->"
CONTRACTS_DOC_END = "<!-- contracts:end -->"


def _cell(text: str) -> str:
    return str(text).replace("|", "/").replace("\n", " ")


def contracts_markdown() -> str:
    """Every contract as a Markdown table: column, type, nullable, rules, description."""
    parts = []
    for name, contract in TABLES.items():
        table = describe(name)
        keys = ", ".join(contract.unique) or "none"
        parts.append(f"### `{name}`\n\n{contract.description} Unique key: {keys}.\n")
        parts.append(
            "| column | type | nullable | rules | description | if absent |\n"
            "|---|---|---|---|---|---|"
        )
        for row in table.itertuples():
            nullable = "yes" if row.nullable else "no"
            if not row.required:
                nullable += " (optional column)"
            absent = _cell(row.if_absent) if not row.required else "required"
            parts.append(
                f"| `{row.column}` | `{row.type}` | {nullable} | {_cell(row.rules)} | "
                f"{_cell(row.description)} | {absent} |"
            )
        rules = [r for r in contract.rules]
        if rules:
            parts.append("")
            parts.append("Rules across columns:\n")
            for r in rules:
                cols = ", ".join(f"`{c}`" for c in r.columns)
                parts.append(f"- `{r.name}` ({cols}): {_cell(r.description)}.")
        parts.append("")
    return "\n".join(parts).rstrip() + "\n"
