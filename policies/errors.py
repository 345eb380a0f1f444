"""Typed refusals: every refusal names the rule it enforces and says what to do."""

from __future__ import annotations


class RuleViolation(Exception):
    """Raised when a command would break a rule of the rulebook.

    ``rule`` is the rulebook ID (``"R3.1"``), ``message`` a sentence a point of
    contact understands, ``hint`` what to do about it, ``field`` the input field
    at fault when there is one.
    """

    rule: str = ""

    def __init__(
        self,
        message: str,
        *,
        rule: str | None = None,
        hint: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        if rule is not None:
            self.rule = rule
        self.message = message
        self.hint = hint
        self.field = field

    def __str__(self) -> str:
        text = f"[{self.rule}] {self.message}" if self.rule else self.message
        if self.hint:
            text += f" {self.hint}"
        return text

    def as_dict(self) -> dict[str, str | None]:
        return {
            "type": type(self).__name__,
            "rule": self.rule,
            "message": self.message,
            "hint": self.hint,
            "field": self.field,
        }


class Refusals(RuleViolation):
    """Raised when a submission fails several rules at once; carries every failure."""

    def __init__(self, violations: list[RuleViolation], *, subject: str = "submission") -> None:
        if not violations:
            raise ValueError("Refusals needs at least one violation")
        self.violations = list(violations)
        first = self.violations[0]
        count = len(self.violations)
        summary = f"The {subject} was refused: {count} rule{'s' if count != 1 else ''} not met."
        super().__init__(summary, rule=first.rule, hint=None, field=first.field)

    def __str__(self) -> str:
        lines = [self.message]
        lines += [f"  - {v}" for v in self.violations]
        return "\n".join(lines)

    def as_dict(self) -> dict:  # type: ignore[override]
        data = super().as_dict()
        data["violations"] = [v.as_dict() for v in self.violations]
        return data


class TriggerNotAllowed(RuleViolation):
    """Raised when a trigger is not possible from the subject's current state."""


class InvalidInput(RuleViolation):
    """Raised when an input field is malformed, before any rule can be judged."""


class NotFound(InvalidInput):
    """Raised when a command names a record that does not exist."""


class ApproverNotRecorded(RuleViolation):
    """Raised when an approval names someone who is not a non-governmental stakeholder recorded for the plan."""

    rule = "R3.10"
