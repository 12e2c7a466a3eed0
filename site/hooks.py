"""mkdocs hooks: pages generated from the code, so that they never drift from it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def _bench_simulate_markdown() -> str:
    import json

    path = ROOT / "benchmarks" / "results" / "simulate.json"
    if not path.exists():
        return "*No recorded run: `python benchmarks/simulate.py` writes one.*"
    data = json.loads(path.read_text())
    meta = data["meta"]
    lines = [
        f"Recorded by `benchmarks/simulate.py` (Python {meta['python']}, {meta['cpus']} cores); "
        "the peer is plain serialization of the same statements, in the same run.",
        "",
        "| employees at start (ever) | years | statements | time | statements/s | peak memory | peer | time / peer |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in data["rows"]:
        mode = "streamed to NDJSON.gz" if r["streamed"] else "in memory"
        lines.append(
            f"| {r['n_employees']:,} ({r['employees_ever']:,}) | 3 | {r['statements']:,} ({mode}) | "
            f"{r['simulate_s']:.1f} s | {r['statements_per_s']:,.0f} | {r['peak_rss_mb']:,.0f} MB | "
            f"{r['peer']}: {r['peer_s']:.1f} s | {r['ratio_to_peer']:.2f} |"
        )
    return "\n".join(lines)


# docs/contracts.md carries its tables itself (a test keeps them current with
# talentml.schemas.describe()); what is rendered at build time is listed here.
GENERATED = {
    "<!-- bench-simulate -->": _bench_simulate_markdown,
}


def on_page_markdown(markdown: str, page, config, files) -> str:
    for marker, render in GENERATED.items():
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown
