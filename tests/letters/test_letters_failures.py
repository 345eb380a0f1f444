"""A letter the mail server refuses for good is failed, listed, and sent once fixed, through the CLI (R7.3)."""

from __future__ import annotations

from lettercli import LettersCli

REFUSED = "poc@riverton.example"


def test_r7_3_a_letter_refused_with_550_is_listed_as_failed_and_letters_retry_delivers_it_once_the_mailbox_is_fixed(
        world, db_url, smtp_server, tmp_path):
    m = world.accepted("riverton")
    world.co_creating("lakeside")
    smtp_server.archive.refuse[REFUSED] = "550 5.2.1 mailbox disabled"
    cli = LettersCli(db_url, tmp_path, smtp=smtp_server)

    sent = cli("letters", "send", expect=1)
    assert "4 pending letter(s): 3 sent, 1 failed, 0 deferred, 0 skipped" in sent.stdout
    assert "letters list --failed" in sent.stderr

    failed = cli.json("letters", "list", "--failed")
    assert [(r["member_id"], r["kind"], r["recipient_role"], r["status"]) for r in failed] == [
        (m, "accepted", "poc", "failed")]
    (letter,) = failed
    assert "550 5.2.1 mailbox disabled" in letter["last_error"] and letter["recipients"] == [REFUSED]
    table = cli("letters", "list", "--failed").stdout
    assert f"{letter['id']}" in table and "550 5.2.1 mailbox disabled" in " ".join(table.split())
    assert cli.json("letters", "list", "--member", str(m), "--failed") == failed
    assert smtp_server.archive.to(REFUSED) == []

    cli("letters", "send")  # a failed letter is not pending: nothing to send, and no attempt on it
    assert cli.json("letters", "list", "--failed")[0]["attempts"] == 1

    del smtp_server.archive.refuse[REFUSED]
    retried = cli("letters", "retry", str(letter["id"]))
    assert f"letter {letter['id']} sent to {REFUSED}" in retried.stdout
    assert cli.json("letters", "list", "--failed") == []
    (got,) = smtp_server.archive.to(REFUSED)
    shown = cli.json("letters", "show", str(letter["id"]))
    assert (shown["status"], shown["attempts"], got.message_id) == ("sent", 2, shown["message_id"])

    again = cli("letters", "retry", str(letter["id"]), expect=1)  # sent: retrying would make a second letter
    assert "R7.3" in again.stderr
    assert len(smtp_server.archive.to(REFUSED)) == 1
