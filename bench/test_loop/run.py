"""The test loop, timed as a newcomer meets it: a fresh clone, `make install`, then `make test`
several times in a row, and `make test-unit`.

Each run reports its wall time, the CPU time it used (user + system, its processes and theirs:
on a shared machine the wall time grows with the other work, the CPU time hardly does) and the
1-minute load average before and after it. With `--lock FILE`, each timed run first takes that
file's flock (the lock a shared machine's heavy jobs agree on), so two test runs never overlap.

    make bench-test-loop                        # RUNS=3, a clone of this repository's HEAD
    python -m bench.test_loop.run --runs 3 --lock /tmp/heavy-test.lock
"""

from __future__ import annotations

import argparse
import fcntl
import os
import resource
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Timed:
    command: str
    wall: float
    cpu: float
    load_before: float
    load_after: float
    ok: bool


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextmanager
def _flock(path: str):
    with open(path, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def timed(command: list[str], cwd: Path, lock: str | None, log: Path) -> Timed:
    with _flock(lock) if lock else nullcontext():
        load_before, cpu_before, start = os.getloadavg()[0], _children_cpu(), time.monotonic()
        with open(log, "ab") as out:
            done = subprocess.run(command, cwd=cwd, stdout=out, stderr=subprocess.STDOUT)
        wall, cpu = time.monotonic() - start, _children_cpu() - cpu_before
        load_after = os.getloadavg()[0]
    result = Timed(" ".join(command), wall, cpu, load_before, load_after, done.returncode == 0)
    print(
        f"{result.command}: {wall:.0f} s wall, {cpu:.0f} s CPU, load {load_before:.1f} -> {load_after:.1f}"
        f"{'' if result.ok else ', FAILED (see ' + str(log) + ')'}",
        flush=True,
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="make test, this many times in a row")
    parser.add_argument("--source", default=str(ROOT), help="the repository to clone (its checked-out HEAD)")
    parser.add_argument("--into", help="the clone's folder (default: a new temporary folder)")
    parser.add_argument("--lock", help="a lock file each timed run holds (a shared machine's heavy-job lock)")
    args = parser.parse_args()

    clone = Path(args.into or tempfile.mkdtemp(prefix="test-loop-")) / "repo"
    subprocess.run(["git", "clone", "-q", args.source, str(clone)], check=True)
    head = subprocess.run(["git", "log", "--oneline", "-1"], cwd=clone, capture_output=True, text=True).stdout
    print(f"fresh clone of {args.source} at {head.strip()} in {clone}", flush=True)
    log = clone.parent / "test-loop.log"
    results = [timed(["make", "install"], clone, None, log)]
    results += [timed(["make", "test"], clone, args.lock, log) for _ in range(args.runs)]
    results.append(timed(["make", "test-unit"], clone, args.lock, log))

    print("\n| command | wall | CPU (user + sys) | load average (1 min) before → after |")
    print("|---|---|---|---|")
    for r in results:
        status = "" if r.ok else " (failed)"
        print(f"| `{r.command}`{status} | {r.wall:.0f} s | {r.cpu:.0f} s | {r.load_before:.1f} → {r.load_after:.1f} |")
    print(f"\nlog: {log}")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
