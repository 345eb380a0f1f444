"""The monitoring body files deliverables of an earlier plan on the web (R4.1-R4.3): late, and met all the same.

The dates are worked by hand from the rulebook. Nîmes (Europe/Paris) files plan 1 on
2027-06-15, ending 2029-06-30, with four commitments:

- R4.1 start assessment: filed + 2 months = 2027-08-15 (D1), breached at the local midnight
  after it (D2): 2027-08-16 00:00 in Paris (summer time) = 2027-08-15T22:00:00Z. Its deadline
  fires on 2027-08-16: an overdue notice, no change of state (§4).
- commitment 4 is withdrawn on 2027-07-01, within six months of its submission (R3.10);
- commitment 1 is completed on 2028-03-10, assessed on 2028-03-20 (R4.2: due 2028-04-10), and
  a replacement is added the same day (R3.4);
- R2.5: the plan ends on 2029-06-30; commitments 2, 3 and the replacement end incomplete;
- R4.2 for those: plan end + 1 month = 2029-07-30, breached at 2029-07-30T22:00:00Z;
- R4.3 final learning report: plan end + 2 months = 2029-08-30.

Plan 2 is filed on 2029-09-14 (R3.8: before 2029-10-30), ending 2030-12-31; on 2029-09-20 the
monitoring body files plan 1's start assessment and an end-of-commitment assessment.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from dataclasses import dataclass

import pendulum
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from lifecycle import commands as c, handlers, samples
from lifecycle.models import Assessment, Commitment, Deadline, Member
from lifecycle.schemas import CommitmentIn
from pagekit import PageWorld, assert_accessible, csrf_from, log_in, make_page_world, settings_for

FORUM = ("Civic Data Association",)
FILED_ON = "2029-09-20"
START_BREACH = pendulum.datetime(2027, 8, 15, 22, tz="UTC")
EOC_BREACH = pendulum.datetime(2029, 7, 30, 22, tz="UTC")


@dataclass
class Earlier:
    """Nîmes after plan 1 ended and plan 2 was filed; its monitoring body logged in."""

    world: PageWorld
    client: TestClient
    member: int
    plan1: int
    plan2: int
    c1: int  # completed and assessed during plan 1
    c2: int  # ended incomplete
    c3: int  # ended incomplete
    c4: int  # withdrawn
    c5: int  # the replacement, ended incomplete


def _commitments(w: PageWorld, plan_id: int) -> list[int]:
    with w.session() as s:
        return list(s.scalars(select(Commitment.id).where(Commitment.plan_id == plan_id).order_by(Commitment.id)))


def _build(w: PageWorld) -> dict:
    w.at("2027-03-01")  # the call is open (R1.1)
    m = w.co_creating("nimes")
    w.person("mb-n", "monitoring_body", "nimes")
    w.at("2027-06-15")
    plan1 = w.file_plan("nimes", dt.date(2029, 6, 30), commitments=4)
    c1, c2, c3, c4 = _commitments(w, plan1)
    w.at("2027-07-01")
    w.run(handlers.withdraw_commitment, c.WithdrawCommitment(
        commitment_id=c4, actor="poc", decision_process="Forum vote, minutes linked.", approved_by=FORUM))
    w.at("2027-08-16")
    w.fire("nimes", "start_assessment")  # §4: the overdue notice; the deadline is breached
    w.at("2028-03-10")
    w.run(handlers.complete_commitment, c.CompleteCommitment(commitment_id=c1, completed_on=dt.date(2028, 3, 10),
                                                             actor="poc"))
    w.at("2028-03-20")
    w.run(handlers.file_assessment, c.FileAssessment(
        member_id=m, kind="end_of_commitment", actor=w.people["mb-n"], commitment_id=c1,
        ratings={"completion": "complete", "early_results": "Contracts are published within ten days."}))
    w.run(handlers.add_replacement_commitment, c.AddReplacementCommitment(
        member_id=m, commitment=CommitmentIn.model_validate(
            samples.commitment(dt.date(2028, 4, 1), dt.date(2029, 6, 30), 5)),
        actor="poc", decision_process="Forum vote, minutes linked.", approved_by=FORUM))
    (c5,) = [x for x in _commitments(w, plan1) if x not in (c1, c2, c3, c4)]
    w.at("2029-07-01")
    w.fire("nimes", "plan_end")  # R2.5
    w.at("2029-09-14")
    w.run(handlers.record_meeting, c.RecordMeeting(
        member_id=m, phase="co_creation", held_on=dt.date(2029, 9, 1), government_participants=2,
        non_governmental_participants=3, actor="poc"))
    plan2 = w.file_plan("nimes", dt.date(2030, 12, 31))
    w.at(FILED_ON)
    return {"member": m, "plan1": plan1, "plan2": plan2, "c1": c1, "c2": c2, "c3": c3, "c4": c4, "c5": c5}


@pytest.fixture
def earlier(db_url, tmp_path):
    from web.app import create_app

    w = make_page_world(db_url)
    try:
        ids = _build(w)
        app = create_app(settings_for(w.url, tmp_path), session_factory=w.factory, clock=w.clock)
        with TestClient(app) as client:
            assert log_in(client, w.people["mb-n"]).status_code == 303
            yield Earlier(world=w, client=client, **ids)
    finally:
        w.dispose()


def _overdue(page: str) -> list[str]:
    found = re.search(r'<ul class="overdue" id="overdue">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", found.group(1), re.S) if found else []


def _file_it(item: str) -> str:
    link = re.search(r'<a class="file-it" href="([^"]+)">', item)
    assert link, f"no link to file it: {item}"
    return html.unescape(link.group(1))


def _deadline(w: PageWorld, kind: str, subject: tuple[str, int]) -> Deadline:
    with w.session() as s:
        return s.scalars(select(Deadline).where(Deadline.kind == kind, Deadline.subject_type == subject[0],
                                                Deadline.subject_id == subject[1])).one()


def _options(page: str) -> dict[int, bool]:
    """The commitments an end-of-commitment form offers, each with whether it is chosen already."""
    select_ = re.search(r'<select id="commitment_id".*?</select>', page, re.S).group(0)
    return {int(v): bool(sel) for v, sel in re.findall(r'<option value="(\d+)"( selected)?>', select_)}


# ---------------------------------------------------------------- the member page links each overdue deliverable


def test_r4_1_r4_2_r4_3_each_overdue_deliverable_of_the_ended_plan_links_to_its_form(earlier):
    e = earlier
    page = e.client.get(f"/monitoring/members/{e.member}")
    assert page.status_code == 200
    assert_accessible(page.text, "en")
    items = _overdue(page.text)
    # Plan 1's start assessment (2027-08-15), three R4.2 (2029-07-30) and its final report (2029-08-30).
    assert [re.search(r'datetime="([\d-]+)"', i).group(1) for i in items] == [
        "2027-08-15", "2029-07-30", "2029-07-30", "2029-07-30", "2029-08-30"]
    start, eoc2, eoc3, eoc5, final = items
    assert ">R4.1</abbr>" in start and "overdue notice sent" in start
    assert _file_it(start) == f"/monitoring/members/{e.member}/start?plan={e.plan1}"
    assert [_file_it(i) for i in (eoc2, eoc3, eoc5)] == [
        f"/monitoring/members/{e.member}/end-of-commitment?plan={e.plan1}&commitment={x}" for x in (e.c2, e.c3, e.c5)]
    assert _file_it(final) == f"/monitoring/members/{e.member}/final-report?plan={e.plan1}"
    assert all(">File it<" in i for i in items)


@pytest.mark.parametrize("lang,link,plan_line", [
    ("en", "File it", "Plan {plan}, June 15, 2027 – June 30, 2029, ended"),
    ("fr", "Le déposer", "Plan {plan}, 15 juin 2027 – 30 juin 2029, terminé"),
    ("es", "Presentarlo", "Plan {plan}, 15 de junio de 2027 – 30 de junio de 2029, terminado"),
])
def test_r4_1_the_link_and_the_form_say_which_plan_in_each_language(earlier, lang, link, plan_line):
    e = earlier
    page = e.client.get(f"/monitoring/members/{e.member}", params={"lang": lang}).text
    start = _overdue(page)[0]
    assert f">{link}<" in start
    form = e.client.get(f"{_file_it(start)}&lang={lang}")
    assert form.status_code == 200
    assert_accessible(form.text, lang)
    assert plan_line.format(plan=e.plan1) in html.unescape(form.text)


# ---------------------------------------------------------------- R4.1 of the ended plan, filed late


def test_r4_1_the_start_assessment_of_the_ended_plan_is_filed_late_and_its_deadline_is_met(earlier):
    e = earlier
    w = e.world
    assert _deadline(w, "start_assessment", ("plan", e.plan1)).status == "breached"
    form = e.client.get(_file_it(_overdue(e.client.get(f"/monitoring/members/{e.member}").text)[0])).text
    assert f'<input type="hidden" name="plan" value="{e.plan1}">' in form
    assert "This plan is no longer in force" in form
    # R4.1 rates the initial commitments: not the withdrawn one (4), not the replacement (5), none of plan 2.
    rated = sorted(int(x) for x in re.findall(r'<select id="impact-(\d+)"', form))
    assert rated == [e.c1, e.c2, e.c3]
    data = {"csrf_token": csrf_from(form), "plan": str(e.plan1), "public_influence": "consult"}
    for x in rated:
        data |= {f"relevant-{x}": "yes", f"verifiable-{x}": "yes", f"impact-{x}": "minor"}
    done = e.client.post(f"/monitoring/members/{e.member}/start", data=data, follow_redirects=False)
    assert done.status_code == 303, done.text[:500]

    with w.session() as s:
        filed = s.scalars(select(Assessment).where(Assessment.kind == "start")).all()
        assert [(a.plan_id, sorted(a.ratings["commitments"])) for a in filed] == [
            (e.plan1, sorted(str(x) for x in rated))]
    row = _deadline(w, "start_assessment", ("plan", e.plan1))
    assert row.status == "met"
    assert row.closed_at == pendulum.datetime(2029, 9, 20, 9, tz="UTC") and row.closed_at > START_BREACH
    # Plan 2's own start assessment (2029-09-14 + 2 months = 2029-11-14) is still owed.
    assert _deadline(w, "start_assessment", ("plan", e.plan2)).status == "pending"
    dates = [re.search(r'datetime="([\d-]+)"', i).group(1)
             for i in _overdue(e.client.get(f"/monitoring/members/{e.member}").text)]
    assert dates == ["2029-07-30", "2029-07-30", "2029-07-30", "2029-08-30"]


# ---------------------------------------------------------------- R4.2 of a commitment of the ended plan, filed late


def test_r4_2_an_end_of_commitment_assessment_of_the_ended_plan_is_filed_late_and_met(earlier):
    e = earlier
    w = e.world
    items = _overdue(e.client.get(f"/monitoring/members/{e.member}").text)
    form = e.client.get(_file_it(items[1])).text
    # The plan's commitments completed or ended incomplete and not yet assessed; the linked one chosen already.
    assert _options(form) == {e.c2: True, e.c3: False, e.c5: False}
    assert f"Plan {e.plan1}, June 15, 2027 – June 30, 2029, ended" in html.unescape(form)
    done = e.client.post(f"/monitoring/members/{e.member}/end-of-commitment", follow_redirects=False, data={
        "csrf_token": csrf_from(form), "plan": str(e.plan1), "commitment_id": str(e.c2), "completion": "limited",
        "early_results": "Half the contracts are published."})
    assert done.status_code == 303, done.text[:500]

    with w.session() as s:
        a = s.scalars(select(Assessment).where(Assessment.commitment_id == e.c2)).one()
        assert (a.plan_id, a.kind, a.ratings["completion"]) == (e.plan1, "end_of_commitment", "limited")
        assert s.get(Commitment, e.c2).state == "assessed"
    row = _deadline(w, "end_of_commitment_assessment", ("commitment", e.c2))
    assert row.status == "met"
    assert row.closed_at == pendulum.datetime(2029, 9, 20, 9, tz="UTC") and row.closed_at > EOC_BREACH
    after = _overdue(e.client.get(f"/monitoring/members/{e.member}").text)
    assert len(after) == 4 and not any(f"commitment={e.c2}" in html.unescape(i) for i in after)
    assert _options(e.client.get(f"/monitoring/members/{e.member}/end-of-commitment",
                                 params={"plan": e.plan1}).text) == {e.c3: False, e.c5: False}


def test_r4_2_a_commitment_of_another_plan_is_refused_on_the_earlier_plan_form(earlier):
    e = earlier
    form = e.client.get(f"/monitoring/members/{e.member}/end-of-commitment", params={"plan": e.plan1}).text
    (plan2_commitment, *_) = _commitments(e.world, e.plan2)
    before = e.world.snapshot()
    refused = e.client.post(f"/monitoring/members/{e.member}/end-of-commitment", data={
        "csrf_token": csrf_from(form), "plan": str(e.plan1), "commitment_id": str(plan2_commitment),
        "completion": "limited", "early_results": "Too early."})
    assert refused.status_code == 400 and "<code>commitment_id</code>" in refused.text and "R4.2" in refused.text
    assert e.world.snapshot() == before


# ---------------------------------------------------------------- a plan that is not the member's


def test_r4_0_a_plan_of_another_member_or_none_is_refused_naming_the_field_and_changes_nothing(earlier):
    e = earlier
    w = e.world
    with w.session() as s:
        riverton_plan = s.get(Member, w.members["riverton"]).current_plan_id
    for plan, status in ((riverton_plan, 404), (987654, 404), ("abc", 400), ("99999999999999999999", 400)):
        page = e.client.get(f"/monitoring/members/{e.member}/start", params={"plan": plan})
        assert page.status_code == status, (plan, page.text[:300])
        assert "<code>plan</code>" in page.text and f'action="/monitoring/members/{e.member}/start"' not in page.text
    form = e.client.get(f"/monitoring/members/{e.member}/start").text  # plan 2's form, for a valid token
    data = {"csrf_token": csrf_from(form), "plan": str(riverton_plan), "public_influence": "consult"}
    for x in w.commitments("riverton"):
        data |= {f"relevant-{x}": "yes", f"verifiable-{x}": "yes", f"impact-{x}": "minor"}
    before = w.snapshot()
    for slug in ("start", "final-report"):
        refused = e.client.post(f"/monitoring/members/{e.member}/{slug}", data=data | {"summary": "Done."})
        assert refused.status_code == 404 and "<code>plan</code>" in refused.text
    refused = e.client.post(f"/monitoring/members/{e.member}/end-of-commitment", data={
        "csrf_token": data["csrf_token"], "plan": "99999999999999999999", "commitment_id": str(e.c2),
        "completion": "limited", "early_results": "x"})
    assert refused.status_code == 400 and "<code>plan</code>" in refused.text
    assert w.snapshot() == before


def test_r4_1_without_a_plan_the_form_is_for_the_plan_in_force(earlier):
    e = earlier
    form = e.client.get(f"/monitoring/members/{e.member}/start").text
    assert f"Plan {e.plan2}, September 14, 2029 – December 31, 2030, in force" in html.unescape(form)
    assert 'name="plan"' not in form and "no longer in force" not in form
    assert sorted(int(x) for x in re.findall(r'<select id="impact-(\d+)"', form)) == _commitments(e.world, e.plan2)
