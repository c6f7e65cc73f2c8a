"""`make demo` through the local CLI (issue 22, items 10 and 11): the terminal shows progress,
the questions and the result, not logs; the structured logs go to a file (LOG_LEVEL=INFO shows
them, never after a question); at the image and clip gates INTERACTIVE=1 writes one numbered
contact sheet and prints its path."""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from PIL import Image

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


def test_the_demo_shows_progress_the_question_and_the_outcome_and_logs_only_to_its_file(
    pipeline, tmp_path, capfd, monkeypatch
):
    asked = []

    def answer(prompt: str) -> str:
        print(prompt, end="", flush=True)
        shown = capfd.readouterr()
        asked.append(shown.out + shown.err)
        assert shown.out.endswith(PROMPT)
        _stage_logs_meanwhile("a stage logs while the user thinks")
        assert capfd.readouterr() == ("", "")  # nothing lands after the question
        return "n"  # rejected at the script gate: the run is short, its stages log all the same

    monkeypatch.setattr("builtins.input", answer)
    with cli.DemoLogs(tmp_path / "demo.log") as logs:
        assert cli.run_demo(pipeline, _args(), logs) == 1
    out, err = capfd.readouterr()
    terminal = "".join(asked) + out + err

    # progress, the question and the outcome; no log line anywhere on the terminal
    assert "✅ Запрос принят! ID: " in terminal and "Сценарий" in terminal and "=== Approval: script" in terminal
    assert re.search(r"Job \w+: cancelled", out)
    assert not re.search(r'\{"level"|"message"|stage started|gate decided|a stage logs', terminal)
    records = [json.loads(line) for line in (tmp_path / "demo.log").read_text(encoding="utf-8").splitlines()]
    messages = {r["message"] for r in records}  # every line of the file is a structured log line
    assert {"stage started", "stage finished", "gate decided", "a stage logs while the user thinks"} <= messages
    assert {"generate_script", "cancel_job"} <= {r.get("stage") for r in records}


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
    # shown once the question was answered (a stage's own line held beside it may come first:
    # RequestApproval logs its end as the question is asked)
    assert "held until the answer" in [r["message"] for r in shown]
    assert {"gate decided", "stage started"} <= {r["message"] for r in shown}
    job_id = re.search(r"Job (\w+): cancelled", out).group(1)
    assert jobs.get_job(pipeline.runtime.db, job_id).status == "cancelled"


def test_log_level_info_shows_the_lines_a_worker_process_appends_to_the_file(tmp_path, capfd):
    """The functions' workers write to the file, not through this process's logging: LOG_LEVEL
    shows the file's lines at its level or above, whoever wrote them, held while a question waits."""
    worker = (
        "import json, sys\n"
        "with open(sys.argv[1], 'a', encoding='utf-8') as f:\n"
        "    for level, message in (('INFO', 'a worker line'), ('DEBUG', 'a debug line')):\n"
        "        f.write(json.dumps({'level': level, 'message': message}) + '\\n')\n"
        "    f.write('Traceback (a worker crashed)\\n')\n"
    )
    path = tmp_path / "demo.log"
    with cli.DemoLogs(path, "INFO") as logs:
        with logs.holding():
            subprocess.run([sys.executable, "-c", worker, str(path)], check=True)
            logger.info("the runner's line")
            time.sleep(3 * logs.FOLLOW_SECONDS)
            assert capfd.readouterr() == ("", "")  # held while the question waits
    out, err = capfd.readouterr()
    shown = err.splitlines()
    assert out == "" and "Traceback (a worker crashed)" in shown
    assert {json.loads(line)["message"] for line in shown if line.startswith("{")} == {
        "a worker line",
        "the runner's line",
    }
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4


COLOURS = [(230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200), (245, 130, 48)]
COLOURS += [(145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60), (250, 190, 212)]


def _gate_with_media(rt, db, tmp_path: Path) -> dict:
    """A job at the image gate whose segment i is an image of COLOURS[i] and a 3 s clip that is
    black but for COLOURS[i] in its middle second."""
    import imageio_ffmpeg

    from tests.helpers import new_job
    from videobot import storage
    from videobot.data import gates
    from videobot.data import segments as segment_rows
    from videobot.pipeline import GateId

    job = new_job(db, "Реклама кофе")
    segment_rows.create_segments(db, job["id"], [f"Часть {i}" for i in range(10)], 5.0)
    store = rt.storage
    for i, colour in enumerate(COLOURS):
        png = tmp_path / f"{i}.png"
        Image.new("RGB", (640, 360), colour).save(png)
        clip = tmp_path / f"{i}.mp4"
        fill = "0x{:02x}{:02x}{:02x}".format(*colour)
        middle = f"drawbox=x=0:y=0:w=iw:h=ih:color={fill}@1:t=fill:enable='between(t,1,2)'"
        cmd = [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i"]
        cmd += ["color=c=black:s=320x180:d=3:r=10", "-vf", middle, "-pix_fmt", "yuv420p", "-y", str(clip)]
        subprocess.run(cmd, check=True, timeout=60)
        segment_rows.update_segment(
            db,
            job["id"],
            i,
            image_path=store.put_bytes(storage.segment_key(job["id"], "images", i, "png"), png.read_bytes()),
            video_path=store.put_bytes(storage.segment_key(job["id"], "clips", i, "mp4"), clip.read_bytes()),
            video_duration=3.0,
        )
    gates.open_gate(db, job["id"], GateId.parse("images"), "token-images")
    return job


def _cells_show(picture: Image.Image, colours: list[tuple[int, int, int]]) -> None:
    """Five to a row, 16:9 cells, each holding its segment's picture and its number's label."""
    assert picture.format == "PNG" and picture.size == (5 * 332 + 12, 44 + 2 * 192 + 12)
    for i, colour in enumerate(colours):
        x, y = 12 + (i % 5) * 332, 44 + (i // 5) * 192
        centre = picture.getpixel((x + 160, y + 90))
        assert all(abs(a - b) <= 24 for a, b in zip(centre, colour, strict=True)), (i, centre, colour)
        assert picture.getpixel((x + 9, y + 9)) == (0, 0, 0)  # the number's black label
        assert max(picture.crop((x + 6, y + 6, x + 40, y + 40)).convert("L").getdata()) > 200  # its white digits


def test_at_the_image_and_clip_gates_the_question_shows_one_numbered_contact_sheet(
    rt, db, tmp_path, capfd, monkeypatch
):
    from videobot.data import gates
    from videobot.pipeline import GateId

    job = jobs.get_job(db, _gate_with_media(rt, db, tmp_path)["id"])
    monkeypatch.setattr("builtins.input", lambda prompt: print(prompt) or "y")
    with cli.DemoLogs(tmp_path / "demo.log") as logs:
        ask = cli.Approver(rt, logs, tmp_path / "sheets")
        assert ask(job, gates.get_gate(db, job.id, GateId.parse("images"))) is True
        images = capfd.readouterr().out
        gates.open_gate(db, job.id, GateId.parse("videos"), "token-clips")
        assert ask(job, gates.get_gate(db, job.id, GateId.parse("videos"))) is True
        clips = capfd.readouterr().out

    # one path each, not ten
    assert not re.search(r"\.(png|mp4)$", images.split("Contact sheet")[0], re.MULTILINE)
    sheets = [re.search(r"Contact sheet \((images|clips) 1-10\): (\S+)", said) for said in (images, clips)]
    assert [m.group(1) for m in sheets] == ["images", "clips"]
    _cells_show(Image.open(sheets[0].group(2)), COLOURS)  # the images, numbered 1-10
    _cells_show(Image.open(sheets[1].group(2)), COLOURS)  # each clip's middle frame, not its black first one

    # --open: the system viewer gets the sheet; without one, the question says so and goes on
    opened = tmp_path / "opened"
    viewer = tmp_path / "bin" / ("open" if sheet.sys.platform == "darwin" else "xdg-open")
    viewer.parent.mkdir()
    viewer.write_text(f'#!/bin/sh\necho "$1" > {opened}\n')
    viewer.chmod(0o755)
    monkeypatch.setenv("PATH", str(viewer.parent))
    with cli.DemoLogs(tmp_path / "demo.log") as logs:
        clips = gates.get_gate(db, job.id, GateId.parse("videos"))
        assert cli.Approver(rt, logs, tmp_path / "sheets", open_sheets=True)(job, clips)
        for _ in range(200):
            if opened.exists() and opened.read_text().strip():
                break
            threading.Event().wait(0.05)
        assert opened.read_text().strip().endswith(f"{job.id}-clips-0.png")
        viewer.unlink()
        assert cli.Approver(rt, logs, tmp_path / "sheets", open_sheets=True)(job, clips)
    assert "(not opened: no system viewer (xdg-open or open) on this machine; open the file yourself)" in (
        capfd.readouterr().out
    )
