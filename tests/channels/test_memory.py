"""The in-memory channels: they keep what they are asked to send and answer as told."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from channels import (
    Channel,
    ChannelConfigurationError,
    EmailMessage,
    MemoryEmailChannel,
    MemorySmsChannel,
    MemoryWebhookChannel,
    PermanentChannelError,
    SendResult,
    SmsMessage,
    TransientChannelError,
    WebhookMessage,
)


def mail(number: int) -> EmailMessage:
    return EmailMessage(
        id=f"ntf-{number}", to="sanne@example.nl", sender="shop@example.nl", subject="s", text="t"
    )


def test_each_medium_has_a_twin_that_accepts_and_keeps_its_messages() -> None:
    # Given a twin for each medium
    email: Channel[EmailMessage] = MemoryEmailChannel()
    sms: Channel[SmsMessage] = MemorySmsChannel()
    webhook: Channel[WebhookMessage] = MemoryWebhookChannel()
    text = SmsMessage(id="ntf-2", to="+31612345678", text="Je retour is binnen.")
    delivery = WebhookMessage(
        id="ntf-3", url="https://shop.example/hook", body=b"{}", secret="whsec_AA==", timestamp=1
    )

    # When each is sent a message
    results = [email.send(mail(1)), sms.send(text), webhook.send(delivery)]

    # Then each accepted it with an id of its own and kept it
    assert [channel.name for channel in (email, sms, webhook)] == ["email", "sms", "webhook"]
    assert results == [
        SendResult("memory", "memory-email-1"),
        SendResult("memory", "memory-sms-1"),
        SendResult("memory", "memory-webhook-1"),
    ]
    assert isinstance(email, MemoryEmailChannel) and email.outbox == [mail(1)]
    assert isinstance(sms, MemorySmsChannel) and sms.outbox == [text]
    assert isinstance(webhook, MemoryWebhookChannel) and webhook.outbox == [delivery]


def test_queued_answers_are_given_in_order_then_it_accepts_again() -> None:
    # Given a provider that is rate limited, then refuses, then accepts with its own id
    channel = MemoryEmailChannel()
    channel.answer(
        TransientChannelError("slow down", retry_after=30.0, status=429),
        PermanentChannelError("21610: unsubscribed", status=400, code="21610", opt_out=True),
        SendResult("sendgrid", "sg-1"),
    )
    outcomes: list[Any] = []

    # When four messages are sent
    for number in range(1, 5):
        try:
            outcomes.append(channel.send(mail(number)))
        except (TransientChannelError, PermanentChannelError) as error:
            outcomes.append(error)

    # Then the answers came in order, with their fields, and the fourth was accepted
    transient, permanent, given, default = outcomes
    assert isinstance(transient, TransientChannelError)
    assert (transient.retry_after, transient.status) == (30.0, 429)
    assert isinstance(permanent, PermanentChannelError)
    assert (permanent.reason, permanent.code, permanent.opt_out) == (
        "21610: unsubscribed",
        "21610",
        True,
    )
    assert given == SendResult("sendgrid", "sg-1")
    assert default == SendResult("memory", "memory-email-4")
    # and every message was kept, the refused ones too
    assert [m.id for m in channel.outbox] == ["ntf-1", "ntf-2", "ntf-3", "ntf-4"]
    assert channel.pending == 0


def test_a_configuration_error_can_be_played_too() -> None:
    channel = MemorySmsChannel()
    channel.answer(ChannelConfigurationError("the Twilio auth token is wrong"))

    with pytest.raises(ChannelConfigurationError, match="auth token"):
        channel.send(SmsMessage(id="ntf-1", to="+31612345678", text="hoi"))


def test_a_function_answer_runs_during_the_send_with_the_message() -> None:
    # Given an answer that looks at the message while the provider has it
    channel = MemoryEmailChannel()
    seen: list[tuple[str, int]] = []

    def provider(message: EmailMessage) -> SendResult:
        seen.append((message.id, len(channel.outbox)))
        return SendResult("probe", None)

    channel.answer(provider)

    # When a message is sent
    result = channel.send(mail(7))

    # Then the function ran with it, after the message was kept, and its result is the answer
    assert seen == [("ntf-7", 1)]
    assert result == SendResult("probe", None)


def test_a_function_answer_may_refuse() -> None:
    channel = MemoryEmailChannel()

    def refuse(message: EmailMessage) -> SendResult:
        raise PermanentChannelError(f"no such mailbox: {message.to}", status=400)

    channel.answer(refuse)

    with pytest.raises(PermanentChannelError, match="no such mailbox: sanne@example.nl"):
        channel.send(mail(1))


def test_sends_from_many_threads_each_take_one_answer_and_are_all_kept() -> None:
    # Given 100 queued refusals and eight threads sending 50 messages each at once
    channel = MemoryEmailChannel()
    channel.answer(*[TransientChannelError(f"busy {n}") for n in range(100)])
    start = threading.Barrier(8)
    refusals: list[str] = []
    accepted: list[str | None] = []

    def work(thread: int) -> None:
        start.wait()
        for number in range(50):
            try:
                accepted.append(channel.send(mail(thread * 100 + number)).provider_message_id)
            except TransientChannelError as error:
                refusals.append(str(error))

    # When they all send
    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    # Then every answer was given exactly once, every message kept, and the ids are unique
    assert sorted(refusals) == sorted(f"busy {n}" for n in range(100))
    assert len(accepted) == 300 and len(set(accepted)) == 300
    assert len({m.id for m in channel.outbox}) == 400
    assert channel.pending == 0
