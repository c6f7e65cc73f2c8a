"""AssembleVideo's settings: where the music bed comes from, and the size budget per segment."""

from __future__ import annotations

import pytest

from videobot import runtime
from videobot.stages import animate_clips, assemble_video


def test_music_path_is_a_local_file_or_a_storage_key(tmp_path, monkeypatch, reset_caches):
    local = tmp_path / "bed.mp3"
    local.write_bytes(b"ID3 not really audio")
    monkeypatch.setenv("MUSIC_PATH", str(local))
    runtime.reset()
    assert assemble_video.music_file(runtime.current(), tmp_path) == local

    # On AWS the bed is an object in the media bucket: MUSIC_PATH is its key.
    runtime.current().storage.put_bytes("music/bed.mp3", b"ID3 stored")
    monkeypatch.setenv("MUSIC_PATH", "music/bed.mp3")
    runtime.reset()
    fetched = assemble_video.music_file(runtime.current(), tmp_path)
    assert fetched.parent == tmp_path and fetched.read_bytes() == b"ID3 stored"

    monkeypatch.delenv("MUSIC_PATH")
    runtime.reset()
    assert assemble_video.music_file(runtime.current(), tmp_path) is None


def test_video_budget_keeps_ten_segments_and_the_audio_under_the_cap(monkeypatch, reset_caches):
    bitrate, share = animate_clips.video_budget(runtime.current().settings)
    assert bitrate == 4_000_000  # MAX_VIDEO_BITRATE: the cap allows more
    assert 10 * share + 128_000 * 50 / 8 <= 50_000_000
    monkeypatch.setenv("MAX_VIDEO_BYTES", "5000000")  # a smaller cap lowers the rate with it
    runtime.reset()
    bitrate, share = animate_clips.video_budget(runtime.current().settings)
    assert bitrate == pytest.approx(5e6 * 8 * 0.9 / 50 - 128_000, rel=1e-3)
    assert 10 * share + 128_000 * 50 / 8 <= 5_000_000
