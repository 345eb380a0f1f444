"""The notice of a commitment change (R3.10) and the letter of a declined request (R5.5), in every language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from test_letters_render import context, html_text, long_date, pdf_text, words
from workers.letters import render as letters
from workers.letters.render import LANGUAGES, render

APPROVERS = ("Civic Data Association", "Neighbourhood Councils Network")
OLD_END, NEW_END = dt.date(2029, 6, 30), dt.date(2029, 3, 31)
NEW_TITLE = "Open contracting register, city-wide"


def notice(language: str, **commitment) -> object:
    values = {"id": 12, "title": "Open contracting register", "version": 3, "change": "modified",
              "changes": ({"field": "end", "from": OLD_END, "to": NEW_END},
                          {"field": "title", "from": "Open contracting register", "to": NEW_TITLE},
                          {"field": "milestones", "from": 2, "to": 1}),
              "approved_by": APPROVERS}
    values.update(commitment)
    return context("modification_notice", language, commitment=values)


def declined(language: str, *, consulted: bool) -> object:
    return context("voluntary_inactivity_declined", language,
                   request={"id": 3, "reason": "Municipal elections", "stakeholders_consulted": consulted})


# ---------------------------------------------------------------- R3.10: the OGP Local team is notified


@pytest.mark.parametrize("language", LANGUAGES)
def test_r3_10_the_notice_names_the_commitment_what_changed_the_approvers_the_process_and_the_rule(language):
    ctx = notice(language)
    letter = render(ctx)

    assert "12" in letter.subject and "R3.10" in letter.subject and "Riverton" in letter.subject
    for form, text in (("text", words(letter.text)), ("html", html_text(letter.html)), ("pdf", pdf_text(letter.pdf))):
        for fragment in ("Open contracting register", NEW_TITLE, *APPROVERS, ctx.reason, "R3.10",
                         long_date(OLD_END, language), long_date(NEW_END, language),
                         long_date(ctx.dates["submitted_on"], language)):
            assert fragment in text, f"{form}: {fragment!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_r3_10_a_withdrawal_notice_says_the_commitment_is_withdrawn_and_lists_no_changes(language):
    modified = render(notice(language)).text
    withdrawn = render(notice(language, change="withdrawn", changes=())).text

    assert withdrawn != modified
    assert long_date(NEW_END, language) not in withdrawn
    assert "R3.3" in withdrawn and "R4.2" in withdrawn  # out of the limit, no assessment owed
    assert all(name in withdrawn for name in APPROVERS)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r3_10_a_notice_is_addressed_to_the_support_unit_as_a_notice_and_signed_by_the_service(language):
    notice_text = render(notice(language)).text
    copy_text = render(context("inactive", language, recipient_role="support_unit")).text

    lex = letters._environment().get_template(f"{language}/_lexicon.j2").module
    assert lex.addressee["modification_notice.support_unit"].split("{")[0] in notice_text
    assert lex.signatures["modification_notice"] in notice_text
    assert lex.signature not in notice_text.split(lex.closing)[-1]
    assert lex.signature in copy_text, "other letters keep the Support Unit's signature"


@pytest.mark.parametrize("language", LANGUAGES)
def test_r3_10_the_html_notice_escapes_a_title_and_an_approver_with_markup(language):
    hostile = "<b>Register</b> & <script>x</script>"
    letter = render(notice(language, title=hostile, approved_by=("<i>Forum</i>",)))

    assert "<script>" not in letter.html and "<i>Forum</i>" not in letter.html
    assert "&lt;script&gt;" in letter.html and "&lt;i&gt;Forum&lt;/i&gt;" in letter.html
    assert hostile in letter.text


def test_r3_10_without_the_dejavu_fonts_the_notice_pdf_still_shows_names_and_dates(monkeypatch):
    monkeypatch.setattr(letters, "FONT_REGULAR", Path("/nonexistent/DejaVuSans.ttf"))
    letter = render(notice("fr"))

    assert b"/Helvetica" in letter.pdf
    text = pdf_text(letter.pdf)
    assert "R3.10" in text and "31 mars 2029" in text and "Civic Data Association" in text


# ---------------------------------------------------------------- R5.5: a request declined with a reason


@pytest.mark.parametrize("language", LANGUAGES)
def test_r5_5_the_decline_letter_quotes_both_reasons_and_says_the_status_does_not_change(language):
    ctx = declined(language, consulted=True)
    letter = render(ctx)

    for form, text in (("text", words(letter.text)), ("html", html_text(letter.html)), ("pdf", pdf_text(letter.pdf))):
        for fragment in (ctx.reason, "Municipal elections", "R5.5", long_date(ctx.dates["requested_on"], language)):
            assert fragment in text, f"{form}: {fragment!r}"


REMINDERS = {"en": "had not been consulted", "fr": "n’avaient pas été consultées", "es": "no se había consultado"}


@pytest.mark.parametrize("language", sorted(REMINDERS))
def test_r5_5_the_decline_letter_reminds_to_consult_only_when_they_were_not_consulted(language):
    consulted = words(render(declined(language, consulted=True)).text)
    not_consulted = words(render(declined(language, consulted=False)).text)

    assert REMINDERS[language] in not_consulted
    assert REMINDERS[language] not in consulted
