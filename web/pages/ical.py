"""A member's deadlines as an iCalendar feed (RFC 5545), written by hand: all-day events on each due date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pendulum

PRODID = "-//OGP Local//ogp-lifecycle deadlines//EN"


def escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 §3.3.11): backslash, semicolon, comma and newlines."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n"))


def fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 §3.1) without splitting a UTF-8 character."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    limit = 75
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > limit:
            parts.append(current.decode("utf-8"))
            current = b""
            limit = 74  # continuation lines start with one space
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def _stamp(instant: pendulum.DateTime) -> str:
    return instant.in_timezone("UTC").strftime("%Y%m%dT%H%M%SZ")


def calendar(*, name: str, events: Iterable[dict], now: pendulum.DateTime, domain: str) -> str:
    """A VCALENDAR with one VEVENT per deadline: ``{"uid_key", "due_on", "summary", "description", "url"}``."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN", "METHOD:PUBLISH",
             f"X-WR-CALNAME:{escape(name)}"]
    for e in events:
        due: dt.date = e["due_on"]
        lines += [
            "BEGIN:VEVENT",
            f"UID:{e['uid_key']}@{domain}",
            f"DTSTAMP:{_stamp(now)}",
            f"DTSTART;VALUE=DATE:{due.strftime('%Y%m%d')}",
            f"DTEND;VALUE=DATE:{(due + dt.timedelta(days=1)).strftime('%Y%m%d')}",
            f"SUMMARY:{escape(e['summary'])}",
        ]
        if e.get("description"):
            lines.append(f"DESCRIPTION:{escape(e['description'])}")
        if e.get("url"):
            lines.append(f"URL:{e['url']}")
        lines += ["TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
