"""Voice-note transcription through an OpenAI-compatible server.

`POST {OPENAI_BASE_URL}/audio/transcriptions` (multipart: `file`, `model`)
answers `{"text": "..."}`; OpenAI, LocalAI, faster-whisper-server and vLLM
speak it. Enabled by `BOT_TRANSCRIPTION_MODEL`. A failure is logged and
returns None: the runtime then answers its polite "can't listen" sentence,
and the customer's message is stored either way.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp

log = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://api.openai.com/v1"
MAX_BYTES = 25 * 1024 * 1024  # OpenAI's upload limit


class Transcriber:
    def __init__(self, model: str, *, base_url: str | None = None, api_key: str | None = None,
                 timeout_s: float = 60.0) -> None:
        self.model = model
        self.url = (base_url or DEFAULT_BASE_URL).rstrip("/") + "/audio/transcriptions"
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def transcribe(self, path: Path, mime_type: str | None = None, language: str | None = None) -> str | None:
        """The text spoken in the audio file at `path`, or None when it cannot be had."""
        try:
            data = await asyncio.to_thread(Path(path).read_bytes)
        except OSError:
            log.warning("transcription: audio file unreadable")
            return None
        if not data or len(data) > MAX_BYTES:
            log.warning("transcription skipped: %d bytes", len(data))
            return None
        form = aiohttp.FormData()
        form.add_field("file", data, filename=Path(path).name or "audio.ogg",
                       content_type=(mime_type or "application/octet-stream").split(";")[0])
        form.add_field("model", self.model)
        form.add_field("response_format", "json")
        if language:
            form.add_field("language", language)
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(self.url, data=form, headers=self._headers) as resp:
                if resp.status != 200:
                    log.warning("transcription failed: HTTP %s", resp.status)
                    return None
                body = await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("transcription failed: %s", type(exc).__name__)
            return None
        text = body.get("text") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return None
        return text.strip()
