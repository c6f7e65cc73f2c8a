"""FFmpeg: finding the binary, probing files, and the few media operations the stages need.

On AWS the binary comes from layers/ffmpeg at /opt/bin/ffmpeg; locally from imageio-ffmpeg.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import tempfile
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from videobot.config import TELEGRAM_UPLOAD_LIMIT_BYTES
from videobot.errors import MediaError

LAYER_FFMPEG = "/opt/bin/ffmpeg"
AUDIO_BITRATE = 128_000
FPS = 24
SIZES = {"16:9": (1280, 720), "9:16": (720, 1280)}
FONT_DIR = Path(__file__).resolve().parent / "assets" / "fonts"  # DejaVu: Cyrillic and Latin
SUBTITLE_FONT = "DejaVu Sans"
IMAGE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}


def image_type(data: bytes) -> str | None:
    """ "png", "jpg" or "webp" from the file's first bytes; None for anything else."""
    if data.startswith(b"\x89PNG"):
        return "png"
    if data.startswith(b"\xff\xd8"):
        return "jpg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


@lru_cache(maxsize=4)
def _find_ffmpeg(configured: str | None) -> str:
    if configured:
        return configured
    if os.access(LAYER_FFMPEG, os.X_OK):
        return LAYER_FFMPEG
    try:
        import imageio_ffmpeg  # local runner and tests only
    except ImportError:
        found = shutil.which("ffmpeg")
        if found:
            return found
        raise MediaError("ffmpeg not found: set FFMPEG_PATH or attach the ffmpeg layer") from None
    return imageio_ffmpeg.get_ffmpeg_exe()


def pcm_to_wav(pcm: bytes, rate: int) -> bytes:
    """Mono 16-bit PCM (what espeak-ng and OpenAI's Realtime API speak) as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


@dataclass(frozen=True)
class Probe:
    duration: float
    has_video: bool
    has_audio: bool
    width: int | None = None
    height: int | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    sample_rate: int | None = None
    pix_fmt: str | None = None


_DURATION = re.compile(r"Duration: (\d+):(\d+):(\d+(?:\.\d+)?)")
_VIDEO = re.compile(r"Stream #\S+.*?: Video: (\w+)[^,]*(?:\([^)]*\))?, (\w+)[^,]*?(?:\([^)]*\))?, (\d+)x(\d+)")
_AUDIO = re.compile(r"Stream #\S+.*?: Audio: (\w+)[^,]*, (\d+) Hz")


# ---- narration ----------------------------------------------------------------------------
#
# The policy for a part that is longer than its slot (documented in the README):
#   1. it may end up to NARRATION_TAIL before the next segment starts (a breath between parts);
#   2. if longer, it is sped up with atempo (pitch kept) just enough to fit, but never past
#      max_tempo (1.25x by default: faster than that sounds rushed);
#   3. a part that does not fit even so is never cut: RecordVoiceover has it rewritten shorter
#      and spoken again before it gets here (stages/record_voiceover.py), and fit_narration
#      refuses a part that still overflows rather than cut a word;
#   4. a shorter part is padded with silence to exactly the slot.
# Before that, the silence a TTS engine puts before and after the speech is trimmed (keeping
# SPEECH_MARGIN), so that it neither delays the start nor counts as length to fit.
# Segment i's narration therefore always starts at i * slot, like its clip.

NARRATION_TAIL = 0.10
SPEECH_MARGIN = 0.03
_SILENCE_START = re.compile(r"silence_start: (-?[\d.]+)")
_SILENCE_END = re.compile(r"silence_end: (-?[\d.]+)")


@dataclass(frozen=True)
class NarrationFit:
    tempo: float  # 1.0 = unchanged
    fits: bool  # False when even max_tempo leaves the part longer than its slot
    spoken: float  # seconds the part lasts at that tempo


def narration_fit(duration: float, slot: float = 5.0, max_tempo: float = 1.25) -> NarrationFit:
    usable = slot - NARRATION_TAIL
    if duration <= usable:
        return NarrationFit(1.0, True, duration)
    tempo = min(duration / usable, max_tempo)
    spoken = duration / tempo
    return NarrationFit(tempo, spoken <= usable + 1e-6, spoken)


def narration_room(slot: float = 5.0, max_tempo: float = 1.25) -> float:
    """The longest speech (at its natural pace) that fits a slot at max_tempo."""
    return (slot - NARRATION_TAIL) * max_tempo


@dataclass(frozen=True)
class SpeechSpan:
    """Where the speech is in a narration part: its leading and trailing silence left out."""

    start: float
    end: float

    @property
    def seconds(self) -> float:
        return self.end - self.start


# ---- loudness -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Loudness:
    integrated: float  # LUFS
    true_peak: float  # dBTP
    lra: float  # LU


_EBU_I = re.compile(r"Integrated loudness:\s+I:\s+(-?[\d.]+|-inf) LUFS")
_EBU_LRA = re.compile(r"Loudness range:\s+LRA:\s+(-?[\d.]+) LU")
_EBU_TP = re.compile(r"True peak:\s+Peak:\s+(-?[\d.]+|-inf) dBFS")


def _gain_to(measured: Loudness, target_lufs: float) -> float:
    """dB that bring a measurement to the target; silence (ebur128 says -70) gets no boost."""
    if measured.integrated <= -69:
        return 0.0
    return max(-40.0, min(40.0, target_lufs - measured.integrated))


# ---- video --------------------------------------------------------------------------------


def video_bitrate_for(
    duration: float, max_bytes: int = TELEGRAM_UPLOAD_LIMIT_BYTES, headroom: float = 0.9, ceiling: int = 4_000_000
) -> int:
    """The video bitrate (bit/s) that keeps a file of this duration under max_bytes with its
    AAC track: (max_bytes * 8 * headroom / duration) minus the audio, at most `ceiling`."""
    total = max_bytes * 8 * headroom / max(duration, 1.0)
    return max(100_000, min(int(total - AUDIO_BITRATE), ceiling))


def _ass_time(seconds: float) -> str:
    cs = round(seconds * 100)
    return f"{cs // 360000}:{cs // 6000 % 60:02d}:{cs // 100 % 60:02d}.{cs % 100:02d}"


def subtitle_ass(text: str, *, aspect_ratio: str, seconds: float) -> str:
    """One segment's subtitle as an ASS script laid out for the frame: DejaVu Sans Bold (ships in
    assets/fonts, covers Cyrillic and Latin), white with a dark outline, wrapped by libass.
    In 9:16 it sits higher, above the caption and buttons Reels/Shorts draw at the bottom."""
    w, h = SIZES[aspect_ratio]
    size, margin_v = (46, 56) if aspect_ratio == "16:9" else (44, 300)
    margin_lr = int(w * 0.06)
    clean = " ".join(text.replace("{", "(").replace("}", ")").replace("\\", "/").split())
    return (
        "[Script Info]\nScriptType: v4.00+\nWrapStyle: 0\nScaledBorderAndShadow: yes\n"
        f"PlayResX: {w}\nPlayResY: {h}\n\n"
        "[V4+ Styles]\n"
        "Format: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, "
        "Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, "
        "MarginL, MarginR, MarginV, Encoding\n"
        f"Style: Default,{SUBTITLE_FONT},{size},&H00FFFFFF,&H00FFFFFF,&H00101010,&H80000000,-1,0,0,0,100,100,0,0,"
        f"1,3,1,2,{margin_lr},{margin_lr},{margin_v},1\n\n"
        "[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
        f"Dialogue: 0,{_ass_time(0)},{_ass_time(seconds)},Default,,0,0,0,,{clean}\n"
    )


def _filter_path(path: str | Path) -> str:
    """A path quoted for an ffmpeg filter option."""
    return str(path).replace("\\", "/").replace(":", "\\:").replace("'", "\\'")


def _x264(bitrate: int) -> list[str]:
    """One encoder setting for every segment, so the segments concatenate by stream copy."""
    return [
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-crf",
        "21",
        "-maxrate",
        str(bitrate),
        "-bufsize",
        str(bitrate * 2),
        "-pix_fmt",
        "yuv420p",
        "-profile:v",
        "high",
        "-g",
        str(FPS * 2),
        "-video_track_timescale",
        str(FPS * 1000),
    ]


def _fontconfig(folder: Path) -> Path:
    """A fontconfig file that knows only the shipped fonts: the same font on a laptop and on
    Lambda (which has no system fonts), and no silent fallback to another font."""
    conf = folder / "fonts.conf"
    conf.write_text(
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>'
        f"<dir>{FONT_DIR}</dir><cachedir>{folder / 'fontconfig-cache'}</cachedir></fontconfig>\n",
        encoding="utf-8",
    )
    return conf


def _check_subtitle_font(ffmpeg_log: str) -> None:
    chosen = re.findall(r"fontselect: \(([^)]*)\) -> ([^,]+),", ffmpeg_log)
    if not chosen or any(not path.startswith(str(FONT_DIR)) for _, path in chosen):
        raise MediaError(f"the subtitles did not use the shipped font: {chosen or 'no font selected'}")


class FFmpeg:
    """FFmpeg at `path` (FFMPEG_PATH), else the Lambda layer's (/opt/bin/ffmpeg), else
    imageio-ffmpeg's (the local runner and the tests), and the media operations built on it.
    The runtime holds one (`rt.ffmpeg`); a test builds its own."""

    def __init__(self, path: str | None = None):
        self.path = path

    @property
    def exe(self) -> str:
        return _find_ffmpeg(self.path)

    def run(self, args: list[str], *, timeout: float = 600, env: dict[str, str] | None = None) -> str:
        """Run ffmpeg; return its stderr (where it reports). Raise MediaError on failure."""
        cmd = [self.exe, "-hide_banner", "-nostdin", "-y", *args]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=timeout, env={**os.environ, **env} if env else None
            )
        except subprocess.TimeoutExpired:
            raise MediaError(f"ffmpeg timed out after {timeout:.0f} s") from None
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-6:])
            raise MediaError(f"ffmpeg failed ({proc.returncode}): {tail}")
        return proc.stderr

    def probe(self, path: str | Path) -> Probe:
        """What a media file holds, read from `ffmpeg -i` (the imageio-ffmpeg wheel has no ffprobe)."""
        proc = subprocess.run(
            [self.exe, "-hide_banner", "-nostdin", "-i", str(path)], capture_output=True, text=True, timeout=60
        )
        err = proc.stderr
        m = _DURATION.search(err)
        if not m:
            raise MediaError(f"not a media file: {Path(path).name}")
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        v = _VIDEO.search(err)
        a = _AUDIO.search(err)
        return Probe(
            duration=duration,
            has_video=bool(v),
            has_audio=bool(a),
            width=int(v.group(3)) if v else None,
            height=int(v.group(4)) if v else None,
            video_codec=v.group(1) if v else None,
            pix_fmt=v.group(2) if v else None,
            audio_codec=a.group(1) if a else None,
            sample_rate=int(a.group(2)) if a else None,
        )

    def duration(self, path: str | Path) -> float:
        return self.probe(path).duration

    def ken_burns_clip(
        self,
        image: str | Path,
        out: str | Path,
        *,
        seconds: float = 5.0,
        size: tuple[int, int] = (1280, 720),
        variant: int = 0,
    ) -> Path:
        """A Runway-like clip from a still: slow zoom and pan, H.264, 24 fps, no audio."""
        w, h = size
        frames = round(seconds * FPS)
        zoom = "min(1.0+0.0016*on,1.2)" if variant % 2 == 0 else "max(1.2-0.0016*on,1.0)"
        pan_x = ["iw/2-(iw/zoom/2)", f"(iw-iw/zoom)*on/{frames}", f"(iw-iw/zoom)*(1-on/{frames})"][variant % 3]
        vf = (
            f"scale={w * 2}:{h * 2}:force_original_aspect_ratio=increase,crop={w * 2}:{h * 2},"
            f"zoompan=z='{zoom}':x='{pan_x}':y='ih/2-(ih/zoom/2)':d={frames}:s={w}x{h}:fps={FPS},"
            f"format=yuv420p"
        )
        self.run(
            [
                "-loop",
                "1",
                "-i",
                str(image),
                "-vf",
                vf,
                "-frames:v",
                str(frames),
                "-an",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",  # a vendor's download, encoded again by prepare_segment: half the CPU of veryfast
                "-crf",
                "23",
                "-movflags",
                "+faststart",
                str(out),
            ]
        )
        return Path(out)

    def speech_span(self, path: str | Path, *, threshold_db: float = -50.0) -> SpeechSpan:
        """Where the speech is in a file, its leading and trailing silence left out (one ffmpeg
        run: silencedetect, and the duration from the same run's header)."""
        err = self.run(["-i", str(path), "-af", f"silencedetect=noise={threshold_db}dB:d=0.05", "-f", "null", "-"])
        m = _DURATION.search(err)
        if not m:
            raise MediaError(f"not a media file: {Path(path).name}")
        duration = int(m.group(1)) * 3600 + int(m.group(2)) * 60 + float(m.group(3))
        starts = [float(x) for x in _SILENCE_START.findall(err)]
        ends = [float(x) for x in _SILENCE_END.findall(err)]
        start, end = 0.0, duration
        if starts and starts[0] <= 0.01:
            start = ends[0] if ends else duration  # silent from 0 until the first silence_end
        if starts and (len(ends) < len(starts) or ends[-1] >= duration - 0.01) and starts[-1] > start:
            end = starts[-1]  # a silence that runs to the end
        if end <= start:  # all silence: keep the file as it is
            return SpeechSpan(0.0, duration)
        return SpeechSpan(max(0.0, start - SPEECH_MARGIN), min(duration, end + SPEECH_MARGIN))

    def fit_narration(
        self,
        parts: list[str | Path],
        out: str | Path,
        *,
        slot: float = 5.0,
        max_tempo: float = 1.25,
        spans: list[SpeechSpan] | None = None,
    ) -> Path:
        """Lay segment i's narration at i*slot following the policy above (`spans`: the parts'
        speech, when already measured). Output: FLAC 48 kHz stereo, exactly len(parts)*slot
        seconds: lossless up to the mastering, which encodes the video's one AAC track (and FLAC
        writes about 7x faster than AAC). A part that does not fit at max_tempo is refused
        (MediaError), never cut."""
        spans = spans or [self.speech_span(part) for part in parts]
        inputs: list[str] = []
        chains: list[str] = []
        for i, (part, span) in enumerate(zip(parts, spans, strict=True)):
            inputs += ["-i", str(part)]
            fit = narration_fit(span.seconds, slot, max_tempo)
            if not fit.fits:
                raise MediaError(
                    f"narration part {i + 1} has {span.seconds:.2f} s of speech: it does not fit its {slot:g} s "
                    f"at {max_tempo:g}x, and a part is never cut"
                )
            chain = (
                f"[{i}:a]atrim={span.start:.3f}:{span.end:.3f},asetpts=PTS-STARTPTS,"
                f"aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo"
            )
            if fit.tempo > 1.0005:
                chain += f",atempo={fit.tempo:.4f}"
            chains.append(chain + f",apad=whole_dur={slot},atrim=0:{slot},asetpts=N/SR/TB[a{i}]")
        concat = "".join(f"[a{i}]" for i in range(len(parts))) + f"concat=n={len(parts)}:v=0:a=1[out]"
        self.run(
            [
                *inputs,
                "-filter_complex",
                ";".join([*chains, concat]),
                "-map",
                "[out]",
                "-c:a",
                "flac",
                "-ar",
                "48000",
                str(out),
            ]
        )
        return Path(out)

    def measure_loudness(self, path: str | Path, *, seconds: float | None = None) -> Loudness:
        """Integrated loudness, true peak and range of a file's audio (its first `seconds` if
        given), read with ebur128 (EBU R128)."""
        limit = ["-t", f"{seconds}"] if seconds else []
        err = self.run([*limit, "-i", str(path), "-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"])
        summary = err[err.rfind("Summary:") :]
        i, tp, lra = _EBU_I.search(summary), _EBU_TP.search(summary), _EBU_LRA.search(summary)
        if not (i and tp and lra):
            raise MediaError("ebur128 printed no summary")
        return Loudness(float(i.group(1)), float(tp.group(1)), float(lra.group(1)))

    def master_audio(
        self,
        narration: str | Path,
        out: str | Path,
        *,
        duration: float,
        music: str | Path | None = None,
        music_gain_db: float = -8.0,
        target_lufs: float = -16.0,
        true_peak: float = -1.5,
    ) -> Path:
        """The final soundtrack: the narration, an optional music bed (looped, ducked under the
        voice by a sidechain compressor keyed on the voice, faded out at the end), brought to
        target_lufs integrated with the true peak at most true_peak: measure with ebur128, apply
        the gain with a look-ahead limiter below the ceiling, encode, measure the AAC result and
        correct if needed (loudnorm's two passes took several times longer here).
        Output: AAC 48 kHz stereo, exactly `duration` seconds."""
        out = Path(out)
        inputs = ["-i", str(narration)]
        # The voice at the target level first, so the ducking keys on a known level.
        spoken = self.measure_loudness(narration)
        voice_gain = _gain_to(spoken, target_lufs)
        voice = (
            f"[0:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,volume={voice_gain:.2f}dB,"
            f"apad=whole_dur={duration},atrim=0:{duration},asetpts=N/SR/TB"
        )
        if music:
            # The bed music_gain_db under the voice, whatever level the user's file has.
            bed_gain = _gain_to(self.measure_loudness(music, seconds=duration), target_lufs + music_gain_db)
            inputs += ["-stream_loop", "-1", "-i", str(music)]
            fade = min(2.0, duration / 4)
            graph = (
                f"{voice},asplit=2[voice][key];"
                f"[1:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,atrim=0:{duration},"
                f"asetpts=N/SR/TB,volume={bed_gain:.2f}dB,afade=t=out:st={duration - fade:.3f}:d={fade:.3f}[bed];"
                f"[bed][key]sidechaincompress=threshold=0.03:ratio=12:attack=15:release=350[ducked];"
                f"[voice][ducked]amix=inputs=2:duration=first:normalize=0[mix]"
            )
        else:
            graph = f"{voice}[mix]"
        with tempfile.TemporaryDirectory() as tmp:
            mix = Path(tmp) / "mix.wav"
            self.run([*inputs, "-filter_complex", graph, "-map", "[mix]", "-c:a", "pcm_f32le", str(mix)])
            if music:
                measured = self.measure_loudness(mix)
            else:  # the mix is the voice alone: its measurement, shifted by the gain
                measured = Loudness(spoken.integrated + voice_gain, spoken.true_peak + voice_gain, spoken.lra)
            gain = _gain_to(measured, target_lufs)
            ceiling = true_peak - 0.5  # AAC and inter-sample peaks add a little
            for _ in range(3):
                af = f"volume={gain:.2f}dB"
                if measured.true_peak + gain > ceiling:
                    af += f",alimiter=limit={10 ** (ceiling / 20):.4f}:attack=5:release=80:level=false:latency=true"
                self.run(
                    [
                        "-i",
                        str(mix),
                        "-af",
                        f"{af},atrim=0:{duration}",
                        "-c:a",
                        "aac",
                        "-b:a",
                        f"{AUDIO_BITRATE // 1000}k",
                        "-ar",
                        "48000",
                        "-ac",
                        "2",
                        str(out),
                    ]
                )
                result = self.measure_loudness(out)
                if result.true_peak <= true_peak and abs(result.integrated - target_lufs) <= 0.6:
                    break
                gain = max(-40.0, min(40.0, gain + target_lufs - result.integrated))
                if result.true_peak > true_peak:
                    ceiling -= result.true_peak - true_peak + 0.3
        return out

    def prepare_segment(
        self,
        clip: str | Path,
        out: str | Path,
        *,
        text: str | None,
        aspect_ratio: str = "16:9",
        seconds: float = 5.0,
        bitrate: int | None = None,
        fade: float = 0.25,
        max_bytes: int | None = None,
    ) -> Path:
        """One segment ready to be joined: the clip filled to the frame (scale + centre crop),
        24 fps, exactly `seconds` long (the last frame held if the clip is short), its text burned
        in as a subtitle, a short fade from and to black inside the segment (the timeline never
        shifts), H.264 yuv420p at a bitrate derived from the whole video's duration, no audio.
        If the result is over its share of the size cap (max_bytes), it is encoded again lower."""
        w, h = SIZES[aspect_ratio]
        frames = round(seconds * FPS)
        bitrate = bitrate or video_bitrate_for(seconds)
        out = Path(out)
        with tempfile.TemporaryDirectory() as tmp:
            vf = (
                f"scale={w}:{h}:force_original_aspect_ratio=increase,crop={w}:{h},setsar=1,fps={FPS},"
                f"tpad=stop_mode=clone:stop_duration={seconds},trim=end_frame={frames},setpts=PTS-STARTPTS"
            )
            env, log = None, []
            if text and text.strip():
                ass = Path(tmp) / "subtitle.ass"
                ass.write_text(subtitle_ass(text, aspect_ratio=aspect_ratio, seconds=seconds), encoding="utf-8")
                vf += f",subtitles=filename='{_filter_path(ass)}'"
                env, log = {"FONTCONFIG_FILE": str(_fontconfig(Path(tmp)))}, ["-loglevel", "verbose"]
            if fade > 0:
                vf += f",fade=t=in:st=0:d={fade},fade=t=out:st={seconds - fade:.3f}:d={fade}"
            vf += ",format=yuv420p"
            for _ in range(3):
                err = self.run(
                    [
                        *log,
                        "-i",
                        str(clip),
                        "-vf",
                        vf,
                        "-frames:v",
                        str(frames),
                        "-an",
                        *_x264(bitrate),
                        "-movflags",
                        "+faststart",
                        str(out),
                    ],
                    env=env,
                )
                if env:
                    _check_subtitle_font(err)
                size = out.stat().st_size
                if not max_bytes or size <= max_bytes:
                    return out
                bitrate = int(bitrate * max_bytes / size * 0.85)
        raise MediaError(f"could not bring the segment under {max_bytes} bytes")

    def concat_segments(self, segments: list[str | Path], audio: str | Path, out: str | Path) -> Path:
        """Join prepared segments by stream copy (no re-encode) and mux the finished soundtrack."""
        out = Path(out)
        listing = out.with_suffix(".txt")
        quoted = (Path(s).resolve().as_posix().replace("'", "'\\''") for s in segments)
        listing.write_text("".join(f"file '{q}'\n" for q in quoted), encoding="utf-8")
        try:
            self.run(
                [
                    "-f",
                    "concat",
                    "-safe",
                    "0",
                    "-i",
                    str(listing),
                    "-i",
                    str(audio),
                    "-map",
                    "0:v:0",
                    "-map",
                    "1:a:0",
                    "-c",
                    "copy",
                    "-movflags",
                    "+faststart",
                    str(out),
                ]
            )
        finally:
            listing.unlink(missing_ok=True)
        return out

    def shrink(self, path: str | Path, max_bytes: int) -> Path:
        """Encode the video again at a lower bitrate until the file is under max_bytes (audio copied)."""
        path = Path(path)
        duration = self.duration(path)
        bitrate = video_bitrate_for(duration, max_bytes)
        for _ in range(3):
            size = path.stat().st_size
            if size <= max_bytes:
                return path
            bitrate = min(bitrate, int(bitrate * max_bytes / size * 0.85))
            tmp = path.with_name(path.stem + ".shrink.mp4")
            self.run(
                [
                    "-i",
                    str(path),
                    "-map",
                    "0:v:0",
                    "-map",
                    "0:a:0",
                    *_x264(bitrate),
                    "-crf",
                    "28",
                    "-c:a",
                    "copy",
                    "-movflags",
                    "+faststart",
                    str(tmp),
                ]
            )
            os.replace(tmp, path)
        if path.stat().st_size > max_bytes:
            raise MediaError(f"could not bring the video under {max_bytes} bytes")
        return path

    def assemble(
        self,
        segments: list[str | Path],
        narration: str | Path,
        out: str | Path,
        *,
        clip_seconds: float = 5.0,
        music: str | Path | None = None,
        music_gain_db: float = -8.0,
        target_lufs: float = -16.0,
        true_peak: float = -1.5,
        max_bytes: int = TELEGRAM_UPLOAD_LIMIT_BYTES,
    ) -> Path:
        """The final MP4 from prepared segments (prepare_segment) and the fitted narration: the
        soundtrack mastered (music, loudness), the video joined by stream copy, +faststart; never
        over max_bytes (encoded again lower if it is)."""
        out = Path(out)
        duration = clip_seconds * len(segments)
        audio = out.with_name(out.stem + ".audio.m4a")
        try:
            self.master_audio(
                narration,
                audio,
                duration=duration,
                music=music,
                music_gain_db=music_gain_db,
                target_lufs=target_lufs,
                true_peak=true_peak,
            )
            self.concat_segments(segments, audio, out)
        finally:
            audio.unlink(missing_ok=True)
        return self.shrink(out, max_bytes)
