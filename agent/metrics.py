"""Prometheus metrics of the agent: turns, latency, tools, model errors and tokens, handoffs."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

TURNS = Counter("mostrador_turns_total", "Conversation turns processed", ["channel", "outcome"])
TURN_LATENCY = Histogram(
    "mostrador_turn_latency_seconds",
    "Time to process one turn",
    ["channel"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
)
TOOL_CALLS = Counter("mostrador_tool_calls_total", "Tool calls made by the model", ["tool"])
TOOL_FAILURES = Counter("mostrador_tool_failures_total", "Tool calls that raised", ["tool"])
MODEL_ERRORS = Counter("mostrador_model_errors_total", "Model calls that failed after retries", ["model", "error"])
MODEL_TOKENS = Counter("mostrador_model_tokens_total", "Model tokens used", ["model", "kind"])
HANDOFFS = Counter("mostrador_handoffs_total", "Conversations handed to a human", ["source"])
DUPLICATES = Counter("mostrador_duplicate_messages_total", "Redelivered inbound messages", ["channel"])
EVENTS = Counter("mostrador_message_events_total", "Edits and deletions of earlier messages", ["channel", "kind", "result"])
MODEL_CIRCUIT_OPEN = Gauge(
    "mostrador_model_circuit_open",
    "1 while the model's circuit breaker keeps turns off the provider (open or half-open), 0 when closed",
    ["model"],
)
