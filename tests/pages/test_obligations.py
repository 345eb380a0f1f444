"""Next deadlines and overdue deliverables, shown apart (R8.1, §4, D1, D2), on the pages, the exports and the API.

The dates are worked by hand from the rulebook. Avignon (Europe/Paris) files its first plan
on 2027-06-15, ending 2028-06-30, with three commitments ending with it:

- R4.1 start assessment: filed + 2 months = 2027-08-15;
- D3 quarterly check: the plan is filed in 2027-Q2, so 2027-Q3 and 2027-Q4 are the first two
  quarters that count, checked at the start of 2028-Q1: due 2027-12-31 (breached at 00:00 local);
- D8 meeting check: filed + 12 months = 2028-06-15; R2.5 plan end: 2028-06-30;
- R4.2 end-of-commitment assessments (not completed): plan end + 1 month = 2028-07-30;
- R4.3 final learning report: plan end + 2 months = 2028-08-30.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import pytest
from fastapi.testclient import TestClient

from lifecycle import commands as c, handlers
from pagekit import PageWorld, log_in, make_page_world, settings_for

PLAN_FILED = "2027-06-15"
PLAN_END = dt.date(2028, 6, 30)


def avignon(w: PageWorld) -> int:
    """Avignon co-creates from 2027-03-01 and files plan 1 on 2027-06-15; its POC and monitoring body can log in."""
    w.at("2027-03-01")  # the call is open (R1.1)
    w.co_creating("avignon")
    w.person("poc-v", "poc", "avignon")
    w.person("mb-v", "monitoring_body", "avignon")
    w.at(PLAN_FILED)
    return w.file_plan("avignon", PLAN_END)


def _block(html: str, element_id: str) -> str:
    found = re.search(rf'<ul class="[^"]*" id="{element_id}">(.*?)</ul>', html, re.S)
    return found.group(1) if found else ""


def _row(html: str, name: str) -> str:
    found = re.search(rf"<tr>\s*<th scope=\"row\"><a href=\"/members/\d+\">{name}</a></th>(.*?)</tr>", html, re.S)
    assert found, f"no row for {name}"
    return found.group(1)


@pytest.fixture
def app_for(tmp_path):
    def make(w: PageWorld):
        from web.app import create_app

        return create_app(settings_for(w.url, tmp_path), session_factory=w.factory, clock=w.clock)

    return make


# ---------------------------------------------------------------- the rulebook's example, on each database


def test_r4_1_on_2027_09_01_the_start_assessment_is_overdue_and_the_next_deadline_is_the_next_one_ahead(
        db_url, app_for):
    w = make_page_world(db_url)
    try:
        plan = avignon(w)
        w.at("2027-09-01")
        member = w.members["avignon"]
        with TestClient(app_for(w)) as client:
            page = client.get(f"/members/{member}").text
            overdue, ahead = _block(page, "overdue"), _block(page, "next-deadlines")
            assert overdue.count("<li>") == 1
            assert 'datetime="2027-08-15"' in overdue and ">R4.1</abbr>" in overdue and f"plan {plan} (" in overdue
            assert "start assessment" in overdue
            # Still ahead: the first quarterly check (D3), then the yearly meeting check (D8), the plan end...
            dates = re.findall(r'<time datetime="([\d-]+)">', ahead)
            assert dates[:3] == ["2027-12-31", "2028-06-15", "2028-06-30"] and "2027-08-15" not in dates
            assert dates == sorted(dates)

            listing = _row(client.get("/members").text, "Avignon")
            next_cell, overdue_cell = re.findall(r"<td>(.*?)</td>", listing, re.S)[-2:]
            assert 'datetime="2027-12-31"' in next_cell and "quarterly tracker check" in next_cell
            assert 'datetime="2027-08-15"' in overdue_cell and ">R4.1</abbr>" in overdue_cell
            assert f'<span class="whose">plan {plan}</span>' in overdue_cell  # the list names the plan briefly

            rows = {r["name"]: r for r in csv.DictReader(io.StringIO(client.get("/exports/members.csv").text))}
            assert (rows["Avignon"]["next_deadline_kind"], rows["Avignon"]["next_deadline_rule"],
                    rows["Avignon"]["next_deadline_due_on"], rows["Avignon"]["overdue_count"]) == (
                "quarterly_tracker_check", "R5.4", "2027-12-31", "1")
            exported = {r["name"]: r for r in client.get("/exports/members.json").json()}["Avignon"]
            assert exported["overdue"] == [{
                "kind": "start_assessment", "rule_id": "R4.1", "due_on": "2027-08-15", "status": "pending",
                "plan_id": plan, "plan_status": "in_force", "earlier_plan": False, "commitment_id": None,
                "commitment": None}]
    finally:
        w.dispose()


def test_r8_1_the_api_read_model_gives_the_same_next_deadline_and_overdue_deliverables(world):
    from lifecycle import queries
    from web.schemas import MemberRead

    plan = avignon(world)
    world.at("2027-09-01")
    with world.session() as s:
        detail = queries.member_detail(s, world.members["avignon"], now=world.clock.now())
    read = MemberRead.model_validate(detail)
    assert (read.next_deadline.kind, read.next_deadline.due_on) == ("quarterly_tracker_check", "2027-12-31")
    assert [(o.kind, o.rule_id, o.due_on, o.plan_id) for o in read.overdue] == [
        ("start_assessment", "R4.1", "2027-08-15", plan)]


# ---------------------------------------------------------------- D2: due on a local date, overdue after its midnight


def test_d2_on_its_due_date_the_start_assessment_is_the_next_deadline_and_overdue_from_local_midnight(world, app_for):
    avignon(world)
    member = world.members["avignon"]
    with TestClient(app_for(world)) as client:
        world.at("2027-08-15T21:59:59Z")  # 23:59:59 in Paris (summer time): still due today
        page = client.get(f"/members/{member}").text
        assert re.findall(r'<time datetime="([\d-]+)">', _block(page, "next-deadlines"))[0] == "2027-08-15"
        assert _block(page, "overdue") == ""
        world.at("2027-08-15T22:00:00Z")  # 00:00 on 16 August in Paris
        page = client.get(f"/members/{member}").text
        assert "2027-08-15" not in _block(page, "next-deadlines")
        assert 'datetime="2027-08-15"' in _block(page, "overdue")


def test_r4_1_a_breached_deliverable_stays_overdue_until_it_is_filed_late(world, app_for):
    avignon(world)
    member = world.members["avignon"]
    world.at("2027-08-16")
    world.fire("avignon", "start_assessment")  # §4: a notice, no change of state
    assert world.state("avignon") == "implementing"
    with TestClient(app_for(world)) as client:
        overdue = _block(client.get(f"/members/{member}").text, "overdue")
        assert 'datetime="2027-08-15"' in overdue and "overdue notice sent" in overdue
        world.at("2027-09-10")
        world.run(handlers.file_assessment, c.FileAssessment(
            member_id=member, kind="start", actor=world.people["mb-v"],
            ratings={"public_influence": "consult",
                     "commitments": {str(i): {"relevant": True, "verifiable": True, "potential_impact": "minor"}
                                     for i in world.commitments("avignon")}}))
        page = client.get(f"/members/{member}").text
        assert _block(page, "overdue") == "" and "Overdue deliverables" not in page
        assert client.get("/exports/members.json").json()[-1]["overdue_count"] == 0


# ---------------------------------------------------------------- deliverables of an earlier plan name that plan


def test_r4_2_r4_3_deliverables_of_an_ended_plan_name_it_before_and_after_their_due_dates(world, app_for):
    plan1 = avignon(world)
    member = world.members["avignon"]
    world.at("2028-07-01")
    world.fire("avignon", "plan_end")  # R2.5: the plan ended on 2028-06-30; next plan due 2028-10-30 (R3.8)
    assert world.state("avignon") == "co_creation"
    with TestClient(app_for(world)) as client:
        ahead = _block(client.get(f"/members/{member}").text, "next-deadlines")
        # Ahead, and the plan they belong to has ended: each names it.
        assert re.findall(r'<time datetime="([\d-]+)">', ahead)[:5] == [
            "2028-07-30", "2028-07-30", "2028-07-30", "2028-08-30", "2028-10-30"]
        assert ahead.count(f"plan {plan1} (Jun 15, 2027 – Jun 30, 2028, ended)") == 4
        assert "“Open contracting register 1”" in ahead

        world.at("2028-09-15")
        world.run(handlers.record_meeting, c.RecordMeeting(
            member_id=member, phase="co_creation", held_on=dt.date(2028, 9, 1), government_participants=2,
            non_governmental_participants=3, actor="poc"))
        plan2 = world.file_plan("avignon", dt.date(2030, 6, 30))
        page = client.get(f"/members/{member}").text
        overdue = _block(page, "overdue")
        # R4.1 of 2027-08-15, three R4.2 of 2028-07-30, R4.3 of 2028-08-30: all of plan 1, no longer in force.
        assert re.findall(r'<time datetime="([\d-]+)">', overdue) == [
            "2027-08-15", "2028-07-30", "2028-07-30", "2028-07-30", "2028-08-30"]
        assert overdue.count(f"earlier plan {plan1} (Jun 15, 2027 – Jun 30, 2028, ended)") == 5
        assert f"plan {plan2} (" not in overdue
        for n in (1, 2, 3):
            assert f"(“Open contracting register {n}”)" in overdue
        # The next deadline is plan 2's start assessment: 2028-09-15 + 2 months (R4.1).
        first_ahead = _block(page, "next-deadlines").split("</li>")[0]
        assert 'datetime="2028-11-15"' in first_ahead and ">R4.1</abbr>" in first_ahead
        overdue_cell = re.findall(r"<td>(.*?)</td>", _row(client.get("/members").text, "Avignon"), re.S)[-1]
        assert overdue_cell.count(f"earlier plan {plan1} (ended)") == 5
        exported = {r["name"]: r for r in client.get("/exports/members.json").json()}["Avignon"]
        assert exported["next_deadline_due_on"] == "2028-11-15" and exported["overdue_count"] == 5
        assert {o["plan_id"] for o in exported["overdue"]} == {plan1}
        assert all(o["earlier_plan"] for o in exported["overdue"])
        assert sorted(o["commitment"] for o in exported["overdue"] if o["commitment"]) == [
            f"Open contracting register {n}" for n in (1, 2, 3)]


# ---------------------------------------------------------------- the POC's and monitoring body's pages, each language


@pytest.mark.parametrize("lang,overdue_title,plan_word", [
    ("en", "Overdue deliverables", "plan"), ("fr", "Livrables en retard", "plan"),
    ("es", "Entregables atrasados", "plan")])
def test_r8_1_poc_and_monitoring_pages_show_overdue_deliverables_apart_in_each_language(
        world, app_for, lang, overdue_title, plan_word):
    plan = avignon(world)
    world.at("2027-09-01")
    member = world.members["avignon"]
    app = app_for(world)
    for who, path in (("poc-v", f"/poc/members/{member}"), ("mb-v", f"/monitoring/members/{member}"),
                      ("public", f"/members/{member}")):
        with TestClient(app) as client:
            if who != "public":
                assert log_in(client, world.people[who]).status_code == 303
            page = client.get(path, params={"lang": lang})
            assert page.status_code == 200, (who, page.text[:300])
            assert overdue_title in page.text
            overdue = _block(page.text, "overdue")
            assert 'datetime="2027-08-15"' in overdue and f"{plan_word} {plan} (" in overdue
            assert "2027-08-15" not in _block(page.text, "next-deadlines")
            assert re.findall(r'<time datetime="([\d-]+)">', _block(page.text, "next-deadlines"))[0] == "2027-12-31"


def test_r8_1_a_member_with_nothing_overdue_shows_no_overdue_section(client, world):
    # Riverton's start assessment (filed 2027-01-10, due 2027-03-10) is overdue on 2027-04-05; Lyon owes no deliverable.
    html = client.get(f"/members/{world.members['lyon']}").text
    assert "Overdue deliverables" not in html and _block(html, "next-deadlines")
    riverton = _block(client.get(f"/members/{world.members['riverton']}").text, "overdue")
    assert 'datetime="2027-03-10"' in riverton
