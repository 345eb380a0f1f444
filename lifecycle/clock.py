"""Where time enters: the system clock in production, fixed or advancing clocks elsewhere."""

from __future__ import annotations

from typing import Protocol

import pendulum


class Clock(Protocol):
    def now(self) -> pendulum.DateTime:
        """The current business instant, in UTC."""
        ...


class SystemClock:
    """The real time."""

    def now(self) -> pendulum.DateTime:
        return pendulum.now("UTC")


class FixedClock:
    """A clock stopped at one instant; ``advance`` and ``set`` move it (simulations, tests)."""

    def __init__(self, instant: pendulum.DateTime | str) -> None:
        self._now = parse_instant(instant) if isinstance(instant, str) else instant.in_timezone("UTC")

    def now(self) -> pendulum.DateTime:
        return self._now

    def set(self, instant: pendulum.DateTime) -> None:
        self._now = instant.in_timezone("UTC")

    def advance(self, **delta: int) -> pendulum.DateTime:
        self._now = self._now.add(**delta)
        return self._now


def parse_instant(text: str) -> pendulum.DateTime:
    """An ISO 8601 instant; a date alone means its midnight UTC; naive times are UTC."""
    value = pendulum.parse(text, tz="UTC")
    if not isinstance(value, pendulum.DateTime):
        if isinstance(value, pendulum.Date):
            return pendulum.datetime(value.year, value.month, value.day, tz="UTC")
        raise ValueError(f"not an instant: {text!r}")
    return value.in_timezone("UTC")
