"""Status letters in the member's language: a context read from the database, then text, HTML and PDF (R7.1, R7.2).

``build_context`` reads; ``render`` is pure: it reads templates and fonts and nothing else,
and every date it prints comes from the context, never from a clock.

The wording of a letter lives once, in ``templates/<lang>/<kind>.txt.j2`` (blocks
``subject`` and ``body``). The text letter is that template rendered; the HTML letter
(``<kind>.html.j2``, extending the language's ``base.html.j2``, autoescaped) and the PDF
lay out the same paragraphs, so the three never say different things. Per-language
words (greeting, labels, rule titles, deliverable names) are in ``_lexicon.j2``. Adding
a language is adding a folder.
"""

from __future__ import annotations

import datetime as dt
import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import pendulum
from babel.dates import format_date
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from lifecycle.models import Deadline, Member, OutboxEvent, TransitionRecord
from policies.calendar import Quarter, add_months, local_date
from policies.deadlines import MONITORING_DELIVERABLES, DeadlineKind, DeadlineStatus
from policies.notices import INACTIVITY_DECLINED, MODIFICATION_NOTICE
from policies.rules import DEFAULT_DURATIONS, RULES

__all__ = ["LANGUAGES", "KINDS", "LetterContext", "Rendered", "build_context", "render", "render_event"]

TEMPLATES = Path(__file__).resolve().parent / "templates"
DEFAULT_LANGUAGE = "en"
KINDS: tuple[str, ...] = (
    "accepted", "rejected", "inactive", "voluntary_inactivity_approved", "probation", "revoked", "reinstated",
    "reminder", "overdue", MODIFICATION_NOTICE, INACTIVITY_DECLINED,
)
# Fonts with the whole of Latin, Greek and Cyrillic; without them the PDF falls back to Helvetica in Latin-1.
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FONT_REGULAR = DEJAVU / "DejaVuSans.ttf"
FONT_BOLD = DEJAVU / "DejaVuSans-Bold.ttf"


def _discover_languages(root: Path = TEMPLATES) -> tuple[str, ...]:
    """Every folder with a base letter layout is a language."""
    return tuple(sorted(p.name for p in root.iterdir() if p.is_dir() and (p / "base.html.j2").is_file()))


LANGUAGES: tuple[str, ...] = _discover_languages()


@dataclass(frozen=True)
class LetterContext:
    """Everything a letter says, already resolved: no template reads the database or the clock.

    ``member_name`` is the name the member is addressed by (its jurisdiction's name);
    ``dates`` holds the named local dates the letter cites (``effective_on``, ``due_on``,
    ``resume_by``, ``requirements_by``, ``first_plan_due``, ``plan_due``, ``next_update_by``,
    ``submitted_on``, ``requested_on``).
    The consequence and the next steps are written in the templates, per kind and rule.
    ``commitment`` (modification notices, R3.10: ``id``, ``title``, ``version``, ``change``,
    ``changes``, ``approved_by``) and ``request`` (declined requests, R5.5: ``id``, ``reason``,
    ``stakeholders_consulted``) are what those letters are about; the decision process and the
    Support Unit's reason are ``reason``.
    """

    member_name: str
    jurisdiction_name: str
    country: str
    language: str
    kind: str
    rule_id: str | None
    rule_title: str
    event_date: dt.date
    recipient_role: str
    support_unit_email: str
    reference: str
    reason: str | None = None
    dates: Mapping[str, dt.date] = field(default_factory=dict)
    deadline_kind: str | None = None  # reminders and overdue notices: which obligation
    days_left: int | None = None  # reminders: days from the letter's date to the due date
    from_state: str | None = None
    to_state: str | None = None
    member_state: str | None = None  # at the event; overdue notices say whether D9 applies
    commitment: Mapping[str, Any] = field(default_factory=dict)
    request: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rendered:
    """One letter in three forms; ``language`` is the one it was written in (after any fallback)."""

    subject: str
    text: str
    html: str
    pdf: bytes
    language: str = DEFAULT_LANGUAGE


# ---------------------------------------------------------------- the context


def letter_language(language: str | None) -> str:
    """The template folder for a jurisdiction's language: ``fr-CA`` reads ``fr``; unknown ones read English."""
    code = (language or "").strip().lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE


def build_context(session: Session, event: OutboxEvent, *, settings: Settings) -> LetterContext:
    """Read what the letter of ``event`` needs: member, jurisdiction, the transition or deadline, the dates."""
    member = session.get(Member, event.member_id)
    if member is None:
        raise LookupError(f"outbox event {event.id} names member {event.member_id}, which does not exist")
    jurisdiction = member.jurisdiction
    tz = jurisdiction.time_zone
    payload: dict[str, Any] = dict(event.payload or {})
    record = session.get(TransitionRecord, event.transition_id) if event.transition_id is not None else None
    deadline = session.get(Deadline, event.deadline_id) if event.deadline_id is not None else None

    # The letter is dated on the local day its event happened (D2), whenever it is rendered.
    instant = record.business_time if record is not None else event.created_at
    event_date = local_date(instant, tz)
    rule_id = event.rule_id or (record.rule_id if record is not None else None) or (
        deadline.rule_id if deadline is not None else None)
    reason = (record.reason if record is not None else None) or payload.get("reason") or payload.get("detail")
    # Quoted on one line: a blank line or a leading dash in free text must not turn into paragraphs or bullets.
    reason = " ".join(str(reason).split()) or None if reason else None
    deadline_kind = payload.get("deadline_kind") or (deadline.kind if deadline is not None else None)
    due = _payload_date(payload.get("due_on")) or (deadline.due_on if deadline is not None else None)

    dates: dict[str, dt.date] = {}
    days_left = None
    kind = event.kind
    if kind in ("reminder", "overdue"):
        if due is not None:
            dates["due_on"] = due
        if kind == "reminder":
            days_before = payload.get("days_before")
            days_left = int(days_before) if days_before is not None else (
                (due - event_date).days if due is not None else None)
    else:
        dates["effective_on"] = event_date
    d = DEFAULT_DURATIONS
    if kind == "accepted":
        first_plan = _pending_due(session, member.id, (DeadlineKind.first_plan,)) or member.first_plan_due
        if first_plan is not None:
            dates["first_plan_due"] = first_plan
    elif kind == "inactive" and rule_id != "R5.5":
        # R6.1 and D5: six months from the local day of the transition that made the member inactive.
        dates["resume_by"] = add_months(event_date, d.inactive_before_probation_months)
    elif kind == "probation":
        dates["requirements_by"] = add_months(event_date, d.probation_before_revocation_months)  # R6.5
    elif kind == "reinstated":
        to_state = record.to_state if record is not None else payload.get("to")
        if to_state == "implementing":
            dates["next_update_by"] = Quarter.containing(event_date).end  # R4.4: one update per calendar quarter
        else:
            plan_due = _pending_due(session, member.id, (DeadlineKind.first_plan, DeadlineKind.next_plan))
            if plan_due is not None:
                dates["plan_due"] = plan_due
    commitment: dict[str, Any] = {}
    request: dict[str, Any] = {}
    if kind == MODIFICATION_NOTICE:
        commitment = _commitment_notice(payload)
        submitted_on = _payload_date(payload.get("submitted_on"))
        if submitted_on is not None:
            dates["submitted_on"] = submitted_on
    elif kind == INACTIVITY_DECLINED:
        request = {"id": payload.get("request_id"), "reason": _one_line(payload.get("request_reason")),
                   "stakeholders_consulted": bool(payload.get("stakeholders_consulted"))}
        if payload.get("requested_at"):
            dates["requested_on"] = local_date(pendulum.parse(payload["requested_at"]), tz)

    rule = RULES.get(rule_id) if rule_id else None
    return LetterContext(
        member_name=jurisdiction.name,
        jurisdiction_name=jurisdiction.name,
        country=jurisdiction.country,
        language=letter_language(jurisdiction.language),
        kind=kind,
        rule_id=rule_id,
        rule_title=rule.title if rule is not None else "",
        event_date=event_date,
        recipient_role=event.recipient_role,
        support_unit_email=settings.support_unit_email,
        reference=f"OGP-L-{event.id}",
        reason=reason,
        dates=dates,
        deadline_kind=deadline_kind,
        days_left=days_left,
        from_state=record.from_state if record is not None else payload.get("from"),
        to_state=record.to_state if record is not None else payload.get("to"),
        member_state=_state_at(session, member, instant),
        commitment=commitment,
        request=request,
    )


def _one_line(value: Any) -> str:
    return " ".join(str(value or "").split())


def _commitment_notice(payload: Mapping[str, Any]) -> dict[str, Any]:
    """R3.10: the commitment a modification notice is about and what changed, its dates as dates."""
    changes = []
    for change in payload.get("changes") or ():
        change = dict(change)
        if change.get("field") in ("start", "end"):
            change["from"], change["to"] = _payload_date(change.get("from")), _payload_date(change.get("to"))
        elif change.get("field") == "title":
            change["from"], change["to"] = _one_line(change.get("from")), _one_line(change.get("to"))
        changes.append(change)
    return {"id": payload.get("commitment_id"), "title": _one_line(payload.get("commitment_title")),
            "version": payload.get("version"), "change": payload.get("change") or "modified",
            "changes": tuple(changes), "approved_by": tuple(_one_line(n) for n in payload.get("approved_by") or ())}


def _state_at(session: Session, member: Member, instant) -> str:
    """The member's state just after ``instant``, from its audit history, so a re-rendered letter says the same."""
    state = session.scalar(
        select(TransitionRecord.to_state)
        .where(TransitionRecord.subject_type == "member", TransitionRecord.subject_id == member.id,
               TransitionRecord.business_time <= instant)
        .order_by(TransitionRecord.business_time.desc(), TransitionRecord.seq.desc()).limit(1))
    return state or member.state


def _payload_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(value) if value else None


def _pending_due(session: Session, member_id: int, kinds: tuple[DeadlineKind, ...]) -> dt.date | None:
    """The due date of the member's open obligation of one of these kinds (an extension moves it)."""
    return session.scalar(
        select(Deadline.due_on).where(Deadline.member_id == member_id, Deadline.status == DeadlineStatus.pending.value,
                                      Deadline.kind.in_([k.value for k in kinds]))
        .order_by(Deadline.due_on.desc()).limit(1))


# ---------------------------------------------------------------- the templates


class _FolderEnvironment(Environment):
    """``{% extends "base.html.j2" %}`` means the base of the template's own language folder."""

    def join_path(self, template: str, parent: str) -> str:
        if "/" in template:
            return template
        return posixpath.join(posixpath.dirname(parent), template)


def _date(value: dt.date, lang: str) -> str:
    """A date as the reader writes it: 30 September 2027 is "September 30, 2027", "30 septembre 2027"..."""
    return format_date(value, format="long", locale=lang)


@pass_context
def _long_date(ctx, value: dt.date | None) -> str:
    if not isinstance(value, dt.date):
        # Babel would print today's date for None: a letter never reads the clock.
        raise TypeError(f"a letter date is missing or not a date: {value!r}")
    return _date(value, ctx["locale"])


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = _FolderEnvironment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False, default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["long_date"] = _long_date
    return env


@dataclass(frozen=True)
class Block:
    """A paragraph (``p``) or a bullet list (``ul``) of a letter's body."""

    kind: str
    text: str = ""
    items: tuple[str, ...] = ()


def paragraphs(body: str) -> list[Block]:
    """Split a rendered body: blank lines separate paragraphs, lines starting with ``- `` are bullets."""
    blocks: list[Block] = []
    for chunk in re.split(r"\n\s*\n", body.strip()):
        words: list[str] = []
        items: list[str] = []
        for line in (ln.strip() for ln in chunk.splitlines()):
            if not line:
                continue
            if line.startswith("- "):
                if words:
                    blocks.append(Block("p", " ".join(words)))
                    words = []
                items.append(line[2:].strip())
            else:
                if items:
                    blocks.append(Block("ul", items=tuple(items)))
                    items = []
                words.append(line)
        if words:
            blocks.append(Block("p", " ".join(words)))
        if items:
            blocks.append(Block("ul", items=tuple(items)))
    return blocks


def render(context: LetterContext) -> Rendered:
    """The letter of ``context`` as subject, plain text, HTML and PDF, in ``context.language``."""
    letter = _compose(context)
    pdf = _pdf(context, letter.lexicon, letter.language, letter.subject, letter.body)
    return Rendered(subject=letter.subject, text=letter.text, html=letter.html, pdf=pdf, language=letter.language)


@dataclass(frozen=True)
class _Composed:
    language: str
    lexicon: Any
    subject: str
    body: list[Block]
    text: str
    html: str


def _compose(context: LetterContext) -> _Composed:
    """Subject, paragraphs, text and HTML: everything but the PDF."""
    lang = letter_language(context.language)
    if context.kind not in KINDS:
        raise ValueError(f"no letter for events of kind {context.kind!r}; letters exist for {', '.join(KINDS)}")
    env = _environment()
    lexicon = env.get_template(f"{lang}/_lexicon.j2").module
    values = {"c": context, "lex": lexicon, "locale": lang, "signature": _signature(lexicon, context),
              "addressee": lambda c: _addressee(lexicon, c),
              "monitoring_deliverables": sorted(k.value for k in MONITORING_DELIVERABLES)}

    text_template = env.get_template(f"{lang}/{context.kind}.txt.j2")
    block_context = text_template.new_context(values)
    subject = " ".join("".join(text_template.blocks["subject"](block_context)).split())
    body = paragraphs("".join(text_template.blocks["body"](block_context)))
    text = _tidy(text_template.render(values, subject=subject))
    html = env.get_template(f"{lang}/{context.kind}.html.j2").render(values, subject=subject, blocks=body)
    return _Composed(language=lang, lexicon=lexicon, subject=subject, body=body, text=text, html=html)


def _addressee(lexicon, context: LetterContext) -> str:
    """Who the letter is for, as a plain string (so that the HTML letter escapes the member's name).

    A kind may word it for a role (``"modification_notice.support_unit"``: a notice, not a copy).
    """
    form = (lexicon.addressee.get(f"{context.kind}.{context.recipient_role}")
            or lexicon.addressee.get(context.recipient_role) or lexicon.addressee["other"])
    role = lexicon.roles.get(context.recipient_role, context.recipient_role.replace("_", " "))
    return form.format(role=role, member=context.member_name, country=context.country)


def _signature(lexicon, context: LetterContext) -> str:
    """Who signs: the Support Unit, except for a kind the lexicon signs otherwise (a notice sent to the Support Unit)."""
    return str(getattr(lexicon, "signatures", {}).get(context.kind) or lexicon.signature)


def render_event(session: Session, event: OutboxEvent, *, settings: Settings) -> Rendered:
    """The letter an outbox event owes (R7.1), in its member's language (R7.2)."""
    return render(build_context(session, event, settings=settings))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


# ---------------------------------------------------------------- the PDF

# Latin-1 stand-ins for the characters the letters use that Helvetica cannot show.
_LATIN1 = str.maketrans({"œ": "oe", "Œ": "OE", "—": "-", "–": "-", "’": "'", "‘": "'", "“": '"', "”": '"',
                         "…": "...", "•": "-", "\u202f": " ", "€": "EUR"})


def _pdf(context: LetterContext, lex, lang: str, subject: str, body: list[Block]) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    unicode_fonts = FONT_REGULAR.is_file() and FONT_BOLD.is_file()

    def t(value: str) -> str:
        if unicode_fonts:
            return value
        return value.translate(_LATIN1).encode("latin-1", "replace").decode("latin-1")

    page_label = str(lex.page_label)

    class Letter(FPDF):
        def header(self) -> None:
            self.set_font(family, "B", 14)
            self.cell(0, 7, t(str(lex.programme)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_font(family, "", 9)
            self.set_text_color(90, 90, 90)
            self.cell(0, 5, t(f"{lex.support_unit} · {context.support_unit_email}" if unicode_fonts
                              else f"{lex.support_unit} - {context.support_unit_email}"),
                      new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(0, 0, 0)
            y = self.get_y() + 2
            self.set_draw_color(40, 70, 120)
            self.set_line_width(0.6)
            self.line(self.l_margin, y, self.w - self.r_margin, y)
            self.set_y(y + 8)

        def footer(self) -> None:
            self.set_y(-15)
            self.set_font(family, "", 8)
            self.set_text_color(90, 90, 90)
            self.cell(0, 8, t(page_label.format(page=self.page_no(), pages="{nb}")), align="C")

    pdf = Letter(orientation="portrait", unit="mm", format="A4")
    if unicode_fonts:
        family = "DejaVu"
        pdf.add_font(family, "", str(FONT_REGULAR))
        pdf.add_font(family, "B", str(FONT_BOLD))
    else:
        family = "Helvetica"
    # Dated at the event, not at rendering, so the same context always gives the same bytes.
    pdf.set_creation_date(dt.datetime.combine(context.event_date, dt.time(12), tzinfo=dt.timezone.utc))
    pdf.set_title(t(subject))
    pdf.set_author(t(_signature(lex, context)))
    pdf.set_subject(t(f"{context.reference} {context.rule_id or ''}".strip()))
    pdf.set_creator("ogp-lifecycle letters")
    pdf.set_lang(lang)
    pdf.set_margins(20, 18, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.alias_nb_pages()
    pdf.add_page()

    pdf.set_font(family, "", 10)
    for line in (f"{lex.labels['date']}{lex.colon} {_date(context.event_date, lang)}",
                 f"{lex.labels['reference']}{lex.colon} {context.reference}",
                 f"{lex.labels['to']}{lex.colon} {_addressee(lex, context)}"):
        pdf.cell(0, 5.5, t(" ".join(str(line).split())), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(5)
    pdf.set_font(family, "B", 11)
    pdf.multi_cell(0, 6, t(subject), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    pdf.set_font(family, "", 10.5)
    line_h = 5.5
    pdf.multi_cell(0, line_h, t(str(lex.greeting)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2.5)
    bullet = "•" if unicode_fonts else "-"
    for block in body:
        if block.kind == "ul":
            for item in block.items:
                pdf.set_x(pdf.l_margin + 3)
                pdf.cell(5, line_h, bullet)
                pdf.multi_cell(0, line_h, t(item), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            pdf.multi_cell(0, line_h, t(block.text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(2.5)
    pdf.ln(1.5)
    pdf.multi_cell(0, line_h, t(str(lex.closing)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.set_font(family, "B", 10.5)
    pdf.cell(0, line_h, t(_signature(lex, context)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(family, "", 10)
    pdf.cell(0, line_h, t(context.support_unit_email), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())
