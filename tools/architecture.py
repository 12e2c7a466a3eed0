"""The architecture contract of talentml, checked on the source (``make lint`` runs it).

The layers of docs/architecture.md, bottom up; a package may import any package in a layer
below its own, never one above, never another package's private name:

    base        exceptions, config, schemas, _validation, _compat, _html, _pseudonym, _http, _version
    data        xapi, features, labels, datasets
    models      models
    explain     explain
    decisions   fairness, loop
    serving     serving      (owns the artifact format and the prediction log)
    tracking    tracking     (a thin MLflow flavor over serving)
    governance  report
    app         cli, demo, talentml/__init__

Checked, for every import in ``src/talentml`` (module level or inside a function):

* **upward**: an import of a package in a higher layer;
* **cycle**: packages that import each other, directly or through others (strongly
  connected components of the package graph, same layer included);
* **private**: a name that starts with ``_`` (a private module or a private name) imported
  from another package. The base layer's private modules (``_validation``, ``_compat``,
  ``_html``, ``_pseudonym``, ``_http``, ``_version``) are the base layer itself: their public names are for
  everyone;
* **size**: a file over 800 lines or a function over 150 lines (docstring excluded), unless
  the file (for a file) or the ``def`` line or the line above it (for a function) says why in a
  ``# size: <reason>`` comment.

Run ``python tools/architecture.py`` from the repository root; the exit status is 1 when a
rule is broken, and every breach is printed.
"""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {
            "exceptions",
            "config",
            "schemas",
            "_validation",
            "_compat",
            "_html",
            "_pseudonym",
            "_http",
            "_version",
        }
    ),
    frozenset({"xapi", "features", "labels", "datasets"}),
    frozenset({"models"}),
    frozenset({"explain"}),
    frozenset({"fairness", "loop"}),
    frozenset({"serving"}),
    frozenset({"tracking"}),
    frozenset({"report"}),
    frozenset({"cli", "demo", "__init__"}),
)
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}
BASE_MODULES = frozenset(n for n in LAYERS[0] if n.startswith("_"))
MAX_FILE_LINES = 800
MAX_FUNCTION_LINES = 150


@dataclass
class Report:
    """Every breach of the contract, by rule."""

    upward: list[str] = field(default_factory=list)
    cycles: list[str] = field(default_factory=list)
    private: list[str] = field(default_factory=list)
    size: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.upward or self.cycles or self.private or self.size or self.unknown)

    def lines(self) -> list[str]:
        out = []
        for rule in ("upward", "cycles", "private", "size", "unknown"):
            out += [f"{rule}: {item}" for item in getattr(self, rule)]
        return out


def _package(rel: Path) -> str:
    first = rel.parts[0]
    return first[:-3] if first.endswith(".py") else first


def _targets(node: ast.ImportFrom | ast.Import, module: list[str]) -> list[tuple[list[str], str]]:
    """(path inside talentml, imported name) of each name an import statement brings in."""
    if isinstance(node, ast.Import):
        # a bare "import talentml" is the top-level package (the app layer's __init__)
        return [
            (alias.name.split(".")[1:] or ["__init__"], "")
            for alias in node.names
            if alias.name.split(".")[0] == "talentml"
        ]
    if node.level:
        base = module[: len(module) - node.level]
        path = (base + (node.module.split(".") if node.module else []))[1:]  # drop "talentml"
    elif node.module and node.module.split(".")[0] == "talentml":
        path = node.module.split(".")[1:]
    else:
        return []
    if not path:  # from talentml import x: a package, or a name of the top-level __init__
        return [
            ([alias.name], "") if alias.name in RANK else (["__init__"], alias.name)
            for alias in node.names
        ]
    return [(path, alias.name) for alias in node.names]


def _size_reason(lines: list[str], lineno: int) -> bool:
    window = lines[max(0, lineno - 2) : lineno]
    return any("# size:" in line for line in window)


def check(root: str | Path = "src/talentml") -> Report:
    """Check the package under ``root`` against the contract."""
    root = Path(root)
    report = Report()
    edges: dict[str, set[str]] = defaultdict(set)
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        me = _package(rel)
        if me not in RANK:
            report.unknown.append(f"{rel}: package {me!r} is in no layer")
            continue
        source = path.read_text()
        lines = source.splitlines()
        if len(lines) > MAX_FILE_LINES and "# size:" not in source:
            report.size.append(f"{rel}: {len(lines)} lines (over {MAX_FILE_LINES})")
        module = list(rel.with_suffix("").parts)
        if module[-1] == "__init__":
            module = module[:-1] + ["__init__"]
        tree = ast.parse(source)
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                first = body[0] if body else None
                doc = (
                    isinstance(first, ast.Expr)
                    and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)
                )
                start = first.end_lineno + 1 if doc else first.lineno
                n = node.end_lineno - start + 1
                if n > MAX_FUNCTION_LINES and not _size_reason(lines, node.lineno):
                    report.size.append(
                        f"{rel}:{node.lineno} {node.name}: {n} lines (over {MAX_FUNCTION_LINES})"
                    )
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            for target, name in _targets(node, ["talentml", *module]):
                if not target:
                    continue
                other = target[0]
                if other == me or other not in RANK:
                    continue
                where = f"{rel}:{node.lineno}"
                edges[me].add(other)
                if RANK[other] > RANK[me]:
                    report.upward.append(
                        f"{where} {me} imports {'.'.join(target)} ({other} is above)"
                    )
                private_path = [p for p in target[1:] if p.startswith("_")]
                private_name = name.startswith("_") and name != "__version__"
                if other not in BASE_MODULES and (private_path or private_name):
                    shown = ".".join(target) + (f".{name}" if name else "")
                    report.private.append(f"{where} {me} imports {shown}")
    report.cycles = _cycles(edges)
    return report


def _cycles(edges: dict[str, set[str]]) -> list[str]:
    """Strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[str] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(" <-> ".join(sorted(comp)))

    for v in sorted(set(edges) | {w for ws in edges.values() for w in ws}):
        if v not in index:
            visit(v)
    return out


def main(argv: list[str] | None = None) -> int:
    root = (argv or sys.argv[1:] or ["src/talentml"])[0]
    report = check(root)
    for line in report.lines():
        sys.stdout.write(line + "\n")
    if report.ok:
        sys.stdout.write("architecture holds: layers, no cycle, no private import, sizes\n")
        return 0
    return 1


if __name__ == "__main__":
    sys.exit(main())
