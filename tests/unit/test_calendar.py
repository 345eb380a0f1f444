"""Calendar arithmetic of the rulebook: D1 months, D2 local due dates, D3 quarters."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies import calendar
from policies.calendar import (
    Quarter,
    add_months,
    breach_instant,
    due_after,
    is_on_time,
    local_date,
    next_quarter_check_due,
    quarter_check_due,
    quarters_fully_within,
    start_of_local_day,
    validate_timezone,
)
from policies.errors import InvalidInput

NEW_YORK = "America/New_York"
SEOUL = "Asia/Seoul"


def utc(*parts: int) -> pendulum.DateTime:
    return pendulum.datetime(*parts, tz="UTC")


def local(tz: str, *parts: int) -> pendulum.DateTime:
    return pendulum.datetime(*parts, tz=tz)


# --- D1: months ---------------------------------------------------------------------


def test_d1_31_august_plus_four_months_is_31_december():
    assert add_months(dt.date(2027, 8, 31), 4) == dt.date(2027, 12, 31)


def test_d1_31_october_plus_four_months_is_28_february_in_a_common_year():
    assert add_months(dt.date(2026, 10, 31), 4) == dt.date(2027, 2, 28)


def test_d1_31_october_plus_four_months_is_29_february_in_a_leap_year():
    assert add_months(dt.date(2027, 10, 31), 4) == dt.date(2028, 2, 29)


def test_d1_31_january_plus_one_month_is_28_february_in_a_common_year():
    assert add_months(dt.date(2027, 1, 31), 1) == dt.date(2027, 2, 28)


def test_d1_31_january_plus_one_month_is_29_february_in_a_leap_year():
    assert add_months(dt.date(2028, 1, 31), 1) == dt.date(2028, 2, 29)


def test_d1_months_are_counted_from_the_anchor_not_by_repeated_addition():
    anchor = dt.date(2027, 1, 31)
    stepwise = add_months(add_months(anchor, 1), 1)

    assert stepwise == dt.date(2027, 3, 28)
    assert add_months(anchor, 2) == dt.date(2027, 3, 31)


def test_d1_negative_months_count_backwards_with_clamping():
    assert add_months(dt.date(2027, 3, 31), -1) == dt.date(2027, 2, 28)
    assert add_months(dt.date(2027, 1, 15), -13) == dt.date(2025, 12, 15)


def test_d1_add_months_accepts_a_pendulum_date_and_returns_a_plain_date():
    result = add_months(pendulum.date(2027, 8, 31), 4)

    assert result == dt.date(2027, 12, 31)
    assert type(result) is dt.date


def test_d1_add_months_refuses_an_instant_so_local_dates_and_instants_stay_apart():
    with pytest.raises(TypeError):
        add_months(utc(2027, 8, 31, 12), 4)


@given(
    anchor=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
    months=st.integers(min_value=0, max_value=120),
)
def test_d1_add_months_lands_in_the_right_month_on_the_anchor_day_or_the_month_end(
    anchor: dt.date, months: int
):
    result = add_months(anchor, months)

    assert (result.year - anchor.year) * 12 + (result.month - anchor.month) == months
    days_in_month = pendulum.date(result.year, result.month, 1).days_in_month
    assert result.day == min(anchor.day, days_in_month)


def test_d1_d2_due_after_counts_months_from_the_local_date_of_the_anchor():
    # 23:30 on 31 Oct in New York is already 1 Nov in UTC; the local date decides.
    anchor = local(NEW_YORK, 2026, 10, 31, 23, 30)

    assert due_after(anchor, 4, NEW_YORK) == dt.date(2027, 2, 28)
    assert due_after(anchor, 4, "UTC") == dt.date(2027, 3, 1)


# --- D2: local due dates ------------------------------------------------------------


def test_d2_local_date_of_an_instant_depends_on_the_time_zone():
    instant = utc(2027, 6, 30, 16)

    assert local_date(instant, SEOUL) == dt.date(2027, 7, 1)
    assert local_date(instant, NEW_YORK) == dt.date(2027, 6, 30)


def test_d2_local_date_accepts_a_standard_library_aware_datetime():
    instant = dt.datetime(2027, 6, 30, 16, tzinfo=dt.timezone.utc)

    assert local_date(instant, SEOUL) == dt.date(2027, 7, 1)


def test_d2_local_date_refuses_a_naive_datetime():
    with pytest.raises(TypeError):
        local_date(dt.datetime(2027, 6, 30, 16), SEOUL)


def test_d2_due_the_day_before_spring_forward_in_new_york_is_breached_at_05_00_utc():
    assert breach_instant(dt.date(2027, 3, 13), NEW_YORK) == utc(2027, 3, 14, 5)


def test_d2_due_on_the_spring_forward_day_in_new_york_is_breached_at_04_00_utc():
    assert breach_instant(dt.date(2027, 3, 14), NEW_YORK) == utc(2027, 3, 15, 4)


def test_d2_due_on_the_fall_back_day_in_new_york_is_breached_at_05_00_utc_next_day():
    assert breach_instant(dt.date(2027, 11, 7), NEW_YORK) == utc(2027, 11, 8, 5)


def test_d2_breach_instant_is_returned_in_utc():
    breach = breach_instant(dt.date(2027, 3, 14), NEW_YORK)

    assert isinstance(breach, pendulum.DateTime)
    assert breach.timezone_name == "UTC"


@pytest.mark.parametrize("due", [dt.date(2027, 3, 13), dt.date(2027, 3, 14), dt.date(2027, 11, 7)])
def test_d2_filed_at_23_59_local_on_the_due_date_is_on_time_and_at_00_00_next_day_is_late(
    due: dt.date,
):
    next_day = due + dt.timedelta(days=1)
    last_minute = local(NEW_YORK, due.year, due.month, due.day, 23, 59)
    next_midnight = local(NEW_YORK, next_day.year, next_day.month, next_day.day)

    assert is_on_time(last_minute, due, NEW_YORK)
    assert not is_on_time(next_midnight, due, NEW_YORK)


def test_d2_due_30_june_in_seoul_is_breached_at_15_00_utc_the_same_day():
    assert breach_instant(dt.date(2027, 6, 30), SEOUL) == utc(2027, 6, 30, 15)


def test_d2_filed_on_the_due_date_in_seoul_is_on_time_even_when_utc_says_the_day_before():
    filed_at = utc(2027, 6, 29, 15, 30)  # 00:30 on 30 June in Seoul

    assert is_on_time(filed_at, dt.date(2027, 6, 30), SEOUL)
    assert not is_on_time(utc(2027, 6, 30, 15), dt.date(2027, 6, 30), SEOUL)


def test_d2_breach_instant_is_the_start_of_the_next_local_day():
    for due in (dt.date(2027, 3, 13), dt.date(2027, 3, 14), dt.date(2027, 11, 7)):
        assert breach_instant(due, NEW_YORK) == start_of_local_day(
            due + dt.timedelta(days=1), NEW_YORK
        )


def test_d2_when_local_midnight_is_skipped_the_day_starts_at_the_jump():
    # Havana springs forward at 00:00 → 01:00; 2027-03-14 begins at 01:00 CDT.
    assert start_of_local_day(dt.date(2027, 3, 14), "America/Havana") == utc(2027, 3, 14, 5)


def test_d2_a_local_day_that_never_happened_starts_when_the_next_one_does():
    # Samoa skipped 30 December 2011 when it crossed the date line.
    assert start_of_local_day(dt.date(2011, 12, 30), "Pacific/Apia") == utc(2011, 12, 30, 10)


def test_d2_validate_timezone_returns_the_name_as_the_zone_database_spells_it():
    assert validate_timezone("Asia/Seoul") == "Asia/Seoul"
    assert validate_timezone(" europe/paris ") == "Europe/Paris"
    assert validate_timezone("utc") == "UTC"


@pytest.mark.parametrize(
    "name", ["Mars/Olympus", "", "   ", "+02:00", "-0500", "UTC+2", "GMT-03:00", "localtime"]
)
def test_d2_an_unknown_empty_or_fixed_offset_time_zone_is_invalid_input(name: str):
    with pytest.raises(InvalidInput) as refused:
        validate_timezone(name)

    assert refused.value.field == "time_zone"
    assert refused.value.message.endswith(".")


def test_d2_calendar_functions_refuse_an_unknown_time_zone():
    with pytest.raises(InvalidInput) as refused:
        breach_instant(dt.date(2027, 6, 30), "Mars/Olympus")

    assert refused.value.field == "time_zone"


# --- D3: quarters -------------------------------------------------------------------


def test_d3_31_march_is_in_q1_and_1_april_in_q2():
    assert Quarter.containing(dt.date(2027, 3, 31)) == Quarter(2027, 1)
    assert Quarter.containing(dt.date(2027, 4, 1)) == Quarter(2027, 2)


def test_d3_31_december_and_1_january_are_in_different_years_quarters():
    assert Quarter.containing(dt.date(2027, 12, 31)) == Quarter(2027, 4)
    assert Quarter.containing(dt.date(2028, 1, 1)) == Quarter(2028, 1)


def test_d3_a_quarter_knows_its_first_and_last_day():
    assert Quarter(2027, 1).start == dt.date(2027, 1, 1)
    assert Quarter(2027, 1).end == dt.date(2027, 3, 31)
    assert Quarter(2027, 3).start == dt.date(2027, 7, 1)
    assert Quarter(2027, 3).end == dt.date(2027, 9, 30)
    assert Quarter(2027, 4).end == dt.date(2027, 12, 31)


def test_d3_quarter_bounds_match_pendulum_first_and_last_of_quarter():
    for month in range(1, 13):
        day = pendulum.date(2028, month, 15)
        quarter = Quarter.containing(day)
        assert quarter.start == day.first_of("quarter")
        assert quarter.end == day.last_of("quarter")


def test_d3_next_and_previous_roll_over_the_year():
    assert Quarter(2027, 4).next() == Quarter(2028, 1)
    assert Quarter(2028, 1).previous() == Quarter(2027, 4)
    assert Quarter(2027, 2).next().previous() == Quarter(2027, 2)


def test_d3_quarters_are_ordered_and_print_as_year_and_number():
    assert Quarter(2027, 4) < Quarter(2028, 1) < Quarter(2028, 2)
    assert str(Quarter(2027, 3)) == "2027-Q3"


def test_d3_a_quarter_number_outside_one_to_four_is_refused():
    with pytest.raises(ValueError):
        Quarter(2027, 5)


def test_d3_plan_filed_in_q1_is_first_checked_after_q2_and_q3():
    due = quarter_check_due(dt.date(2027, 2, 10))

    assert due == dt.date(2027, 9, 30)
    assert breach_instant(due, SEOUL) == local(SEOUL, 2027, 10, 1)


def test_d3_plan_filed_on_the_first_day_of_q2_is_first_checked_after_q3_and_q4():
    assert quarter_check_due(dt.date(2027, 4, 1)) == dt.date(2027, 12, 31)


def test_d3_plan_filed_in_q4_is_first_checked_after_q1_and_q2_of_the_next_year():
    assert quarter_check_due(dt.date(2027, 12, 31)) == dt.date(2028, 6, 30)


def test_d3_the_next_quarterly_check_is_due_at_the_end_of_the_following_quarter():
    assert next_quarter_check_due(dt.date(2027, 9, 30)) == dt.date(2027, 12, 31)
    assert next_quarter_check_due(dt.date(2027, 12, 31)) == dt.date(2028, 3, 31)


def test_d3_the_filing_quarter_does_not_count_towards_quarters_fully_within():
    filed = local(NEW_YORK, 2027, 2, 10, 9)

    quarters = quarters_fully_within(filed, None, NEW_YORK, until=dt.date(2027, 9, 30))

    assert quarters == [Quarter(2027, 2), Quarter(2027, 3)]


def test_d3_a_period_starting_at_a_quarters_first_instant_does_not_count_that_quarter():
    filed = local(NEW_YORK, 2027, 4, 1)

    quarters = quarters_fully_within(filed, None, NEW_YORK, until=dt.date(2027, 12, 31))

    assert quarters == [Quarter(2027, 3), Quarter(2027, 4)]


def test_d3_a_quarter_counts_only_if_the_period_lasts_until_its_local_end():
    start = local(SEOUL, 2027, 2, 10, 9)
    until = dt.date(2028, 12, 31)

    ended_at_quarter_end = local(SEOUL, 2027, 10, 1)
    ended_a_second_early = ended_at_quarter_end.subtract(seconds=1)

    assert quarters_fully_within(start, ended_at_quarter_end, SEOUL, until=until) == [
        Quarter(2027, 2),
        Quarter(2027, 3),
    ]
    assert quarters_fully_within(start, ended_a_second_early, SEOUL, until=until) == [
        Quarter(2027, 2),
    ]


def test_d3_quarters_fully_within_uses_the_local_calendar_of_the_jurisdiction():
    # 1 April 00:30 in Seoul is still 31 March in UTC: in Seoul Q2 has already begun.
    start = utc(2027, 3, 31, 15, 30)

    assert quarters_fully_within(start, None, SEOUL, until=dt.date(2027, 9, 30)) == [
        Quarter(2027, 3)
    ]
    assert quarters_fully_within(start, None, "UTC", until=dt.date(2027, 9, 30)) == [
        Quarter(2027, 2),
        Quarter(2027, 3),
    ]


def test_the_module_exposes_exactly_its_public_calendar_api():
    assert sorted(calendar.__all__) == [
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
