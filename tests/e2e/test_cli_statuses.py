"""The console script on the guarded manual statuses (D14) and on who may end an inactivity (R5.6, D9, D13)."""

from __future__ import annotations

import json

from test_cli import POC, one_line
from test_cli_ways_out import cli, walked_db  # noqa: F401  (fixtures: Riverton implementing since 1 February 2027)


def refusal(result) -> dict:
    return json.loads(result.stderr.strip().splitlines()[-1])


def last_record(cli, member: int) -> dict:
    return cli.json("audit", "show", f"member:{member}")[-1]


def test_d14_a_status_whose_rule_does_not_hold_is_refused_naming_it_and_taken_only_as_an_override(cli, walked_db):
    _, riverton, _ = walked_db
    before = cli.export()
    refused = cli("member", "status", str(riverton), "place_on_probation", "--rule", "R6.2", "--reason", "no forum",
                  now="2027-03-01T09:00:00Z", expect=1)
    assert "R6.2" in one_line(refused.stderr) and "override" in one_line(refused.stderr)
    as_json = cli("member", "status", str(riverton), "place_on_probation", "--rule", "R6.2", "--reason", "no forum",
                  now="2027-03-01T09:00:00Z", as_json=True, expect=1)
    assert (refusal(as_json)["rule"], refusal(as_json)["field"]) == ("R6.2", "rule")
    assert cli.export() == before, "a refusal changes nothing"

    done = cli("member", "status", str(riverton), "place_on_probation", "--rule", "R6.2", "--reason", "no forum",
               "--override", now="2027-03-01T09:00:00Z")
    assert "override" in done.stdout
    record = last_record(cli, riverton)
    assert (record["trigger"], record["rule_id"], record["override"], record["reason"]) == (
        "place_on_probation", "R6.2", True, "no forum")
    assert cli.json("audit", "verify")["ok"] is True


def test_r5_6_a_point_of_contact_cannot_lift_an_inactivity_it_did_not_ask_for(cli, walked_db):
    _, riverton, _ = walked_db
    cli("member", "status", str(riverton), "become_inactive", "--rule", "R5.4", "--reason", "silent tracker",
        "--override", now="2027-03-01T09:00:00Z")
    refused = cli("member", "resume", str(riverton), "--reason", "We are back", now="2027-03-02T09:00:00Z",
                  actor=POC, expect=1)
    text = one_line(refused.stderr)
    assert "R5.6" in text and "tracker update showing progress" in text
    cli("member", "status", str(riverton), "resume", "--rule", "R5.6", "--reason", "Forum met again",
        now="2027-03-03T09:00:00Z")
    assert cli.json("member", "show", str(riverton))["state"] == "implementing"
