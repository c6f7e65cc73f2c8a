"""AssembleVideo's settings: where the music bed comes from, and the size budget per segment."""

from __future__ import annotations

import pytest

from videobot.stages import animate_clips, assemble_video


def test_music_path_is_a_local_file_or_a_storage_key(rt, tmp_path):
    local = tmp_path / "bed.mp3"
    local.write_bytes(b"ID3 not really audio")
    assert assemble_video.music_file(rt.with_env(MUSIC_PATH=str(local)), tmp_path) == local

    # On AWS the bed is an object in the media bucket: MUSIC_PATH is its key.
    rt.storage.put_bytes("music/bed.mp3", b"ID3 stored")
    fetched = assemble_video.music_file(rt.with_env(MUSIC_PATH="music/bed.mp3"), tmp_path)
    assert fetched.parent == tmp_path and fetched.read_bytes() == b"ID3 stored"

    assert assemble_video.music_file(rt.with_env(MUSIC_PATH=None), tmp_path) is None


def test_video_budget_keeps_ten_segments_and_the_audio_under_the_cap(rt):
    bitrate, share = animate_clips.video_budget(rt.settings)
    assert bitrate == 4_000_000  # MAX_VIDEO_BITRATE: the cap allows more
    assert 10 * share + 128_000 * 50 / 8 <= 50_000_000
    # a smaller cap lowers the rate with it
    bitrate, share = animate_clips.video_budget(rt.with_env(MAX_VIDEO_BYTES="5000000").settings)
    assert bitrate == pytest.approx(5e6 * 8 * 0.9 / 50 - 128_000, rel=1e-3)
    assert 10 * share + 128_000 * 50 / 8 <= 5_000_000
