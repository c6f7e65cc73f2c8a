"""The seed's three roles on the OpenAI Responses API (`POST /v1/responses`) with structured
output (a strict JSON schema). The roles' instructions are versioned files in
videobot/prompts/, never stored prompt objects or assistant ids (both are retired).

Calls per video: one for the script (a second only if the first breaks the rules), and one
that writes the ten image prompts and the ten animation prompts together, with the whole
script in view, so the shots tell one story. That is 2 calls, 3 at most. The animation
prompts wait in the segment rows until the images are approved (see pipeline). One call for
all ten segments is also faster than ten parallel ones: the model plans the story once, and
there is no tail of the slowest of ten requests.
"""

from __future__ import annotations

import json
import re
from importlib import resources

from videobot.config import SEGMENT_COUNT, Settings
from videobot.errors import ContentRefused, VendorFailed
from videobot.observability import logger
from videobot.providers.base import LongPart, Prompts, Rewrites, Script
from videobot.providers.offline import detect_language
from videobot.providers.openai_common import make_client, vendor_error
from videobot.providers.runway import PROMPT_TEXT_UNITS
from videobot.providers.runway import prompt_text as runway_prompt_text

PROMPT_VERSION = "v1"
MIN_WORDS, MAX_WORDS = 6, 18  # about 5 s of speech: 1.2-3.6 words a second
TARGET_WORDS = "9-13"  # what the prompt asks for
MAX_PROMPT_CHARS = PROMPT_TEXT_UNITS  # Runway's promptText limit, in UTF-16 code units


def role_prompt(name: str, version: str = PROMPT_VERSION) -> str:
    """The instructions of one role: videobot/prompts/<name>.<version>.md."""
    return (resources.files("videobot") / "prompts" / f"{name}.{version}.md").read_text(encoding="utf-8")


def _strings(min_items: int = SEGMENT_COUNT) -> dict:
    return {"type": "array", "items": {"type": "string"}, "minItems": min_items, "maxItems": min_items}


SCRIPT_SCHEMA = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "description": "ISO 639-1 code of the topic's language"},
        "segments": {**_strings(), "description": "the 10 narration parts, about 5 s of speech each"},
    },
    "required": ["language", "segments"],
    "additionalProperties": False,
}
VISUALS_SCHEMA = {
    "type": "object",
    "properties": {
        "visual_style": {"type": "string", "description": "the one look shared by all ten shots"},
        "shots": {
            "type": "array",
            "minItems": SEGMENT_COUNT,
            "maxItems": SEGMENT_COUNT,
            "items": {
                "type": "object",
                "properties": {"image_prompt": {"type": "string"}, "animation_prompt": {"type": "string"}},
                "required": ["image_prompt", "animation_prompt"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["visual_style", "shots"],
    "additionalProperties": False,
}


def list_schema(field: str, count: int = SEGMENT_COUNT) -> dict:
    """An object holding exactly `count` strings under `field`: the animation prompts (all ten,
    or those of the images made again), the image prompts a wish rewrote."""
    return {
        "type": "object",
        "properties": {field: _strings(count)},
        "required": [field],
        "additionalProperties": False,
    }


def rewrites_schema(count: int) -> dict:
    """The shortened parts, one object per part asked for (`segment`: its 1-based number)."""
    return {
        "type": "object",
        "properties": {
            "parts": {
                "type": "array",
                "minItems": count,
                "maxItems": count,
                "items": {
                    "type": "object",
                    "properties": {"segment": {"type": "integer"}, "text": {"type": "string"}},
                    "required": ["segment", "text"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["parts"],
        "additionalProperties": False,
    }


def check_script(segments, topic: str, language: str | None = None) -> tuple[list[str], list[str]]:
    """(hard, soft) problems of a script, in words the model can act on. Hard ones (the wrong
    count, empty parts, the wrong language) the pipeline cannot live with; soft ones (a part a
    little long or short for 5 s) the voice-over fits by tempo and padding."""
    if not isinstance(segments, list) or not all(isinstance(s, str) for s in segments):
        return ["`segments` must be a list of strings"], []
    hard, soft = [], []
    if len(segments) != SEGMENT_COUNT:
        hard.append(f"there must be exactly {SEGMENT_COUNT} segments, not {len(segments)}")
    for i, text in enumerate(segments, 1):
        words = len(text.split())
        if not text.strip():
            hard.append(f"segment {i} is empty")
        elif not MIN_WORDS <= words <= MAX_WORDS:
            soft.append(f"segment {i} has {words} words; it must be spoken in about 5 seconds ({TARGET_WORDS} words)")
    expected = language if language in ("ru", "en") else detect_language(topic)
    if segments and detect_language(" ".join(segments)) != expected:
        hard.append(f"the script must be written in the topic's language ({expected})")
    return hard, soft


def script_problems(segments, topic: str, language: str | None = None) -> list[str]:
    """Every problem of a script; [] when it follows the rules."""
    hard, soft = check_script(segments, topic, language)
    return hard + soft


def _trim(prompt: str, limit: int = MAX_PROMPT_CHARS) -> str:
    """The prompt within Runway's promptText limit (UTF-16 code units), cut at a word."""
    prompt = " ".join(prompt.split())
    cut = runway_prompt_text(prompt, limit)
    return prompt if cut == prompt else cut.rsplit(" ", 1)[0]


class OpenAILLM:
    def __init__(self, settings: Settings, client=None):
        self.settings = settings
        self.client = client or make_client(self.settings)

    # -- one call ---------------------------------------------------------------------------

    def _call(self, role: str, schema_name: str, schema: dict, user_input: str) -> tuple[object, dict]:
        """One Responses API call. Returns (the parsed JSON, the call's usage)."""
        import openai

        s = self.settings
        kwargs = {}
        if s.openai.reasoning_effort and s.openai.reasoning_effort != "default":
            kwargs["reasoning"] = {"effort": s.openai.reasoning_effort}
        try:
            response = self.client.responses.create(
                model=s.openai.model,
                instructions=role_prompt(role),
                input=user_input,
                text={"format": {"type": "json_schema", "name": schema_name, "strict": True, "schema": schema}},
                max_output_tokens=s.openai.max_output_tokens,
                store=False,
                metadata={"role": role, "prompt_version": PROMPT_VERSION},
                **kwargs,
            )
        except openai.OpenAIError as exc:
            raise vendor_error(exc, f"{role} call") from None
        except ValueError as exc:  # a 200 whose body is not JSON
            raise vendor_error(exc, f"{role} call") from None
        usage = _usage(response, s.openai.model)
        for item in getattr(response, "output", None) or []:
            for content in getattr(item, "content", None) or []:
                if getattr(content, "type", None) == "refusal":
                    raise ContentRefused(f"the language model refused the topic: {content.refusal}"[:300])
        if getattr(response, "status", "completed") != "completed":
            reason = getattr(getattr(response, "incomplete_details", None), "reason", None)
            return _Broken(f"the reply was {response.status} ({reason})"), usage
        try:
            return json.loads(response.output_text), usage
        except (TypeError, ValueError):
            return _Broken("the reply was not the JSON the schema asks for"), usage

    # -- the three roles --------------------------------------------------------------------

    def write_script(
        self, topic: str, *, language: str | None = None, feedback: str | None = None, previous: list[str] | None = None
    ) -> Script:
        base = f"Topic: {topic}"
        if language:
            base += f"\nLanguage: {language}"
        if feedback:  # a revision asked for at the script gate
            base += (
                "\n\nThe user reviewed this script:\n"
                + "\n".join(previous or [])
                + f"\n\nRewrite it following their feedback: {feedback}"
            )
        user_input, calls = base, []
        for attempt in (1, 2):
            data, usage = self._call("script", "video_script", SCRIPT_SCHEMA, user_input)
            calls.append(usage)
            segments = data.get("segments") if isinstance(data, dict) else None
            hard, soft = ([data.reason], []) if isinstance(data, _Broken) else check_script(segments, topic, language)
            problems = hard + soft
            if not problems:
                break
            logger.warning("script breaks the rules", extra={"attempt": attempt, "problems": problems})
            if attempt == 1:
                user_input = (
                    base + "\n\nYour previous script broke these rules; write it again:\n- " + "\n- ".join(problems)
                )
        if hard or not isinstance(data, dict) or segments is None:  # (a reply without hard problems is a dict)
            raise VendorFailed("the script broke the rules twice: " + "; ".join(hard))
        lang = str(data.get("language") or "").strip().lower()[:8]
        if not re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]+)?", lang):
            lang = language or detect_language(topic)
        return Script(language=lang, segments=[" ".join(s.split()) for s in segments], usage=_sum(calls))

    def write_image_prompts(self, topic: str, segments: list[str]) -> Prompts:
        """The image prompts, with the animation prompts written in the same call."""
        data, usage = self._call("image_prompts", "visual_prompts", VISUALS_SCHEMA, _visual_input(topic, segments))
        shots = data.get("shots") if isinstance(data, dict) else None
        if (
            not isinstance(shots, list)
            or len(shots) != len(segments)
            or not all(
                isinstance(x, dict)
                and str(x.get("image_prompt", "")).strip()
                and str(x.get("animation_prompt", "")).strip()
                for x in shots
            )
        ):
            raise VendorFailed(f"the visual prompts did not match the schema ({getattr(data, 'reason', 'shots')})")
        return Prompts(
            [_trim(x["image_prompt"]) for x in shots],
            usage=_sum([usage]),
            animation=[_trim(x["animation_prompt"]) for x in shots],
        )

    def write_animation_prompts(self, topic: str, segments: list[str], image_prompts: list[str]) -> Prompts:
        """Used only for images without a draft: made again after the image-prompt call wrote
        theirs, or all ten when that call did not write them (e.g. another LLM did)."""
        user_input = (
            _visual_input(topic, segments)
            + "\n\nImage prompts:\n"
            + "\n".join(f"{i}. {p}" for i, p in enumerate(image_prompts, 1))
        )
        return self._prompts("animation_prompts", "animation_prompts", "animation_prompts", len(segments), user_input)

    def revise_image_prompts(self, topic: str, prompts: list[str], wish: str, world: list[str]) -> Prompts:
        """The named images' prompts rewritten with the user's wish, in one call, keeping the
        prompts' rules and the video's visual world (`world`: every image prompt of the video)."""
        user_input = (
            f"Topic: {topic}\n\nThe video's image prompts:\n"
            + "\n".join(f"- {p}" for p in world)
            + f"\n\nThe user's wish: {wish}\n\nImage prompts to rewrite:\n"
            + "\n".join(f"{i}. {p}" for i, p in enumerate(prompts, 1))
        )
        return self._prompts("revise_image_prompts", "revised_prompts", "image_prompts", len(prompts), user_input)

    def revise_animation_prompts(self, topic: str, prompts: list[str], wish: str, pictures: list[str]) -> Prompts:
        """The named clips' motion prompts rewritten with the user's wish ("сделай медленнее"), in
        one call, each beside the picture it animates, keeping the motion prompts' rules."""
        user_input = (
            f"Topic: {topic}\n\nThe pictures the clips animate:\n"
            + "\n".join(f"{i}. {p}" for i, p in enumerate(pictures, 1))
            + f"\n\nThe user's wish: {wish}\n\nAnimation prompts to rewrite:\n"
            + "\n".join(f"{i}. {p}" for i, p in enumerate(prompts, 1))
        )
        return self._prompts(
            "revise_animation_prompts", "revised_animation_prompts", "animation_prompts", len(prompts), user_input
        )

    def _prompts(self, role: str, schema_name: str, field: str, count: int, user_input: str) -> Prompts:
        """One call answering exactly `count` prompts under `field`, each within Runway's limit."""
        data, usage = self._call(role, schema_name, list_schema(field, count), user_input)
        items = data.get(field) if isinstance(data, dict) else None
        if (
            not isinstance(items, list)
            or len(items) != count
            or not all(isinstance(p, str) and p.strip() for p in items)
        ):
            raise VendorFailed(f"the {role} reply did not match the schema")
        return Prompts([_trim(p) for p in items], usage=_sum([usage]))

    def shorten_narration(self, topic: str, language: str, script: list[str], parts: list[LongPart]) -> Rewrites:
        """The parts too long for their segment, rewritten shorter in one call with the whole
        script in view. A reply that leaves a part out, adds one or changes the language is
        refused (VendorFailed); whether a rewrite fits is the voice-over's to measure."""
        user_input = _rewrite_input(topic, language, script, parts)
        data, usage = self._call("shorten_narration", "narration_rewrites", rewrites_schema(len(parts)), user_input)
        items = data.get("parts") if isinstance(data, dict) else None
        asked = {p.index + 1 for p in parts}
        if (
            not isinstance(items, list)
            or not all(isinstance(x, dict) and isinstance(x.get("segment"), int) for x in items)
            or sorted(x["segment"] for x in items) != sorted(asked)
        ):
            raise VendorFailed(
                f"the shortened narration did not name the parts asked for ({getattr(data, 'reason', 'parts')})"
            )
        texts = {x["segment"] - 1: " ".join(str(x.get("text") or "").split()) for x in items}
        for index, text in texts.items():
            if not text:
                raise VendorFailed(f"the shortened narration of segment {index + 1} is empty")
            if language in ("ru", "en") and detect_language(text) != language:
                raise VendorFailed(f"the shortened narration of segment {index + 1} is not in {language}")
        return Rewrites(texts, usage=_sum([usage]))


def _rewrite_input(topic: str, language: str, script: list[str], parts: list[LongPart]) -> str:
    whole = "\n".join(f"{i}. {text}" for i, text in enumerate(script, 1))
    asked = "\n".join(
        f"Segment {p.index + 1} (at most {p.max_words} words; now {len(p.text.split())} words, "
        f"{p.seconds:.1f} s spoken where {p.room:.1f} s fit): {p.text}"
        for p in parts
    )
    return (
        f"Topic: {topic}\nLanguage: {language}\n\nThe whole script, segment by segment:\n{whole}\n\n"
        f"Rewrite these parts shorter:\n{asked}"
    )


class _Broken:
    def __init__(self, reason: str):
        self.reason = reason


def _visual_input(topic: str, segments: list[str]) -> str:
    script = "\n".join(f"{i}. {text}" for i, text in enumerate(segments, 1))
    return (
        f"Topic: {topic}\n\nThe whole script, segment by segment:\n{script}\n\n"
        f"For every segment write the image prompt (image_prompts role) and how that still "
        f"moves in its 5-second clip (animation_prompts role):\n\n" + role_prompt("animation_prompts")
    )


def _usage(response, model: str) -> dict:
    u = getattr(response, "usage", None)
    return {
        "vendor": "openai",
        "model": getattr(response, "model", None) or model,
        "calls": 1,
        "input_tokens": int(getattr(u, "input_tokens", 0) or 0),
        "output_tokens": int(getattr(u, "output_tokens", 0) or 0),
    }


def _sum(calls: list[dict]) -> dict:
    return {
        "vendor": "openai",
        "model": calls[-1]["model"],
        "calls": len(calls),
        "input_tokens": sum(c["input_tokens"] for c in calls),
        "output_tokens": sum(c["output_tokens"] for c in calls),
    }
