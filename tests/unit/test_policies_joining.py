"""Unit tests of the checks on an application to join (R1.1–R1.3, R2.1)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from factories import head_of_government, registered_stakeholder, valid_letter
from policies.calendar import add_months
from policies.errors import InvalidInput, Refusals, RuleViolation
from policies.joining import (
    CallClosed,
    LetterOfSupportInvalid,
    LetterOfSupportLacksGovernmentSignature,
    LetterOfSupportLacksRegisteredStakeholder,
    LetterOfSupportNotInEnglish,
    LetterOfSupportTooLong,
    TermEndMissing,
    TermTooShort,
    check_application,
    check_call_open,
    check_letter_of_support,
    check_term_remaining,
)
from policies.proposals import LetterOfSupport, Signatory
from policies.rules import Durations

ONE_DAY = timedelta(days=1)
OPENS_ON = date(2026, 1, 12)
CLOSES_ON = date(2026, 3, 31)
APPLIED_ON = date(2026, 2, 16)


def letter_refusals(letter: LetterOfSupport, **kwargs: object) -> list[RuleViolation]:
    with pytest.raises(Refusals) as caught:
        check_letter_of_support(letter, **kwargs)
    assert "letter of support" in caught.value.message
    return caught.value.violations


def the_one(violations: list[RuleViolation]) -> RuleViolation:
    assert len(violations) == 1, [str(v) for v in violations]
    return violations[0]


# --- R1.1 open call -------------------------------------------------------------------


@pytest.mark.parametrize("applied_on", [OPENS_ON, APPLIED_ON, CLOSES_ON])
def test_r1_1_application_during_the_call_including_its_first_and_last_day_is_accepted(
    applied_on: date,
) -> None:
    check_call_open(opens_on=OPENS_ON, closes_on=CLOSES_ON, applied_on=applied_on)


@pytest.mark.parametrize(
    "applied_on", [OPENS_ON - ONE_DAY, CLOSES_ON + ONE_DAY], ids=["before", "after"]
)
def test_r1_1_application_outside_the_call_is_refused(applied_on: date) -> None:
    with pytest.raises(CallClosed) as caught:
        check_call_open(opens_on=OPENS_ON, closes_on=CLOSES_ON, applied_on=applied_on)

    assert (caught.value.rule, caught.value.field) == ("R1.1", "applied_on")
    assert caught.value.hint


def test_r1_1_call_closing_before_it_opens_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        check_call_open(opens_on=CLOSES_ON, closes_on=OPENS_ON, applied_on=APPLIED_ON)

    assert (caught.value.rule, caught.value.field) == ("R1.1", "closes_on")


# --- R1.2 term remaining --------------------------------------------------------------


def test_r1_2_exactly_sixteen_months_left_in_the_term_is_accepted() -> None:
    check_term_remaining(
        applied_on=APPLIED_ON, has_elections=True, term_end=add_months(APPLIED_ON, 16)
    )


def test_r1_2_one_day_less_than_sixteen_months_left_in_the_term_is_refused() -> None:
    with pytest.raises(TermTooShort) as caught:
        check_term_remaining(
            applied_on=APPLIED_ON,
            has_elections=True,
            term_end=add_months(APPLIED_ON, 16) - ONE_DAY,
        )

    assert (caught.value.rule, caught.value.field) == ("R1.2", "term_end")
    assert add_months(APPLIED_ON, 16).isoformat() in caught.value.hint


@pytest.mark.parametrize(
    ("term_end", "accepted"),
    [(date(2028, 2, 29), True), (date(2028, 2, 28), False)],
)
def test_r1_2_sixteen_months_from_31_october_ends_on_the_last_day_of_february(
    term_end: date, accepted: bool
) -> None:
    arguments = {"applied_on": date(2026, 10, 31), "has_elections": True, "term_end": term_end}
    if accepted:
        check_term_remaining(**arguments)
    else:
        with pytest.raises(TermTooShort):
            check_term_remaining(**arguments)


@pytest.mark.parametrize("term_end", [None, APPLIED_ON + ONE_DAY])
def test_r1_2_jurisdiction_without_elections_skips_the_term_check(term_end: date | None) -> None:
    check_term_remaining(applied_on=APPLIED_ON, has_elections=False, term_end=term_end)


def test_r1_2_jurisdiction_with_elections_must_give_its_term_end() -> None:
    with pytest.raises(TermEndMissing) as caught:
        check_term_remaining(applied_on=APPLIED_ON, has_elections=True, term_end=None)

    assert (caught.value.rule, caught.value.field) == ("R1.2", "term_end")


def test_r1_2_months_required_are_a_policy_parameter() -> None:
    term_end = add_months(APPLIED_ON, 12)
    check_term_remaining(
        applied_on=APPLIED_ON,
        has_elections=True,
        term_end=term_end,
        durations=Durations(min_term_months_at_application=12),
    )
    with pytest.raises(TermTooShort):
        check_term_remaining(applied_on=APPLIED_ON, has_elections=True, term_end=term_end)


# --- R1.3 letter of support -----------------------------------------------------------


@pytest.mark.parametrize("pages", [1, 3])
def test_r1_3_letter_of_one_to_three_pages_in_english_with_both_signatures_is_accepted(
    pages: int,
) -> None:
    check_letter_of_support(valid_letter(pages=pages))


def test_r1_3_letter_longer_than_three_pages_is_refused() -> None:
    violation = the_one(letter_refusals(valid_letter(pages=4)))

    assert isinstance(violation, LetterOfSupportTooLong)
    assert (violation.rule, violation.field) == ("R1.3", "pages")


def test_r1_3_letter_with_no_pages_is_invalid_input() -> None:
    violation = the_one(letter_refusals(valid_letter(pages=0)))

    assert isinstance(violation, InvalidInput)
    assert (violation.rule, violation.field) == ("R1.3", "pages")


@pytest.mark.parametrize("language", ["fr", "es", ""])
def test_r1_3_letter_not_in_english_is_refused(language: str) -> None:
    violation = the_one(letter_refusals(valid_letter(language=language)))

    assert isinstance(violation, LetterOfSupportNotInEnglish)
    assert (violation.rule, violation.field) == ("R1.3", "language")


def test_r1_3_letter_signed_by_an_official_with_delegated_authority_is_accepted() -> None:
    deputy = Signatory(name="Deputy Mayor", kind="Government", has_delegated_authority=True)
    check_letter_of_support(valid_letter(signatories=(deputy, registered_stakeholder())))


@pytest.mark.parametrize(
    "government_signatories",
    [
        (),
        (head_of_government(is_head_of_government=False),),
        (head_of_government(kind="non_governmental", has_legal_personality=False),),
    ],
    ids=["no government signatory", "official without authority", "head not of government"],
)
def test_r1_3_letter_without_head_of_government_or_delegate_is_refused(
    government_signatories: tuple[Signatory, ...],
) -> None:
    letter = valid_letter(signatories=(*government_signatories, registered_stakeholder()))

    violation = the_one(letter_refusals(letter))

    assert isinstance(violation, LetterOfSupportLacksGovernmentSignature)
    assert (violation.rule, violation.field) == ("R1.3", "signatories")


@pytest.mark.parametrize(
    "stakeholders",
    [
        (),
        (registered_stakeholder(has_legal_personality=False),),
        (registered_stakeholder(kind="government"),),
    ],
    ids=["no stakeholder", "unregistered stakeholder", "registered but governmental"],
)
def test_r1_3_letter_without_a_registered_non_governmental_signatory_is_refused(
    stakeholders: tuple[Signatory, ...],
) -> None:
    letter = valid_letter(signatories=(head_of_government(), *stakeholders))

    violation = the_one(letter_refusals(letter))

    assert isinstance(violation, LetterOfSupportLacksRegisteredStakeholder)
    assert (violation.rule, violation.field) == ("R1.3", "signatories")


def test_r1_3_letter_failing_every_point_gets_one_reason_per_point() -> None:
    letter = LetterOfSupport(pages=5, language="de", signatories=())

    violations = letter_refusals(letter)

    assert [type(v) for v in violations] == [
        LetterOfSupportTooLong,
        LetterOfSupportNotInEnglish,
        LetterOfSupportLacksGovernmentSignature,
        LetterOfSupportLacksRegisteredStakeholder,
    ]
    assert all(isinstance(v, LetterOfSupportInvalid) and v.rule == "R1.3" for v in violations)
    assert all(v.message and v.hint for v in violations)


def test_r1_3_signatory_of_an_unknown_kind_is_invalid_input() -> None:
    stranger = Signatory(name="Someone", kind="citizen")
    letter = valid_letter(signatories=(head_of_government(), registered_stakeholder(), stranger))

    violation = the_one(letter_refusals(letter))

    assert isinstance(violation, InvalidInput)
    assert (violation.rule, violation.field) == ("R1.3", "signatories[2].kind")


def test_r1_3_page_limit_is_a_policy_parameter() -> None:
    violation = the_one(letter_refusals(valid_letter(pages=2), durations=Durations(los_max_pages=1)))

    assert isinstance(violation, LetterOfSupportTooLong)


# --- R2.1 acceptance ------------------------------------------------------------------


def test_r2_1_application_meeting_r1_2_and_r1_3_can_be_accepted() -> None:
    check_application(
        applied_on=APPLIED_ON,
        has_elections=True,
        term_end=add_months(APPLIED_ON, 16),
        letter=valid_letter(),
    )


def test_r2_1_application_failing_r1_2_and_r1_3_is_refused_with_every_reason() -> None:
    with pytest.raises(Refusals) as caught:
        check_application(
            applied_on=APPLIED_ON,
            has_elections=True,
            term_end=add_months(APPLIED_ON, 6),
            letter=valid_letter(language="fr"),
        )

    assert "application" in caught.value.message
    assert [(v.rule, v.field) for v in caught.value.violations] == [
        ("R1.2", "term_end"),
        ("R1.3", "language"),
    ]
    assert caught.value.rule == "R1.2"
