"""callback_data of the settings and history buttons (1-64 bytes), "|"-separated so the
approval buttons' parser never takes them: "st|<field>|<value>" changes a setting,
"hv|<job_id>" sends a finished video again, "ra|<job_id>|<i|v>|<round>[|<2.4>]" redoes all ten
images or clips (or the 0-based segments listed) with the words the user wrote at that round of
the gate ("ra|<job_id>|s|<round>" rewrites the script with them), "rx|…" declines."""

from __future__ import annotations

SETTING, HISTORY, REDO_ALL, REDO_CANCEL = "st", "hv", "ra", "rx"
# under a refused segment: "sr|<job_id>|<refused_clip_6>|<round>" retries it, "sx|<job_id>" cancels the job
REFUSAL_RETRY, REFUSAL_CANCEL = "sr", "sx"


def make(*parts: str) -> str:
    data = "|".join(parts)
    if not 1 <= len(data.encode()) <= 64:
        raise ValueError(f"callback data {data!r} is not 1-64 bytes")
    return data


def parse(data: str | None) -> list[str]:
    return (data or "").split("|")
