"""Voluntary inactivity (R5.5): consulting is recorded, not required; the Support Unit approves or declines with a
reason, and a declined request changes nothing but the request (on both real databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from config.settings import Settings
from lifecycle import audit, commands as c, handlers
from lifecycle.models import InactivityRequest, Member, OutboxEvent
from policies.errors import InvalidInput, NotFound, RuleViolation
from workers.letters.render import LANGUAGES, build_context, render
from worldkit import snapshot

SU = "support-unit"
POC = "poc@city.example"
WHY = "The start assessment is due next month; ask again once it is filed."


def ask(world, member_id: int, *, consulted: bool = True, reason: str = "Municipal elections until June.") -> int:
    return world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=member_id, reason=reason, stakeholders_consulted=consulted, actor=POC))


def approve(world, request_id: int, reason: str | None = None) -> None:
    world.run(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=request_id, actor=SU,
                                                                                  reason=reason))


def decline(world, request_id: int, reason: str = WHY) -> None:
    world.run(handlers.decline_voluntary_inactivity, c.DeclineVoluntaryInactivity(request_id=request_id, actor=SU,
                                                                                  reason=reason))


def request_row(world, request_id: int) -> InactivityRequest:
    with world.session() as s:
        return s.get(InactivityRequest, request_id)


def letters(world, member_id: int, kind: str = "voluntary_inactivity_declined") -> list[OutboxEvent]:
    with world.session() as s:
        return list(s.scalars(select(OutboxEvent).where(OutboxEvent.member_id == member_id, OutboxEvent.kind == kind)
                              .order_by(OutboxEvent.id)))


def member_trail(world, member_id: int) -> list[tuple[str, str, str, str]]:
    with world.session() as s:
        return [(r.trigger, r.from_state, r.to_state, r.rule_id) for r in audit.history(s, "member", member_id)]


def expect_refusal(world, call, error, rule: str, field: str | None = None) -> RuleViolation:
    before = snapshot(world)
    with pytest.raises(error) as exc:
        call()
    assert (exc.value.rule, exc.value.field if field is not None else None) == (rule, field)
    assert snapshot(world) == before
    return exc.value


# ---------------------------------------------------------------- asking: consultation recorded, not required


@pytest.mark.parametrize("consulted", [True, False], ids=["consulted", "not_consulted"])
def test_r5_5_a_request_is_accepted_whether_or_not_the_stakeholders_were_consulted_and_says_which(world, consulted):
    m = world.implementing()
    rid = ask(world, m, consulted=consulted)
    r = request_row(world, rid)
    assert (r.status, r.stakeholders_consulted, r.decided_at, r.decided_by, r.decision_reason) == (
        "pending", consulted, None, None, None)
    with world.session() as s:
        assert s.get(Member, m).state == "implementing"


def test_r5_5_the_command_defaults_to_not_consulted(world):
    m = world.co_creating()
    rid = world.run(handlers.request_voluntary_inactivity, c.RequestVoluntaryInactivity(
        member_id=m, reason="Budget crisis.", actor=POC))
    assert request_row(world, rid).stakeholders_consulted is False


def test_r5_5_d11_a_member_in_orientation_asks_is_approved_and_resumes_into_orientation(world):
    m = world.in_orientation()
    approve(world, ask(world, m))
    world.run(handlers.resume, c.Resume(member_id=m, actor=POC, reason="The new team is in place."))
    assert [r[:3] for r in member_trail(world, m)[-2:]] == [
        ("approve_voluntary_inactivity", "orientation", "inactive"), ("resume", "inactive", "orientation")]


def test_r5_5_an_applicant_cannot_ask_and_nothing_changes(world):
    m = world.applicant()
    err = expect_refusal(world, lambda: ask(world, m), RuleViolation, "R5.5", "state")
    assert "orientation" in err.message


# ---------------------------------------------------------------- the Support Unit decides


def test_r5_5_approval_records_who_decided_when_and_why(world):
    m = world.implementing()
    rid = ask(world, m)
    world.at("2027-02-01T09:00:00")
    approve(world, rid, reason="Agreed for the election period.")
    r = request_row(world, rid)
    assert (r.status, r.decided_at, r.decided_by, r.decision_reason) == (
        "approved", world.clock.now(), SU, "Agreed for the election period.")


def test_r5_5_support_unit_declines_request_with_reason_and_letter(world):
    m = world.implementing()
    rid = ask(world, m, consulted=False)
    trail_before = member_trail(world, m)
    world.at("2027-02-01T09:00:00")

    decline(world, rid)

    r = request_row(world, rid)
    assert (r.status, r.decided_at, r.decided_by, r.decision_reason) == ("declined", world.clock.now(), SU, WHY)
    with world.session() as s:
        got = s.get(Member, m)
        assert (got.state, got.voluntary_inactivity, got.inactivity_rule) == ("implementing", False, None)
    assert member_trail(world, m) == trail_before, "no transition: the member's state does not change"
    sent = letters(world, m)
    assert [(e.recipient_role, e.rule_id, e.idempotency_key) for e in sent] == [
        ("poc", "R5.5", f"inactivity_request:{rid}:voluntary_inactivity_declined:poc"),
        ("support_unit", "R5.5", f"inactivity_request:{rid}:voluntary_inactivity_declined:support_unit"),
    ]
    assert all(e.payload["reason"] == WHY and e.payload["stakeholders_consulted"] is False for e in sent)
    assert all(e.created_at == world.clock.now() and e.transition_id is None for e in sent)


@pytest.mark.parametrize("reason", ["", "   "])
def test_r5_5_declining_without_a_reason_is_refused_naming_r5_5_and_changes_nothing(world, reason):
    m = world.implementing()
    rid = ask(world, m)
    expect_refusal(world, lambda: decline(world, rid, reason=reason), InvalidInput, "R5.5", "reason")


def test_r5_5_a_decided_request_cannot_be_decided_again_and_nothing_changes(world):
    m = world.implementing()
    approved = ask(world, m)
    approve(world, approved)
    expect_refusal(world, lambda: decline(world, approved), RuleViolation, "R5.5", "request_id")

    other = world.implementing("lakeside")
    declined = ask(world, other)
    decline(world, declined)
    expect_refusal(world, lambda: approve(world, declined), RuleViolation, "R5.5", "request_id")
    expect_refusal(world, lambda: decline(world, declined), RuleViolation, "R5.5", "request_id")
    assert len(letters(world, other)) == 2, "one decline, one letter per recipient"


def test_r5_5_declining_an_unknown_request_is_refused_and_changes_nothing(world):
    world.implementing()
    expect_refusal(world, lambda: decline(world, 404), NotFound, "", "id")


def test_r5_5_after_a_decline_the_point_of_contact_may_ask_again(world):
    m = world.implementing()
    decline(world, ask(world, m, consulted=False))
    again = ask(world, m, consulted=True)
    approve(world, again)
    with world.session() as s:
        assert s.get(Member, m).state == "inactive"


# ---------------------------------------------------------------- the letter of a decline (R7.2)


@pytest.mark.parametrize("language", LANGUAGES)
def test_r5_5_the_decline_letter_cites_r5_5_and_the_reason_in_the_members_language(world, tmp_path, language):
    m = world.implementing("lyon", language=language)
    world.at("2027-01-20T09:00:00")
    rid = ask(world, m, consulted=False, reason="Elections.")
    world.at("2027-02-01T09:00:00")
    decline(world, rid)
    poc_letter = letters(world, m)[0]

    settings = Settings(_env_file=None, data_dir=tmp_path, support_unit_email="su@ogplocal.example")
    with world.session() as s:
        ctx = build_context(s, s.get(OutboxEvent, poc_letter.id), settings=settings)
    letter = render(ctx)

    assert (ctx.kind, ctx.rule_id, ctx.reason, ctx.language) == ("voluntary_inactivity_declined", "R5.5", WHY,
                                                                 language)
    assert ctx.request == {"id": rid, "reason": "Elections.", "stakeholders_consulted": False}
    assert set(ctx.dates) == {"effective_on", "requested_on"}
    assert "Lyon" in letter.subject and "R5.5" in letter.subject
    for text in (letter.text, letter.html):
        assert WHY in text and "Elections." in text and "R5.5" in text


# ---------------------------------------------------------------- an approval and a decline at once


def test_r5_5_an_approval_and_a_decline_of_one_request_at_once_decide_it_exactly_once(world):
    import threading
    from concurrent.futures import ThreadPoolExecutor

    from lifecycle.uow import UnitOfWork

    m = world.implementing()
    rid = ask(world, m)
    barrier = threading.Barrier(2)
    commands = [(handlers.approve_voluntary_inactivity, c.ApproveVoluntaryInactivity(request_id=rid, actor=SU)),
                (handlers.decline_voluntary_inactivity, c.DeclineVoluntaryInactivity(request_id=rid, actor=SU,
                                                                                     reason=WHY))]

    def start(handler, command):
        barrier.wait(timeout=10)
        return handler(command, uow=UnitOfWork(world.factory), clock=world.clock)

    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = [f.exception(timeout=60) for f in [pool.submit(start, *hc) for hc in commands]]

    assert outcomes.count(None) == 1, outcomes
    (refusal,) = [o for o in outcomes if o is not None]
    assert isinstance(refusal, RuleViolation) and (refusal.rule, refusal.field) == ("R5.5", "request_id")
    status = request_row(world, rid).status
    with world.session() as s:
        state = s.get(Member, m).state
    assert (status, state, len(letters(world, m))) in {("approved", "inactive", 0), ("declined", "implementing", 2)}
