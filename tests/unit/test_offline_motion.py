"""The offline LLM's motion revision (providers/offline.py `revise_motion`): a clip wish read the
way a person means it, in Russian and English. A negated speed asks for a moderate pace, never
its opposite; an explicit speed word wins over a manner word."""

from __future__ import annotations

import pytest

from videobot.providers.offline import revise_motion

MOTION = "Gentle pan across the scene, smooth and steady"


@pytest.mark.parametrize(
    "wish, pace",
    [
        # the plain asks, both languages
        ("медленнее", "Very slow and calm"),
        ("slower", "Very slow and calm"),
        ("быстрее", "Brisk and dynamic"),
        ("faster", "Brisk and dynamic"),
        ("плавнее", "Very slow and calm"),
        ("динамичнее", "Brisk and dynamic"),
        ("статично", "Almost still, barely moving"),
        # negation: "not so slow" is a moderate pace, never "very slow"
        ("не так медленно", "Steady, moderate pace"),
        ("не слишком медленно", "Steady, moderate pace"),
        ("не такой медленный", "Steady, moderate pace"),
        ("less slow", "Steady, moderate pace"),
        ("not so slow", "Steady, moderate pace"),
        ("не так быстро", "Steady, moderate pace"),
        ("not too fast", "Steady, moderate pace"),
        ("less fast", "Steady, moderate pace"),
        # a speed word wins over a manner word
        ("быстрее, но плавно", "Brisk yet smooth"),
        ("faster but smooth", "Brisk yet smooth"),
        ("плавно, но быстрее", "Brisk yet smooth"),
        ("медленнее и динамичнее", "Very slow and calm"),
        ("slower but dynamic", "Very slow and calm"),
    ],
)
def test_a_clip_wish_sets_the_pace_it_means(wish, pace):
    assert revise_motion(MOTION, wish) == f"{pace}: pan across the scene"


def test_a_pace_asked_before_gives_way_to_the_next():
    once = revise_motion(MOTION, "не так медленно")
    assert revise_motion(once, "быстрее") == "Brisk and dynamic: pan across the scene"
    assert (
        revise_motion(revise_motion(MOTION, "faster but smooth"), "slower")
        == "Very slow and calm: pan across the scene"
    )


def test_a_wish_with_no_pace_joins_the_motion_as_its_mood():
    assert revise_motion(MOTION, "ярче") == f"{MOTION}, ярче"
