"""Prometheus metrics of the channels: sends and failures per channel."""

from __future__ import annotations

from prometheus_client import Counter

SENDS = Counter("mostrador_channel_sends_total", "Messages sent through a channel", ["channel"])
SEND_FAILURES = Counter("mostrador_channel_send_failures_total", "Sends that failed", ["channel", "reason"])
INBOUND = Counter("mostrador_channel_inbound_total", "Inbound messages received", ["channel", "kind"])
