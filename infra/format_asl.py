"""Lay out the state machine's JSON files compactly: two-space indents as usual, but each
retrier and catcher (a dict with ErrorEquals) on one line, and any other small dict or list
of plain values on one line when it fits in 120 columns. States stay one key a line.

The repeated Retry blocks then read as the same one or two lines in every Task, and each
line is the one in statemachine/retry_policies.json.

    python3 infra/format_asl.py statemachine/*.json           # rewrite in place
    python3 infra/format_asl.py --check statemachine/*.json   # exit 1 if one would change

Standard library only; run by infra/ci_checks.sh with --check."""

from __future__ import annotations

import json
import sys
from pathlib import Path

WIDTH = 120


def _flat(node) -> str:
    return json.dumps(node, ensure_ascii=False, separators=(", ", ": "))


def _plain(node) -> bool:
    return not isinstance(node, (dict, list))


def _small(node) -> bool:
    """A dict or list whose values are plain, or lists of plain values."""
    values = node.values() if isinstance(node, dict) else node
    return all(_plain(v) or (isinstance(v, list) and all(map(_plain, v))) for v in values)


def _one_line(node, prefix: str, parent_key: str | None) -> bool:
    if _plain(node) or not node:
        return True
    if parent_key == "States" or not _small(node):
        return False
    if isinstance(node, dict) and "ErrorEquals" in node:
        return True  # a retrier or a catcher, however long
    return len(prefix) + len(_flat(node)) + 1 <= WIDTH


def _render(node, level: int, key: str | None) -> str:
    pad = "  " * (level + 1)
    if isinstance(node, dict):
        items = []
        for k, v in node.items():
            prefix = f"{pad}{_flat(k)}: "
            body = _flat(v) if _one_line(v, prefix, k) else _render(v, level + 1, k)
            items.append(prefix + body)
    else:
        items = []
        for v in node:
            body = _flat(v) if _one_line(v, pad, None) else _render(v, level + 1, None)
            items.append(pad + body)
    open_, close = ("{", "}") if isinstance(node, dict) else ("[", "]")
    return open_ + "\n" + ",\n".join(items) + "\n" + "  " * level + close


def format_definition(node) -> str:
    return _render(node, 0, None) + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(a) for a in argv if a != "--check"]
    changed = []
    for path in paths:
        text = path.read_text(encoding="utf-8")
        data = json.loads(text)
        formatted = format_definition(data)
        assert json.loads(formatted) == data
        if formatted != text:
            changed.append(path)
            if not check:
                path.write_text(formatted, encoding="utf-8")
    if check and changed:
        print(
            "not laid out by infra/format_asl.py (run it without --check):",
            ", ".join(map(str, changed)),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
