"""Both text catalogues, whole: the same keys and placeholders in Russian and English, every
text rendered with n = 1, 2, 5, 11, 21, counts in CLDR's plural forms (Babel), Russian texts
without English words and English texts without Russian ones."""

from __future__ import annotations

import re
import string

import pytest
from babel import Locale

from videobot.pipeline import JobStatus
from videobot.telegram import texts

COUNTS = (1, 2, 5, 11, 21)
# CLDR's categories for these counts: Russian 1 and 21 are "one", 2 "few", 5 and 11 "many".
RU_FORMS = {1: "one", 2: "few", 5: "many", 11: "many", 21: "one"}
# Latin words a Russian text may hold: names, units, commands and the vendor's own terms.
LATIN_IN_RUSSIAN = {"ID", "UTC", "Runway", "Telegram", "start", "status", "settings", "history", "help"}


def placeholders(template: str) -> dict[str, str]:
    """{field: format spec} of a catalogue text."""
    return {field: spec for _, field, spec, _ in string.Formatter().parse(template) if field is not None}


def render(lang: str, key: str, n: int) -> str:
    return texts.text(lang, key, **dict.fromkeys(placeholders(texts.CATALOGUE[lang][key]), n))


def test_both_catalogues_have_the_same_keys_and_placeholders():
    assert texts.RU.keys() == texts.EN.keys()
    assert texts.STATUS_RU.keys() == texts.STATUS_EN.keys()
    assert texts.BUTTONS["ru"].keys() == texts.BUTTONS["en"].keys()
    for key in texts.RU:
        assert placeholders(texts.RU[key]) == placeholders(texts.EN[key]), key
    assert set(texts.STATUS_RU) == set(JobStatus)
    assert texts.language_of("en-GB") == "en" and texts.language_of("de") == "ru" and texts.language_of(None) == "ru"


@pytest.mark.parametrize("lang", ["ru", "en"])
@pytest.mark.parametrize("n", COUNTS)
def test_every_text_renders_with_every_count(lang, n):
    for key in texts.CATALOGUE[lang]:
        rendered = render(lang, key, n)
        assert rendered.strip() or key.startswith(("where_", "cost_")), key
        assert "{" not in rendered and "}" not in rendered, key
        for field, spec in placeholders(texts.CATALOGUE[lang][key]).items():
            if spec.startswith("#"):  # a count with its noun, in CLDR's plural form for n
                noun = spec[1:]
                form = RU_FORMS[n] if lang == "ru" else ("one" if n == 1 else "other")
                assert f"{n} {texts.NOUNS[lang][noun][form]}" in rendered, (key, field)


def test_counts_agree_with_their_numbers_in_russian_and_english():
    assert [render("ru", "daily_limit", n).split("\n")[0] for n in COUNTS] == [
        "⛔ Лимит — 1 ролик в сутки, и он исчерпан.",
        "⛔ Лимит — 2 ролика в сутки, и он исчерпан.",
        "⛔ Лимит — 5 роликов в сутки, и он исчерпан.",
        "⛔ Лимит — 11 роликов в сутки, и он исчерпан.",
        "⛔ Лимит — 21 ролик в сутки, и он исчерпан.",
    ]
    assert render("en", "daily_limit", 1).startswith("⛔ The limit is 1 video a day")
    assert render("en", "daily_limit", 21).startswith("⛔ The limit is 21 videos a day")
    assert [render("ru", "revise_limit", n).split(". ")[0] for n in (1, 3, 5)] == [
        "Правок на этом этапе больше не будет: лимит — 1 правка",
        "Правок на этом этапе больше не будет: лимит — 3 правки",
        "Правок на этом этапе больше не будет: лимит — 5 правок",
    ]
    assert texts.text("ru", "topic_too_long", length=1501, max_chars=1000).startswith(
        "Описание слишком длинное: 1501 символ при лимите 1000."
    )


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_counted_noun_has_each_plural_form_cldr_names(lang):
    categories = Locale.parse(lang).plural_form.tags | {"other"}
    for noun, forms in texts.NOUNS[lang].items():
        assert set(forms) == categories, noun
    assert texts.NOUNS["ru"].keys() == texts.NOUNS["en"].keys()


def test_russian_texts_hold_no_english_words_and_english_texts_no_russian():
    for key, value in {**texts.RU, **{f"status {k}": v for k, v in texts.STATUS_RU.items()}}.items():
        words = set(re.findall(r"[A-Za-z]{2,}", re.sub(r"\{[^{}]*\}", "", value)))
        assert words <= LATIN_IN_RUSSIAN, (key, words - LATIN_IN_RUSSIAN)
    for key, value in {**texts.EN, **texts.STATUS_EN, **texts.BUTTONS["en"]}.items():
        assert not re.search("[А-Яа-яЁё]", value), key


def test_segments_by_number_and_the_keyboard_in_both_languages():
    assert texts.named("ru", "image", [2]) == "изображение 3"
    assert texts.named("ru", "image", [4, 2]) == "изображения 3, 5"
    assert texts.named("en", "clip", [6]) == "clip 7" and texts.named("en", "clip", [0, 1, 2]) == "clips 1, 2, 3"
    for lang in ("ru", "en"):
        for name, label in texts.BUTTONS[lang].items():
            assert texts.button_name(label) == name
    assert texts.button_name("📊 Status") == texts.button_name("📊 Статус") == "status"
    assert texts.button_name("Реклама кофе") is None
