"""Sample documents (a valid plan, commitment and letter of support) for the demo, docs and tests."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from policies.proposals import ENGAGEMENT_ANSWER_KEYS, MONITORING_ANSWER_KEYS, VISION_ANSWER_KEYS


def letter_of_support() -> dict[str, Any]:
    return {
        "pages": 2,
        "language": "en",
        "signatories": [
            {"name": "Mayor of the city", "kind": "government", "is_head_of_government": True},
            {"name": "Civic Data Association", "kind": "non_governmental", "has_legal_personality": True},
        ],
    }


def milestone(start: dt.date, end: dt.date, n: int = 1) -> dict[str, Any]:
    return {
        "outcome": f"Milestone {n}: the register is published and reviewed with residents",
        "start_month": f"{start.month:02d}/{start.year}",
        "end_month": f"{end.month:02d}/{end.year}",
        "responsible_agency": "Transparency Office",
        "contact": "Ana Ruiz",
        "status": "not_started",
    }


def commitment(start: dt.date, end: dt.date, n: int = 1, **overrides: Any) -> dict[str, Any]:
    data = {
        "title": f"Open contracting register {n}",
        "start": start.isoformat(),
        "end": end.isoformat(),
        "lead_agency": {
            "organisation": "City Hall",
            "branch": "Executive",
            "contact_name": "Ana Ruiz",
            "title": "Director of Transparency",
            "email": "ana.ruiz@city.example",
            "role": "lead",
        },
        "problem": "Residents cannot see how public contracts are awarded.",
        "status_quo": "Contracts are published as scanned PDFs months after signature.",
        "action": "Publish every contract as open data within ten days of signature.",
        "how_it_solves": "Residents and journalists can follow awards and spending as they happen.",
        "long_term_goal": "An accountable, data-driven city administration.",
        "policy_areas": ["Open Contracting"],
        "sectors": ["Public Services (general)"],
        "ogp_values": ["Access to Information", "Public Accountability"],
        "resources": {"budget_amount": "25000", "currency": "EUR", "staff": 2, "months": 18, "other": None},
        "resources_secured": "partially",
        "milestones": [milestone(start, min(end, start + dt.timedelta(days=180)), 1), milestone(start, end, 2)],
        "non_governmental_implementer": "Civic Data Association",
    }
    data.update(overrides)
    return data


def plan(filed_on: dt.date, plan_end: dt.date, commitments: int = 3, **overrides: Any) -> dict[str, Any]:
    """A plan that passes §3 validation when filed on ``filed_on`` by a member with a long enough term."""
    c_end = plan_end
    data = {
        "plan_end": plan_end.isoformat(),
        "language": "en",
        "foreword": "Our second step towards an open city.",
        "vision": {k: f"Answer to question {k}." for k in VISION_ANSWER_KEYS},
        "engagement": {k: f"Answer to question {k}." for k in ENGAGEMENT_ANSWER_KEYS},
        "monitoring": {k: f"Answer to question {k}." for k in MONITORING_ANSWER_KEYS},
        "endorsing_stakeholders": ["Civic Data Association", "Neighbourhood Councils Network"],
        "links": ["https://city.example/open-gov/plan"],
        "monitoring_body": {"name": "University Observatory of Public Policy", "endorsed": True},
        "point_of_contact": "ana.ruiz@city.example",
        "forum": {"name": "Open City Forum", "government_members": 4, "non_governmental_members": 5},
        "commitments": [commitment(filed_on, c_end, n) for n in range(1, commitments + 1)],
    }
    data.update(overrides)
    return copy.deepcopy(data)
