"""Rating scales of the monitoring deliverables (R4.1–R4.3)."""

from __future__ import annotations

import pytest

from policies.assessments import RatingInvalid, check_ratings, check_unmet
from policies.errors import InvalidInput

GOOD_START = {"public_influence": "involve",
              "commitments": {"1": {"relevant": True, "verifiable": True, "potential_impact": "moderate"}}}


def test_r4_1_start_assessment_rates_every_initial_commitment():
    assert check_ratings("start", GOOD_START, commitment_ids=(1,)).value == "start"
    with pytest.raises(RatingInvalid) as exc:
        check_ratings("start", GOOD_START, commitment_ids=(1, 2))
    assert exc.value.rule == "R4.1"
    assert exc.value.field == "ratings.commitments.2"


def test_r4_1_potential_impact_and_public_influence_use_the_rulebook_scales():
    bad = {**GOOD_START, "commitments": {"1": {"relevant": True, "verifiable": True, "potential_impact": "huge"}}}
    with pytest.raises(RatingInvalid, match="transformative"):
        check_ratings("start", bad, commitment_ids=(1,))
    with pytest.raises(RatingInvalid) as exc:
        check_ratings("start", {**GOOD_START, "public_influence": "shout"}, commitment_ids=(1,))
    assert exc.value.field == "ratings.public_influence"


def test_r4_2_completion_uses_the_four_level_scale_and_needs_early_results():
    check_ratings("end_of_commitment", {"completion": "substantial", "early_results": "More bids."})
    with pytest.raises(RatingInvalid) as exc:
        check_ratings("end_of_commitment", {"completion": "mostly", "early_results": "x"})
    assert exc.value.rule == "R4.2"
    with pytest.raises(RatingInvalid):
        check_ratings("end_of_commitment", {"completion": "complete", "early_results": " "})


def test_r4_3_final_learning_report_needs_a_summary():
    with pytest.raises(RatingInvalid) as exc:
        check_ratings("final_report", {})
    assert exc.value.rule == "R4.3"


def test_unknown_assessment_kind_names_the_field():
    with pytest.raises(InvalidInput) as exc:
        check_ratings("midterm", {})
    assert exc.value.field == "kind"


def test_r3_11_only_named_requirements_may_be_recorded_unmet():
    check_unmet(("forum", "regularity"))
    with pytest.raises(InvalidInput) as exc:
        check_unmet(("vibes",))
    assert exc.value.rule == "R3.11"


@pytest.mark.parametrize("ratings, field", [
    (["likely"], "ratings"),
    ({"commitments": ["not", "a", "mapping"], "public_influence": "collaborate"}, "ratings.commitments"),
])
def test_r4_1_ratings_of_the_wrong_shape_are_refused_naming_the_field(ratings, field):
    with pytest.raises(RatingInvalid) as refused:
        check_ratings("start", ratings, commitment_ids=(1,))
    assert (refused.value.rule, refused.value.field) == ("R4.1", field)
