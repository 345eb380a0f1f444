"""Checks an application to join must pass: the open call, the term left, the letter of support."""

from __future__ import annotations

from datetime import date

from policies.calendar import add_months
from policies.errors import InvalidInput, Refusals, RuleViolation
from policies.plans import is_english
from policies.proposals import LetterOfSupport
from policies.rules import DEFAULT_DURATIONS, Durations
from policies.vocabularies import PARTICIPANT_KINDS, canonical

__all__ = [
    "CallClosed",
    "LetterOfSupportInvalid",
    "LetterOfSupportLacksGovernmentSignature",
    "LetterOfSupportLacksRegisteredStakeholder",
    "LetterOfSupportNotInEnglish",
    "LetterOfSupportTooLong",
    "TermEndMissing",
    "TermTooShort",
    "check_application",
    "check_call_open",
    "check_letter_of_support",
    "check_term_remaining",
    "letter_of_support_violations",
    "term_remaining_violations",
]


class CallClosed(RuleViolation):
    """Raised when an application is made outside the dates of the call for applications."""

    rule = "R1.1"


class TermTooShort(RuleViolation):
    """Raised when too little of the administration's term remains at the application date."""

    rule = "R1.2"


class TermEndMissing(RuleViolation):
    """Raised when a jurisdiction with elections applies without giving its term's end date."""

    rule = "R1.2"


class LetterOfSupportInvalid(RuleViolation):
    """Raised when a letter of support fails one of its requirements; see the leaves."""

    rule = "R1.3"


class LetterOfSupportTooLong(LetterOfSupportInvalid):
    """Raised when a letter of support has more pages than allowed."""


class LetterOfSupportNotInEnglish(LetterOfSupportInvalid):
    """Raised when a letter of support is not written in English."""


class LetterOfSupportLacksGovernmentSignature(LetterOfSupportInvalid):
    """Raised when neither the head of government nor an official with delegated authority signs."""


class LetterOfSupportLacksRegisteredStakeholder(LetterOfSupportInvalid):
    """Raised when no non-governmental signatory is a registered organisation."""


def check_call_open(*, opens_on: date, closes_on: date, applied_on: date) -> None:
    """R1.1: refuse an application made before the call opens or after it closes (both inclusive)."""
    if closes_on < opens_on:
        raise InvalidInput(
            f"The call closes on {closes_on.isoformat()}, before it opens on "
            f"{opens_on.isoformat()}.",
            rule="R1.1",
            hint="Correct the call's dates.",
            field="closes_on",
        )
    if not opens_on <= applied_on <= closes_on:
        raise CallClosed(
            f"The application is dated {applied_on.isoformat()}, but the call for "
            f"applications runs from {opens_on.isoformat()} to {closes_on.isoformat()}.",
            hint="Apply while a call for applications is open.",
            field="applied_on",
        )


def term_remaining_violations(
    *,
    applied_on: date,
    has_elections: bool,
    term_end: date | None,
    durations: Durations = DEFAULT_DURATIONS,
) -> list[RuleViolation]:
    """The R1.2 failure of an application, if any, as a list."""
    if not has_elections:
        return []  # jurisdictions without elections skip R1.2
    if term_end is None:
        return [
            TermEndMissing(
                "The jurisdiction holds elections but the end of the current term is not given.",
                hint="Give the date the current administration's term ends.",
                field="term_end",
            )
        ]
    months = durations.min_term_months_at_application
    earliest = add_months(applied_on, months)
    if term_end < earliest:
        return [
            TermTooShort(
                f"The current term ends on {term_end.isoformat()}, less than {months} months "
                f"after the application on {applied_on.isoformat()}.",
                hint=f"Apply when the term ends on {earliest.isoformat()} or later, such as "
                "early in the next term.",
                field="term_end",
            )
        ]
    return []


def check_term_remaining(
    *,
    applied_on: date,
    has_elections: bool,
    term_end: date | None,
    durations: Durations = DEFAULT_DURATIONS,
) -> None:
    """R1.2: refuse an application with fewer than 16 months left in the term."""
    violations = term_remaining_violations(
        applied_on=applied_on, has_elections=has_elections, term_end=term_end, durations=durations
    )
    if violations:
        raise violations[0]


def letter_of_support_violations(
    los: LetterOfSupport, *, durations: Durations = DEFAULT_DURATIONS
) -> list[RuleViolation]:
    """Every R1.3 failure of a letter of support, one per failed point."""
    found: list[RuleViolation] = []
    if los.pages < 1:
        found.append(
            InvalidInput(
                f"The letter of support is said to have {los.pages} pages.",
                rule="R1.3",
                hint="Give the letter's real page count.",
                field="pages",
            )
        )
    elif los.pages > durations.los_max_pages:
        found.append(
            LetterOfSupportTooLong(
                f"The letter of support has {los.pages} pages; at most "
                f"{durations.los_max_pages} are allowed.",
                hint=f"Shorten the letter to {durations.los_max_pages} pages.",
                field="pages",
            )
        )
    if not is_english(los.language):
        found.append(
            LetterOfSupportNotInEnglish(
                f"The letter of support is written in '{los.language}', not in English.",
                hint="Send the letter in English.",
                field="language",
            )
        )
    kinds = [canonical(PARTICIPANT_KINDS, s.kind) for s in los.signatories]
    for k, (signatory, kind) in enumerate(zip(los.signatories, kinds)):
        if kind is None:
            found.append(
                InvalidInput(
                    f"Signatory {signatory.name!r} is of kind '{signatory.kind}', which is "
                    "neither government nor non-governmental.",
                    rule="R1.3",
                    hint="Say whether each signatory is government or non_governmental.",
                    field=f"signatories[{k}].kind",
                )
            )
    signed_by_government = any(
        kind == "government" and (s.is_head_of_government or s.has_delegated_authority)
        for s, kind in zip(los.signatories, kinds)
    )
    if not signed_by_government:
        found.append(
            LetterOfSupportLacksGovernmentSignature(
                "The letter of support is not signed by the head of local government or by a "
                "senior official with delegated authority.",
                hint="Have the head of government, or an official they delegated, sign it.",
                field="signatories",
            )
        )
    signed_by_registered = any(
        kind == "non_governmental" and s.has_legal_personality
        for s, kind in zip(los.signatories, kinds)
    )
    if not signed_by_registered:
        found.append(
            LetterOfSupportLacksRegisteredStakeholder(
                "No non-governmental signatory of the letter of support is a registered "
                "organisation.",
                hint="Add the signature of at least one registered non-governmental organisation.",
                field="signatories",
            )
        )
    return found


def check_letter_of_support(
    los: LetterOfSupport, *, durations: Durations = DEFAULT_DURATIONS
) -> None:
    """R1.3: refuse a letter of support, naming every point it fails."""
    violations = letter_of_support_violations(los, durations=durations)
    if violations:
        raise Refusals(violations, subject="letter of support")


def check_application(
    *,
    applied_on: date,
    has_elections: bool,
    term_end: date | None,
    letter: LetterOfSupport,
    durations: Durations = DEFAULT_DURATIONS,
) -> None:
    """R2.1: refuse to accept an application unless R1.2 and R1.3 both hold; reports all failures."""
    violations = [
        *term_remaining_violations(
            applied_on=applied_on,
            has_elections=has_elections,
            term_end=term_end,
            durations=durations,
        ),
        *letter_of_support_violations(letter, durations=durations),
    ]
    if violations:
        raise Refusals(violations, subject="application")
