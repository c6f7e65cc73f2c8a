"""layers/ffmpeg: the Makefile SAM runs (BuildMethod: makefile) builds bin/ffmpeg from the
imageio-ffmpeg wheel. The wheel is fetched from the package registry once into
.local/wheels; after that this build runs with no network."""

from __future__ import annotations

import platform
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="runs the x86_64 binary it builds")
def test_make_build_ffmpeg_layer_puts_a_working_ffmpeg_in_bin(tmp_path):
    artifacts = tmp_path / "FfmpegLayer"
    # When: SAM's call, with ARTIFACTS_DIR set as sam build sets it.
    subprocess.run(
        [
            "make",
            "-s",
            "-C",
            str(ROOT / "layers" / "ffmpeg"),
            "build-FfmpegLayer",
            f"ARTIFACTS_DIR={artifacts}",
            f"WHEEL_DIR={ROOT / '.local' / 'wheels'}",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )

    # Then: bin/ffmpeg (what /opt/bin/ffmpeg will be) runs and has what assembly uses.
    exe = artifacts / "bin" / "ffmpeg"
    assert exe.stat().st_mode & 0o111
    version = subprocess.run([str(exe), "-hide_banner", "-version"], capture_output=True, text=True, check=True).stdout
    assert "--enable-libx264" in version and "--enable-libass" in version and "--enable-gpl" in version
    filters = subprocess.run([str(exe), "-hide_banner", "-filters"], capture_output=True, text=True).stdout
    for name in ("ebur128", "subtitles", "sidechaincompress", "atempo", "alimiter"):
        assert f" {name} " in filters
    assert (artifacts / "licenses" / "imageio-ffmpeg-LICENSE").read_text().startswith("BSD")
