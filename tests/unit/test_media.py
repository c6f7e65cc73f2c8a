"""Assembly, measured on its output: streams and duration, loudness (ebur128), narration sync
against clips and tones with known onsets, subtitles, the music bed's ducking, and the size
cap on high-entropy input. Short segments (2 s) keep it quick; the figures scale with length."""

from __future__ import annotations

import array
import io
import math
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from videobot import media

FFMPEG = media.FFmpeg()  # the bundled imageio-ffmpeg, as in the local runner

SLOT = 2.0


@pytest.fixture(scope="module", autouse=True)
def real_renders(renders_once):
    """These tests, and their module's fixtures, are about the renders themselves: no render
    cache (tests/render_cache.py)."""
    with pytest.MonkeyPatch.context() as patch:
        for owner, name, function in renders_once:
            patch.setattr(owner, name, function)
        yield


COLOURS = ["red", "lime", "blue"]  # one per test clip, told apart by the dominant channel


def _ffmpeg_bytes(args: list[str]) -> bytes:
    return subprocess.run(
        [FFMPEG.exe, "-hide_banner", "-nostdin", "-loglevel", "error", *args], capture_output=True, check=True
    ).stdout


def runway_like_clip(path: Path, colour: str, *, seconds: float = SLOT, size: str = "1280x720") -> Path:
    """H.264, 24 fps, no audio, like a Runway clip: a solid colour with a moving box."""
    FFMPEG.run(
        [
            "-f",
            "lavfi",
            "-i",
            f"color=c={colour}:s={size}:r=24:d={seconds}",
            "-vf",
            "drawbox=x=t*80:y=100:w=120:h=120:color=white:t=fill",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ]
    )
    return path


def tone(path: Path, seconds: float, *, freq: int = 1000, lead: float = 0.0) -> Path:
    """A narration stand-in: `lead` s of silence, then a tone (its onset is known exactly)."""
    FFMPEG.run(
        [
            "-f",
            "lavfi",
            "-i",
            f"sine=frequency={freq}:sample_rate=24000:duration={seconds}",
            "-af",
            f"adelay={int(lead * 1000)},volume=-12dB",
            "-ac",
            "1",
            str(path),
        ]
    )
    return path


def noise_clip(path: Path, seconds: float) -> Path:
    """High-entropy video: fresh full-range noise every frame, which no encoder can compress."""
    FFMPEG.run(
        [
            "-f",
            "lavfi",
            "-i",
            f"color=c=gray:s=1280x720:r=24:d={seconds}",
            "-vf",
            "noise=alls=100:allf=t+u",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "12",
            "-pix_fmt",
            "yuv420p",
            str(path),
        ]
    )
    return path


def frame_colours(path: Path) -> list[tuple[int, int, int]]:
    raw = _ffmpeg_bytes(["-i", str(path), "-vf", "scale=1:1:flags=area", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"])
    return [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]


def envelope(path: Path, rate: int = 8000, block: float = 0.01) -> list[float]:
    """dBFS per 10 ms block of the first audio stream, mono."""
    raw = _ffmpeg_bytes(["-i", str(path), "-map", "0:a:0", "-ac", "1", "-ar", str(rate), "-f", "s16le", "-"])
    samples = array.array("h", raw)
    n = int(rate * block)
    out = []
    for i in range(0, len(samples) - n + 1, n):
        rms = math.sqrt(sum(x * x for x in samples[i : i + n]) / n) / 32768
        out.append(20 * math.log10(rms) if rms > 0 else -120.0)
    return out


def onsets(env: list[float], *, threshold: float = -35.0, block: float = 0.01) -> list[float]:
    """Times where the level rises through threshold after at least 50 ms below it."""
    found, quiet = [], 5
    for i, level in enumerate(env):
        if level >= threshold and quiet >= 5:
            found.append(i * block)
        quiet = quiet + 1 if level < threshold else 0
    return found


def first_frames(colours: list[tuple[int, int, int]], fps: int = 24) -> list[float]:
    """When each clip's colour first shows (dominant channel; near-black fade frames skipped)."""
    seen, times = set(), []
    for i, rgb in enumerate(colours):
        if max(rgb) < 40:
            continue
        channel = rgb.index(max(rgb))
        if channel not in seen:
            seen.add(channel)
            times.append(i / fps)
    return times


def top_level_boxes(path: Path) -> list[str]:
    data, boxes, pos = path.read_bytes(), [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        boxes.append(data[pos + 4 : pos + 8].decode("latin-1"))
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        if size < 8:
            break
        pos += size
    return boxes


@pytest.fixture(scope="module")
def assembled(tmp_path_factory) -> dict:
    """Three 2 s segments; narration 0 short, 1 too long (sped up to fit), 2 short."""
    tmp = tmp_path_factory.mktemp("assembly")
    texts = ["Кофе по утрам", "Fresh coffee, every morning", "Свежий кофе — fresh coffee"]
    segments = [
        FFMPEG.prepare_segment(
            runway_like_clip(tmp / f"clip{i}.mp4", c),
            tmp / f"seg{i}.mp4",
            text=texts[i],
            seconds=SLOT,
            bitrate=media.video_bitrate_for(3 * SLOT),
        )
        for i, c in enumerate(COLOURS)
    ]
    # Part 2 starts with 0.4 s of silence, as TTS output often does: it is trimmed.
    parts = [tone(tmp / "n0.wav", 1.0), tone(tmp / "n1.wav", 2.3), tone(tmp / "n2.wav", 1.2, lead=0.4)]
    narration = FFMPEG.fit_narration(parts, tmp / "voiceover.flac", slot=SLOT)
    out = FFMPEG.assemble(segments, narration, tmp / "final.mp4", clip_seconds=SLOT)
    return {"out": out, "narration": narration, "segments": segments, "tmp": tmp}


def test_output_streams_duration_and_faststart(assembled):
    info = FFMPEG.probe(assembled["out"])
    assert (info.video_codec, info.pix_fmt, info.width, info.height) == ("h264", "yuv420p", 1280, 720)
    assert (info.audio_codec, info.sample_rate) == ("aac", 48000)
    assert info.duration == pytest.approx(3 * SLOT, abs=0.05)
    boxes = top_level_boxes(assembled["out"])
    assert boxes.index("moov") < boxes.index("mdat")  # +faststart: playable while downloading


def test_loudness_is_minus_16_lufs_with_the_true_peak_under_minus_1(assembled):
    loud = FFMPEG.measure_loudness(assembled["out"])
    assert loud.integrated == pytest.approx(-16.0, abs=1.0)
    assert loud.true_peak <= -1.0


def test_each_narration_starts_with_its_clip(assembled):
    # Given clips of known colours and tones that start exactly at 0 s of each part,
    # when assembled, each tone starts within 150 ms of its segment start and of its clip.
    clips = first_frames(frame_colours(assembled["out"]))
    voice = onsets(envelope(assembled["out"]))
    assert len(clips) == 3 and len(voice) == 3, (clips, voice)
    for i in range(3):
        assert voice[i] == pytest.approx(i * SLOT, abs=0.15)
        assert clips[i] == pytest.approx(i * SLOT, abs=0.15)
        assert voice[i] == pytest.approx(clips[i], abs=0.15)


def test_long_narration_is_sped_up_whole_and_short_is_padded(assembled):
    env = envelope(assembled["narration"])
    block = 0.01

    def loud_between(a: float, b: float) -> float:
        return sum(1 for x in env[int(a / block) : int(b / block)] if x > -60) * block

    # Part 0 (1.0 s) is left as it is and padded; part 1 (2.3 s) plays whole at 2.3/1.9x, ending
    # a breath before part 2.
    assert loud_between(0, SLOT) == pytest.approx(1.0, abs=0.05)
    assert loud_between(SLOT, 2 * SLOT) == pytest.approx(SLOT - media.NARRATION_TAIL, abs=0.08)
    assert loud_between(2 * SLOT - 0.06, 2 * SLOT) == 0
    assert FFMPEG.duration(assembled["narration"]) == pytest.approx(3 * SLOT, abs=0.03)


def test_a_part_too_long_for_its_slot_is_refused_never_cut(tmp_path):
    # 3.5 s of speech does not fit 2 s at 1.25x: fit_narration will not cut it (RecordVoiceover
    # has such a part rewritten shorter before it gets here).
    parts = [tone(tmp_path / "n0.wav", 1.0), tone(tmp_path / "n1.wav", 3.5)]
    with pytest.raises(media.MediaError, match=r"part 2 .* never cut"):
        FFMPEG.fit_narration(parts, tmp_path / "vo.flac", slot=SLOT)
    assert not (tmp_path / "vo.flac").exists()


def test_speech_span_leaves_out_the_silence_around_the_speech(tmp_path):
    part = tmp_path / "part.wav"
    FFMPEG.run(
        [
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=500:duration=1.5",
            "-af",
            "adelay=300,apad=pad_dur=0.7",
            "-ac",
            "1",
            str(part),
        ]
    )
    span = FFMPEG.speech_span(part)
    assert span.start == pytest.approx(0.3 - media.SPEECH_MARGIN, abs=0.03)
    assert span.end == pytest.approx(1.8 + media.SPEECH_MARGIN, abs=0.03)
    # 2.5 s in the file, 1.56 s of it speech: nothing to speed up in a 2 s slot.
    assert media.narration_fit(span.seconds, slot=2.0).tempo == 1.0


@pytest.mark.parametrize(
    "duration, tempo, fits",
    [
        (3.0, 1.0, True),  # fits: as it is, padded with silence
        (5.4, 5.4 / 4.9, True),  # a little long: a gentle tempo change only
        (6.125, 1.25, True),  # exactly what 1.25x fits (media.narration_room)
        (7.0, 1.25, False),  # too long even at 1.25x: to be rewritten shorter, never cut
    ],
)
def test_narration_policy(duration, tempo, fits):
    fit = media.narration_fit(duration, slot=5.0, max_tempo=1.25)
    assert fit.tempo == pytest.approx(tempo, abs=1e-3) and fit.fits is fits
    assert (fit.spoken <= 5.0 - media.NARRATION_TAIL + 1e-6) is fits
    assert (duration <= media.narration_room(5.0, 1.25) + 1e-9) is fits


@pytest.mark.parametrize("ratio", ["16:9", "9:16"])
def test_subtitles_cyrillic_and_latin_sit_inside_the_frame_at_a_readable_size(tmp_path, ratio):
    w, h = media.SIZES[ratio]
    clip = runway_like_clip(tmp_path / "black.mp4", "black", seconds=1.0, size=f"{w}x{h}")
    text = "Свежий кофе каждое утро — fresh coffee every single morning, бодрость на весь день"
    seg = FFMPEG.prepare_segment(clip, tmp_path / "seg.mp4", text=text, aspect_ratio=ratio, seconds=1.0, fade=0)
    png = _ffmpeg_bytes(["-ss", "0.5", "-i", str(seg), "-frames:v", "1", "-f", "image2", "-c:v", "png", "-"])
    frame = Image.open(io.BytesIO(png)).convert("L")
    # Only the subtitle is white on this black clip (the moving box is at the top: crop it off).
    lower = frame.crop((0, h // 3, w, h)).point(lambda v: 255 if v > 200 else 0)
    left, top, right, bottom = lower.getbbox()
    assert left >= w * 0.05 and right <= w * 0.95  # wrapped inside the side margins
    assert bottom + h // 3 <= h - (40 if ratio == "16:9" else 250)  # above the bottom (and the app UI)
    lines = 2 if ratio == "16:9" else 3
    assert (bottom - top) / lines >= 34  # cap height ~ 5% of 720: readable


def test_subtitles_use_the_shipped_font(tmp_path):
    with pytest.raises(Exception, match="shipped font"):
        media._check_subtitle_font("fontselect: (DejaVu Sans, 700, 0) -> /usr/share/fonts/x.ttf, 0, X")
    media._check_subtitle_font(f"fontselect: (DejaVu Sans, 700, 0) -> {media.FONT_DIR}/DejaVuSans-Bold.ttf, 0, X")


def test_music_bed_is_ducked_under_the_voice(tmp_path):
    # Voice: 1 kHz in the first second only. Music: 150 Hz all through. Measure the music band.
    voice = tone(tmp_path / "voice.wav", 1.0)
    music = tmp_path / "music.wav"
    FFMPEG.run(["-f", "lavfi", "-i", "sine=frequency=150:duration=1.5", "-ac", "2", str(music)])
    out = FFMPEG.master_audio(voice, tmp_path / "mix.m4a", duration=3.0, music=music)

    def music_level(start: float, length: float) -> float:
        err = FFMPEG.run(
            [
                "-ss",
                str(start),
                "-t",
                str(length),
                "-i",
                str(out),
                "-af",
                "lowpass=f=300,lowpass=f=300,astats=measure_overall=RMS_level:measure_perchannel=0",
                "-f",
                "null",
                "-",
            ]
        )
        return float(err.rsplit("RMS level dB:", 1)[1].split()[0])

    under_voice, alone = music_level(0.3, 0.6), music_level(1.5, 0.4)
    assert alone - under_voice >= 6.0  # ducked by at least 6 dB while the voice speaks
    assert FFMPEG.duration(out) == pytest.approx(3.0, abs=0.03)  # looped to length


def test_size_cap_holds_on_high_entropy_input(tmp_path):
    # A deliberately incompressible input and a cap scaled to its length (3 x 1 s here, the
    # same bit/s arithmetic as 50 MB for 50 s): the bitrate derived from the duration holds it.
    seconds, count, max_bytes = 1.0, 3, 700_000
    bitrate = media.video_bitrate_for(count * seconds, max_bytes)
    share = int(media.video_bitrate_for(count * seconds, max_bytes, ceiling=10**9) * seconds / 8)
    noise = noise_clip(tmp_path / "noise.mp4", seconds)
    seg = FFMPEG.prepare_segment(
        noise, tmp_path / "seg.mp4", text="Шум / noise", seconds=seconds, bitrate=bitrate, max_bytes=share
    )
    assert seg.stat().st_size <= share
    narration = FFMPEG.fit_narration([tone(tmp_path / "n.wav", 0.5)] * count, tmp_path / "vo.flac", slot=seconds)
    out = FFMPEG.assemble([seg] * count, narration, tmp_path / "final.mp4", clip_seconds=seconds, max_bytes=max_bytes)
    assert out.stat().st_size <= max_bytes
    assert FFMPEG.probe(out).duration == pytest.approx(count * seconds, abs=0.05)


def test_shrink_encodes_again_lower_when_over_the_cap(tmp_path):
    noise = noise_clip(tmp_path / "noise.mp4", 0.5)
    big = tmp_path / "big.mp4"
    FFMPEG.run(
        [
            "-i",
            str(noise),
            "-f",
            "lavfi",
            "-i",
            "sine=duration=0.5",
            "-shortest",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "10",
            "-c:a",
            "aac",
            str(big),
        ]
    )
    before = big.stat().st_size
    cap = before // 4
    FFMPEG.shrink(big, cap)
    assert big.stat().st_size <= cap
    assert FFMPEG.probe(big).has_audio


def test_full_length_budget_fits_telegram():
    bitrate = media.video_bitrate_for(50.0)
    assert (bitrate + media.AUDIO_BITRATE) * 50.0 / 8 <= 50_000_000
    assert media.video_bitrate_for(50.0, ceiling=10**9) > media.video_bitrate_for(50.0)  # 4 Mb/s ceiling applies


def test_a_short_clip_of_the_other_shape_still_fills_its_slot(tmp_path):
    # A 1.2 s landscape clip for a 9:16 video: filled (centre crop), the last frame held to 2 s.
    clip = runway_like_clip(tmp_path / "short.mp4", "red", seconds=1.2)
    seg = FFMPEG.prepare_segment(clip, tmp_path / "seg.mp4", text=None, aspect_ratio="9:16", seconds=SLOT)
    info = FFMPEG.probe(seg)
    assert (info.width, info.height, info.pix_fmt) == (720, 1280, "yuv420p")
    assert info.duration == pytest.approx(SLOT, abs=0.01)
    assert len(frame_colours(seg)) == int(SLOT * media.FPS)
