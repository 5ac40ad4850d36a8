"""The python-telegram-bot pieces: a tolerant bot and the Application around it.

`TolerantBot` keeps the raw JSON of every polled update (the pure `parse`
works on it, not on PTB's re-serialization) and replaces an update PTB
cannot model by an empty one with the same id: it is logged and skipped,
the offset still moves on, and polling never dies on a poison update.
"""

from __future__ import annotations

import logging
from typing import Any

from config.settings import TelegramSettings
from telegram import Update
from telegram.ext import Application, ExtBot
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)
TELEGRAM_ROOT = "https://api.telegram.org"
MAX_KEPT = 1000


class TolerantBot(ExtBot[None]):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._raw: dict[int, dict[str, Any]] = {}

    def take_raw(self, update_id: int) -> dict[str, Any] | None:
        """The JSON the server sent for a polled update (once)."""
        return self._raw.pop(update_id, None)

    async def _post(self, endpoint: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates" and isinstance(result, list):
            result = [self._vet(item) for item in result]
        return result

    def _vet(self, raw: Any) -> Any:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            return raw
        try:
            Update.de_json(raw, self)
        except Exception:  # PTB raises many kinds on payloads it cannot model
            log.exception("skipping a Telegram update that cannot be parsed", extra={"update_id": update_id})
            return {"update_id": update_id}
        self._raw[update_id] = raw
        while len(self._raw) > MAX_KEPT:  # an update PTB never handed over must not pin memory
            self._raw.pop(next(iter(self._raw)))
        return raw


def api_urls(base_url: str | None) -> tuple[str, str]:
    """(base_url, base_file_url) for PTB from TELEGRAM_BASE_URL (with or without the trailing `/bot`)."""
    root = (base_url or TELEGRAM_ROOT).rstrip("/")
    if root.endswith("/bot"):
        root = root[: -len("/bot")]
    return f"{root}/bot", f"{root}/file/bot"


def build_application(settings: TelegramSettings, *, polling: bool) -> Application:
    """An Application that runs inside our event loop (no run_polling, no job queue)."""
    base_url, base_file_url = api_urls(settings.base_url)
    bot = TolerantBot(
        settings.token.get_secret_value(),
        base_url=base_url,
        base_file_url=base_file_url,
        request=HTTPXRequest(connection_pool_size=64, pool_timeout=10.0, read_timeout=30.0),
        get_updates_request=HTTPXRequest(connection_pool_size=1, read_timeout=30.0),
    )
    builder = Application.builder().bot(bot).job_queue(None)
    if not polling:
        builder = builder.updater(None)
    return builder.build()
