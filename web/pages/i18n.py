"""The pages' languages: message catalogues in ``web/locales/<lang>/*.json``, negotiation, Babel dates.

Adding a language is adding a folder with the same JSON files; a key missing from a
catalogue reads the English text, so a half-translated language still renders.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal
from starlette.requests import Request

LOCALES = Path(__file__).resolve().parent.parent / "locales"
DEFAULT_LANGUAGE = "en"
COOKIE = "lang"


def _discover(root: Path = LOCALES) -> tuple[str, ...]:
    found = [p.name for p in sorted(root.iterdir()) if p.is_dir() and any(p.glob("*.json"))]
    # English first: it is the fallback of every other catalogue.
    return tuple(sorted(found, key=lambda code: (code != DEFAULT_LANGUAGE, code)))


LANGUAGES: tuple[str, ...] = _discover()


@lru_cache(maxsize=None)
def catalogue(lang: str) -> dict[str, str]:
    """Every message of one language, merged from its JSON files, over the English ones."""
    messages: dict[str, str] = {}
    if lang != DEFAULT_LANGUAGE:
        messages.update(catalogue(DEFAULT_LANGUAGE))
    for path in sorted((LOCALES / lang).glob("*.json")):
        messages.update(json.loads(path.read_text(encoding="utf-8")))
    return messages


def _supported(code: str | None) -> str | None:
    code = (code or "").strip().lower().replace("_", "-")
    for candidate in (code, code.split("-")[0]):
        if candidate in LANGUAGES:
            return candidate
    return None


def _accept_language(header: str) -> str | None:
    """The supported language the reader prefers most (RFC 9110 quality values)."""
    ranked: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, position, tag))
    for _, _, tag in sorted(ranked):
        found = _supported(tag)
        if found:
            return found
    return None


def negotiate(request: Request) -> tuple[str, bool]:
    """The page's language: ``?lang=``, then the cookie, then Accept-Language; and whether to set the cookie."""
    asked = _supported(request.query_params.get("lang"))
    if asked:
        return asked, request.cookies.get(COOKIE) != asked
    remembered = _supported(request.cookies.get(COOKIE))
    if remembered:
        return remembered, False
    return _accept_language(request.headers.get("accept-language", "")) or DEFAULT_LANGUAGE, False


class Translator:
    """Messages and dates in one language, as the templates call them: ``t("key", name=…)``, ``date(d)``."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.messages = catalogue(lang)
        self.locale = Locale.parse(lang)

    def __call__(self, key: str, **values: object) -> str:
        text = self.messages.get(key, key)
        return text.format(**values) if values else text

    def has(self, key: str) -> bool:
        return key in self.messages

    def maybe(self, prefix: str, value: str | None) -> str:
        """A vocabulary word (state, deadline kind, rule title) in this language, or the value itself."""
        if value is None:
            return ""
        return self.messages.get(f"{prefix}.{value}", value.replace("_", " "))

    def date(self, value: dt.date | str | None, fmt: str = "medium") -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            value = dt.date.fromisoformat(value[:10])
        if isinstance(value, dt.datetime):
            value = value.date()
        return _format_date(self.lang, value, fmt)

    def day(self, instant: dt.datetime | None, tz: str, fmt: str = "medium") -> str:
        """The local calendar date of an instant in the member's time zone (D2), formatted."""
        if instant is None:
            return ""
        return self.date(instant.astimezone(_zone(tz)).date(), fmt)

    def datetime(self, value: dt.datetime | None, tz: str = "UTC", fmt: str = "medium") -> str:
        if value is None:
            return ""
        return format_datetime(value, format=fmt, tzinfo=tz, locale=self.locale)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def language_name(self, code: str) -> str:
        """A language named in itself, so a reader finds their own in the switcher."""
        name = Locale.parse(code).get_display_name(code) or code
        return name[:1].upper() + name[1:]


@lru_cache(maxsize=64)
def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(tz)


@lru_cache(maxsize=8192)
def _format_date(lang: str, value: dt.date, fmt: str) -> str:
    # Pure, and the same dates come back on every page (a long history repeats few of them).
    return format_date(value, format=fmt, locale=Locale.parse(lang))


@lru_cache(maxsize=None)
def translator(lang: str) -> Translator:
    return Translator(lang)
