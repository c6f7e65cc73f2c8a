"""The import rules of docs/architecture.md, checked on the source (imports inside functions
count too): each module imports only its own layer and the layers its row of LAYERS names
(docs/architecture.md's layer table is LAYERS, rendered: tests/unit/test_docs.py); no cycle
among the modules of functions/videobot; only the Telegram layers and the composition root
import Telegram; the stages reach the outside only through the runtime; SQL lives in the data
layer; nothing below the entry points looks the runtime or the settings up; no sys.path edits
anywhere."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
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


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    seen, todo = set(), [start]
    while todo:
        for w in graph.get(todo.pop(), ()):
            if w not in seen:
                seen.add(w)
                todo.append(w)
    return seen


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The modules that import each other, in groups of more than one (strongly connected
    components: each reaches every other)."""
    reach = {v: _reachable(graph, v) for v in graph}
    groups = {frozenset({v} | {w for w in reach[v] if v in reach.get(w, set())}) for v in graph}
    return sorted(sorted(group) for group in groups if len(group) > 1)


# ---- the layers: what may import what -------------------------------------------------------
#
# From the top down; a layer may import its own modules and the layers it names, all of them
# below it. docs/architecture.md shows this table (render_layers), tests/unit/test_docs.py
# checks that it is this one.


@dataclass(frozen=True)
class Layer:
    name: str
    modules: tuple[str, ...]  # a module, or "package.*": the package and everything in it
    may_import: tuple[str, ...]  # the layers below it that it may import; ("*",): any
    outside: tuple[str, ...] = ()  # entry points outside the package (they import it, never the reverse)
    note: str = ""


ANY = ("*",)
LAYERS = (
    Layer(
        "entry points",
        ("videobot.entry", "videobot.deploy_hooks"),
        ANY,
        outside=("functions/<name>/app.py", "local/"),
        note="build the runtime once and pass it down",
    ),
    Layer(
        "Telegram",
        ("videobot.telegram.*",),
        (
            "jobs",
            "composition root",
            "Telegram adapters",
            "domain",
            "provider interfaces",
            "data",
            "base",
            "vocabulary",
        ),
        note="the bot's features; never the stages",
    ),
    Layer(
        "jobs",
        ("videobot.control",),
        ("lifecycle", "composition root", "domain", "data", "base", "vocabulary"),
        note="start, decide, revise, cancel",
    ),
    Layer(
        "stages",
        ("videobot.stages.*",),
        (
            "lifecycle",
            "composition root",
            "port",
            "domain",
            "media and storage",
            "provider interfaces",
            "data",
            "base",
            "vocabulary",
        ),
        note="one module per ASL state",
    ),
    Layer(
        "lifecycle",
        ("videobot.lifecycle",),
        ("composition root", "port", "media and storage", "data", "base", "vocabulary"),
        note="how a job ends; save_media",
    ),
    Layer(
        "composition root",
        ("videobot.runtime",),
        (
            "Telegram adapters",
            "providers",
            "port",
            "media and storage",
            "provider interfaces",
            "data",
            "base",
            "vocabulary",
        ),
        note="builds the parts from the settings",
    ),
    Layer(
        "Telegram adapters",
        (
            "videobot.telegram.notifier",
            "videobot.telegram.files",
            "videobot.telegram.bot",
            "videobot.telegram.cost",
            "videobot.telegram.ui",
            "videobot.telegram.texts",
            "videobot.telegram.callbacks",
        ),
        ("port", "domain", "media and storage", "provider interfaces", "data", "base", "vocabulary"),
        note="what the runtime builds from Telegram, and what they share with the features",
    ),
    Layer("port", ("videobot.notify",), ("data", "base", "vocabulary"), note="the Notifier, its typed events"),
    Layer(
        "domain",
        ("videobot.usage", "videobot.preferences"),
        ("provider interfaces", "data", "base", "vocabulary"),
        note="vendor spend, the user's choices",
    ),
    Layer(
        "providers",
        ("videobot.providers.*",),
        ("media and storage", "provider interfaces", "base", "vocabulary"),
        note="each imports its own SDK",
    ),
    Layer("media and storage", ("videobot.media", "videobot.storage"), ("base", "vocabulary"), note="FFmpeg, files"),
    Layer("provider interfaces", ("videobot.providers.base",), (), note="the Protocols and their values"),
    Layer("data", ("videobot.data.*", "videobot.migrate"), ("base", "vocabulary"), note="all SQL, typed rows"),
    Layer(
        "base",
        ("videobot", "videobot.config", "videobot.secrets", "videobot.errors", "videobot.observability"),
        ("vocabulary",),
        note="settings, errors, logs and metrics",
    ),
    Layer("vocabulary", ("videobot.pipeline",), (), note="statuses, gates, media kinds; imports nothing"),
)
LAYER = {layer.name: layer for layer in LAYERS}


def layer_of(module: str) -> Layer:
    """The layer a module belongs to: named itself, else by the innermost package pattern."""
    exact = [layer for layer in LAYERS if module in layer.modules]
    if exact:
        return exact[0]
    packages = [
        (len(pattern), layer)
        for layer in LAYERS
        for pattern in layer.modules
        if pattern.endswith(".*") and (module == pattern[:-2] or module.startswith(pattern[:-1]))
    ]
    if not packages:
        raise KeyError(f"{module} is in no layer of LAYERS")
    return max(packages, key=lambda found: found[0])[1]


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    """Each import of a layer its importer may not import, as "importer -> imported (layer)"."""
    found = []
    for module, deps in graph.items():
        layer = layer_of(module)
        if layer.may_import == ANY:
            continue
        for dep in sorted(deps):
            below = layer_of(dep)
            if below is not layer and below.name not in layer.may_import:
                found.append(f"{module} -> {dep} ({below.name})")
    return found


def render_layers() -> str:
    """LAYERS as docs/architecture.md shows it."""

    def code(names) -> str:
        return ", ".join(f"`{name}`" for name in names)

    rows = ["| layer | modules | may import |", "|---|---|---|"]
    for layer in LAYERS:
        modules = code(layer.outside + layer.modules) + (f" ({layer.note})" if layer.note else "")
        may = "any layer" if layer.may_import == ANY else ", ".join(layer.may_import) or "nothing of the product"
        rows.append(f"| {layer.name} | {modules} | {may} |")
    return "\n".join(rows)


def test_every_module_is_in_one_layer():
    assert {name: layer_of(name).name for name in MODULES}  # (layer_of raises for a module in none)
    patterns = [pattern for layer in LAYERS for pattern in layer.modules]
    assert len(patterns) == len(set(patterns))


def test_a_layer_names_only_layers_below_it():
    for i, layer in enumerate(LAYERS):
        below = {other.name for other in LAYERS[i + 1 :]}
        assert layer.may_import == ANY or set(layer.may_import) <= below, layer.name


def test_each_module_imports_only_its_layer_and_those_its_layer_may():
    assert layer_violations(_internal_graph()) == []


def test_the_layer_check_finds_an_import_from_below():
    assert layer_violations({"videobot.data.jobs": {"videobot.usage"}}) == [
        "videobot.data.jobs -> videobot.usage (domain)"
    ]
    assert layer_violations({"videobot.stages.deliver_video": {"videobot.control"}}) != []
    assert layer_violations({"videobot.telegram.topics": {"videobot.telegram.notifier", "videobot.control"}}) == []


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


# ---- the runtime is passed down: no lookup below the entry points ---------------------------
#
# The entry points (functions/<name>/app.py, videobot.entry, local/, the tests) build a runtime
# and pass it down. Below them no module reaches one by itself, under any name: not by calling
# or naming these functions, whatever they are imported as, nor through getattr or import_module.
LOOKUPS = {
    "videobot.runtime": {"current", "reset", "from_environment"},
    "videobot.config": {"get_settings", "reload_settings", "settings_from_environ"},
    "videobot.entry": {"process_runtime"},
}
# where the lookup is defined: the entry layer's own module, and the runtime's constructor from the environment
ENTRY_MODULES = {"videobot.entry"}
DEFINES = {"videobot.runtime": {("videobot.config", "settings_from_environ")}}


def runtime_lookups(source: str, module: str = "") -> list[str]:
    """Each way `source` reaches a runtime or settings lookup of LOOKUPS, as "line: name"."""
    tree = ast.parse(source)
    allowed = DEFINES.get(module, set())

    def forbidden(path: str) -> bool:
        owner, _, name = path.rpartition(".")
        return name in LOOKUPS.get(owner, ()) and (owner, name) not in allowed

    bound, found = _imported(tree, forbidden)  # the imports first: a name may be used above its import
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and (path := _dotted(node, bound)) and forbidden(path):
            found.append(f"{node.lineno}: {path}")
        elif isinstance(node, ast.Call) and node.args:
            found += _called(node, bound, forbidden)
    return sorted(set(found))


def _imported(tree: ast.AST, forbidden) -> tuple[dict[str, str], list[str]]:
    """The names the imports bind (a local name -> the module or the function it stands for),
    and the imports of a lookup."""
    bound: dict[str, str] = {}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                top = alias.name.split(".")[0]
                bound[alias.asname or top] = alias.name if alias.asname else top
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                path = f"{node.module}.{alias.name}"
                bound[alias.asname or alias.name] = path
                if forbidden(path):
                    found.append(f"{node.lineno}: from {node.module} import {alias.name}")
    return bound, found


def _dotted(node: ast.AST, bound: dict[str, str]) -> str | None:
    """What a name or an attribute chain stands for, through the imports' names."""
    if isinstance(node, ast.Name):
        return bound.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value, bound)
        return f"{base}.{node.attr}" if base else None
    return None


def _called(node: ast.Call, bound: dict[str, str], forbidden) -> list[str]:
    """A lookup reached by name: getattr(module, "name"), or importing its module by name."""
    name = _dotted(node.func, bound) or (node.func.id if isinstance(node.func, ast.Name) else "")
    first, second = node.args[0], node.args[1] if len(node.args) > 1 else None
    if name == "getattr" and isinstance(second, ast.Constant) and (base := _dotted(first, bound)):
        return [f"{node.lineno}: getattr({base}, {second.value!r})"] if forbidden(f"{base}.{second.value}") else []
    if name in ("importlib.import_module", "__import__") and getattr(first, "value", None) in LOOKUPS:
        return [f"{node.lineno}: {name}({getattr(first, 'value', None)!r})"]
    return []


@pytest.mark.parametrize("name", [n for n in MODULES if n not in ENTRY_MODULES])
def test_nothing_below_the_entry_points_looks_the_runtime_up(name):
    found = runtime_lookups(MODULES[name].read_text(encoding="utf-8"), name)
    assert found == [], f"{name} looks the runtime or the settings up: {found}"


@pytest.mark.parametrize(
    "source",
    [
        "from videobot import runtime\nrt = runtime.current()",
        "from videobot import runtime as r\nr.reset()",
        "import videobot.runtime\nvideobot.runtime.current()",
        "import videobot.config as c\nsettings = c.get_settings",
        "from videobot.config import get_settings as settings\n",
        "from videobot.runtime import from_environment\n",
        "from videobot import config\nf = getattr(config, 'reload_settings')",
        "import importlib\nm = importlib.import_module('videobot.runtime')",
        "def handler():\n    from videobot.entry import process_runtime\n    return process_runtime()",
    ],
)
def test_the_lookup_check_finds_every_way_in(source):
    assert runtime_lookups(source) != []


def test_the_lookup_check_lets_a_runtime_be_passed_down(rt):
    source = (
        "from videobot.runtime import Runtime\n\ndef stage(rt: Runtime):\n    return rt.settings.pipeline.segment_count"
    )
    assert runtime_lookups(source) == []
