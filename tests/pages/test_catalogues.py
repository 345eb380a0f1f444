"""The message catalogues: every key the templates use exists in English, and French and Spanish translate them all."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from web.pages import i18n

TEMPLATES = Path(i18n.__file__).resolve().parent.parent / "templates"
PAGES = Path(i18n.__file__).resolve().parent
LITERAL_KEY = re.compile(r"""\bt\(\s*["']([a-z_]+\.[a-z0-9_.\-]+)["']""")


def _raw(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in sorted((i18n.LOCALES / lang).glob("*.json")):
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def test_every_key_the_templates_and_pages_use_is_in_the_english_catalogue():
    english = _raw("en")
    sources = list(TEMPLATES.rglob("*.html")) + list(PAGES.glob("*.py"))
    used = {key for path in sources for key in LITERAL_KEY.findall(path.read_text(encoding="utf-8"))}
    assert used, "no message key found: the pattern is wrong"
    # Prefixes completed in the template ("confirm.submit_" ~ action.name) are checked below, name by name.
    assert sorted(k for k in used - set(english) if not k.endswith(("_", "."))) == []


def test_every_action_and_form_has_its_words():
    from policies.assessments import AssessmentKind
    from policies.machines import CommitmentState, MemberState
    from policies.vocabularies import (COMPLETION_LEVELS, EVIDENCE_KINDS, IMPACT_LEVELS, MILESTONE_STATUSES,
                                       PUBLIC_INFLUENCE)
    from policies.deadlines import DeadlineKind
    from web.pages.dashboard import ACTIONS

    english = _raw("en")
    wanted = {f"{prefix}{name}" for name in ACTIONS for prefix in ("action.", "confirm.", "confirm.submit_")}
    wanted |= {f"field.{f.name}" for a in ACTIONS.values() for f in a.fields}
    wanted |= {f"mon.intro_{k.value}" for k in AssessmentKind} | {f"assessment.{k.value}" for k in AssessmentKind}
    wanted |= {f"state.{s.value}" for s in (*MemberState, *CommitmentState)}
    wanted |= {f"deadline.{k.value}" for k in DeadlineKind}
    wanted |= {f"milestone.{v}" for v in MILESTONE_STATUSES} | {f"completion.{v}" for v in COMPLETION_LEVELS}
    wanted |= {f"impact.{v}" for v in IMPACT_LEVELS} | {f"influence.{v}" for v in PUBLIC_INFLUENCE}
    wanted |= {f"evidence.{v}" for v in EVIDENCE_KINDS}
    assert sorted(wanted - set(english)) == []


@pytest.mark.parametrize("lang", [code for code in i18n.LANGUAGES if code != "en"])
def test_each_language_translates_every_english_message(lang):
    english, other = _raw("en"), _raw(lang)
    assert sorted(set(english) - set(other)) == []
    for key, text in english.items():
        # The same placeholders, so no page breaks in one language only.
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", other[key])), key


def test_the_three_languages_are_offered():
    assert set(i18n.LANGUAGES) >= {"en", "fr", "es"}
