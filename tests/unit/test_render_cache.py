"""tests/render_cache.py serves a render again only for the very same input: the same source
bytes and the same options; anything else is rendered by the real function."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from tests import render_cache


class Renders:
    """A stand-in render that writes its inputs, counting its calls."""

    def __init__(self):
        self.calls = 0
        self.lock = threading.Lock()
        self.seconds = 0.0  # how long a render takes

    def clip(self, source, out, *, seconds: float = 5.0, variant: int = 0) -> Path:
        with self.lock:
            self.calls += 1
        time.sleep(self.seconds)
        Path(out).write_bytes(Path(source).read_bytes() + f"|{seconds}|{variant}".encode())
        return Path(out)

    def slide(self, prompt: str, *, seed: int = 0) -> bytes:
        with self.lock:
            self.calls += 1
        return f"{prompt}|{seed}".encode()

    def broken(self, source, out, *, seconds: float = 5.0) -> Path:
        self.calls += 1
        raise RuntimeError("ffmpeg failed")


@pytest.fixture
def renders() -> Renders:
    return Renders()


def test_the_same_file_input_is_rendered_once_and_copied_after(renders, tmp_path):
    cached = render_cache.file_render(renders.clip, tmp_path / "cache")
    source = tmp_path / "still.png"
    source.write_bytes(b"still")
    first = cached(source, tmp_path / "a.mp4", seconds=5.0)
    again = cached(str(source), tmp_path / "b.mp4")  # the default, and a str path: the same input
    assert renders.calls == 1
    assert first.read_bytes() == again.read_bytes() == b"still|5.0|0"


def test_other_bytes_or_other_options_are_rendered_afresh(renders, tmp_path):
    cached = render_cache.file_render(renders.clip, tmp_path / "cache")
    source = tmp_path / "still.png"
    source.write_bytes(b"one")
    cached(source, tmp_path / "1.mp4")
    cached(source, tmp_path / "2.mp4", variant=1)
    cached(source, tmp_path / "3.mp4", seconds=6.0)
    source.write_bytes(b"two")  # the same path, other content
    out = cached(source, tmp_path / "4.mp4")
    assert renders.calls == 4
    assert out.read_bytes() == b"two|5.0|0"


def test_a_failed_render_is_not_kept(renders, tmp_path):
    cached = render_cache.file_render(renders.broken, tmp_path / "cache")
    source = tmp_path / "still.png"
    source.write_bytes(b"x")
    for _ in range(2):
        with pytest.raises(RuntimeError):
            cached(source, tmp_path / "out.mp4")
    assert renders.calls == 2 and not (tmp_path / "out.mp4").exists()


def test_bytes_renders_key_on_every_argument(renders, tmp_path):
    cached = render_cache.bytes_render(renders.slide, tmp_path / "cache")
    assert cached("coffee", seed=1) == cached("coffee", seed=1) == b"coffee|1"
    assert cached("coffee") == b"coffee|0" and cached("tea", seed=1) == b"tea|1"
    assert renders.calls == 3


def test_threads_asking_at_once_get_one_render(renders, tmp_path):
    renders.seconds = 0.2  # the others ask while the first renders
    cached = render_cache.file_render(renders.clip, tmp_path / "cache")
    source = tmp_path / "still.png"
    source.write_bytes(b"same")
    threads = [threading.Thread(target=cached, args=(source, tmp_path / f"{i}.mp4")) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert renders.calls == 1
    assert {(tmp_path / f"{i}.mp4").read_bytes() for i in range(8)} == {b"same|5.0|0"}


class Encoder:
    """A stand-in for media.FFmpeg: a method render whose result depends on the instance."""

    def __init__(self, path: str | None, renders: Renders):
        self.path, self._renders = path, renders

    def clip(self, source, out, *, seconds: float = 5.0) -> Path:
        self._renders.calls += 1
        Path(out).write_bytes(Path(source).read_bytes() + f"|{self.path}|{seconds}".encode())
        return Path(out)


def test_a_method_is_keyed_on_its_instance_too(renders, tmp_path, monkeypatch):
    monkeypatch.setattr(Encoder, "clip", render_cache.file_render(Encoder.clip, tmp_path / "cache"))
    source = tmp_path / "still.png"
    source.write_bytes(b"still")
    Encoder(None, renders).clip(source, tmp_path / "a.mp4")
    Encoder(None, renders).clip(source, out=tmp_path / "b.mp4", seconds=5.0)  # the same instance state
    other = Encoder("/opt/bin/ffmpeg", renders).clip(source, tmp_path / "c.mp4")  # another ffmpeg
    assert renders.calls == 2
    assert (tmp_path / "a.mp4").read_bytes() == (tmp_path / "b.mp4").read_bytes() == b"still|None|5.0"
    assert other.read_bytes() == b"still|/opt/bin/ffmpeg|5.0"


def test_a_file_an_option_names_is_keyed_on_its_bytes(renders, tmp_path):
    """master_audio's music bed: the same path with other content is another input."""

    def mix(source, out, *, music=None) -> Path:
        renders.calls += 1
        bed = Path(music).read_bytes() if music else b""
        Path(out).write_bytes(Path(source).read_bytes() + b"+" + bed)
        return Path(out)

    cached = render_cache.file_render(mix, tmp_path / "cache")
    voice, music = tmp_path / "voice.flac", tmp_path / "music.mp3"
    voice.write_bytes(b"voice")
    music.write_bytes(b"jazz")
    cached(voice, tmp_path / "1.m4a", music=music)
    cached(voice, tmp_path / "2.m4a", music=str(music))
    assert renders.calls == 1
    music.write_bytes(b"rock")
    assert cached(voice, tmp_path / "3.m4a", music=music).read_bytes() == b"voice+rock"
    assert renders.calls == 2
