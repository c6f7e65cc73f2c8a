"""The documents that describe the code are checked against it, so they cannot drift:
docs/architecture.md's layer table is the one tests/unit/test_architecture.py enforces, its
rules name the tests that hold them, its module list is the package and its stage table is
the state machine; the README's stage table is the state machine too."""

from __future__ import annotations

import ast
import json
import re

import pytest

from local import template as tpl
from tests.unit import test_architecture as architecture
from tests.unit.test_architecture import MODULES, ROOT, layer_of, render_layers

ARCHITECTURE = ROOT / "docs" / "architecture.md"
README = ROOT / "README.md"
CODE = re.compile(r"`([^`]+)`")


def _section(text: str, heading: str) -> str:
    """The text under a `## heading`, up to the next one."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def _table(text: str) -> list[list[str]]:
    """The rows of the first Markdown table in `text`, each a list of its cells (no header)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    assert len(lines) > 2, "no table"
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def _states(states: dict, found: dict | None = None) -> dict[str, dict]:
    """Every state of the ASL by name, inside Maps and Parallels too."""
    found = {} if found is None else found
    for name, state in states.items():
        found[name] = state
        for branch in state.get("Branches", []):
            _states(branch["States"], found)
        inner = state.get("ItemProcessor") or state.get("Iterator")
        if inner:
            _states(inner["States"], found)
    return found


def _machines() -> dict[str, dict[str, dict]]:
    """Each state machine of the template (the pipeline, and its child execution of one segment's
    media) -> its states by name."""
    template = tpl.load_template()
    return {
        machine: _states(json.loads((ROOT / spec["Properties"]["DefinitionUri"]).read_text(encoding="utf-8"))["States"])
        for machine, spec in template["Resources"].items()
        if machine in tpl.state_machines(template)
    }


@pytest.fixture(scope="module")
def states() -> dict[str, dict]:
    """Every state of every state machine, by name."""
    return {name: state for found in _machines().values() for name, state in found.items()}


@pytest.fixture(scope="module")
def folder_of_state() -> dict[str, str]:
    """Each Task state that invokes a function -> that function's folder (functions/<folder>)."""
    template = tpl.load_template()
    handlers = tpl.functions(template)
    folders = {}
    for machine, found in _machines().items():
        substitutions = template["Resources"][machine]["Properties"]["DefinitionSubstitutions"]
        for name, state in found.items():
            arguments = state.get("Parameters") or state.get("Arguments") or {}
            target = re.fullmatch(r"\$\{(\w+)\}", str(arguments.get("FunctionName", "")))
            if state["Type"] == "Task" and target:
                function = substitutions[target.group(1)]["Fn::GetAtt"][0]
                folders[name] = handlers[function].split(".")[0]
    return folders


# ---- docs/architecture.md -------------------------------------------------------------------


def test_the_layer_table_is_the_one_the_architecture_test_enforces():
    shown = "\n".join(line for line in _section(ARCHITECTURE.read_text(encoding="utf-8"), "The layers").splitlines())
    assert render_layers() in shown, "paste tests.unit.test_architecture.render_layers() into docs/architecture.md"


def test_the_rules_are_the_tests_that_hold_them():
    rules = _section(ARCHITECTURE.read_text(encoding="utf-8"), "The layers").split("The rules", 1)[1]
    named = {name for name in CODE.findall(rules) if name.startswith("test_")}
    tests = {name for name in dir(architecture) if name.startswith("test_")}
    checks_of_the_checks = {name for name in tests if re.match(r"test_the_(\w+_)?checks?_", name)}
    assert named <= tests, f"docs/architecture.md names tests that do not exist: {sorted(named - tests)}"
    assert tests - checks_of_the_checks <= named, f"rules the page does not state: {sorted(tests - named)}"


def test_the_module_list_is_the_package_with_each_modules_layer():
    rows = _table(_section(ARCHITECTURE.read_text(encoding="utf-8"), "Modules"))
    listed = {CODE.fullmatch(module).group(1): layer for module, layer, _what in rows}
    assert len(listed) == len(rows), "a module is listed twice"
    assert set(listed) == set(MODULES), (
        f"not listed: {sorted(set(MODULES) - set(listed))}; no such module: {sorted(set(listed) - set(MODULES))}"
    )
    wrong = {
        module: (layer, layer_of(module).name) for module, layer in listed.items() if layer != layer_of(module).name
    }
    assert wrong == {}, "(listed, in LAYERS)"


def test_the_stage_table_is_the_state_machine(states, folder_of_state):
    rows = _table(_section(ARCHITECTURE.read_text(encoding="utf-8"), "Stages"))
    served: dict[str, str] = {}
    for state_cell, module_cell, folder_cell in rows:
        names = [name for name in CODE.findall(state_cell) if name in folder_of_state]
        (module,) = CODE.findall(module_cell)
        folders = set(CODE.findall(folder_cell))
        assert module in MODULES, module
        assert set(CODE.findall(state_cell)) <= set(states), f"no such state: {state_cell}"
        for name in names:
            assert name not in served, f"{name} is in two rows"
            served[name] = module
            assert folder_of_state[name] in folders, f"{name} runs functions/{folder_of_state[name]}"
            handler = ast.parse((ROOT / "functions" / folder_of_state[name] / "app.py").read_text(encoding="utf-8"))
            imported = {
                name
                for node in ast.walk(handler)
                if isinstance(node, ast.ImportFrom)
                for name in (node.module, *(f"{node.module}.{alias.name}" for alias in node.names))
            }
            assert module in imported, f"functions/{folder_of_state[name]}/app.py does not call {module}"
    assert set(served) == set(folder_of_state), f"states without a row: {sorted(set(folder_of_state) - set(served))}"


def test_every_stage_module_serves_a_state():
    documented = set(CODE.findall(_section(ARCHITECTURE.read_text(encoding="utf-8"), "Stages")))
    shared = {"videobot.stages", "videobot.stages.common", "videobot.stages.vendor_tasks"}  # no state of their own
    stage_modules = {name for name in MODULES if name.startswith("videobot.stages")} - shared
    assert stage_modules <= documented, sorted(stage_modules - documented)


# ---- the README -------------------------------------------------------------------------------


def _readme_stage_rows() -> list[list[str]]:
    text = README.read_text(encoding="utf-8")
    start = text.index("| seed stage | state (ASL) |")
    return _table(text[start:].split("\n\n", 1)[0])


def test_the_readmes_stage_table_is_the_state_machine(states, folder_of_state):
    functions_beside: dict[str, set[str]] = {}  # a state -> the functions of the rows that name it
    for _stage, state_cell, function_cell in _readme_stage_rows():
        names = {name for name in CODE.findall(state_cell) if re.fullmatch(r"[A-Z]\w+", name)}
        assert names <= set(states), f"the README names states the ASL lacks: {sorted(names - set(states))}"
        folders = {name for name in CODE.findall(function_cell) if re.fullmatch(r"[a-z_]+", name)}
        assert all((ROOT / "functions" / folder / "app.py").exists() for folder in folders), folders
        for name in names:
            functions_beside.setdefault(name, set()).update(folders)
    missing = set(folder_of_state) - set(functions_beside)
    assert missing == set(), f"the README's stage table lacks {sorted(missing)}"
    wrong = {name: folder for name, folder in folder_of_state.items() if folder not in functions_beside[name]}
    assert wrong == {}, "each state's function is named in a row that names the state"


def test_the_doc_checks_see_the_tables(states, folder_of_state):
    assert {"TranscribeVoiceTopic", "SubmitClip", "AwaitRefusedImage", "RecordFailure"} <= set(folder_of_state)
    assert len(_readme_stage_rows()) >= 15
    assert _table("| a | b |\n|---|---|\n| `x` | y |\n") == [["`x`", "y"]]
