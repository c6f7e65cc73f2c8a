"""`make demo` through the local CLI (issue 22, items 10 and 11): the terminal shows progress,
the questions and the result, not logs; the structured logs go to a file (LOG_LEVEL=INFO shows
them, never after a question); at the image and clip gates INTERACTIVE=1 writes one numbered
contact sheet and prints its path."""

from __future__ import annotations

import argparse
import json
import re
import threading
from pathlib import Path

from PIL import Image, ImageStat

from local import cli, sheet
from videobot.data import jobs
from videobot.observability import logger

PROMPT = "Approve? [y]es / [n]o (reject): "


def _args(**kw) -> argparse.Namespace:
    values = {"topic": "Реклама кофе", "ratio": None, "interactive": True, "open": False, "timeout": 300}
    return argparse.Namespace(**{"job_id": None, "quiet": False, "verbose": False, **values, **kw})


def _stage_logs_meanwhile(message: str) -> None:
    """A stage logging while the question waits (the voice-over runs beside the gates)."""
    thread = threading.Thread(target=lambda: logger.info(message))
    thread.start()
    thread.join()


def test_the_interactive_demo_shows_progress_questions_and_contact_sheets_not_logs(
    pipeline, tmp_path, capfd, monkeypatch
):
    asked = []

    def answer(prompt: str) -> str:
        print(prompt, end="", flush=True)
        shown = capfd.readouterr()
        asked.append(shown.out)
        assert shown.out.endswith(PROMPT)
        _stage_logs_meanwhile("a stage logs while the user thinks")
        assert capfd.readouterr() == ("", "")  # nothing lands after the question
        return "y" if len(asked) < 3 else "n"  # the clips are rejected: no assembly to wait for

    monkeypatch.setattr("builtins.input", answer)
    with cli.DemoLogs(tmp_path / "demo.log") as logs:
        assert cli.run_demo(pipeline, _args(), logs) == 1
    out, err = capfd.readouterr()
    terminal = "".join(asked) + out + err

    # progress, the three questions and the outcome; no log line anywhere on the terminal
    assert "✅ Запрос принят! ID: " in terminal and "Изображения" in terminal
    assert re.search(r"Job \w+: cancelled", out)
    assert len(asked) == 3 and "=== Approval: script" in asked[0]
    assert not re.search(r'\{"level"|"message"|stage started|a stage logs', terminal)
    lines = (tmp_path / "demo.log").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is a structured log line
    assert {"stage started", "stage finished", "a stage logs while the user thinks"} <= {r["message"] for r in records}

    # one contact sheet per image and clip gate, instead of ten paths
    sheets = [re.search(r"Contact sheet \((images|clips) 1-10\): (\S+)", q) for q in asked[1:]]
    assert [m.group(1) for m in sheets] == ["images", "clips"]
    assert not re.search(r"\.(png|mp4)\s*$", asked[1].split("Contact sheet")[0], re.MULTILINE)
    for match in sheets:
        picture = Image.open(Path(match.group(2)))
        width, height = picture.size
        assert picture.format == "PNG" and (width, height) == (5 * 332 + 12, 44 + 2 * 192 + 12)  # 5 × 2, 16:9
        for i in range(10):  # every cell holds a picture and its number's black label
            x, y = 12 + (i % 5) * 332, 44 + (i // 5) * 192
            cell = picture.crop((x, y, x + 320, y + 180))
            assert sum(ImageStat.Stat(cell).stddev) > 10
            assert picture.getpixel((x + 9, y + 9)) == (0, 0, 0)
            label = picture.crop((x + 6, y + 6, x + 40, y + 40)).convert("L")
            assert max(label.getdata()) > 200  # the white number on it


def test_log_level_info_shows_the_logs_but_never_after_a_question(pipeline, tmp_path, capfd, monkeypatch):
    def answer(prompt: str) -> str:
        print(prompt, end="", flush=True)
        assert capfd.readouterr().out.endswith(PROMPT)
        _stage_logs_meanwhile("held until the answer")
        assert capfd.readouterr() == ("", "")  # held while the question waits
        return "n"

    monkeypatch.setattr("builtins.input", answer)
    with cli.DemoLogs(tmp_path / "demo.log", "INFO") as logs:
        assert cli.run_demo(pipeline, _args(quiet=True), logs) == 1  # rejected at the script gate
    out, err = capfd.readouterr()
    shown = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert shown[0]["message"] == "held until the answer"  # shown once the question was answered
    assert {"gate decided", "stage started"} <= {r["message"] for r in shown}
    job_id = re.search(r"Job (\w+): cancelled", out).group(1)
    assert jobs.get_job(job_id).status == "cancelled"


def test_the_contact_sheet_opens_in_the_system_viewer_or_says_why_not(tmp_path, monkeypatch):
    path = sheet.contact_sheet([(1, Image.new("RGB", (90, 160), "red"))], tmp_path / "s.png", "clips")
    assert Image.open(path).size == (5 * 192 + 12, 44 + 332 + 12)  # 9:16 cells
    monkeypatch.setenv("PATH", str(tmp_path))  # no viewer on the PATH
    assert "no system viewer" in sheet.open_in_viewer(path)
    opened = tmp_path / "opened"
    viewer = tmp_path / ("open" if sheet.sys.platform == "darwin" else "xdg-open")
    viewer.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    viewer.chmod(0o755)
    assert sheet.open_in_viewer(path) is None
    for _ in range(100):
        if opened.exists() and opened.read_text().strip():
            break
        threading.Event().wait(0.05)
    assert opened.read_text().strip() == str(path)
