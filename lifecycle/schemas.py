"""Input documents (plan files, commitments, letters of support) and their conversion to policy shapes.

A plan is filed as a JSON or YAML document; its schema is documented in
``docs/plan-file.md`` and printed by ``ogp-lifecycle plan schema``.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from policies.errors import InvalidInput
from policies.proposals import (
    AgencyContact,
    CommitmentProposal,
    LetterOfSupport,
    MilestoneProposal,
    Resources,
    Signatory,
)


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class AgencyIn(_Doc):
    organisation: str
    branch: str = ""
    contact_name: str
    title: str
    email: str
    role: str


class ResourcesIn(_Doc):
    budget_amount: Decimal | None = None
    currency: str | None = None
    staff: int | None = Field(default=None, ge=0)
    months: int | None = Field(default=None, ge=0)
    other: str | None = None


class MilestoneIn(_Doc):
    outcome: str
    start_month: str = Field(description="MM/YYYY")
    end_month: str = Field(description="MM/YYYY")
    responsible_agency: str
    contact: str
    status: str = "not_started"


class CommitmentIn(_Doc):
    """One commitment with every annex 2 field (R3.7)."""

    title: str
    start: dt.date
    end: dt.date
    jurisdiction: str | None = Field(default=None, description="coalition member's code; omit for joint")
    lead_agency: AgencyIn
    problem: str
    status_quo: str
    action: str
    how_it_solves: str
    long_term_goal: str
    policy_areas: list[str] = Field(max_length=10)
    sectors: list[str] = Field(max_length=10)
    ogp_values: list[str]
    resources: ResourcesIn
    resources_secured: str
    milestones: list[MilestoneIn]
    non_governmental_implementer: str | None = None
    other_stakeholders: str | None = None
    additional_information: str | None = None
    language: str = "en"

    def to_proposal(self) -> CommitmentProposal:
        return CommitmentProposal(
            title=self.title,
            start=self.start,
            end=self.end,
            lead_agency=AgencyContact(**self.lead_agency.model_dump()),
            problem=self.problem,
            status_quo=self.status_quo,
            action=self.action,
            how_it_solves=self.how_it_solves,
            long_term_goal=self.long_term_goal,
            policy_areas=tuple(self.policy_areas),
            sectors=tuple(self.sectors),
            ogp_values=tuple(self.ogp_values),
            resources=Resources(**self.resources.model_dump()),
            resources_secured=self.resources_secured,
            milestones=tuple(MilestoneProposal(**m.model_dump()) for m in self.milestones),
            jurisdiction=self.jurisdiction,
            non_governmental_implementer=self.non_governmental_implementer,
            other_stakeholders=self.other_stakeholders,
            additional_information=self.additional_information,
            language=self.language,
        )


class MonitoringBodyIn(_Doc):
    name: str
    endorsed: bool = Field(description="endorsed by the participating non-governmental stakeholders (R4.0)")


class ForumIn(_Doc):
    name: str
    government_members: int = Field(ge=0)
    non_governmental_members: int = Field(ge=0)


class PlanIn(_Doc):
    """An action plan with its strategic vision (annex 1) and initial commitments (annex 2)."""

    plan_end: dt.date
    language: str = "en"
    foreword: str
    vision: dict[str, str] = Field(description="answers 4.1–4.6")
    engagement: dict[str, str] = Field(description="answers 5.1–5.8")
    monitoring: dict[str, str] = Field(description="answers 6.1–6.5")
    endorsing_stakeholders: list[str]
    links: list[str] = []
    monitoring_body: MonitoringBodyIn | None = None
    point_of_contact: str | None = None
    forum: ForumIn | None = None
    coalition: list[int] = Field(default=[], description="ids of the other members filing this joint plan (R3.13)")
    coalition_name: str | None = None
    commitments: list[CommitmentIn]


class SignatoryIn(_Doc):
    name: str
    kind: str = Field(description="government or non_governmental")
    is_head_of_government: bool = False
    has_delegated_authority: bool = False
    has_legal_personality: bool = False


class LetterOfSupportIn(_Doc):
    pages: int = Field(ge=0)
    language: str
    signatories: list[SignatoryIn]

    def to_proposal(self) -> LetterOfSupport:
        return LetterOfSupport(
            pages=self.pages,
            language=self.language,
            signatories=tuple(Signatory(**s.model_dump()) for s in self.signatories),
        )


def load_document(path: str | Path) -> Any:
    """Read a JSON or YAML file (by extension; YAML is a superset, so anything else is read as YAML)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidInput(f"Cannot read {p}: {exc.strerror}.", field="file") from exc
    try:
        return json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{p} is not valid {'JSON' if p.suffix == '.json' else 'YAML'}: {exc}", field="file") from exc


def parse(model: type[BaseModel], data: Any, *, what: str):
    """Validate a document; the first error becomes an InvalidInput naming the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        first = errors[0]
        where = ".".join(str(p) for p in first["loc"]) or what
        more = f" ({len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})" if len(errors) > 1 else ""
        raise InvalidInput(f"The {what} is malformed at {where}: {first['msg']}{more}.", field=where) from exc


def plan_json_schema() -> dict:
    return PlanIn.model_json_schema()
