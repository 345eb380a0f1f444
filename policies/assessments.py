"""Monitoring deliverables (§4): which ones exist and the rating scales they must use."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any

from policies.errors import InvalidInput, RuleViolation
from policies.vocabularies import COMPLETION_LEVELS, IMPACT_LEVELS, PUBLIC_INFLUENCE


class AssessmentKind(StrEnum):
    start = "start"  # R4.1
    end_of_commitment = "end_of_commitment"  # R4.2
    final_report = "final_report"  # R4.3


ASSESSMENT_RULES = {AssessmentKind.start: "R4.1", AssessmentKind.end_of_commitment: "R4.2", AssessmentKind.final_report: "R4.3"}

# R3.11 requirements a start assessment may record as unmet (D8 re-checks R6.2 then).
COCREATION_REQUIREMENTS = ("forum", "regularity", "multistakeholder", "endorsement")


class RatingInvalid(RuleViolation):
    """Raised when an assessment uses a rating outside the rulebook's scales."""


def _scale(value: Any, scale: tuple[str, ...], *, rule: str, field: str) -> None:
    if value not in scale:
        raise RatingInvalid(
            f"{field} must be one of {', '.join(scale)}; got {value!r}.", rule=rule, field=field,
            hint="Use the rating scale of the rulebook.",
        )


def check_ratings(kind: str, ratings: Mapping[str, Any], *, commitment_ids: tuple[int, ...] = ()) -> AssessmentKind:
    """Refuse an assessment whose ratings are missing or off the scales of R4.1–R4.3."""
    try:
        k = AssessmentKind(kind)
    except ValueError:
        raise InvalidInput(
            f"Unknown assessment kind {kind!r}; use start, end_of_commitment or final_report.", field="kind"
        ) from None
    rule = ASSESSMENT_RULES[k]
    if not isinstance(ratings, Mapping):
        raise RatingInvalid("The ratings must be an object of named ratings.", rule=rule, field="ratings")
    if k is AssessmentKind.start:
        per_commitment = ratings.get("commitments") or {}
        if not isinstance(per_commitment, Mapping):
            raise RatingInvalid("ratings.commitments must map each commitment id to its rating.", rule=rule,
                                field="ratings.commitments")
        for cid in commitment_ids:
            rating = per_commitment.get(str(cid))
            if not isinstance(rating, Mapping):
                raise RatingInvalid(
                    f"The start assessment rates every initial commitment; commitment {cid} has no rating.",
                    rule=rule, field=f"ratings.commitments.{cid}",
                )
            for flag in ("relevant", "verifiable"):
                if not isinstance(rating.get(flag), bool):
                    raise RatingInvalid(f"Say whether commitment {cid} is {flag} (true or false).", rule=rule,
                                        field=f"ratings.commitments.{cid}.{flag}")
            _scale(rating.get("potential_impact"), IMPACT_LEVELS, rule=rule, field=f"ratings.commitments.{cid}.potential_impact")
        _scale(ratings.get("public_influence"), PUBLIC_INFLUENCE, rule=rule, field="ratings.public_influence")
    elif k is AssessmentKind.end_of_commitment:
        _scale(ratings.get("completion"), COMPLETION_LEVELS, rule=rule, field="ratings.completion")
        if not str(ratings.get("early_results") or "").strip():
            raise RatingInvalid("Describe the commitment's early results.", rule=rule, field="ratings.early_results")
    else:
        if not str(ratings.get("summary") or "").strip():
            raise RatingInvalid("The final learning report needs a summary.", rule=rule, field="ratings.summary")
    return k


def check_unmet(requirements: tuple[str, ...]) -> None:
    for r in requirements:
        if r not in COCREATION_REQUIREMENTS:
            raise InvalidInput(
                f"Unknown co-creation requirement {r!r}; use {', '.join(COCREATION_REQUIREMENTS)} (R3.11).",
                rule="R3.11", field="unmet_requirements",
            )
