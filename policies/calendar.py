"""Calendar arithmetic for deadlines: D1 months, D2 local due dates, D3 calendar quarters."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass

import pendulum

from policies.errors import InvalidInput

__all__ = [
    "Quarter",
    "add_months",
    "breach_instant",
    "due_after",
    "is_on_time",
    "local_date",
    "next_quarter_check_due",
    "quarter_check_due",
    "quarters_fully_within",
    "start_of_local_day",
    "validate_timezone",
]

_ONE_DAY = dt.timedelta(days=1)
_ONE_SECOND = dt.timedelta(seconds=1)
_UTC = dt.timezone.utc

# Names the zone database ships that describe a machine or a placeholder, not a place.
_NOT_JURISDICTION_ZONES = frozenset({"localtime", "Factory", "posixrules"})
_ZONE_HINT = "Use an IANA time zone name such as Europe/Paris or America/New_York."

# Lower-cased name -> name as the zone database spells it; filled on first use.
_known_zones: dict[str, str] = {}


# --- D1: months ---------------------------------------------------------------------


def _as_date(value: dt.date, what: str) -> dt.date:
    # A datetime is also a date; refusing it keeps instants and local dates apart.
    if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
        raise TypeError(f"{what} must be a calendar date, not {type(value).__name__}")
    return dt.date(value.year, value.month, value.day)


def _days_in_month(year: int, month: int) -> int:
    return pendulum.date(year, month, 1).days_in_month


def add_months(anchor: dt.date, months: int) -> dt.date:
    """Return ``anchor`` plus ``months`` calendar months, clamped to the month's end (D1).

    Always computed from the anchor, never by repeated addition: 31 Jan + 2 months is
    31 Mar, whereas (31 Jan + 1) + 1 would be 28 Mar. ``months`` may be negative.
    """
    anchor = _as_date(anchor, "anchor")
    index = anchor.year * 12 + (anchor.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return dt.date(year, month, min(anchor.day, _days_in_month(year, month)))


# --- D2: time zones and local due dates ---------------------------------------------


def _looks_like_offset(name: str) -> bool:
    text = name.upper()
    for prefix in ("UTC", "GMT"):
        if text.startswith(prefix) and len(text) > len(prefix):
            text = text[len(prefix) :]
            break
    if text[:1] not in ("+", "-", "\u2212") and not text[:1].isdigit():
        return False
    return all(ch.isdigit() or ch in "+-:\u2212" for ch in text)


def validate_timezone(name: str) -> str:
    """Return the IANA name of a jurisdiction's time zone, spelled as the database does.

    Matching ignores case and surrounding spaces (``"europe/paris"`` gives
    ``"Europe/Paris"``). Backward-compatible aliases such as ``"US/Eastern"`` are
    accepted and returned as given. Raises :class:`InvalidInput` for empty names,
    unknown names and fixed offsets such as ``"+02:00"``, which cannot follow summer time.
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput(
            "A time zone is required to decide on which local day a deadline falls.",
            field="time_zone",
            hint=_ZONE_HINT,
        )
    cleaned = name.strip()
    if _looks_like_offset(cleaned):
        raise InvalidInput(
            f"'{cleaned}' is a fixed offset from UTC, not a time zone; it would not follow "
            "summer time.",
            field="time_zone",
            hint=_ZONE_HINT,
        )
    if not _known_zones:
        _known_zones.update(
            (zone.lower(), zone)
            for zone in zoneinfo.available_timezones()
            if zone not in _NOT_JURISDICTION_ZONES
        )
    canonical = _known_zones.get(cleaned.lower())
    if canonical is None:
        raise InvalidInput(
            f"'{cleaned}' is not a time zone we know.",
            field="time_zone",
            hint=_ZONE_HINT,
        )
    return canonical


def _zone(tz: str) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(validate_timezone(tz))


def _as_aware(instant: dt.datetime, what: str) -> dt.datetime:
    if not isinstance(instant, dt.datetime):
        raise TypeError(f"{what} must be a datetime, not {type(instant).__name__}")
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise TypeError(f"{what} must carry a time zone; naive datetimes are ambiguous")
    return instant


def _to_pendulum_utc(instant: dt.datetime) -> pendulum.DateTime:
    u = instant.astimezone(_UTC)
    return pendulum.datetime(
        u.year, u.month, u.day, u.hour, u.minute, u.second, u.microsecond, tz="UTC"
    )


def _wall_clock(instant: dt.datetime, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def local_date(instant: dt.datetime, tz: str) -> dt.date:
    """Return the calendar date of an aware instant in the time zone ``tz``."""
    local = _as_aware(instant, "instant").astimezone(_zone(tz))
    return dt.date(local.year, local.month, local.day)


def start_of_local_day(day: dt.date, tz: str) -> pendulum.DateTime:
    """Return, in UTC, the first instant of the local day ``day`` in ``tz``.

    That is 00:00 local time; when clocks jump over midnight it is the instant of the
    jump (the first instant of that day), and when midnight happens twice it is the
    first one. Precisely: the earliest instant whose local wall clock reads
    ``day`` 00:00 or later.
    """
    zone = _zone(tz)
    midnight = dt.datetime.combine(_as_date(day, "day"), dt.time())
    # fold=0 resolves a repeated midnight to its first occurrence.
    earliest_guess = midnight.replace(tzinfo=zone, fold=0).astimezone(_UTC)
    if _wall_clock(earliest_guess, zone) == midnight:
        return _to_pendulum_utc(earliest_guess)
    # Midnight falls in a gap. Read with the offset after the jump it lies before the
    # jump; read with the offset before, after it. The jump is between the two.
    before = midnight.replace(tzinfo=zone, fold=1).astimezone(_UTC)
    after = earliest_guess
    while after - before > _ONE_SECOND:
        middle = before + (after - before) // 2
        if _wall_clock(middle, zone) >= midnight:
            after = middle
        else:
            before = middle
    return _to_pendulum_utc(after)


def breach_instant(due: dt.date, tz: str) -> pendulum.DateTime:
    """Return, in UTC, the instant a deadline due on local date ``due`` is breached (D2).

    That is the start of the local day after ``due``: 00:00 local time on ``due + 1``.
    """
    return start_of_local_day(_as_date(due, "due") + _ONE_DAY, tz)


def is_on_time(filed_at: dt.datetime, due: dt.date, tz: str) -> bool:
    """Tell whether something filed at ``filed_at`` meets a deadline due on ``due`` (D2)."""
    return _as_aware(filed_at, "filed_at") < breach_instant(due, tz)


def due_after(anchor_instant: dt.datetime, months: int, tz: str) -> dt.date:
    """Return the local date ``months`` months after the local date of ``anchor_instant`` (D1)."""
    return add_months(local_date(anchor_instant, tz), months)


# --- D3: calendar quarters ----------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Quarter:
    """A calendar quarter: ``Quarter(2027, 3)`` runs from 1 July to 30 September 2027."""

    year: int
    number: int

    def __post_init__(self) -> None:
        if self.number not in (1, 2, 3, 4):
            raise ValueError(f"a quarter number is 1 to 4, not {self.number!r}")

    @classmethod
    def containing(cls, day: dt.date) -> Quarter:
        """Return the quarter that contains the calendar date ``day``."""
        day = _as_date(day, "day")
        return cls(day.year, (day.month - 1) // 3 + 1)

    @property
    def start(self) -> dt.date:
        """The first day of the quarter."""
        return dt.date(self.year, 3 * self.number - 2, 1)

    @property
    def end(self) -> dt.date:
        """The last day of the quarter."""
        return self.next().start - _ONE_DAY

    def next(self) -> Quarter:
        """Return the quarter that follows this one."""
        if self.number == 4:
            return Quarter(self.year + 1, 1)
        return Quarter(self.year, self.number + 1)

    def previous(self) -> Quarter:
        """Return the quarter that precedes this one."""
        if self.number == 1:
            return Quarter(self.year - 1, 4)
        return Quarter(self.year, self.number - 1)

    def __str__(self) -> str:
        return f"{self.year}-Q{self.number}"


def quarter_check_due(filed_on: dt.date) -> dt.date:
    """Return the local due date of the first quarterly check after a plan is filed (D3).

    The filing quarter does not count, so the first two counting quarters are the two
    after it; the check is due on the last day of the second, so that its breach
    instant is 00:00 local time on the first day of the quarter after. Filed on
    2027-02-10 (Q1): Q2 and Q3 count, and the check is due 2027-09-30.
    """
    return Quarter.containing(filed_on).next().next().end


def next_quarter_check_due(previous_due: dt.date) -> dt.date:
    """Return the due date of the quarterly check after the one due on ``previous_due`` (D3).

    That is the last day of the quarter after the one containing ``previous_due``.
    """
    return Quarter.containing(previous_due).next().end


def quarters_fully_within(
    start_instant: dt.datetime,
    end_instant: dt.datetime | None,
    tz: str,
    *,
    until: dt.date,
) -> list[Quarter]:
    """Return, in order, the quarters that lie wholly inside a period, local to ``tz`` (D3).

    The period runs from ``start_instant`` to ``end_instant`` (exclusive), or is still
    open when ``end_instant`` is None. A quarter counts when it begins after
    ``start_instant`` — so the quarter in which the period starts never counts, even
    when it starts at that quarter's very first instant, as with the filing quarter —
    when it has ended by the time the period ends, and when its last day is on or
    before the local date ``until`` (the day of the check, which bounds an open period).
    """
    _as_aware(start_instant, "start_instant")
    if end_instant is not None:
        _as_aware(end_instant, "end_instant")
    until = _as_date(until, "until")
    quarter = Quarter.containing(local_date(start_instant, tz)).next()
    found: list[Quarter] = []
    while quarter.end <= until:
        if end_instant is not None and breach_instant(quarter.end, tz) > end_instant:
            break
        found.append(quarter)
        quarter = quarter.next()
    return found
