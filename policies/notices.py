"""Which events owe a letter (R7.1), to whom, and when reminders go out."""

from __future__ import annotations

# Member transitions that owe the member a status letter (R7.1), by trigger.
STATUS_LETTERS: dict[str, str] = {
    "accept": "accepted",
    "reject": "rejected",
    "become_inactive": "inactive",
    "approve_voluntary_inactivity": "voluntary_inactivity_approved",
    "place_on_probation": "probation",
    "revoke": "revoked",
    "reinstate": "reinstated",
    "resume": "reinstated",
}

# Every status letter goes to the member's point of contact with a copy to the Support Unit.
STATUS_RECIPIENTS: tuple[str, ...] = ("poc", "support_unit")

# Monitoring deliverables are owed by the monitoring body; the POC and the Support Unit are told too.
DELIVERABLE_RECIPIENTS: tuple[str, ...] = ("monitoring_body", "poc", "support_unit")
MEMBER_RECIPIENTS: tuple[str, ...] = ("poc", "support_unit")

DEFAULT_REMINDER_DAYS: tuple[int, ...] = (30, 7)

# R3.10: "the OGP Local team is notified" of every accepted modification or withdrawal of a commitment.
MODIFICATION_NOTICE = "modification_notice"
MODIFICATION_NOTICE_RECIPIENTS: tuple[str, ...] = ("support_unit",)

# R5.5: a declined request for voluntary inactivity is a letter to the POC, copied to the Support Unit.
INACTIVITY_DECLINED = "voluntary_inactivity_declined"
INACTIVITY_DECLINED_RECIPIENTS: tuple[str, ...] = STATUS_RECIPIENTS

# R5.5: consulting is recommended, not required; a request sent without it carries this reminder.
CONSULTATION_REMINDER = (
    "The handbook strongly recommends consulting your non-governmental stakeholders and the OGP Local team "
    "before pausing; the Support Unit will see that they were not consulted (R5.5)."
)


def reminder_days(offsets: tuple[int, ...] | list[int]) -> tuple[int, ...]:
    """Reminder offsets in days before the due date, largest first, without duplicates or negatives."""
    return tuple(sorted({int(d) for d in offsets if int(d) > 0}, reverse=True))
