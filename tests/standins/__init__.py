"""Loopback stand-ins for the providers: small HTTP servers on 127.0.0.1.

Each is a context manager that serves on a free port, records what it got and
answers as scripted (``respond_with``), then as the provider would by default:

- ``SendGridStandin``: ``POST /v3/mail/send`` -> 202 with ``X-Message-Id``;
- ``TwilioStandin``: ``POST /2010-04-01/Accounts/{sid}/Messages.json`` -> 201 message JSON;
- ``WebhookReceiver``: any ``POST`` -> 200, recording whether the Standard
  Webhooks signature verified.
"""

from tests.standins.sendgrid import SendGridStandin, sendgrid_error
from tests.standins.server import Answer, RecordedRequest, StandinServer
from tests.standins.twilio import TwilioStandin, twilio_error
from tests.standins.webhook_receiver import ReceivedWebhook, WebhookReceiver

__all__ = [
    "Answer",
    "ReceivedWebhook",
    "RecordedRequest",
    "SendGridStandin",
    "StandinServer",
    "TwilioStandin",
    "WebhookReceiver",
    "sendgrid_error",
    "twilio_error",
]
