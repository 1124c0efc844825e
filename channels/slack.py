"""Slack: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (and optionally SLACK_CHANNEL).

Up to 5 buttons stay Slack buttons; more become numbered options. Product names are bold in
Slack's mrkdwn. Webhook (Event Subscriptions and Interactivity): <rasa>/webhooks/slack/webhook.
Rasa's connector checks Slack's request signature (HMAC-SHA256 under SLACK_SIGNING_SECRET, compared
in constant time, five minutes at most old). Conversations are keyed `slack:<user id>`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from rasa.core.channels.channel import InputChannel
from rasa.core.channels.slack import SlackInput as RasaSlackInput
from sanic import Blueprint

from channels.base import DegradingChannel, OnNewMessage, disabled_blueprint, read_settings
from channels.formatting import SLACK

NOT_CONFIGURED = "not-configured"


class SlackInput(DegradingChannel, RasaSlackInput):
    profile = SLACK
    namespace = "slack"
    variables: Mapping[str, str] = {
        "slack_token": "SLACK_BOT_TOKEN",
        "slack_signing_secret": "SLACK_SIGNING_SECRET",
    }

    @classmethod
    def name(cls) -> str:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        values, missing = read_settings(cls.variables, credentials)
        credentials = credentials or {}
        channel = cls(
            values.get("slack_token", ""),
            slack_channel=credentials.get("slack_channel") or os.environ.get("SLACK_CHANNEL"),
            use_threads=bool(credentials.get("use_threads", False)),
            # Rasa refuses an empty secret; an unconfigured channel never checks one (its webhook
            # only answers 503), so a marker stands in until SLACK_SIGNING_SECRET is set.
            slack_signing_secret=values.get("slack_signing_secret", NOT_CONFIGURED),
        )
        channel.setup_degrading(missing)
        return channel

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        if self.missing:
            return disabled_blueprint(self.name(), self.missing)
        return super().blueprint(self.wrap(on_new_message))
