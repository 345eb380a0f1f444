"""The transports against a real SMTP server on loopback: what is temporary, what is permanent (R7.3)."""

from __future__ import annotations

import socket
from email.message import EmailMessage

import pytest

from smtpserver import start_smtp_server
from letterworld import mail_settings
from workers.letters.transport import (
    FolderTransport,
    NoRecipient,
    Outgoing,
    PermanentDeliveryError,
    SmtpTransport,
    TemporaryDeliveryError,
    make_transport,
)

ADDRESS = "poc@riverton.example"


def outgoing(*recipients: str, message_id: str = "<0123456789abcdef0123456789abcdef@test.example>") -> Outgoing:
    message = EmailMessage()
    message["Subject"] = "Riverton: notice"
    message["From"] = "Support <support@ogplocal.example>"
    message["To"] = ", ".join(recipients)
    message["Message-ID"] = message_id
    message.set_content("Dear Riverton, R5.4 applies from 1 October 2027.")
    message.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="letter.pdf")
    return Outgoing(message=message, sender="support@ogplocal.example", recipients=tuple(recipients),
                    name=message_id.strip("<>").split("@")[0], pdf=b"%PDF-1.4 test")


def smtp(server, tmp_path, **extra) -> SmtpTransport:
    return SmtpTransport(mail_settings("sqlite://", tmp_path, server, **extra))


def test_r7_3_smtp_transport_hands_the_letter_to_the_server_with_its_message_id(smtp_server, tmp_path):
    handed = smtp(smtp_server, tmp_path).send(outgoing(ADDRESS))
    assert handed.refused == {}
    (got,) = smtp_server.archive.all()
    assert got.message_id == "<0123456789abcdef0123456789abcdef@test.example>"
    assert got.rcpt_to == (ADDRESS,) and got.mail_from == "support@ogplocal.example"
    assert got.pdf() == b"%PDF-1.4 test"


def test_r7_3_a_5xx_refusal_of_the_only_recipient_is_a_permanent_error(smtp_server, tmp_path):
    smtp_server.archive.refuse[ADDRESS] = "550 5.1.1 mailbox unavailable"
    with pytest.raises(PermanentDeliveryError, match="550 5.1.1 mailbox unavailable"):
        smtp(smtp_server, tmp_path).send(outgoing(ADDRESS))
    assert smtp_server.archive.count() == 0


def test_r7_3_a_4xx_deferral_is_a_temporary_error(smtp_server, tmp_path):
    smtp_server.archive.refuse[ADDRESS] = "451 4.3.0 try again later"
    with pytest.raises(TemporaryDeliveryError, match="451"):
        smtp(smtp_server, tmp_path).send(outgoing(ADDRESS))


def test_r7_3_one_recipient_refused_among_several_is_reported_while_the_others_receive_the_letter(
        smtp_server, tmp_path):
    smtp_server.archive.refuse["gone@riverton.example"] = "550 5.1.1 no such user"
    handed = smtp(smtp_server, tmp_path).send(outgoing(ADDRESS, "gone@riverton.example"))
    assert list(handed.refused) == ["gone@riverton.example"] and "550" in handed.refused["gone@riverton.example"]
    (got,) = smtp_server.archive.all()
    assert got.rcpt_to == (ADDRESS,)


def test_r7_3_a_refused_connection_is_a_temporary_error(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there
    transport = SmtpTransport(mail_settings("sqlite://", tmp_path, smtp_host="127.0.0.1", smtp_port=port,
                                            smtp_starttls=False))
    with pytest.raises(TemporaryDeliveryError, match="ConnectionRefusedError"):
        transport.send(outgoing(ADDRESS))


def test_r7_3_a_server_that_never_answers_is_a_temporary_error_after_the_timeout(tmp_path):
    with socket.socket() as silent:  # accepts the connection in its backlog, never greets
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        transport = SmtpTransport(mail_settings("sqlite://", tmp_path, smtp_host="127.0.0.1",
                                                smtp_port=silent.getsockname()[1], smtp_starttls=False,
                                                smtp_timeout_s=0.5))
        with pytest.raises(TemporaryDeliveryError, match="timed out|TimeoutError"):
            transport.send(outgoing(ADDRESS))


def test_r7_3_starttls_asked_of_a_server_without_it_is_a_temporary_error_and_nothing_goes_out_in_clear(
        smtp_server, tmp_path):
    with pytest.raises(TemporaryDeliveryError, match="STARTTLS"):
        smtp(smtp_server, tmp_path, smtp_starttls=True).send(outgoing(ADDRESS))
    assert smtp_server.archive.count() == 0


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")  # loopback, on purpose
def test_r7_3_smtp_transport_logs_in_when_credentials_are_set_and_a_wrong_password_is_temporary(tmp_path):
    server = start_smtp_server(auth=("letters", "s3cret"))
    try:
        smtp(server, tmp_path, smtp_username="letters", smtp_password="s3cret").send(outgoing(ADDRESS))
        assert server.archive.count() == 1
        with pytest.raises(TemporaryDeliveryError, match="535"):
            smtp(server, tmp_path, smtp_username="letters", smtp_password="wrong").send(outgoing(ADDRESS))
        with pytest.raises(PermanentDeliveryError, match="530"):  # no login at all: the server refuses the letter
            smtp(server, tmp_path).send(outgoing(ADDRESS))
        assert server.archive.count() == 1
    finally:
        server.stop()


def test_r7_3_a_letter_without_recipients_is_refused_before_any_connection(tmp_path):
    with pytest.raises(NoRecipient):
        SmtpTransport(mail_settings("sqlite://", tmp_path, smtp_host="127.0.0.1", smtp_port=1)).send(outgoing())
    with pytest.raises(NoRecipient):
        FolderTransport(tmp_path).send(outgoing())


def test_r7_3_folder_transport_writes_one_eml_and_one_pdf_named_by_the_key_hash_and_rewrites_them_in_place(
        tmp_path):
    folder = tmp_path / "outbox"
    transport = FolderTransport(folder)
    letter = outgoing(ADDRESS)
    transport.send(letter)
    transport.send(letter)
    assert sorted(p.name for p in folder.iterdir()) == [f"{letter.name}.eml", f"{letter.name}.pdf"]
    eml = transport.eml_path(letter.name).read_bytes()
    assert b"Message-ID: <0123456789abcdef0123456789abcdef@test.example>" in eml
    assert transport.pdf_path(letter.name).read_bytes() == b"%PDF-1.4 test"


def test_r7_3_settings_without_an_smtp_host_write_letters_to_the_outbox_folder(tmp_path):
    embedded = make_transport(mail_settings("sqlite://", tmp_path / "data"))
    assert isinstance(embedded, FolderTransport) and embedded.folder == tmp_path / "data" / "outbox"
    assert isinstance(make_transport(mail_settings("sqlite://", tmp_path, smtp_host="mail.example")), SmtpTransport)
