"""The ``letters`` commands of the real console script, sending to a real SMTP server on loopback (R7.1–R7.3)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "letters"))

from lettercli import LettersCli  # noqa: E402
from letterworld import MAIL_DOMAIN, SUPPORT_UNIT  # noqa: E402
from smtpserver import SmtpServer, start_smtp_server  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CALL = "Call 2027"
POC = "maire@riviere.example"


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = start_smtp_server()
    yield server
    server.stop()


def one_line(text: str) -> str:
    return " ".join(text.split())


def cells(table: str) -> list[list[str]]:
    """The body rows of a rich table, as lists of cell texts."""
    return [[c.strip() for c in line.strip().strip("│").split("│")] for line in table.splitlines()
            if line.strip().startswith("│")]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Rivière (French) accepted, with its point of contact; Lakeside rejected, with no one to write to."""
    folder = tmp_path_factory.mktemp("letters-walk")
    cli = LettersCli(f"sqlite:///{folder / 'x.db'}", folder)
    cli("jurisdiction", "add", "riviere", "--name", "Rivière", "--country", "France", "--tz", "Europe/Paris",
        "--language", "fr", "--term-end", "2031-06-30", now="2027-01-10T09:00:00Z")
    cli("jurisdiction", "add", "lakeside", "--name", "Lakeside", "--country", "France", "--tz", "Europe/Paris",
        "--term-end", "2031-06-30", now="2027-01-10T09:00:00Z")
    cli("call", "open", CALL, "--opens", "2027-01-01", "--closes", "2027-03-31", "--first-plan-due", "2027-09-30",
        now="2027-01-10T09:00:00Z")
    for code in ("riviere", "lakeside"):
        cli("member", "apply", "--jurisdiction", code, "--call", CALL, "--letter",
            str(EXAMPLES / "letter-of-support.yaml"), now="2027-01-12T09:00:00Z")
    cli("person", "add", "--name", "Claire Martin", "--email", POC, "--role", "poc", "--member", "1")
    cli("member", "accept", "1", "--reason", "strong application", now="2027-01-15T10:00:00Z")
    cli("member", "reject", "2", "--reason", "no co-creation record", now="2027-01-16T10:00:00Z")
    return folder / "x.db"


@pytest.fixture
def cli(template: Path, tmp_path: Path, smtp_server: SmtpServer) -> LettersCli:
    """A copy of the walked database of this test's own, sending to this test's SMTP server."""
    target = tmp_path / "x.db"
    with closing(sqlite3.connect(template)) as source, closing(sqlite3.connect(target)) as copy:
        source.backup(copy)
    return LettersCli(f"sqlite:///{target}", tmp_path, smtp=smtp_server)


def test_r7_1_letters_list_shows_the_letters_each_transition_caused_pending_until_sent(cli):
    rows = cli.json("letters", "list")
    assert [(r["member_id"], r["kind"], r["rule_id"], r["recipient_role"], r["status"]) for r in rows] == [
        (1, "accepted", "R2.1", "poc", "pending"), (1, "accepted", "R2.1", "support_unit", "pending"),
        (2, "rejected", "R2.2", "poc", "pending"), (2, "rejected", "R2.2", "support_unit", "pending")]
    assert [r["id"] for r in cli.json("letters", "list", "--member", "2")] == [3, 4]
    local = cli("letters", "list", "--member", "1", "--json").stdout  # --json after the command, too
    assert json.loads(local) == rows[:2]
    table = cells(cli("letters", "list").stdout)
    assert table[0][:7] == ["1", "1", "accepted", "R2.1", "poc", "", "pending"]


def test_r7_2_r7_3_letters_send_delivers_them_and_letters_show_prints_the_letter_its_recipients_message_id_and_transition(
        cli, smtp_server):
    sent = cli("letters", "send", expect=1)  # Lakeside has no point of contact: that letter fails
    assert "4 pending letter(s): 3 sent, 1 failed" in one_line(sent.stdout)

    shown = cli("letters", "show", "1").stdout
    poc_letter = cli.json("letters", "show", "1")
    (got,) = smtp_server.archive.to(POC)
    assert got.message_id == poc_letter["message_id"] and poc_letter["message_id"].endswith(f"@{MAIL_DOMAIN}>")
    assert f"Message-ID: {got.message_id}" in shown
    assert f"To: {POC}" in shown
    assert "Status: sent" in shown and "Language: fr" in shown
    assert "From transition 3: member:1 #2 applicant → orientation (accept, R2.1, by support-unit)" in one_line(shown)
    assert "R2.1" in poc_letter["body_text"] and "Rivière" in poc_letter["body_text"]
    assert one_line(poc_letter["body_text"]) in one_line(shown)
    assert one_line(got.text()) == one_line(poc_letter["body_text"])
    assert poc_letter["transition"]["trigger"] == "accept" and poc_letter["transition"]["id"] == 3

    su_letter = cli.json("letters", "show", "2")
    assert su_letter["recipients"] == [SUPPORT_UNIT] and su_letter["status"] == "sent"


def test_r7_3_letters_retry_sends_a_failed_letter_once_its_recipient_exists(cli, smtp_server):
    cli("letters", "send", expect=1)
    (failed,) = cli.json("letters", "list", "--failed")
    assert (failed["id"], failed["kind"]) == (3, "rejected")
    assert "No recipient: member 2 (Lakeside)" in failed["last_error"]
    shown = cli("letters", "show", "3").stdout
    assert "Status: failed" in shown and "No recipient" in shown

    cli("person", "add", "--name", "Lee Park", "--email", "lee@lakeside.example", "--role", "poc", "--member", "2")
    retried = cli("letters", "retry", "3")
    assert "letter 3 sent to lee@lakeside.example" in retried.stdout
    assert len(smtp_server.archive.to("lee@lakeside.example")) == 1
    assert cli.json("letters", "list", "--failed") == []
    refused = cli("letters", "retry", "3", expect=1)
    assert "R7.3" in refused.stderr
    missing = cli("letters", "retry", "99", expect=1)
    assert "There is no letter 99" in missing.stderr


def test_r7_2_letters_pdf_writes_the_letter_as_a_pdf_the_same_one_that_is_later_attached_to_the_mail(
        cli, smtp_server, tmp_path):
    out = tmp_path / "letter-1.pdf"
    written = cli("letters", "pdf", "1", "-o", str(out))
    assert f"letter 1 written to {out}" in one_line(written.stdout)
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    before = cli.json("letters", "show", "1")
    assert before["status"] == "pending" and before["message_id"]  # rendered and kept, not sent

    cli("letters", "send", expect=1)
    (got,) = smtp_server.archive.to(POC)
    assert got.pdf() == pdf and got.message_id == before["message_id"]
    assert cli("letters", "pdf", "99", "-o", str(tmp_path / "x.pdf"), expect=1).returncode == 1


def test_r7_3_audit_show_and_member_show_list_the_letters_each_transition_caused(cli):
    cli("letters", "send", expect=1)
    rows = cli.json("audit", "show", "member:1")
    assert [(r["trigger"], [(x["recipient_role"], x["status"]) for x in r["letters"]]) for r in rows] == [
        ("apply", []), ("accept", [("poc", "sent"), ("support_unit", "sent")])]
    table = cells(cli("audit", "show", "member:1").stdout)
    assert table[1][2:5] == ["applicant", "orientation", "accept"]
    assert table[1][-1] == "#1 poc sent, #2 support_unit sent"

    member = cli.json("member", "show", "2")
    caused = member["history"][-1]["letters"]
    assert [(x["id"], x["kind"], x["recipient_role"], x["status"]) for x in caused] == [
        (3, "rejected", "poc", "failed"), (4, "rejected", "support_unit", "sent")]
    assert caused[1]["message_id"] == cli.json("letters", "show", "4")["message_id"]
    shown = cli("member", "show", "2").stdout
    assert "Letters caused by transitions" in shown
    assert [row[:4] for row in cells(shown)[-2:]] == [["3", "rejected", "poc", "failed"],
                                                      ["4", "rejected", "support_unit", "sent"]]
