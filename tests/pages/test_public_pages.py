"""Public pages (R8.1, R8.2): the list of members, a member's status, languages, exports and the iCal feed."""

from __future__ import annotations

import csv
import io
import re

import pytest

from pagekit import assert_accessible, csrf_from

LANGS = ("en", "fr", "es")


def test_list_shows_every_member_with_its_status_and_next_deadline(client, world):
    page = client.get("/members")
    assert page.status_code == 200
    html = page.text
    for name in ("Riverton", "Lyon", "Bogota"):
        assert f">{name}</a>" in html
    assert "implementing" in html and "co-creation" in html and "applicant" in html
    assert "first action plan" in html  # lyon's next deadline (R5.1)
    assert '<html lang="en">' in html
    assert html.index("Bogota") < html.index("Lyon") < html.index("Riverton")  # by name


def test_home_page_is_the_list(client):
    assert client.get("/").text.count("<tr>") == client.get("/members").text.count("<tr>")


@pytest.mark.parametrize("lang", LANGS)
def test_every_page_renders_in_every_language(client, world, lang):
    rid = world.members["riverton"]
    for path in ("/members", f"/members/{rid}", "/exports", "/login"):
        page = client.get(path, params={"lang": lang})
        assert page.status_code == 200, (path, page.text[:300])
        assert_accessible(page.text, lang)
        assert page.headers["content-language"] == lang


def test_french_and_spanish_pages_say_their_words_and_dates(client, world):
    rid = world.members["riverton"]
    fr = client.get(f"/members/{rid}", params={"lang": "fr"}).text
    es = client.get(f"/members/{rid}", params={"lang": "es"}).text
    assert "mise en œuvre" in fr and "Historique" in fr
    assert "en implementación" in es or "implementación" in es
    assert "avr. 2027" in fr or "avril 2027" in fr  # Babel, in the reader's locale
    assert "abr 2027" in es or "abril de 2027" in es


def test_language_comes_from_query_then_cookie_then_accept_language(client):
    assert '<html lang="es">' in client.get("/members", headers={"Accept-Language": "es-CO,es;q=0.9"}).text
    assert '<html lang="en">' in client.get("/members", headers={"Accept-Language": "de-DE"}).text
    chosen = client.get("/members", params={"lang": "fr"})
    assert chosen.cookies.get("lang") == "fr"
    # The cookie now wins over Accept-Language.
    assert '<html lang="fr">' in client.get("/members", headers={"Accept-Language": "es"}).text


def test_language_switcher_links_to_the_same_page_in_each_language(client):
    html = client.get("/members", params={"state": "implementing"}).text
    for lang in LANGS:
        assert f'href="/members?state=implementing&amp;lang={lang}" lang="{lang}"' in html


def test_list_filters_by_country_and_status(client):
    html = client.get("/members", params={"country": "Colombia"}).text
    assert "Bogota" in html and ">Riverton<" not in html
    html = client.get("/members", params={"state": "implementing"}).text
    assert ">Riverton<" in html and ">Lyon<" not in html and ">Bogota<" not in html
    html = client.get("/members", params={"state": "implementing", "country": "Colombia"}).text
    assert "No member matches" in html


def test_list_refuses_an_unknown_status_naming_the_field(client):
    page = client.get("/members", params={"state": "dormant"})
    assert page.status_code == 400
    assert "state is one of" in page.text and "(state)" in page.text


@pytest.mark.parametrize("value", ["0", "x", "-3"])
def test_list_refuses_a_bad_page_number(client, value):
    page = client.get("/members", params={"page": value})
    assert page.status_code == 400 and "(page)" in page.text


def test_list_paginates(client):
    first = client.get("/members", params={"per_page": 2}).text
    assert "Page 1 of 2" in first and 'rel="next"' in first and 'rel="prev"' not in first
    assert ">Bogota<" in first and ">Lyon<" in first and ">Riverton<" not in first
    second = client.get("/members", params={"per_page": 2, "page": 2}).text
    assert "Page 2 of 2" in second and ">Riverton<" in second and 'rel="prev"' in second
    # A page past the end shows the last one.
    assert "Page 2 of 2" in client.get("/members", params={"per_page": 2, "page": 9}).text


def test_member_page_shows_plan_commitments_milestones_tracker_deadlines_and_history(client, world):
    html = client.get(f"/members/{world.members['riverton']}").text
    assert "Strategic vision" in html and "Our second step towards an open city." in html
    assert "Open contracting register 1" in html and "Milestones" in html
    assert "Update for 2027-Q2" in html and "The register is live" in html
    assert "Reason for the delay:" in html and "The budget was voted late." in html
    assert "stuck" in html and "in progress" in html
    assert "Next deadlines" in html and "start assessment" in html
    # Each commitment's end-of-commitment assessment (R4.2) names the commitment it is for.
    assert "end-of-commitment assessment (“Open contracting register 1”)" in html
    for rule in ("R1.1", "R2.1", "R2.3", "R2.4"):
        assert f">{rule}</abbr>" in html
    assert "/members/%d/deadlines.ics" % world.members["riverton"] in html


def test_unknown_member_is_a_404_page(client):
    page = client.get("/members/999")
    assert page.status_code == 404 and "There is no member 999." in page.text


def test_r8_2_a_comment_waits_for_moderation_then_shows(client, login, world):
    rid = world.members["riverton"]
    page = client.get(f"/members/{rid}")
    posted = client.post(f"/members/{rid}/updates/{world.update_id}/comments", follow_redirects=False,
                         data={"author_name": "Ana", "body": "When will the data be complete?",
                               "csrf_token": csrf_from(page.text)})
    assert posted.status_code == 303
    after = client.get(posted.headers["location"]).text
    assert "once the Support Unit has approved it" in after
    assert "When will the data be complete?" not in after
    su = login("su")
    board = su.get("/dashboard").text
    assert "When will the data be complete?" in board
    comment_id = re.search(r'/dashboard/comments/(\d+)/moderate', board).group(1)
    done = su.post(f"/dashboard/comments/{comment_id}/moderate",
                   data={"decision": "approve", "csrf_token": csrf_from(board)}, follow_redirects=False)
    assert done.status_code == 303
    assert "When will the data be complete?" in client.get(f"/members/{rid}").text


def test_r8_2_a_comment_without_text_is_refused_with_its_rule_and_nothing_is_stored(client, world):
    rid = world.members["riverton"]
    page = client.get(f"/members/{rid}")
    before = world.snapshot()
    refused = client.post(f"/members/{rid}/updates/{world.update_id}/comments",
                          data={"author_name": "Ana", "body": "  ", "csrf_token": csrf_from(page.text)})
    assert refused.status_code == 400
    assert "R8.2" in refused.text and "Nothing was changed." in refused.text
    assert world.snapshot() == before


def test_a_comment_without_the_csrf_token_is_refused(client, world):
    rid = world.members["riverton"]
    client.get(f"/members/{rid}")
    before = world.snapshot()
    refused = client.post(f"/members/{rid}/updates/{world.update_id}/comments",
                          data={"author_name": "Ana", "body": "Hello", "csrf_token": "forged"})
    assert refused.status_code == 403
    assert world.snapshot() == before


# ---------------------------------------------------------------- exports


def test_members_csv_export_lists_statuses_and_next_deadlines(client, world):
    response = client.get("/exports/members.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"Riverton", "Lyon", "Bogota"}
    assert by_name["Riverton"]["state"] == "implementing" and by_name["Riverton"]["plan_end"] == "2029-06-30"
    assert by_name["Lyon"]["next_deadline_rule"] == "R5.1"


def test_members_json_export_takes_the_list_filters(client):
    rows = client.get("/exports/members.json", params={"country": "Colombia"}).json()
    assert [r["name"] for r in rows] == ["Bogota"] and rows[0]["state"] == "applicant"


def test_history_exports_have_every_record_with_rule_and_hash(client, world):
    from lifecycle import audit

    with world.session() as s:
        total = audit.count(s)
    rows = client.get("/exports/history.json").json()
    assert len(rows) == total and all(r["rule_id"] and len(r["hash"]) == 64 for r in rows)
    text = client.get("/exports/history.csv").text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert len(parsed) == total and tuple(parsed[0]) == audit.EXPORT_FIELDS
    mine = client.get("/exports/history.json", params={"member": world.members["bogota"]}).json()
    assert [(r["trigger"], r["rule_id"]) for r in mine] == [("apply", "R1.1")]


def test_exports_stream_in_batches_across_many_rows(client, world, monkeypatch):
    from lifecycle import public

    monkeypatch.setattr(public, "EXPORT_BATCH", 2)
    monkeypatch.setattr(public.iter_member_export, "__defaults__", None, raising=False)
    rows = list(public.iter_member_export(world.factory, now=world.clock.now(), batch=2))
    assert [r["name"] for r in rows] == ["Riverton", "Lyon", "Bogota"]
    history = list(public.iter_history_export(world.factory, batch=3))
    assert [r["id"] for r in history] == sorted(r["id"] for r in history) and len(history) > 3


def test_unknown_export_format_is_a_404(client):
    assert client.get("/exports/members.xml").status_code == 404


# ---------------------------------------------------------------- iCal


def _unfold(text: str) -> list[str]:
    return text.replace("\r\n ", "").split("\r\n")


def test_ical_feed_is_valid_rfc5545_with_one_event_per_pending_deadline(client, world):
    from lifecycle.models import Deadline
    from sqlalchemy import func, select

    rid = world.members["riverton"]
    response = client.get(f"/members/{rid}/deadlines.ics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/calendar")
    body = response.text
    assert body.endswith("\r\n") and "\n" not in body.replace("\r\n", "")
    for raw in body.split("\r\n"):
        assert len(raw.encode()) <= 75
    lines = _unfold(body)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-2] == "END:VCALENDAR" and "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    with world.session() as s:
        pending = s.scalar(select(func.count()).select_from(Deadline).where(
            Deadline.member_id == rid, Deadline.status == "pending"))
    assert lines.count("BEGIN:VEVENT") == lines.count("END:VEVENT") == pending
    uids = [line for line in lines if line.startswith("UID:")]
    assert len(set(uids)) == pending
    assert all(re.fullmatch(r"DTSTAMP:\d{8}T\d{6}Z", line) for line in lines if line.startswith("DTSTAMP"))
    starts = [line for line in lines if line.startswith("DTSTART")]
    assert starts and all(re.fullmatch(r"DTSTART;VALUE=DATE:\d{8}", line) for line in starts)
    assert any(line.startswith("SUMMARY:") and "R4.1" in line for line in lines)


def test_ical_text_is_escaped_and_folded_without_splitting_characters():
    from web.pages.ical import escape, fold

    assert escape("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    line = "SUMMARY:" + "é" * 60
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_ical_of_an_unknown_member_is_a_404(client):
    assert client.get("/members/999/deadlines.ics").status_code == 404


def test_public_pages_and_exports_on_each_database(db_url, tmp_path):
    """The same read models on SQLite and PostgreSQL (ordering, JSON columns, keyset batches)."""
    from fastapi.testclient import TestClient

    from pagekit import make_page_world, settings_for
    from web.app import create_app

    w = make_page_world(db_url)
    try:
        app = create_app(settings_for(db_url, tmp_path), session_factory=w.factory, clock=w.clock)
        with TestClient(app) as c:
            listing = c.get("/members", params={"country": "France", "per_page": 1, "page": 2}).text
            assert ">Riverton<" in listing and "Page 2 of 2" in listing
            page = c.get(f"/members/{w.members['riverton']}", params={"lang": "fr"}).text
            assert "The budget was voted late." in page and "mise en œuvre" in page
            assert len(c.get("/exports/history.json").json()) > 10
            assert "BEGIN:VEVENT" in c.get(f"/members/{w.members['lyon']}/deadlines.ics").text
    finally:
        w.dispose()


def _statements(world, fn) -> int:
    from sqlalchemy import event

    seen = []

    def count(*_args):
        seen.append(1)

    event.listen(world.engine, "before_cursor_execute", count)
    try:
        with world.session() as s:
            fn(s)
    finally:
        event.remove(world.engine, "before_cursor_execute", count)
    return len(seen)


def test_list_and_member_page_run_a_fixed_number_of_queries_whatever_the_data(world):
    """No N+1: more members, updates and history records do not add queries (bench/web.py measures the time)."""
    from lifecycle import commands as c, handlers, public

    rid = world.members["riverton"]
    list_before = _statements(world, lambda s: public.list_members(s, now=world.clock.now()))
    page_before = _statements(world, lambda s: public.member_page(s, rid, now=world.clock.now()))
    import pendulum

    resume_at = world.clock.now().add(days=1)
    world.clock.set(pendulum.datetime(2027, 3, 1, 9, tz="UTC"))  # while the call is open (R1.1)
    for code in ("nantes", "lille", "quito"):
        world.implementing(code)
    world.clock.set(resume_at)
    ms = world.milestones("riverton")
    for n in range(3):
        world.run(handlers.record_tracker_update, c.RecordTrackerUpdate(
            member_id=rid, narrative=f"update {n}", actor="poc",
            changes=(c.MilestoneChange(milestone_id=ms[n], status="finished"),)))
        # D14: R5.4 does not hold here, so the Support Unit overrides it; only the history's length matters.
        world.run(handlers.apply_status, c.ApplyStatus(member_id=rid, trigger="become_inactive", rule="R5.4",
                                                       actor="su", reason="test", override=True))
        world.run(handlers.apply_status, c.ApplyStatus(member_id=rid, trigger="resume", rule="R5.6", actor="su",
                                                       reason="test", override=True))
    assert _statements(world, lambda s: public.list_members(s, now=world.clock.now())) == list_before
    assert _statements(world, lambda s: public.member_page(s, rid, now=world.clock.now())) == page_before


def test_error_and_refusal_pages_are_as_accessible_as_the_others(client, login, world):
    assert_accessible(client.get("/members/999").text)
    assert_accessible(client.get("/members", params={"state": "x"}).text)
    assert_accessible(login("poc-a").get(f"/poc/members/{world.members['lyon']}").text)
    su = login("su")
    bogota = world.members["bogota"]
    page = su.get(f"/dashboard/members/{bogota}/reject")
    refused = su.post(f"/dashboard/members/{bogota}/reject", data={"reason": "", "csrf_token": csrf_from(page.text)})
    assert refused.status_code == 400
    assert_accessible(refused.text)


def test_adding_a_language_is_adding_a_folder(tmp_path, monkeypatch):
    import shutil

    from web.pages import i18n

    root = tmp_path / "locales"
    shutil.copytree(i18n.LOCALES, root)
    (root / "de").mkdir()
    (root / "de" / "common.json").write_text('{"nav.members": "Mitglieder"}', encoding="utf-8")
    assert i18n._discover(root) == ("en", "de", "es", "fr")
    monkeypatch.setattr(i18n, "LOCALES", root)
    monkeypatch.setattr(i18n, "LANGUAGES", i18n._discover(root))
    i18n.catalogue.cache_clear()
    try:
        german = i18n.Translator("de")
        assert german("nav.members") == "Mitglieder"
        assert german("nav.exports") == "Open data"  # not translated yet: the English text
        assert german.date(__import__("datetime").date(2027, 3, 1), "long") == "1. März 2027"
    finally:
        i18n.catalogue.cache_clear()


def test_a_stored_link_that_is_not_a_web_link_is_shown_as_text_never_as_a_link(client, world):
    from sqlalchemy import update

    from lifecycle.models import ActionPlan

    with world.session() as s:
        s.execute(update(ActionPlan).values(links=["javascript:alert(1)", "https://city.example/plan"]))
        s.commit()
    html = client.get(f"/members/{world.members['riverton']}").text
    assert 'href="javascript:' not in html and "javascript:alert(1)" in html
    assert 'href="https://city.example/plan"' in html


def test_an_unknown_notice_shows_nothing(client, world):
    html = client.get(f"/members/{world.members['riverton']}", params={"notice": "<b>x</b>"}).text
    assert 'class="notice"' not in html and "<b>x</b>" not in html


def test_d2_dates_on_the_pages_are_the_members_local_dates(client, world):
    import pendulum

    world.clock.set(pendulum.datetime(2027, 3, 1, 10, 30, tz="UTC"))  # 00:30 on 2 March in Kiritimati (UTC+14)
    member = world.applicant("kiritimati", country="Kiribati", tz="Pacific/Kiritimati")
    listing = client.get("/members", params={"country": "Kiribati"}).text
    assert "Mar 2, 2027" in listing and "Mar 1, 2027" not in listing
    page = client.get(f"/members/{member}").text
    assert "since Mar 2, 2027" in page and 'datetime="2027-03-02"' in page


def test_on_sqlite_public_pages_are_served_while_a_unit_of_work_holds_the_write_lock(world, client):
    import time

    from sqlalchemy import text

    with world.session() as writer:
        writer.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: a unit of work is under way
        started = time.monotonic()
        listing = client.get("/members")
        page = client.get(f"/members/{world.members['riverton']}")
        waited = time.monotonic() - started
    assert (listing.status_code, page.status_code) == (200, 200)
    assert waited < 5  # a reader waiting for the lock would wait for the writer (busy timeout 60 s)
