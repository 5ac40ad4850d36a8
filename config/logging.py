"""Structured one-line logs: `time level logger message key=value ...`.

Only ids travel in the extras (conversation_id, channel); message bodies and
secrets are never logged at INFO.
"""

from __future__ import annotations

import logging
import sys

_EXTRAS = ("conversation_id", "channel", "chat_id", "update_id", "wamid")


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        base = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')} {record.levelname} {record.name} {record.getMessage()}"
        extras = " ".join(f"{k}={getattr(record, k)}" for k in _EXTRAS if hasattr(record, k))
        line = f"{base} {extras}" if extras else base
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "chromadb", "telegram.ext", "aiohttp.access", "openai", "urllib3", "msal"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
