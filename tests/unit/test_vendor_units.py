"""Runway's limits in Runway's units: promptText counts UTF-16 code units, and a data URI is at
most "5MB" (5,000,000 bytes: the reference says MB, not MiB). The fake counts that way; so does
the client. (Telegram's "20MB" getFile limit, 20,000,000 bytes: tests/unit/telegram/
test_steering_voice.py.)"""

from __future__ import annotations

import base64

import pytest

from tests.fakes.runway_api import utf16_units as units
from videobot.errors import VendorFailed
from videobot.providers import runway
from videobot.providers.base import ClipRequest, ImageRequest
from videobot.providers.openai_llm import _trim

EMOJI = "🎬"  # U+1F3AC: one code point, two UTF-16 code units
PNG_1x1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
PNG_MAGIC = PNG_1x1[:8]
HEADERS = {"Authorization": "Bearer key_test_fake_runway", "X-Runway-Version": "2024-11-06"}


@pytest.fixture
def still(tmp_path):
    path = tmp_path / "still.png"
    path.write_bytes(PNG_1x1)
    return path.as_uri()


def _post(fake, body: dict):
    import requests

    body = {"model": "gen4_image", "ratio": "1280:720", **body}
    return requests.post(f"{fake.url}/v1/text_to_image", json=body, headers=HEADERS, timeout=30)


def test_the_fake_counts_prompt_text_in_utf16_code_units(fake_runway):
    assert _post(fake_runway, {"promptText": EMOJI * 500}).status_code == 200  # 500 characters, 1000 units
    refused = _post(fake_runway, {"promptText": EMOJI * 501})  # 501 characters, 1002 units
    assert refused.status_code == 400
    assert "1000 UTF-16 code units" in refused.json()["issues"][0]["message"]
    assert _post(fake_runway, {"promptText": "\ud83c" * 1000}).status_code == 200  # lone surrogates: one unit each


def test_prompts_reach_runway_cut_to_1000_utf16_code_units_never_inside_a_character(rt, runway_env, still):
    prompt = "Кофе " + EMOJI * 700  # 705 characters, 1405 UTF-16 code units
    images, clips = rt.images, rt.clips
    images.submit(ImageRequest(prompt=prompt, ratio="16:9"))
    images.submit(ImageRequest(prompt=prompt, ratio="16:9", reference_image_url=still))
    clips.submit(ClipRequest(prompt=prompt, ratio="16:9", image_url=still))

    sent = [c.json()["promptText"] for c in runway_env.calls("POST /v1/*")]
    assert len(sent) == 3 and len(runway_env.tasks) == 3
    for text in sent:
        assert 999 <= units(text) <= 1000 and text.endswith(EMOJI)  # a whole emoji last, never half of one
    assert prompt.startswith(sent[0]) and prompt.startswith(sent[2])


def test_the_llms_prompts_are_trimmed_at_a_word_in_utf16_code_units():
    text = " ".join([f"{EMOJI}кадр"] * 400)  # 400 words of 5 characters, 6 units each
    trimmed = _trim(text)
    assert units(trimmed) <= 1000 and text.startswith(trimmed) and trimmed.endswith("кадр")
    assert units(trimmed) > 990


def test_a_data_uri_is_at_most_5_000_000_bytes_not_5_mib(rt, fake_runway, tmp_path, runway_env):
    # 3,800,000 bytes make a data URI of about 5,066,690 characters: over 5 MB, under 5 MiB
    data = PNG_MAGIC + bytes(range(256)) * (3_800_000 // 256)
    uri = "data:image/png;base64," + base64.b64encode(data).decode()
    assert 5_000_000 < len(uri) < 5 * 1024 * 1024
    refused = _post(fake_runway, {"promptText": "x", "referenceImages": [{"uri": uri, "tag": "opening"}]})
    assert refused.status_code == 400 and "5MB" in refused.json()["issues"][0]["message"]
    assert runway.data_uri(data) is None
    path = tmp_path / "big.png"
    path.write_bytes(data)
    task = rt.clips.submit(ClipRequest(prompt="Pan", ratio="16:9", image_url=path.as_uri()))
    assert runway_env.tasks[task].body["promptImage"].startswith("runway://")  # an ephemeral upload instead


def test_a_prompt_over_the_limit_without_the_cut_is_refused_and_not_retried(rt, runway_env):
    """What the cut prevents: Runway's 400 on a create is final (VendorFailed, no retry)."""
    images = rt.images
    with pytest.raises(VendorFailed, match="HTTP 400"):
        images._create("text_to_image", model="gen4_image", prompt_text=EMOJI * 501, ratio="1280:720")
    assert len(runway_env.calls("POST /v1/text_to_image")) == 1
