"""The import rules of docs/architecture.md, checked on the source (imports inside functions
count too): no cycle among the modules of functions/videobot; only the Telegram adapter and
the composition root may import Telegram; the data layer imports no feature; SQL lives in
the data layer; no sys.path edits anywhere."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "functions" / "videobot"
COMPOSITION_ROOT = "videobot.runtime"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(path: Path) -> set[str]:
    """Every module this file imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def _internal_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        deps = {dep for dep in _imports(path) if dep in MODULES and dep != name}
        # `from videobot import x` names a package: depend on x, not on videobot/__init__.
        graph[name] = {
            d
            for d in deps
            if not (d == "videobot" or (MODULES[d].name == "__init__.py" and any(o.startswith(d + ".") for o in deps)))
        }
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, result, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return result


def test_the_checks_see_the_whole_package():
    assert {
        "videobot.runtime",
        "videobot.notify",
        "videobot.lifecycle",
        "videobot.stages.vendor_tasks",
        "videobot.data.jobs",
        "videobot.telegram.handlers",
        "videobot.telegram.notifier",
    } <= set(MODULES)


def test_no_import_cycle_among_the_modules():
    assert _cycles(_internal_graph()) == []


def test_the_cycle_check_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    "name", [n for n in MODULES if not n.startswith("videobot.telegram") and n != COMPOSITION_ROOT]
)
def test_only_the_telegram_adapter_and_the_composition_root_import_telegram(name):
    telegram = {
        d for d in _imports(MODULES[name]) if d.split(".")[0] == "telegram" or d.startswith("videobot.telegram")
    }
    assert telegram == set(), f"{name} imports {sorted(telegram)}"


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith("videobot.stages")])
def test_stages_reach_the_outside_only_through_the_runtime(name):
    forbidden = {
        d
        for d in _imports(MODULES[name])
        if d.split(".")[0] in ("boto3", "openai", "runwayml", "telegram", "psycopg2")
        or (d.startswith(("videobot.providers.", "videobot.control")) and not d.startswith("videobot.providers.base"))
    }
    assert forbidden == set(), f"{name} imports {sorted(forbidden)}"


@pytest.mark.parametrize("name", [n for n in MODULES if n.startswith("videobot.data")])
def test_the_data_layer_imports_no_feature(name):
    allowed = ("videobot.data", "videobot.errors", "videobot.config", "videobot.pipeline")
    features = {d for d in _imports(MODULES[name]) if d.startswith("videobot") and not d.startswith(allowed)}
    assert features == set(), f"{name} imports {sorted(features)}"


_SQL = re.compile(r"""["'](?:SELECT|INSERT INTO|UPDATE|DELETE FROM)\s""")


@pytest.mark.parametrize("name", [n for n in MODULES if not n.startswith("videobot.data") and n != "videobot.migrate"])
def test_sql_lives_in_the_data_layer(name):
    assert not _SQL.search(MODULES[name].read_text(encoding="utf-8")), f"{name} has SQL"


def test_nothing_edits_sys_path():
    sources = [
        p
        for p in ROOT.glob("**/*.py")
        if not any(part.startswith(".") or part == "node_modules" for part in p.relative_to(ROOT).parts)
    ]
    offenders = [
        str(p.relative_to(ROOT))
        for p in sources
        if p.name != "test_architecture.py"
        and re.search(r"sys\.path\s*(\.(insert|append|extend)|\[|\+?=)", p.read_text(encoding="utf-8"))
    ]
    assert sources and offenders == []
