"""The development outbox channels: files a developer can open."""

from __future__ import annotations

import email
import email.policy
import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from channels.base import EmailAttachment, EmailMessage, SendResult, SmsMessage
from channels.email_outbox import OutboxEmailChannel
from channels.errors import ChannelConfigurationError, PermanentChannelError
from channels.sms_outbox import OutboxSmsChannel

MAIL = EmailMessage(
    id="ntf-0003",
    to="sanne@example.nl",
    sender="Winkel Retouren <retouren@example.nl>",
    subject="Je retour van € 49,95",
    text="Hallo Sanne, je krijgt € 49,95 terug.",
    html="<p>Hallo Sanne, je krijgt <b>€ 49,95</b> terug.</p>",
    reply_to="help@example.nl",
)


def test_email_is_written_as_a_multipart_alternative_eml(tmp_path: Path) -> None:
    # Given an outbox directory that does not exist yet
    channel = OutboxEmailChannel(tmp_path / "outbox")

    # When an email with text and HTML is sent
    result = channel.send(MAIL)

    # Then <id>.eml holds an RFC 5322 message with both parts, and nothing else is left
    assert result == SendResult(provider="outbox", provider_message_id="ntf-0003")
    assert [p.name for p in (tmp_path / "outbox").iterdir()] == ["ntf-0003.eml"]
    raw = (tmp_path / "outbox" / "ntf-0003.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["Subject"] == MAIL.subject
    assert parsed["From"] == MAIL.sender
    assert parsed["To"] == MAIL.to
    assert parsed["Reply-To"] == MAIL.reply_to
    assert parsed["X-Notification-Id"] == "ntf-0003"
    parts = [part.get_content_type() for part in parsed.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    plain, html = parsed.get_body(("plain",)), parsed.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content().strip() == MAIL.text
    assert "<b>€ 49,95</b>" in html.get_content()


def test_an_attachment_is_a_mime_part_after_the_message(tmp_path: Path) -> None:
    # Given an email with a calendar event attached
    ics = "BEGIN:VCALENDAR\r\nSUMMARY:Laatste dag, Zoë\r\nEND:VCALENDAR\r\n".encode()
    calendar = EmailAttachment(
        "retour-RMA-1001.ics", "text/calendar; charset=utf-8; method=PUBLISH", ics
    )
    message = replace(MAIL, attachments=(calendar,))

    # When it is sent
    OutboxEmailChannel(tmp_path).send(message)

    # Then the .eml is the message, then the file as an attachment with its type's parameters
    raw = (tmp_path / "ntf-0003.eml").read_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/mixed"
    body, part = parsed.iter_parts()
    assert body.get_content_type() == "multipart/alternative"
    assert (part.get_content_disposition(), part.get_filename()) == (
        "attachment",
        "retour-RMA-1001.ics",
    )
    assert part.get_content_type() == "text/calendar"
    assert (part.get_param("charset"), part.get_param("method")) == ("utf-8", "PUBLISH")
    assert part["Content-Transfer-Encoding"] == "base64"
    assert part.get_payload(decode=True) == ics


def test_text_only_email_is_a_single_part(tmp_path: Path) -> None:
    # Given an email without HTML
    message = EmailMessage(id="n4", to="a@example.nl", sender="b@example.nl", subject="s", text="t")

    # When it is sent
    OutboxEmailChannel(tmp_path).send(message)

    # Then the file is plain text
    parsed = email.message_from_bytes(
        (tmp_path / "n4.eml").read_bytes(), policy=email.policy.default
    )
    assert parsed.get_content_type() == "text/plain"


def test_sending_again_replaces_the_file(tmp_path: Path) -> None:
    # Given an email already in the outbox
    channel = OutboxEmailChannel(tmp_path)
    channel.send(MAIL)

    # When the same notification is sent again with another subject
    channel.send(EmailMessage(id=MAIL.id, to=MAIL.to, sender=MAIL.sender, subject="v2", text="t"))

    # Then one file remains, with the new content
    assert [p.name for p in tmp_path.iterdir()] == ["ntf-0003.eml"]
    assert b"Subject: v2" in (tmp_path / "ntf-0003.eml").read_bytes()


@pytest.mark.parametrize("unsafe_id", ["../escape", "a/b", ".hidden", "", "x" * 300])
def test_ids_that_are_not_file_names_are_refused(tmp_path: Path, unsafe_id: str) -> None:
    # Given an id that could leave the directory, When it is sent, Then it is refused
    message = EmailMessage(id=unsafe_id, to="a@b.nl", sender="c@d.nl", subject="s", text="t")
    with pytest.raises(PermanentChannelError, match="file name"):
        OutboxEmailChannel(tmp_path).send(message)
    assert list(tmp_path.iterdir()) == []


def test_an_outbox_directory_that_cannot_exist_is_a_configuration_error(tmp_path: Path) -> None:
    # Given a path below a regular file, When an outbox is made there, Then it is refused
    (tmp_path / "file").write_text("x")
    with pytest.raises(ChannelConfigurationError, match="cannot be created"):
        OutboxSmsChannel(tmp_path / "file" / "outbox")


def test_sms_are_appended_as_json_lines(tmp_path: Path) -> None:
    # Given an SMS outbox
    channel = OutboxSmsChannel(tmp_path)

    # When two messages are sent
    first = channel.send(SmsMessage(id="s1", to="+31612345678", text="Hallo €"))
    channel.send(SmsMessage(id="s2", to="+32470123456", text="Tweede"))

    # Then sms.jsonl has one line each, in order, with the time of writing
    lines = [json.loads(line) for line in channel.path.read_text("utf-8").splitlines()]
    assert first == SendResult(provider="outbox", provider_message_id="s1")
    assert [(r["id"], r["to"], r["text"]) for r in lines] == [
        ("s1", "+31612345678", "Hallo €"),
        ("s2", "+32470123456", "Tweede"),
    ]
    assert all(r["at"].endswith("+00:00") for r in lines)


def test_sms_from_many_threads_give_whole_lines(tmp_path: Path) -> None:
    # Given an SMS outbox shared by eight threads
    channel = OutboxSmsChannel(tmp_path)

    def send_many(worker: int) -> None:
        for n in range(25):
            channel.send(SmsMessage(id=f"w{worker}-{n}", to="+31612345678", text="x" * 500))

    # When they all send at once
    threads = [threading.Thread(target=send_many, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    # Then every message is one intact line
    ids = {json.loads(line)["id"] for line in channel.path.read_text("utf-8").splitlines()}
    assert len(ids) == 200
