"""Letters in every kind and language name the member, the rule, the dates and what to do next (R7.1, R7.2)."""

from __future__ import annotations

import datetime as dt
import html
import itertools
import re
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
from babel.dates import format_date

from workers.letters import render as letters
from workers.letters.render import KINDS, LANGUAGES, LetterContext, render

NAME = "Riverton"
EVENT = dt.date(2027, 8, 31)
DUE = dt.date(2027, 9, 30)

# For each kind: the rule that typically causes it, and the dates build_context would give it.
CASES: dict[str, dict] = {
    "accepted": dict(rule_id="R2.1", dates={"effective_on": EVENT, "first_plan_due": dt.date(2028, 3, 31)}),
    "rejected": dict(rule_id="R2.2", dates={"effective_on": EVENT}, reason="The letter of support is unsigned."),
    "inactive": dict(rule_id="R5.4", dates={"effective_on": EVENT, "resume_by": dt.date(2028, 2, 29)}),
    "voluntary_inactivity_approved": dict(rule_id="R5.5", dates={"effective_on": EVENT}),
    "probation": dict(rule_id="R6.1", dates={"effective_on": EVENT, "requirements_by": dt.date(2027, 12, 31)}),
    "revoked": dict(rule_id="R6.5", dates={"effective_on": EVENT}),
    "reinstated": dict(rule_id="R6.4", dates={"effective_on": EVENT, "next_update_by": DUE},
                       from_state="probation", to_state="implementing"),
    "reminder": dict(rule_id="R5.1", dates={"due_on": DUE}, deadline_kind="first_plan", days_left=30),
    "overdue": dict(rule_id="R4.1", dates={"due_on": DUE}, deadline_kind="start_assessment",
                    recipient_role="monitoring_body"),
    "modification_notice": dict(
        rule_id="R3.10", dates={"effective_on": EVENT, "submitted_on": dt.date(2027, 3, 1)},
        recipient_role="support_unit", reason="Forum vote of 20 August 2027, minutes linked.",
        commitment={"id": 12, "title": "Open contracting register", "version": 2, "change": "modified",
                    "changes": ({"field": "end", "from": dt.date(2029, 6, 30), "to": dt.date(2029, 3, 31)},),
                    "approved_by": ("Civic Data Association",)}),
    "voluntary_inactivity_declined": dict(
        rule_id="R5.5", dates={"effective_on": EVENT, "requested_on": dt.date(2027, 8, 20)},
        reason="The start assessment is due first.", member_state="implementing",
        request={"id": 3, "reason": "Municipal elections", "stakeholders_consulted": False}),
}


def context(kind: str, language: str, **overrides) -> LetterContext:
    values = dict(member_name=NAME, jurisdiction_name=NAME, country="France", language=language, kind=kind,
                  rule_id=None, rule_title="", event_date=EVENT, recipient_role="poc",
                  support_unit_email="support@ogplocal.example", reference="OGP-L-42")
    values.update(CASES[kind])
    values.update(overrides)
    return LetterContext(**values)


def words(text: str) -> str:
    """Whitespace collapsed, so that a line break (in the PDF) or a no-break space reads as one space."""
    return " ".join(text.split())


def html_text(markup: str) -> str:
    return words(html.unescape(re.sub(r"<[^>]+>", " ", markup)))


def pdf_text(data: bytes) -> str:
    """The text shown by an fpdf2 PDF: each string of each text operator, decoded with its font's ToUnicode map."""
    objects = {int(n): body for n, body in re.findall(rb"(\d+) 0 obj\s*(.*?)\s*endobj", data, re.S)}

    def stream(body: bytes) -> bytes:
        start = re.search(rb"stream\r?\n", body).end()
        raw = body[start:start + int(re.search(rb"/Length (\d+)", body).group(1))]
        return zlib.decompress(raw) if b"/FlateDecode" in body[:start] else raw

    fonts: dict[bytes, dict[int, str] | None] = {}
    for resources in re.findall(rb"/Font\s*<<(.*?)>>", data, re.S):
        for name, number in re.findall(rb"/(F\d+)\s+(\d+) 0 R", resources):
            to_unicode = re.search(rb"/ToUnicode (\d+) 0 R", objects[int(number)])
            if to_unicode is None:
                fonts[name] = None  # a core font: Latin-1 bytes
                continue
            cmap: dict[int, str] = {}
            text = stream(objects[int(to_unicode.group(1))])
            for block in re.findall(rb"beginbfchar(.*?)endbfchar", text, re.S):
                for code, uni in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    cmap[int(code, 16)] = bytes.fromhex(uni.decode()).decode("utf-16-be")
            for block in re.findall(rb"beginbfrange(.*?)endbfrange", text, re.S):
                for lo, hi, start in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                    for offset, code in enumerate(range(int(lo, 16), int(hi, 16) + 1)):
                        cmap[code] = chr(int(start, 16) + offset)
            fonts[name] = cmap

    pieces: list[str] = []
    for body in objects.values():
        if b"stream" not in body or b"/Contents" in body:
            continue
        content = stream(body)
        if b" Tj" not in content:
            continue
        font = None
        for match in re.finditer(rb"/(F\d+)\s+[\d.]+\s+Tf|\(((?:\\.|[^\\)])*)\)\s*Tj", content, re.S):
            if match.group(1) is not None:
                font = fonts.get(match.group(1))
                continue
            raw = _unescape(match.group(2))
            if font is None:
                pieces.append(raw.decode("latin-1"))
            else:
                pieces.append("".join(font.get(int.from_bytes(raw[i:i + 2], "big"), "\ufffd")
                                      for i in range(0, len(raw), 2)))
    return words("\n".join(pieces))


def _unescape(literal: bytes) -> bytes:
    out, i = bytearray(), 0
    simple = {ord("n"): b"\n", ord("r"): b"\r", ord("t"): b"\t", ord("b"): b"\b", ord("f"): b"\f"}
    while i < len(literal):
        ch = literal[i]
        if ch != 0x5C:  # backslash
            out.append(ch)
            i += 1
            continue
        nxt = literal[i + 1]
        if nxt in simple:
            out += simple[nxt]
            i += 2
        elif 0x30 <= nxt <= 0x37:
            digits = re.match(rb"[0-7]{1,3}", literal[i + 1:i + 4]).group(0)
            out.append(int(digits, 8) & 0xFF)
            i += 1 + len(digits)
        else:
            out.append(nxt)
            i += 2
    return bytes(out)


def long_date(day: dt.date, language: str) -> str:
    return format_date(day, format="long", locale=language)


# ---------------------------------------------------------------- every kind, every language


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", KINDS)
def test_r7_1_r7_2_each_kind_renders_in_each_language_with_name_rule_and_local_dates(kind, language):
    ctx = context(kind, language)
    letter = render(ctx)

    assert letter.language == language
    assert NAME in letter.subject and ctx.rule_id in letter.subject
    assert letter.pdf.startswith(b"%PDF")
    for form, text in (("text", words(letter.text)), ("html", html_text(letter.html)), ("pdf", pdf_text(letter.pdf))):
        assert NAME in text, form
        assert ctx.rule_id in text, form
        for key, day in ctx.dates.items():
            assert long_date(day, language) in text, f"{form}: {key}"


@pytest.mark.parametrize(("language", "written"), [
    ("en", "September 30, 2027"), ("fr", "30 septembre 2027"), ("es", "30 de septiembre de 2027"),
])
def test_r7_2_dates_are_written_as_a_reader_of_the_language_writes_them(language, written):
    letter = render(context("reminder", language))

    assert written in letter.subject
    assert written in words(letter.text)
    assert written in pdf_text(letter.pdf)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_the_html_letter_escapes_a_member_name_with_a_script_tag(language):
    hostile = "<script>alert('x')</script> & Co"
    letter = render(context("inactive", language, member_name=hostile, jurisdiction_name=hostile))

    assert "<script>" not in letter.html
    assert "&lt;script&gt;" in letter.html
    assert hostile in letter.text  # plain text carries the name as it is
    assert hostile in html_text(letter.html)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_inactive_letters_explain_each_of_r5_1_to_r5_4_differently(language):
    def without_rule_references(rule: str) -> str:
        text = words(render(context("inactive", language, rule_id=rule)).text)
        return re.sub(r"\([^)]*\)|R\d+\.\d+", "", text)

    bodies = {rule: without_rule_references(rule) for rule in ("R5.1", "R5.2", "R5.3", "R5.4")}

    for (a, text_a), (b, text_b) in itertools.combinations(bodies.items(), 2):
        assert text_a != text_b, f"{a} and {b} read the same"


@pytest.mark.parametrize("language", LANGUAGES)
def test_r5_5_voluntary_inactivity_never_announces_probation(language):
    voluntary = render(context("inactive", language, rule_id="R5.5", dates={"effective_on": EVENT}))
    imposed = render(context("inactive", language, rule_id="R5.4"))

    assert long_date(dt.date(2028, 2, 29), language) in imposed.text
    assert long_date(dt.date(2028, 2, 29), language) not in voluntary.text
    assert "R5.5" in voluntary.text and "R6.1" in voluntary.text  # it says that R6.1 does not apply


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_probation_letters_say_what_to_do_for_r6_1_and_for_r6_2(language):
    r6_1 = render(context("probation", language, rule_id="R6.1")).text
    r6_2 = render(context("probation", language, rule_id="R6.2")).text

    assert "R5.6" in r6_1 and "R5.6" not in r6_2  # resume activity
    assert "R3.11" in r6_2  # hold and record meetings with non-governmental stakeholders
    for text in (r6_1, r6_2):
        assert long_date(dt.date(2027, 12, 31), language) in text and "R6.5" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_overdue_notices_are_worded_for_their_recipient(language):
    texts = {role: render(context("overdue", language, recipient_role=role)).text
             for role in ("monitoring_body", "poc", "support_unit")}

    for (a, text_a), (b, text_b) in itertools.combinations(texts.items(), 2):
        assert text_a != text_b, f"{a} and {b} get the same notice"


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_an_overdue_finding_while_inactive_says_the_status_does_not_change_again(language):
    ctx = context("overdue", language, rule_id="R5.4", deadline_kind="quarterly_tracker_check",
                  recipient_role="poc", member_state="inactive", reason="no tracker update in 2027-Q2 and 2027-Q3")
    text = render(ctx).text

    assert "D9" in text and "R5.6" in text
    assert "2027-Q2" in text


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_a_reminder_counts_the_days_left(language):
    text = words(render(context("reminder", language, days_left=7)).text)

    assert re.search(r"\b7\b", text)


@pytest.mark.parametrize("kind", ["reinstated"])
@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_a_member_resuming_into_co_creation_is_told_when_its_plan_is_due(kind, language):
    plan_due = dt.date(2028, 1, 31)
    letter = render(context(kind, language, rule_id="R5.6", from_state="inactive", to_state="co_creation",
                            dates={"effective_on": EVENT, "plan_due": plan_due}))

    assert long_date(plan_due, language) in letter.text


# ---------------------------------------------------------------- languages


def test_r7_2_languages_are_the_template_folders_and_include_english_french_and_spanish():
    folders = sorted(p.name for p in letters.TEMPLATES.iterdir() if (p / "base.html.j2").is_file())

    assert list(LANGUAGES) == folders
    assert set(LANGUAGES) >= {"en", "fr", "es"}


def test_r7_2_adding_a_language_is_adding_a_folder(tmp_path: Path):
    (tmp_path / "pt").mkdir()
    (tmp_path / "pt" / "base.html.j2").write_text("")
    (tmp_path / "drafts").mkdir()  # no letter layout: not a language

    assert letters._discover_languages(tmp_path) == ("pt",)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r7_2_each_language_folder_has_every_kind_of_letter(language):
    folder = letters.TEMPLATES / language
    missing = [f"{kind}.{form}.j2" for kind in KINDS for form in ("txt", "html")
               if not (folder / f"{kind}.{form}.j2").is_file()]

    assert missing == []
    assert (folder / "_lexicon.j2").is_file()


@pytest.mark.parametrize(("asked", "written"), [("de", "en"), ("", "en"), ("fr-CA", "fr"), ("ES", "es")])
def test_r7_2_a_language_without_templates_falls_back_to_english(asked, written):
    letter = render(context("revoked", asked))

    assert letter.language == written


def test_r7_2_french_letters_use_the_formal_register_and_french_punctuation():
    text = render(context("inactive", "fr")).text

    assert "Madame, Monsieur," in text
    assert "salutations distinguées" in text
    assert "\u00a0:" in text  # a no-break space before a colon


def test_r7_2_spanish_letters_use_the_formal_register():
    text = render(context("inactive", "es")).text

    assert "Estimada señora, estimado señor:" in text
    assert "Atentamente," in text


# ---------------------------------------------------------------- the PDF


def test_r7_1_the_pdf_is_the_same_for_the_same_context_and_dated_at_the_event():
    ctx = context("probation", "fr")
    first, second = render(ctx).pdf, render(ctx).pdf

    assert first == second
    assert b"/CreationDate (D:20270831" in first


def test_r7_1_the_pdf_has_a_page_number_in_the_readers_language():
    assert "Page 1 sur 1" in pdf_text(render(context("accepted", "fr")).pdf)
    assert "Página 1 de 1" in pdf_text(render(context("accepted", "es")).pdf)


def test_r7_1_without_the_dejavu_fonts_the_pdf_falls_back_to_helvetica(monkeypatch):
    monkeypatch.setattr(letters, "FONT_REGULAR", Path("/nonexistent/DejaVuSans.ttf"))
    name = "Saint-Étienne & Œuvres"
    letter = render(context("inactive", "fr", member_name=name))

    assert letter.pdf.startswith(b"%PDF")
    assert b"/Helvetica" in letter.pdf
    text = pdf_text(letter.pdf)
    assert "Saint-Étienne & OEuvres" in text  # Latin-1 has no Œ
    assert "R5.4" in text and "29 février 2028" in text


# ---------------------------------------------------------------- purity


def test_r7_2_a_letter_missing_a_date_fails_instead_of_printing_today():
    with pytest.raises(TypeError, match="date"):
        render(context("reminder", "en", dates={}))


def test_r7_1_an_unknown_kind_of_letter_is_refused():
    with pytest.raises(ValueError, match="no letter"):
        render(replace(context("revoked", "en"), kind="promoted"))
