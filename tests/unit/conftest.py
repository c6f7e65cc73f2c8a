"""Fixtures shared by the unit tests."""

from __future__ import annotations

import generate_script.app as generate_script
import pytest
import split_into_segments.app as split_into_segments
import write_image_prompts.app as write_image_prompts

from tests.helpers import new_job
from videobot.data import jobs


@pytest.fixture
def prompted_job(rt, db, runway_env) -> dict:
    """A job with its script, segments and image prompts, its images to be made by the fake Runway."""
    job = new_job(db)
    for handler in (generate_script, split_into_segments, write_image_prompts):
        handler.lambda_handler.run(rt, {"job_id": job["id"]})
    return jobs.get_job(db, job["id"])
