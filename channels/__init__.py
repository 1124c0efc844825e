"""Rasa input channels of the assistant (they run inside the Rasa server, in `.venv-rasa`).

- `channels.website`: the socket.io channel of the website widget, one event per bot message;
- `channels.telegram`, `channels.messenger`, `channels.whatsapp` (Twilio), `channels.slack`: Rasa's
  connectors, configured from environment variables, whose replies degrade to what the app can
  show (numbered options instead of buttons, product cards and sources as plain text).

`channels.formatting` and `channels.options` are plain Python, without Rasa, so they are easy to
test; docs/channels.md explains the set-up of each channel.
"""
