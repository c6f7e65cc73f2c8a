"""GenerateScript: the script writer turns the topic into one narration part per segment
(about 5 s of speech each). ReviseScript rewrites it with the user's feedback."""

from __future__ import annotations

from videobot import usage
from videobot.data import jobs
from videobot.data.db import NOW
from videobot.pipeline import JobStatus
from videobot.runtime import Runtime
from videobot.stages.common import expect_segments


def generate_script(rt: Runtime, job_id: str) -> dict:
    job = jobs.get_job(rt.db, job_id)
    if job.script_segments:
        return {"segments": len(job.segment_texts)}
    jobs.update_job(rt.db, job_id, status=JobStatus.GENERATING_SCRIPT)
    with usage.paid_call(rt.db, rt.settings, usage.llm_call(rt.settings, job_id, "generate_script", "script")) as bill:
        script = rt.llm.write_script(job.prompt, language=job.language)
        bill.llm(script.usage)
    return {"segments": len(_store(rt, job_id, script))}


def revise_script(rt: Runtime, job_id: str, feedback: str | None) -> None:
    """Write the script again with the user's words, the previous one in view."""
    job = jobs.update_job(rt.db, job_id, status=JobStatus.GENERATING_SCRIPT)
    with usage.paid_call(rt.db, rt.settings, usage.llm_call(rt.settings, job_id, "revise_script", "script")) as bill:
        script = rt.llm.write_script(job.prompt, language=job.language, feedback=feedback, previous=job.segment_texts)
        bill.llm(script.usage)
    _store(rt, job_id, script)


def _store(rt: Runtime, job_id: str, script) -> list[str]:
    segments = expect_segments(script.segments, rt.settings.pipeline.segment_count, "script segments")
    jobs.update_job(
        rt.db,
        job_id,
        script_segments=segments,
        script_text="\n".join(segments),
        language=script.language,
        script_generated_at=NOW,
    )
    return segments
