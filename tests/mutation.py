"""`make mutation`: mutmut over the modules that hold money and gates ([tool.mutmut] in
pyproject.toml names them and their unit tests), one mutant at a time, then the score of each
module. A module scores killed / (mutants - equivalent ones); below 85% the run fails.

mutmut names a mutant after its file's path, which must be the module's import name, so it
runs from .local/mutation/, where `videobot` is a link to functions/videobot (and `tests`,
`pyproject.toml` links to ours). Its results stay in .local/mutation/mutants/ (`make
mutation REPORT=1` prints them again; `cd .local/mutation && ../../.venv/bin/mutmut show NAME`
shows a mutant). The tests get one embedded PostgreSQL for the whole
run (TEST_DATABASE_URL); each mutant's pytest copies its database from the migrated template.
Each run starts afresh (mutmut would keep the verdicts of functions whose code did not change,
even when their tests did).

    make mutation                          # every module
    make mutation MUTANTS='videobot.control.*'   # some mutants (mutmut's name globs)

A "timeout" from mutmut is not a kill until checked: its wall-clock limit is about 15 times the
tests' measured time, and a niced run on a busy machine can be starved past it by a mutant
whose tests all pass. So after each run every timed-out mutant, and every survivor (so that each
one reported was seen passing its tests), is run again directly: its tests with the mutant
switched on (MUTANT_UNDER_TEST) and a limit of RECHECK_SECONDS. A test that fails kills it, all
passing is a survivor, only a run past the limit stays a timeout. The verdicts are kept in
mutants/rechecked.json, which the report reads.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".local" / "mutation"
PGDATA = ROOT / ".local" / "mutation-pgdata"
THRESHOLD = 0.85

# Mutants no test can kill because the program behaves the same with them: each with why.
# Keys are mutmut's names (`mutmut show NAME` prints the change). Besides these, a mutant that
# only changes the letter case of SQL text is equivalent (`sql_case_only`).
EQUIVALENT: dict[str, str] = {
    "videobot.control.x_cancel__mutmut_23": "decide(approve=None): approve is only tested for truth; None is false",
    "videobot.control.x_decide__mutmut_30": (
        "`claimed is None or round_ ...`: after a successful claim the extra read finds the gate"
        " decided by it, so the stale-round answer cannot follow"
    ),
    "videobot.data.gates.x_reopen_gate__mutmut_12": "', REVISIONS = REVISIONS - 1': SQL names are case-insensitive",
    "videobot.data.ledger.x__insert__mutmut_7": (
        "' RESERVED_USD, AMOUNT_USD, …': the INSERT's column names, unquoted, so case-insensitive"
    ),
    "videobot.data.ledger.x_check__mutmut_14": (
        "`used + usd >= budget + 1e-9`: differs only when the sum is budget + 1e-9 to the last bit;"
        " the 1e-9 is the tolerance that makes an exact fit fit"
    ),
    "videobot.usage.x_summary__mutmut_27": "the total's first value: replaced by round(usd, 4) before it is returned",
    "videobot.usage.x_summary__mutmut_30": "the narration's first value: replaced before it is returned",
    "videobot.usage.x_speech_price__mutmut_12": "`model.split(':')[0]`: only the part before the first colon is read",
    "videobot.usage.x_speech_price__mutmut_15": "`split(':', 2)[0]`: only the part before the first colon is read",
    "videobot.usage.x_speech_price__mutmut_13": (
        "`model.rsplit(':', 1)[0]`: differs only for a model with two colons; a Polly model is its engine"
        " or 'engine:VoiceId' (PollySpeech), and a VoiceId has none"
    ),
    "videobot.usage.x_speech_usd__mutmut_5": "`usd = realtime_usd(...)`: usd is 0.0 there, so `=` is `+=`",
    **{
        f"videobot.usage.xǁBillǁllm__mutmut_{n}": (
            "a usage naming no model is priced at the fallback: '', 'None' and 'XXXX' name no listed model"
        )
        for n in (42, 44, 47)
    },
    "videobot.usage.x_settle_task__mutmut_18": (
        "{'CREDITS': ...}: the key is a column name in settle's UPDATE, unquoted, so case-insensitive"
    ),
    "videobot.lifecycle.x_reconcile_execution__mutmut_10": (
        "`find_job(db, job_id) if job_id or True`: find_job(None) looks for `id = NULL`, which finds no job,"
        " as the guard answers"
    ),
    "videobot.lifecycle.x_gate_question__mutmut_3": (
        "`kind is not None or index is not None`: a refusal GateId always has both (its __post_init__"
        " raises otherwise), so `or` and `and` agree"
    ),
    "videobot.lifecycle.x_gate_question__mutmut_21": (
        "`r.media(None)`: the clip's columns; at an image refusal no segment has a clip yet (clips are"
        " made after the images gate), so the segments without either are the same"
    ),
    "videobot.lifecycle.x_stop_vendor_tasks__mutmut_15": (
        "`>= deadline`: differs only when the monotonic clock reads exactly deadline - timeout"
    ),
    "videobot.lifecycle.x_stop_vendor_tasks__mutmut_16": (
        "`break` for `continue` once no time is left: the clock only moves on, so every later task is"
        " skipped either way; only the log line of each skipped task is lost"
    ),
    "videobot.data.gates.x_revise_gate__mutmut_62": (
        "`claimed or True`: the gate's row is locked FOR UPDATE and undecided, so the claim in the"
        " same transaction always returns it"
    ),
}

SQL_CASE = "SQL keywords and unquoted names are case-insensitive (so are the 'utc' zone and interval units)"
SQL_WORD = re.compile(r"\b(SELECT|INSERT|UPDATE|DELETE|WHERE|SET|RETURNING|AND|NULL|FROM|ON CONFLICT|ORDER BY|LIMIT)\b")
# quoted values whose case PostgreSQL ignores: a time zone's name, an interval's unit
CASELESS_LITERALS = {"'utc'", "'1 second'"}


def _sql_case_only(old: str, new: str) -> bool:
    if old.lower() != new.lower() or not SQL_WORD.search(old.upper()):
        return False
    quoted = re.compile(r"'[^']*'")
    return all(
        a == b or a.lower() in CASELESS_LITERALS for a, b in zip(quoted.findall(old), quoted.findall(new), strict=True)
    )


def sql_case_only(module: str, name: str) -> bool:
    """Whether mutant `name` differs from its original only in the case of SQL strings."""
    tree = _parsed(module)
    function = name.rpartition(".")[2]
    original = tree.get(function.partition("__mutmut_")[0] + "__mutmut_orig")
    mutant = tree.get(function)
    if original is None or mutant is None:
        return False
    changed = []
    for a, b in zip(ast.walk(original), ast.walk(mutant), strict=False):
        if type(a) is not type(b):
            return False
        if isinstance(a, ast.Constant) and isinstance(b, ast.Constant) and a.value != b.value:
            if not (isinstance(a.value, str) and isinstance(b.value, str)):
                return False
            changed.append((a.value, b.value))
    same_shape = _shape(original) == _shape(mutant)
    return same_shape and bool(changed) and all(_sql_case_only(a, b) for a, b in changed)


def _shape(function: ast.AST) -> str:
    """The function's tree with its name and string values blanked."""
    copy = ast.parse(ast.unparse(function)).body[0]
    copy.name = "_"  # type: ignore[attr-defined]
    for node in ast.walk(copy):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            node.value = ""
    return ast.dump(copy)


_trees: dict[str, dict[str, ast.AST]] = {}


def _parsed(module: str) -> dict[str, ast.AST]:
    if module not in _trees:
        path = WORK / "mutants" / Path(*module.split(".")).with_suffix(".py")
        tree = ast.parse(path.read_text())
        _trees[module] = {
            node.name: node
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and "__mutmut_" in node.name
        }
    return _trees[module]


def equivalence(module: str, name: str) -> str | None:
    if name in EQUIVALENT:
        return EQUIVALENT[name]
    return SQL_CASE if sql_case_only(module, name) else None


def stage() -> None:
    WORK.mkdir(parents=True, exist_ok=True)
    for name, target in (
        ("videobot", ROOT / "functions" / "videobot"),
        ("tests", ROOT / "tests"),
        ("pyproject.toml", ROOT / "pyproject.toml"),
    ):
        link = WORK / name
        if not link.is_symlink():
            link.symlink_to(target)


def start_database():
    import pgserver

    PGDATA.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(str(PGDATA))
    return server


def run_mutmut(names: list[str], database_url: str) -> int:
    # A fresh run each time: mutmut retests a function when its code changes, not when its
    # tests do, and a score must be the tests' of today.
    shutil.rmtree(WORK / "mutants", ignore_errors=True)
    env = {**os.environ, "TEST_DATABASE_URL": database_url}
    mutmut = Path(sys.executable).with_name("mutmut")
    # one mutant at a time: the machine is shared
    return subprocess.call([str(mutmut), "run", "--max-children", "1", *names], cwd=WORK, env=env)


RECHECK_SECONDS = 300


def recheck(database_url: str) -> None:
    """Run each mutant mutmut timed out, or found surviving, directly (see the module's
    docstring)."""
    stats = json.loads((WORK / "mutants" / "mutmut-stats.json").read_text())
    tests_of = stats["tests_by_mangled_function_name"]
    path = WORK / "mutants" / "rechecked.json"
    rechecked = json.loads(path.read_text()) if path.exists() else {}
    python = Path(sys.executable)
    for module, codes in results().items():
        for name, code in sorted(codes.items()):
            if STATUS.get(code) not in ("timeout", "survived") or name in rechecked or equivalence(module, name):
                continue
            tests = sorted(tests_of.get(name.partition("__mutmut_")[0], ()))
            env = {**os.environ, "TEST_DATABASE_URL": database_url, "MUTANT_UNDER_TEST": name}
            args = [str(python), "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:xdist", *tests]
            try:
                run = subprocess.run(args, cwd=WORK / "mutants", env=env, capture_output=True, timeout=RECHECK_SECONDS)
                # 0: every test passed; 5: none ran; else a test failed or could not run
                verdict = {0: 0, 5: 33}.get(run.returncode, 1)
            except subprocess.TimeoutExpired:
                verdict = -24
            rechecked[name] = verdict
            print(f"rechecked {name}: {STATUS[verdict]}", flush=True)
            path.write_text(json.dumps(rechecked, indent=1))


def results() -> dict[str, dict[str, int | None]]:
    """Each mutated module's mutants and their exit codes (mutmut's .meta files)."""
    found = {}
    for meta in sorted((WORK / "mutants" / "videobot").rglob("*.py.meta")):
        data = json.loads(meta.read_text())
        module = ".".join(meta.relative_to(WORK / "mutants").with_suffix("").with_suffix("").parts)
        found[module] = data["exit_code_by_key"]
    rechecked = WORK / "mutants" / "rechecked.json"
    verdicts = json.loads(rechecked.read_text()) if rechecked.exists() else {}
    for codes in found.values():
        codes.update({name: verdicts[name] for name in codes if name in verdicts})
    return found


# mutmut's exit codes; +-24 is SIGXCPU, its CPU-time limit on a mutant that loops (stats.py)
STATUS = {
    1: "killed",
    3: "killed",
    0: "survived",
    33: "no tests",
    5: "no tests",
    36: "timeout",
    24: "timeout",
    -24: "timeout",
    None: "not checked",
}


def report(found: dict[str, dict[str, int | None]]) -> bool:
    ok = True
    for module, codes in found.items():
        statuses = {name: STATUS.get(code, "suspicious") for name, code in codes.items()}
        why = {name: equivalence(module, name) for name, status in statuses.items() if status != "killed"}
        equivalent = {name: reason for name, reason in why.items() if reason}
        counted = {name: s for name, s in statuses.items() if name not in equivalent}
        tally = Counter(counted.values())
        killed = tally["killed"] + tally["timeout"]
        total = len(counted)
        score = killed / total if total else 1.0
        unchecked = tally["not checked"]
        line = f"{module}: {killed}/{total} killed ({score:.1%}), {len(equivalent)} equivalent"
        if unchecked:
            line += f", {unchecked} not checked yet"
        print(line)
        for name, status in sorted(counted.items()):
            if status not in ("killed", "timeout", "not checked"):
                print(f"    {status}: {name}")
        for name, reason in sorted(equivalent.items()):
            print(f"    equivalent: {name} ({reason})")
        if not unchecked and score < THRESHOLD:
            ok = False
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mutants", nargs="*", help="mutmut name globs (default: every mutant)")
    parser.add_argument("--report", action="store_true", help="only print the scores of the last run")
    parser.add_argument(
        "--recheck", action="store_true", help="only run the last run's timeouts and survivors directly"
    )
    args = parser.parse_args()
    stage()
    if args.recheck:
        server = start_database()
        try:
            recheck(server.get_uri())
        finally:
            server.cleanup()
    elif not args.report:
        server = start_database()
        try:
            code = run_mutmut(args.mutants, server.get_uri())
            if code == 0:
                recheck(server.get_uri())
        finally:
            server.cleanup()
        if code != 0:
            return code
    return 0 if report(results()) else 1


if __name__ == "__main__":
    sys.exit(main())
