"""The Support Unit's status action on the dashboard (R2.5-R2.11) and its override (D14), without JavaScript.

A status action whose rule does not hold as of now is refused on the confirmation page, naming the
rule, and nothing changes; marked as an override, with a reason, it is taken, and the member's
history on the public and staff pages marks the record as an override.
"""

from __future__ import annotations

import re

import pytest

from pagekit import assert_accessible, csrf_from

LANGS = ("en", "fr", "es")


def _status_page(su, member_id: int, **params):
    page = su.get(f"/dashboard/members/{member_id}/status", params=params)
    assert page.status_code == 200, page.text[:300]
    return page


def _post(su, member_id: int, data: dict):
    page = _status_page(su, member_id)
    return su.post(f"/dashboard/members/{member_id}/status", data={**data, "csrf_token": csrf_from(page.text)},
                   follow_redirects=False)


def _badges(html: str) -> int:
    return len(re.findall(r'class="badge badge-override"', html))


@pytest.mark.parametrize("lang,help_words", [("en", "recorded as an override"), ("fr", "comme dérogation"),
                                             ("es", "como excepción")])
def test_d14_the_status_form_offers_an_override_checkbox_with_its_help_in_each_language(login, world, lang,
                                                                                       help_words):
    su = login("su")
    html = _status_page(su, world.members["riverton"], lang=lang).text
    assert_accessible(html, lang)
    checkbox = re.search(r'<input type="checkbox" id="override" name="override" value="yes"[^>]*>', html)
    assert checkbox and 'aria-describedby="override-hint"' in checkbox.group(0) and " checked" not in checkbox.group(0)
    hint = re.search(r'<p class="hint" id="override-hint">(.*?)</p>', html, re.S).group(1)
    assert "D14" in hint and help_words in hint
    # The choices are the status actions the transition table allows an implementing member (R2.5, R2.6, R2.9).
    choices = re.findall(r'<option value="([a-z_]+ R[\d.]+)"', html)
    assert "become_inactive R5.4" in choices and "end_plan R2.5" in choices and "place_on_probation R6.2" in choices
    assert not any(choice.startswith(("reinstate", "revoke", "resume")) for choice in choices)


def test_the_dashboard_member_page_links_to_the_status_action_for_members_in_the_programme(login, world):
    su = login("su")
    for code, shown in (("riverton", True), ("lyon", True), ("bogota", False)):
        html = su.get(f"/dashboard/members/{world.members[code]}").text
        assert (f'href="/dashboard/members/{world.members[code]}/status"' in html) is shown, code


def test_d14_a_status_action_whose_rule_does_not_hold_is_refused_on_the_page_naming_it_and_nothing_changes(
        login, world):
    su = login("su")
    rid = world.members["riverton"]
    before = world.snapshot()
    refused = _post(su, rid, {"status_change": "become_inactive R5.4", "reason": "No tracker update"})
    # R5.4 does not hold: the plan was filed in 2027-Q1, no quarter has counted yet (D3).
    assert refused.status_code == 409
    box = re.search(r'<div class="refusal" role="alert" id="refusal">(.*?)</div>', refused.text, re.S).group(1)
    assert "<strong>R5.4</strong>" in box and "Nothing was changed." in box
    assert world.snapshot() == before
    # The form comes back as it was typed, to tick the override or cancel.
    assert '<option value="become_inactive R5.4" selected>' in refused.text
    assert ">No tracker update</textarea>" in refused.text
    assert_accessible(refused.text)


def test_d14_an_override_with_its_reason_is_taken_and_the_history_marks_it_on_public_and_staff_pages(
        login, client, world):
    su = login("su")
    rid = world.members["riverton"]
    assert _badges(client.get(f"/members/{rid}").text) == 0
    done = _post(su, rid, {"status_change": "become_inactive R5.4", "reason": "The tracker is abandoned",
                           "override": "yes"})
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard/members/{rid}?notice=done"
    assert world.state("riverton") == "inactive"
    public = client.get(f"/members/{rid}").text
    assert _badges(public) == 1
    row = re.search(r"<tr>((?:(?!</tr>).)*badge-override(?:(?!</tr>).)*)</tr>", public, re.S).group(1)
    assert ">R5.4</abbr>" in row and "The tracker is abandoned" in row and "inactive" in row
    staff = su.get(f"/dashboard/members/{rid}").text
    assert _badges(staff) == 1 and "The tracker is abandoned" in staff
    assert ">dérogation<" in client.get(f"/members/{rid}", params={"lang": "fr"}).text
    assert ">excepción<" in client.get(f"/members/{rid}", params={"lang": "es"}).text
    records = client.get("/exports/history.json", params={"member": rid}).json()
    assert [r["rule_id"] for r in records if r["override"]] == ["R5.4"]


def test_d14_a_status_action_whose_rule_holds_is_taken_without_override_and_unmarked(login, client, world):
    lyon = world.members["lyon"]
    world.at("2027-10-01")  # Lyon's first plan was due on 2027-09-30 and is not filed: R5.1 holds
    su = login("su")  # after moving the clock: a login session lasts 12 hours
    done = _post(su, lyon, {"status_change": "become_inactive R5.1", "reason": "No first plan by 30 September"})
    assert done.status_code == 303 and done.headers["location"] == f"/dashboard/members/{lyon}?notice=done"
    assert world.state("lyon") == "inactive"
    assert _badges(client.get(f"/members/{lyon}").text) == 0


def test_a_status_action_without_a_choice_or_reason_is_refused_with_the_field(login, world):
    su = login("su")
    rid = world.members["riverton"]
    before = world.snapshot()
    no_choice = _post(su, rid, {"status_change": "", "reason": "x"})
    assert no_choice.status_code == 400 and "status_change" in no_choice.text
    no_reason = _post(su, rid, {"status_change": "become_inactive R5.4", "reason": "", "override": "yes"})
    assert no_reason.status_code == 400 and "<code>reason</code>" in no_reason.text
    assert world.snapshot() == before
