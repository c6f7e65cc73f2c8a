"""The stage logic, one function per state of statemachine/video_pipeline.asl.json.

Every function takes ids, reads and writes PostgreSQL and storage, and returns a small dict.
Each is idempotent: a retried invocation finds its earlier work in the rows and does not
call a vendor (or send a message) again.
"""

from __future__ import annotations

import json
import math
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from videobot import jobs, media, storage, usage
from videobot.config import get_settings
from videobot.errors import ContentRefused, JobCancelled, PollBudgetExceeded, VendorFailed, VendorUnavailable
from videobot.jobs import NOW
from videobot.notify import notify_once, progress
from videobot.observability import logger
from videobot.providers import get_clip_generator, get_image_generator, get_llm, get_speech
from videobot.providers.base import (
    CANCELLED, FAILED, SUCCEEDED, UNFINISHED, ClipRequest, ImageRequest, TaskState,
)

REFERENCE_SEGMENT = 0  # its image guides segments 1-9 (Runway referenceImages)


def _save(job_id: str, key: str, source: bytes | Path) -> str:
    """Store one of the job's media files. A stage still running when the job is cancelled
    (the voice-over beside a rejected gate; on AWS a Lambda in flight is not stopped) may
    write after CancelJob deleted the job's media, so check afterwards and delete again."""
    store = storage.get_storage()
    if isinstance(source, bytes):
        store.put_bytes(key, source)
    else:
        store.put_file(key, source)
    job = jobs.get_job(job_id)
    if job["status"] == "cancelled":
        store.delete_prefix(storage.job_prefix(job_id))
        raise JobCancelled(f"job {job_id} is cancelled")
    return key


def _expect(items: list[str], what: str) -> list[str]:
    count = get_settings().segment_count
    if len(items) != count or not all(isinstance(x, str) and x.strip() for x in items):
        raise VendorFailed(f"the LLM returned {len(items)} {what}, expected {count} non-empty ones")
    return [x.strip() for x in items]


# ---- 2. script --------------------------------------------------------------------------

def generate_script(job_id: str) -> dict:
    job = jobs.get_job(job_id)
    if job["script_segments"]:
        return {"segments": len(jobs.script_segments(job))}
    jobs.update_job(job_id, status="generating_script")
    script = get_llm().write_script(job["prompt"], language=job["language"])
    usage.record_llm(job_id, "generate_script", script.usage)
    segments = _expect(script.segments, "script segments")
    jobs.update_job(job_id, script_segments=segments, script_text="\n".join(segments),
                    language=script.language, script_generated_at=NOW)
    return {"segments": len(segments)}


# ---- 3, 7, 10. approval gates -----------------------------------------------------------

def request_approval(job_id: str, stage: str, task_token: str) -> dict:
    """Store the gate's task token with the job, then ask the user (once)."""
    if stage not in jobs.GATE_STAGES:
        raise ValueError(f"unknown approval stage {stage!r}")
    job = jobs.update_job(job_id, status=jobs.AWAITING_STATUS[stage])
    gate = jobs.open_gate(job_id, stage, task_token)
    # After a revision (ReviseScript, RedoImages, RedoClips) the gate asks again, once per round.
    rounds = gate["revisions"]
    notify_once(job, f"{stage}_ready", key=f"gate:{stage}" + (f":r{rounds}" if rounds else ""), stage=stage,
                round=rounds, segments=list(gate["redo_segments"] or []) if rounds else [])
    return {"stage": stage, "waiting": True}


# ---- 3, 7, 10. revisions asked for at a gate (ReviseScript, RedoImages, RedoClips) ------

_REDO_FIELDS = {
    "images": dict(image_path=None, image_runway_task_id=None, image_generated_at=None, image_submissions=0,
                   image_submitted_at=None, status="image_prompt_ready", error_message=None),
    "videos": dict(video_path=None, video_runway_task_id=None, video_generated_at=None, video_duration=None,
                   video_submissions=0, video_submitted_at=None, status="animation_prompt_ready",
                   error_message=None),
}


def revise_stage(job_id: str, stage: str) -> dict:
    """The user answered a gate with feedback (control.revise). The script is rewritten with
    it here, then asked about again; for images or clips only the named segments are cleared,
    and the state machine's loop back into the Map makes exactly those again (the others are
    done and return at once). Idempotent: a retry finds the work done or the rows cleared."""
    gate = jobs.get_gate(job_id, stage)
    if gate is None or gate["decision"] != "revised":
        raise ValueError(f"no revision was asked for at the {stage} gate of job {job_id}")
    job = jobs.get_job(job_id)
    if stage == "script":
        if job["script_generated_at"] and gate["decided_at"] and job["script_generated_at"] > gate["decided_at"]:
            return {"stage": stage, "revision": gate["revisions"]}  # a retry: already rewritten
        jobs.update_job(job_id, status="generating_script")
        previous = jobs.script_segments(job)
        script = get_llm().write_script(job["prompt"], language=job["language"], feedback=gate["feedback"],
                                        previous=previous)
        usage.record_llm(job_id, "revise_script", script.usage)
        segments = _expect(script.segments, "script segments")
        jobs.update_job(job_id, script_segments=segments, script_text="\n".join(segments),
                        language=script.language, script_generated_at=NOW)
        return {"stage": stage, "revision": gate["revisions"]}
    indexes = sorted(set(gate["redo_segments"] or []))
    jobs.update_job(job_id, status="generating_images" if stage == "images" else "generating_videos")
    for index in indexes:  # (a clip's prepared segment is overwritten when it is made again)
        seg = jobs.get_segment(job_id, index)
        extra = {}
        if stage == "images" and gate["feedback"] and gate["feedback"] not in (seg["image_prompt"] or ""):
            extra["image_prompt"] = f"{seg['image_prompt']}. {gate['feedback']}"  # the user's words
        if stage == "videos" and gate["feedback"] and gate["feedback"] not in (seg["animation_prompt"] or ""):
            extra["animation_prompt"] = f"{seg['animation_prompt']}. {gate['feedback']}"
        jobs.update_segment(job_id, index, **_REDO_FIELDS[stage], **extra)
    return {"stage": stage, "revision": gate["revisions"], "segments": indexes}


# ---- 4. segments ------------------------------------------------------------------------

def split_into_segments(job_id: str) -> dict:
    job = jobs.get_job(job_id)
    texts = jobs.script_segments(job)
    jobs.create_segments(job_id, texts, get_settings().segment_seconds)
    return {"segment_indexes": list(range(len(texts)))}


# ---- 5, 8. prompts ----------------------------------------------------------------------

def write_image_prompts(job_id: str) -> dict:
    job = jobs.update_job(job_id, status="generating_images")
    segments = jobs.get_segments(job_id)
    if all(s["image_prompt"] for s in segments):
        return {"prompts": len(segments)}
    written = get_llm().write_image_prompts(job["prompt"], [s["text"] for s in segments])
    usage.record_llm(job_id, "write_image_prompts", getattr(written, "usage", None))
    prompts = _expect(written, "image prompts")
    # A real LLM writes the animation prompts in the same call; they wait for stage 8.
    drafts = getattr(written, "animation", None) or [None] * len(prompts)
    for seg, prompt, draft in zip(segments, prompts, drafts):
        if not seg["image_prompt"]:
            jobs.update_segment(job_id, seg["segment_index"], image_prompt=prompt,
                                animation_prompt_draft=draft, image_prompt_generated_at=NOW,
                                status="image_prompt_ready")
    return {"prompts": len(prompts)}


def write_animation_prompts(job_id: str) -> dict:
    job = jobs.update_job(job_id, status="generating_videos")
    segments = jobs.get_segments(job_id)
    if all(s["animation_prompt"] for s in segments):
        return {"prompts": len(segments)}
    if all(s["animation_prompt_draft"] for s in segments):
        prompts = [s["animation_prompt_draft"] for s in segments]  # written with the image prompts
    else:
        written = get_llm().write_animation_prompts(
            job["prompt"], [s["text"] for s in segments], [s["image_prompt"] for s in segments])
        usage.record_llm(job_id, "write_animation_prompts", getattr(written, "usage", None))
        prompts = _expect(written, "animation prompts")
    for seg, prompt in zip(segments, prompts):
        if not seg["animation_prompt"]:
            jobs.update_segment(job_id, seg["segment_index"], animation_prompt=prompt,
                                animation_prompt_generated_at=NOW, status="animation_prompt_ready")
    return {"prompts": len(prompts)}


# ---- 6, 9. vendor tasks: submit, then poll ----------------------------------------------

def _image_extension(data: bytes) -> str:
    kind = media.image_type(data)
    if kind is None:
        raise VendorFailed("the image vendor returned something that is not an image")
    return kind


@dataclass(frozen=True)
class PollWaits:
    """How long the state machine waits between checks of a vendor task (execution input):
    `first` after a submission (about the vendor's usual time), then `interval`."""

    interval: int = 0
    first: int = 0

    @classmethod
    def from_event(cls, event: dict) -> "PollWaits":
        return cls(interval=int(event.get("poll_interval_seconds") or 0),
                   first=int(event.get("first_poll_seconds") or 0))


class _MediaTask:
    """The submit/poll/store cycle shared by images and clips. Columns: <kind>_path,
    <kind>_runway_task_id, <kind>_generated_at, <kind>_submissions."""

    kind: str          # "image" or "video"
    folder: str        # storage folder
    gate: str          # the approval stage it leads to: "images" or "videos"
    done_status: str

    def generator(self):
        raise NotImplementedError

    def request(self, job: dict, seg: dict):
        """The vendor request for this segment, or None while a prerequisite is missing."""
        raise NotImplementedError

    def store(self, job_id: str, index: int, data: bytes) -> dict:
        raise NotImplementedError

    def prerequisite_wait(self, job_id: str, waits: PollWaits) -> int:
        return waits.first

    def advance(self, job_id: str, index: int, attempt: int, waits: "PollWaits") -> dict:
        """Submit if not yet submitted; otherwise poll once.
        Returns {"state": "done" | "waiting", "attempt", "wait_seconds"}: the state machine's
        Wait state sleeps wait_seconds before the next check."""
        seg = jobs.get_segment(job_id, index)
        if seg[f"{self.kind}_path"]:
            return {"state": "done", "attempt": attempt, "wait_seconds": 0}
        task_id = seg[f"{self.kind}_runway_task_id"]
        if not task_id:
            return self._submit(job_id, seg, attempt, waits)
        state = self.generator().get_task(task_id)
        if state.status not in UNFINISHED:
            usage.settle_task(task_id, state.credits)
        if state.status == SUCCEEDED:
            data = self.generator().fetch_output(state.output_url)
            self.store(job_id, index, data)
            counts = jobs.segment_counts(job_id)
            progress(jobs.get_job(job_id), self.gate, counts[self.gate], counts["segments"])
            return {"state": "done", "attempt": attempt, "wait_seconds": 0}
        if state.status in UNFINISHED:
            if attempt + 1 >= get_settings().max_poll_attempts:
                raise PollBudgetExceeded(f"segment {index + 1}: the {self.kind} was not ready after "
                                         f"{attempt + 1} checks")
            return {"state": "waiting", "attempt": attempt + 1, "wait_seconds": waits.interval}
        return self._failed(job_id, seg, state, attempt, waits)

    def _submit(self, job_id: str, seg: dict, attempt: int, waits: "PollWaits") -> dict:
        job = jobs.get_job(job_id)
        if job["status"] in jobs.TERMINAL_STATUSES:  # e.g. a sibling segment failed the job: pay nothing more
            raise JobCancelled(f"job {job_id} is {job['status']}")
        request = self.request(job, seg)
        if request is None:  # a prerequisite (segment 0's image) is still being made
            return {"state": "waiting", "attempt": attempt, "wait_seconds": self.prerequisite_wait(job_id, waits)}
        # Count the submission before paying for it; store the task id right after, so a
        # retried Lambda polls this task instead of paying for another one.
        jobs.update_segment(job_id, seg["segment_index"],
                            **{f"{self.kind}_submissions": seg[f"{self.kind}_submissions"] + 1})
        try:
            task_id = self.generator().submit(request)
        except VendorUnavailable:  # refused before a task was started (429, 5xx): not a submission
            jobs.update_segment(job_id, seg["segment_index"],
                                **{f"{self.kind}_submissions": seg[f"{self.kind}_submissions"]})
            raise
        try:
            jobs.update_segment(job_id, seg["segment_index"], **{f"{self.kind}_runway_task_id": task_id,
                                                                  f"{self.kind}_submitted_at": NOW})
        except JobCancelled:  # cancelled (rows cleared) while we submitted: stop this task too
            getattr(self.generator(), "cancel", lambda _id: None)(task_id)
            raise
        if jobs.get_job(job_id)["status"] in jobs.TERMINAL_STATUSES:  # it ended while we submitted:
            getattr(self.generator(), "cancel", lambda _id: None)(task_id)  # the others were stopped then
        usage.record_task(job_id, f"generate_{self.folder}", seg["segment_index"], task_id,
                          self.generator(), request)
        logger.info("vendor task submitted", extra={"kind": self.kind, "task_id": task_id})
        result = self.advance(job_id, seg["segment_index"], attempt, waits)  # a fast vendor may be done
        if result["state"] == "waiting":
            # A vendor task takes about waits.first: polling earlier only costs transitions.
            result["wait_seconds"] = max(waits.first, waits.interval)
        return result

    def _failed(self, job_id: str, seg: dict, state: TaskState, attempt: int, waits: "PollWaits") -> dict:
        index = seg["segment_index"]
        code = state.failure_code or ""
        if state.status == FAILED and code.startswith("SAFETY"):
            jobs.update_segment(job_id, index, status="failed", error_message=code)
            raise ContentRefused(f"segment {index + 1}: the {self.kind} was refused by moderation ({code})",
                                 segment_index=index)
        retriable = state.status == CANCELLED or code.startswith("INTERNAL")
        if retriable and seg[f"{self.kind}_submissions"] <= get_settings().max_resubmits:
            logger.warning("vendor task failed, resubmitting", extra={"kind": self.kind, "code": code})
            jobs.update_segment(job_id, index, **{f"{self.kind}_runway_task_id": None})
            return self._submit(job_id, jobs.get_segment(job_id, index), 0, waits)
        jobs.update_segment(job_id, index, status="failed", error_message=code or state.status)
        raise VendorFailed(f"segment {index + 1}: the {self.kind} failed ({code or state.status})")


class _Images(_MediaTask):
    kind, folder, gate, done_status = "image", "images", "images", "image_ready"

    def generator(self):
        return get_image_generator()

    def request(self, job: dict, seg: dict) -> ImageRequest | None:
        reference = None
        if seg["segment_index"] != REFERENCE_SEGMENT:
            ref = jobs.get_segment(job["id"], REFERENCE_SEGMENT)
            if not ref["image_path"]:
                return None  # wait for segment 0's image: it keeps the ten pictures consistent
            reference = storage.get_storage().url(ref["image_path"])
        return ImageRequest(prompt=seg["image_prompt"], ratio=job["aspect_ratio"], seed=seg["segment_index"],
                            reference_image_url=reference)

    def prerequisite_wait(self, job_id: str, waits: PollWaits) -> int:
        """Segments 1-9 wait for segment 0's image: check again just after its own first
        check, instead of polling it blindly (fewer transitions, an earlier start)."""
        submitted = jobs.get_segment(job_id, REFERENCE_SEGMENT)["image_submitted_at"]
        if not waits.first or submitted is None:
            return waits.first
        elapsed = (datetime.now(timezone.utc).replace(tzinfo=None) - submitted).total_seconds()
        remaining = waits.first - elapsed
        return math.ceil(remaining) + 1 if remaining > 0 else max(1, waits.interval)

    def store(self, job_id: str, index: int, data: bytes) -> dict:
        key = storage.segment_key(job_id, self.folder, index, _image_extension(data))
        _save(job_id, key, data)
        return jobs.update_segment(job_id, index, image_path=key, image_generated_at=NOW, status=self.done_status)


class _Clips(_MediaTask):
    kind, folder, gate, done_status = "video", "clips", "videos", "video_ready"

    def generator(self):
        return get_clip_generator()

    def request(self, job: dict, seg: dict) -> ClipRequest:
        return ClipRequest(prompt=seg["animation_prompt"], ratio=job["aspect_ratio"],
                           image_url=storage.get_storage().url(seg["image_path"]),
                           duration=int(get_settings().segment_seconds), seed=seg["segment_index"])

    def store(self, job_id: str, index: int, data: bytes) -> dict:
        """Keep the vendor's clip, then do this segment's share of the assembly right here, so
        the ten run in parallel in the Map: sized, captioned, faded, encoded (media.prepare_segment).
        AssembleVideo then only joins them by stream copy under the soundtrack."""
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "clip.mp4"
            path.write_bytes(data)
            info = media.probe(path)
            if not info.has_video:
                raise VendorFailed(f"segment {index + 1}: the clip has no video stream")
            key = storage.segment_key(job_id, self.folder, index, "mp4")
            _save(job_id, key, path)
            prepared = _prepare_segment(jobs.get_job(job_id), jobs.get_segment(job_id, index), path,
                                        Path(tmp) / "segment.mp4")
            _save(job_id, _prepared_key(job_id, index), prepared)
        return jobs.update_segment(job_id, index, video_path=key, video_duration=info.duration,
                                   video_generated_at=NOW, status=self.done_status)


def _prepared_key(job_id: str, index: int) -> str:
    return storage.segment_key(job_id, "segments", index, "mp4")


def _video_budget() -> tuple[int, int]:
    """(video bit/s, bytes per segment) that keep the whole video under the size cap."""
    s = get_settings()
    total = s.segment_count * s.segment_seconds
    share = media.video_bitrate_for(total, s.max_video_bytes, ceiling=10**9) * s.segment_seconds / 8
    return media.video_bitrate_for(total, s.max_video_bytes, ceiling=s.max_video_bitrate), int(share)


def _prepare_segment(job: dict, seg: dict, clip: Path, out: Path) -> Path:
    s = get_settings()
    bitrate, max_bytes = _video_budget()
    subtitles = s.subtitles if job.get("subtitles") is None else job["subtitles"]  # the user's /settings
    return media.prepare_segment(clip, out, text=seg["text"] if subtitles else None,
                                 aspect_ratio=job["aspect_ratio"], seconds=s.segment_seconds,
                                 bitrate=bitrate, fade=s.fade_seconds, max_bytes=max_bytes)


IMAGES, CLIPS = _Images(), _Clips()


def submit_image(job_id: str, index: int, waits: PollWaits = PollWaits()) -> dict:
    return IMAGES.advance(job_id, index, 0, waits)


def check_image(job_id: str, index: int, attempt: int, waits: PollWaits = PollWaits()) -> dict:
    return IMAGES.advance(job_id, index, attempt, waits)


def submit_clip(job_id: str, index: int, waits: PollWaits = PollWaits()) -> dict:
    return CLIPS.advance(job_id, index, 0, waits)


def check_clip(job_id: str, index: int, attempt: int, waits: PollWaits = PollWaits()) -> dict:
    return CLIPS.advance(job_id, index, attempt, waits)


# ---- 11. voice-over ---------------------------------------------------------------------

def record_voiceover(job_id: str) -> dict:
    """Speak each segment's narration, store it with its measured duration, then lay the ten
    parts on one track, each at its segment's start (media.fit_narration)."""
    job = jobs.get_job(job_id)
    settings = get_settings()
    store = storage.get_storage()
    speech = get_speech()
    with tempfile.TemporaryDirectory() as tmp:
        parts = []
        segments = jobs.get_segments(job_id)
        for seg in segments:
            index = seg["segment_index"]
            if not seg["narration_path"]:
                spoken = speech.synthesize(seg["text"], language=job["language"] or "ru", voice=job.get("voice"))
                usage.record_speech(job_id, index, spoken)
                path = Path(tmp) / f"speech-{index:02d}.{spoken.extension}"
                path.write_bytes(spoken.audio)
                key = storage.segment_key(job_id, "narration", index, spoken.extension)
                _save(job_id, key, path)
                seg = jobs.update_segment(job_id, index, narration_path=key,
                                          narration_duration=media.media_duration(path))
                progress(job, "voiceover", index + 1, len(segments))
            path = Path(tmp) / Path(seg["narration_path"]).name
            if not path.exists():
                store.download(seg["narration_path"], path)
            parts.append(path)
        track = media.fit_narration(parts, Path(tmp) / "voiceover.m4a", slot=settings.segment_seconds,
                                    max_tempo=settings.narration_max_tempo)
        key = storage.job_key(job_id, "voiceover.m4a")
        _save(job_id, key, track)
        duration = media.media_duration(track)
    jobs.update_job(job_id, audio_path=key, audio_duration=duration)
    return {"audio_duration": duration}


# ---- 12. assembly -----------------------------------------------------------------------

def _music(tmp: Path) -> Path | None:
    """MUSIC_PATH: a file on this machine, or else a key in the media storage (S3 on AWS)."""
    name = get_settings().music_path
    if not name:
        return None
    if Path(name).is_file():
        return Path(name)
    return storage.get_storage().download(name, tmp / f"music{Path(name).suffix}")


def assemble_video(job_id: str) -> dict:
    """Join the segments CheckClip/SubmitClip prepared (prepared here only if one is missing)
    by stream copy, under the mastered soundtrack: music, loudness, then the size cap."""
    job = jobs.update_job(job_id, status="assembling")
    progress(job, "assembly", 0, 1)
    settings = get_settings()
    store = storage.get_storage()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        prepared = []
        for seg in jobs.get_segments(job_id):
            index = seg["segment_index"]
            path = tmp / f"segment-{index:02d}.mp4"
            try:
                store.download(_prepared_key(job_id, index), path)
            except Exception:  # noqa: BLE001 - not stored (a clip stored before this step existed)
                logger.warning("prepared segment missing, preparing it now", extra={"segment_index": index})
                clip = store.download(seg["video_path"], tmp / f"clip-{index:02d}.mp4")
                _prepare_segment(job, seg, clip, path)
            prepared.append(path)
        narration = store.download(job["audio_path"], tmp / "voiceover.m4a")
        out = media.assemble(prepared, narration, tmp / "final.mp4", clip_seconds=settings.segment_seconds,
                             music=_music(tmp), music_gain_db=settings.music_gain_db,
                             target_lufs=settings.target_lufs, true_peak=settings.true_peak_db,
                             max_bytes=settings.max_video_bytes)
        info = media.probe(out)
        size = out.stat().st_size
        key = storage.job_key(job_id, "final.mp4")
        _save(job_id, key, out)
    jobs.update_job(job_id, final_video_path=key, final_video_size_mb=round(size / 1_000_000, 2),
                    final_video_duration=info.duration, status="delivering")
    progress(job, "assembly", 1, 1)
    return {"final_video_path": key, "size_bytes": size, "duration": info.duration}


# ---- 13. delivery -----------------------------------------------------------------------

def deliver_video(job_id: str) -> dict:
    job = jobs.get_job(job_id)
    notify_once(job, "video_ready", video_path=job["final_video_path"])
    jobs.finish_job(job_id, "completed", completed_at=NOW)
    return {"delivered": True}


# ---- the error paths --------------------------------------------------------------------

def _error_message(error: dict | None) -> tuple[str, str]:
    """(error type, message) from a Catch's {"Error", "Cause"}; Lambda causes are JSON."""
    error = error or {}
    kind = error.get("Error") or "Unknown"
    cause = error.get("Cause") or ""
    try:
        parsed = json.loads(cause)
        if isinstance(parsed, dict):
            kind = parsed.get("errorType") or kind
            cause = parsed.get("errorMessage") or cause
    except (TypeError, ValueError):
        pass
    return kind, str(cause)[:1000]


def stop_vendor_tasks(job_id: str) -> int:
    """A job that ends early stops its vendor tasks still running (`DELETE /v1/tasks/{id}` at
    Runway), so no task is paid for a video that will never be made. Best effort: a failure
    here is logged, never raised over the outcome being recorded."""
    stopped = 0
    for seg in jobs.get_segments(job_id):
        for kind, generator, path in (("image", get_image_generator, "image_path"),
                                      ("video", get_clip_generator, "video_path")):
            task_id = seg.get(f"{kind}_runway_task_id")
            if not task_id or seg.get(path):
                continue
            try:
                cancel = getattr(generator(), "cancel", None)
                if cancel is not None:
                    cancel(task_id)
                    stopped += 1
            except Exception as exc:  # noqa: BLE001 - the job's outcome matters more
                logger.warning("could not stop a vendor task", extra={"job_id": job_id, "task_id": task_id,
                                                                       "error_type": type(exc).__name__})
    return stopped


def cancel_job(job_id: str, error: dict | None = None) -> dict:
    """Rejected (or cancelled): end the job, delete its stored media, clear its rows."""
    gate = next((g for g in (jobs.get_gate(job_id, s) for s in jobs.GATE_STAGES)
                 if g and g["decision"] == "rejected"), None)
    stage = gate["stage"] if gate else None
    fields = {"script_approved": -1} if stage == "script" else {}
    job = jobs.finish_job(job_id, "cancelled", completed_at=NOW,
                          error_message=f"rejected at the {stage} approval" if stage else "cancelled by the user",
                          **fields) or jobs.get_job(job_id)
    stop_vendor_tasks(job_id)
    deleted = storage.get_storage().delete_prefix(storage.job_prefix(job_id))
    jobs.clear_job(job_id)
    notify_once(job, "job_cancelled", stage=stage or "")
    return {"cancelled": True, "deleted_files": deleted}


def record_approval_timeout(job_id: str, error: dict | None = None) -> dict:
    gate = jobs.open_gate_for_job(job_id)
    stage = gate["stage"] if gate else ""
    jobs.close_open_gates(job_id, "timed_out")
    job = jobs.finish_job(job_id, "timed_out", completed_at=NOW,
                          error_message=f"no answer at the {stage} approval in time") or jobs.get_job(job_id)
    notify_once(job, "approval_timed_out", stage=stage)
    return {"timed_out": True, "stage": stage}


def record_failure(job_id: str, error: dict | None = None) -> dict:
    kind, message = _error_message(error)
    jobs.close_open_gates(job_id, "abandoned")
    job = jobs.finish_job(job_id, "failed", completed_at=NOW, error_message=f"{kind}: {message}")
    job = job or jobs.get_job(job_id)
    stop_vendor_tasks(job_id)
    notify_once(job, "job_failed", error_type=kind, reason=message)
    return {"failed": True, "error_type": kind}
