"""layers/ffmpeg: the Makefile SAM runs (BuildMethod: makefile) builds bin/ffmpeg from the
imageio-ffmpeg wheel. The wheel is fetched from the package registry once into
.local/wheels; after that this build runs with no network."""

from __future__ import annotations

import os
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


def _functions_architectures(template: dict) -> set[str]:
    default = template["Globals"]["Function"]["Architectures"]
    return {
        arch
        for res in template["Resources"].values()
        if res["Type"] == "AWS::Serverless::Function"
        for arch in res["Properties"].get("Architectures", default)
    }


def _make_print_arch(layer_dir: Path) -> str:
    # its own make, not a sub-make of the one running the tests (whose MAKEFLAGS would print
    # "make[2]: Entering directory" around the answer)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-C", str(layer_dir), "print-arch"],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    ).stdout.strip()


def test_the_layer_is_built_for_the_functions_architecture(tmp_path):
    # A layer built for another architecture deploys, and its ffmpeg fails at the first job
    # ("exec format error"): the Makefile reads the architecture from template.yaml's Globals.
    from local import template as tpl

    template = tpl.load_template()
    (arch,) = _functions_architectures(template)  # one architecture for every function
    layer = template["Resources"]["FfmpegLayer"]
    assert layer["Properties"]["CompatibleArchitectures"] == [arch]
    assert layer["Metadata"]["BuildArchitecture"] == arch
    wheel_arch = {"x86_64": "x86_64", "arm64": "aarch64"}
    assert _make_print_arch(ROOT / "layers" / "ffmpeg") == wheel_arch[arch]
    # and it follows the template: the same Makefile beside an arm64 template builds for aarch64
    (tmp_path / "layers" / "ffmpeg").mkdir(parents=True)
    (tmp_path / "layers" / "ffmpeg" / "Makefile").write_text((ROOT / "layers" / "ffmpeg" / "Makefile").read_text())
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    (tmp_path / "template.yaml").write_text(text.replace(f"Architectures: [{arch}]", "Architectures: [arm64]"))
    assert _make_print_arch(tmp_path / "layers" / "ffmpeg") == "aarch64"
