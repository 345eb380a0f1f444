"""Benchmark of letter rendering: letters per second as text and HTML only, and with the PDF (R7.1, R7.2).

    python -m bench.letters [--text-html N] [--pdf N]

Renders N letter contexts, cycling through every kind and every language, once without
the PDF (subject, text, HTML) and once in full with ``render``. No database: the contexts
are built in memory, as ``build_context`` would give them. Templates are compiled and the
fonts read once before the clock starts. Prints one JSON object on stdout; about 15 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from workers.letters import render as letters  # noqa: E402
from workers.letters.render import KINDS, LANGUAGES, LetterContext  # noqa: E402

EVENT = dt.date(2027, 8, 31)
SHAPES: dict[str, dict] = {
    "accepted": dict(rule_id="R2.1", dates={"effective_on": EVENT, "first_plan_due": dt.date(2028, 3, 31)}),
    "rejected": dict(rule_id="R2.2", dates={"effective_on": EVENT}, reason="The letter of support is unsigned."),
    "inactive": dict(rule_id="R5.4", dates={"effective_on": EVENT, "resume_by": dt.date(2028, 2, 29)}),
    "voluntary_inactivity_approved": dict(rule_id="R5.5", dates={"effective_on": EVENT}),
    "probation": dict(rule_id="R6.2", dates={"effective_on": EVENT, "requirements_by": dt.date(2027, 12, 31)}),
    "revoked": dict(rule_id="R6.5", dates={"effective_on": EVENT}),
    "reinstated": dict(rule_id="R6.4", dates={"effective_on": EVENT, "next_update_by": dt.date(2027, 9, 30)},
                       from_state="probation", to_state="implementing"),
    "reminder": dict(rule_id="R4.1", dates={"due_on": dt.date(2027, 9, 30)}, deadline_kind="start_assessment",
                     days_left=30, recipient_role="monitoring_body"),
    "overdue": dict(rule_id="R5.4", dates={"due_on": dt.date(2027, 9, 30)}, deadline_kind="quarterly_tracker_check",
                    member_state="inactive", reason="no tracker update in 2027-Q2 and 2027-Q3"),
}


def contexts(n: int) -> list[LetterContext]:
    """``n`` contexts, every kind in every language in turn, each for a different member."""
    shapes = itertools.cycle(itertools.product(KINDS, LANGUAGES))
    made = []
    for i in range(n):
        kind, language = next(shapes)
        values = dict(member_name=f"Municipality {i}", jurisdiction_name=f"Municipality {i}", country="France",
                      language=language, kind=kind, rule_id=None, rule_title="", event_date=EVENT,
                      recipient_role="poc", support_unit_email="support@ogplocal.example", reference=f"OGP-L-{i}")
        values.update(SHAPES[kind])
        made.append(LetterContext(**values))
    return made


def rate(work, items: list) -> float:
    started = time.perf_counter()
    for item in items:
        work(item)
    return len(items) / (time.perf_counter() - started)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text-html", type=int, default=2700, help="letters rendered without the PDF")
    parser.add_argument("--pdf", type=int, default=54, help="letters rendered with the PDF")
    args = parser.parse_args(argv)

    for ctx in contexts(len(KINDS) * len(LANGUAGES)):  # compile every template and read the fonts once
        letters.render(ctx)
    text_html = rate(letters._compose, contexts(args.text_html))
    with_pdf = rate(letters.render, contexts(args.pdf))
    unicode_fonts = letters.FONT_REGULAR.is_file() and letters.FONT_BOLD.is_file()
    print(json.dumps({
        "letters_per_s_text_html": round(text_html, 1),
        "letters_per_s_pdf": round(with_pdf, 1),
        "count_text_html": args.text_html,
        "count_pdf": args.pdf,
        "kinds": len(KINDS),
        "languages": list(LANGUAGES),
        "pdf_font": "DejaVu Sans" if unicode_fonts else "Helvetica (Latin-1)",
    }))


if __name__ == "__main__":
    main()
