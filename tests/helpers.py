"""Small builders shared by the tests."""

from __future__ import annotations

from videobot.data import jobs

_counter = iter(range(1, 10**9))


def new_job(prompt: str = "Реклама кофе", **kwargs) -> dict:
    job, created = jobs.create_job(user_id=kwargs.pop("user_id", 5_000_000_001),
                                   chat_id=kwargs.pop("chat_id", 5_000_000_001), prompt=prompt, **kwargs)
    assert created
    return job


def replace_part(monkeypatch, name: str, value) -> None:
    """Replace one part of the runtime (sfn, images, clips, speech, llm, ...) for one test,
    surviving runtime.reset() (monkeypatch restores it afterwards)."""
    from videobot import runtime

    monkeypatch.setattr(runtime.Runtime, name, value)
    monkeypatch.delitem(runtime.current().__dict__, name, raising=False)
