"""The console script on commitment changes (R3.10, R3.4) and voluntary inactivity (R5.5): a missing approval or
reason is refused by its rule (exit 1), never as a usage error."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
import yaml

from lifecycle import samples
from test_cli import POC, Cli, _walk_to_co_creation, _walk_to_orientation, _write_documents, one_line

DECISION = "Forum vote of 20 February 2027; minutes linked."


@pytest.fixture(scope="module")
def walked_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int, int]:
    """Riverton implementing its plan (three commitments, the first numbered 1), Lakeside in orientation."""
    folder = tmp_path_factory.mktemp("ways-out")
    cli = Cli(db=f"sqlite:///{folder / 'x.db'}", cwd=folder)
    docs = _write_documents(folder / "docs")
    riverton = _walk_to_orientation(cli, docs, "riverton", first=True)
    lakeside = _walk_to_orientation(cli, docs, "lakeside", first=False)
    _walk_to_co_creation(cli, riverton)
    cli("member", "submit-plan", str(riverton), "--file", str(docs["plan"]), now="2027-02-01T09:00:00Z", actor=POC)
    return folder / "x.db", riverton, lakeside


@pytest.fixture
def cli(walked_db, tmp_path: Path) -> Cli:
    source, _, _ = walked_db
    target = tmp_path / "copy.db"
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return Cli(db=f"sqlite:///{target}", cwd=tmp_path)


def refusal(result) -> dict:
    return json.loads(result.stderr.strip().splitlines()[-1])


def letters(cli: Cli, member: int, kind: str) -> list[dict]:
    return [x for x in cli.json("letters", "list", "--member", str(member)) if x["kind"] == kind]


# ---------------------------------------------------------------- R3.10 and R3.4


@pytest.mark.parametrize("command", [("modify", "1", "--end", "2029-03-31"), ("withdraw", "1")],
                         ids=["modify", "withdraw"])
def test_r3_10_a_change_without_approval_exits_1_naming_r3_10_not_a_usage_error(cli, command):
    before = cli.export()
    refused = cli("commitment", *command, "--decision", DECISION, now="2027-03-01T09:00:00Z", actor=POC, expect=1)
    assert "[R3.10]" in refused.stderr and "Usage:" not in refused.stderr
    assert "Civic Data Association" in one_line(refused.stderr), "it lists who may approve"

    as_json = cli("commitment", *command, now="2027-03-01T09:00:00Z", actor=POC, as_json=True, expect=1)
    body = refusal(as_json)
    assert body["rule"] == "R3.10" and body["field"] == "approved_by"
    assert [(v["rule"], v["field"]) for v in body["violations"]] == [("R3.10", "approved_by"),
                                                                     ("R3.10", "decision_process")]
    assert cli.export() == before


def test_r3_10_an_approver_not_recorded_for_the_plan_is_refused_naming_them(cli):
    refused = cli("commitment", "modify", "1", "--title", "Renamed", "--decision", DECISION,
                  "--approved-by", "Friends of the Mayor", now="2027-03-01T09:00:00Z", actor=POC, as_json=True,
                  expect=1)
    (violation,) = refusal(refused)["violations"]
    assert violation["type"] == "ApproverNotRecorded" and violation["field"] == "approved_by"
    assert "Friends of the Mayor" in violation["message"] and "Neighbourhood Councils Network" in violation["hint"]


def test_r3_10_an_approved_modification_is_versioned_and_the_support_unit_is_notified(cli, walked_db):
    _, riverton, _ = walked_db
    cli("commitment", "modify", "1", "--end", "2029-03-31", "--decision", DECISION,
        "--approved-by", "Civic Data Association", "--approved-by", "neighbourhood councils network",
        now="2027-03-01T09:00:00Z", actor=POC)
    shown = cli.json("commitment", "show", "1")
    assert shown["versions"][-1]["approved_by"] == ["Civic Data Association", "Neighbourhood Councils Network"]
    (notice,) = letters(cli, riverton, "modification_notice")
    assert (notice["rule_id"], notice["recipient_role"]) == ("R3.10", "support_unit")
    text = cli("letters", "show", str(notice["id"])).stdout
    assert "R3.10" in text and "March 31, 2029" in one_line(text) and DECISION in one_line(text)


def test_r3_4_a_replacement_without_approval_exits_1_naming_r3_10(cli, walked_db, tmp_path):
    _, riverton, _ = walked_db
    file = tmp_path / "replacement.yaml"
    file.write_text(yaml.safe_dump(samples.commitment(dt.date(2027, 6, 10), dt.date(2029, 6, 30), 9)), encoding="utf-8")
    refused = cli("commitment", "add", str(riverton), "--file", str(file), now="2027-06-10T09:00:00Z", actor=POC,
                  as_json=True, expect=1)
    fields = {(v["rule"], v["field"]) for v in refusal(refused)["violations"]}
    assert {("R3.10", "approved_by"), ("R3.10", "decision_process")} <= fields


# ---------------------------------------------------------------- R5.5


def test_r5_5_a_request_without_consultation_is_sent_with_a_reminder_and_the_support_unit_declines_it(cli,
                                                                                                     walked_db):
    _, riverton, _ = walked_db
    sent = cli("member", "request-inactivity", str(riverton), "--reason", "Municipal elections",
               now="2027-03-01T09:00:00Z", actor=POC)
    assert "sent to the Support Unit" in sent.stdout and "reminder:" in sent.stdout and "R5.5" in sent.stdout
    request_id = int(sent.stdout.split("request ")[1].split()[0])

    blank = cli("member", "decline-inactivity", str(request_id), now="2027-03-02T09:00:00Z", as_json=True, expect=1)
    assert (refusal(blank)["rule"], refusal(blank)["field"]) == ("R5.5", "reason")

    done = cli.json("member", "decline-inactivity", str(request_id), "--reason", "Consult the forum first.",
                    now="2027-03-02T09:00:00Z")
    assert done["ok"] is True
    assert cli.json("member", "show", str(riverton))["state"] == "implementing"
    declined = letters(cli, riverton, "voluntary_inactivity_declined")
    assert [x["recipient_role"] for x in declined] == ["poc", "support_unit"]
    shown = one_line(cli("letters", "show", str(declined[0]["id"])).stdout)
    assert "R5.5" in shown and "Consult the forum first." in shown and "Municipal elections" in shown
    again = cli("member", "decline-inactivity", str(request_id), "--reason", "twice", expect=1)
    assert "[R5.5]" in again.stderr


def test_r5_5_with_the_flag_the_request_carries_no_reminder_and_json_says_so(cli, walked_db):
    _, riverton, _ = walked_db
    consulted = cli.json("member", "request-inactivity", str(riverton), "--reason", "Elections",
                         "--stakeholders-consulted", now="2027-03-01T09:00:00Z", actor=POC)
    assert consulted["stakeholders_consulted"] is True and "reminder" not in consulted


def test_r5_5_d11_a_member_in_orientation_asks_and_is_approved(cli, walked_db):
    _, _, lakeside = walked_db
    asked = cli.json("member", "request-inactivity", str(lakeside), "--reason", "Budget crisis",
                     now="2027-01-20T09:00:00Z", actor=POC)
    assert asked["reminder"]
    cli("member", "approve-inactivity", str(asked["id"]), now="2027-01-21T09:00:00Z")
    shown = cli.json("member", "show", str(lakeside))
    assert (shown["state"], shown["voluntary_inactivity"]) == ("inactive", True)
