"""Letters of a return from a sanction say the plan deadline it opens (D10) and where the member goes (D11)."""

from __future__ import annotations

import datetime as dt

import pytest
from babel.dates import format_date

from workers.letters.render import LetterContext, render

EVENT = dt.date(2027, 11, 15)
PLAN_DUE = dt.date(2028, 3, 15)  # D10: four months from the return
STEPS = {
    "en": ("orientation programme", "first action plan"),
    "fr": ("programme d’orientation", "premier plan d’action"),
    "es": ("programa de orientación", "primer plan de acción"),
}


def returned(language: str, to_state: str) -> LetterContext:
    return LetterContext(member_name="Riverton", jurisdiction_name="Riverton", country="France", language=language,
                         kind="reinstated", rule_id="R5.6", rule_title="Resuming activity", event_date=EVENT,
                         recipient_role="poc", support_unit_email="support@ogplocal.example", reference="OGP-L-7",
                         reason="meeting 4 (co creation, 2027-11-14) with 3 non-governmental participant(s)",
                         dates={"effective_on": EVENT, "plan_due": PLAN_DUE}, from_state="inactive",
                         to_state=to_state)


@pytest.mark.parametrize("language", sorted(STEPS))
def test_d11_d10_a_return_to_orientation_asks_for_orientation_and_names_the_first_plan_due_date(language):
    letter = render(returned(language, "orientation"))
    text = " ".join(letter.text.split())
    orientation, first_plan = STEPS[language]
    assert orientation in text and first_plan in text
    assert format_date(PLAN_DUE, format="long", locale=language) in text
    assert "R5.6" in text and "D10" in text
    assert letter.pdf.startswith(b"%PDF")


@pytest.mark.parametrize("language", sorted(STEPS))
def test_d10_a_return_to_co_creation_names_the_plan_due_date(language):
    text = " ".join(render(returned(language, "co_creation")).text.split())
    assert format_date(PLAN_DUE, format="long", locale=language) in text
    assert STEPS[language][0] not in text
