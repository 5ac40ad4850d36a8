"""A small WhatsApp Cloud API (Graph) client: messages, read receipts, media downloads.

Every call carries `Authorization: Bearer <access token>`; 429 and 5xx
answers (and connections that never reached the server) are retried with
exponential backoff, a bounded number of times, honouring `Retry-After`.
The token and message bodies are never logged.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from typing import Any

import aiohttp

from channels.whatsapp.parse import describe_error
from config.settings import WhatsAppSettings

log = logging.getLogger(__name__)
MAX_MEDIA_BYTES = 100 * 1024 * 1024  # the Cloud API's largest (documents)
RATE_LIMIT_CODES = {4, 80007, 130429}


class GraphError(Exception):
    """A failed Graph API call: HTTP status, Graph error code and a readable description."""

    def __init__(self, status: int, code: int | None, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


class CloudApi:
    def __init__(self, settings: WhatsAppSettings, *, attempts: int = 4, backoff_s: float = 0.5,
                 timeout_s: float = 30.0) -> None:
        self.base_url = settings.api_base_url.rstrip("/")
        self.phone_number_id = settings.phone_number_id
        self._token = settings.access_token
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, body: dict[str, Any]) -> str:
        """POST a message; returns its wamid."""
        result = await self._json("POST", f"{self.base_url}/{self.phone_number_id}/messages", body)
        messages = result.get("messages") if isinstance(result, dict) else None
        if not messages or not isinstance(messages[0], dict) or not messages[0].get("id"):
            raise GraphError(200, None, "the API answered without a message id")
        return str(messages[0]["id"])

    async def mark_read(self, wamid: str) -> None:
        body = {"messaging_product": "whatsapp", "status": "read", "message_id": wamid}
        await self._json("POST", f"{self.base_url}/{self.phone_number_id}/messages", body)

    async def download_media(self, media_id: str) -> tuple[bytes, str | None]:
        """(bytes, MIME type) of a media id: metadata first (a short-lived URL), then the file."""
        meta = await self._json("GET", f"{self.base_url}/{media_id}")
        url = meta.get("url") if isinstance(meta, dict) else None
        if not url:
            raise GraphError(200, None, "media metadata without a download URL")
        size = meta.get("file_size")
        if isinstance(size, int) and size > MAX_MEDIA_BYTES:
            raise GraphError(413, None, f"media too large ({size} bytes)")
        status, data, _ = await self._request("GET", str(url))
        if status != 200:
            raise GraphError(status, None, f"media download failed: HTTP {status}")
        return data, meta.get("mime_type")

    # -- plumbing ----------------------------------------------------------------------

    async def _json(self, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
        status, data, _ = await self._request(method, url, body)
        try:
            parsed = json.loads(data) if data else {}
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = {}
        if status >= 400:
            error = parsed.get("error") if isinstance(parsed, dict) else None
            if isinstance(error, dict):
                raise GraphError(status, error.get("code"), describe_error(error))
            raise GraphError(status, None, f"HTTP {status}")
        return parsed

    async def _request(self, method: str, url: str, body: dict[str, Any] | None = None) -> tuple[int, bytes, Any]:
        if self._session is None:
            await self.start()
        assert self._session is not None
        headers = {"Authorization": f"Bearer {self._token.get_secret_value()}"}
        # A POST that timed out may have been sent: only failures to connect are safe to repeat.
        retryable: tuple[type[BaseException], ...] = (
            (aiohttp.ClientConnectorError, TimeoutError) if method == "GET" else (aiohttp.ClientConnectorError,)
        )
        for attempt in range(self.attempts):
            last = attempt == self.attempts - 1
            try:
                async with self._session.request(method, url, json=body, headers=headers) as resp:
                    data = await resp.content.read(MAX_MEDIA_BYTES + 1)
                    if len(data) > MAX_MEDIA_BYTES:
                        raise GraphError(413, None, "response too large")
                    if (resp.status == 429 or resp.status >= 500 or _rate_limited(resp.status, data)) and not last:
                        delay = self._delay(attempt, resp.headers.get("Retry-After"))
                        log.info("whatsapp API %s: retrying in %.2fs", resp.status, delay)
                        await asyncio.sleep(delay)
                        continue
                    return resp.status, data, resp.headers
            except retryable as exc:
                if last:
                    raise GraphError(0, None, f"connection failed: {type(exc).__name__}") from exc
                await asyncio.sleep(self._delay(attempt, None))
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise GraphError(0, None, f"connection failed: {type(exc).__name__}") from exc
        raise GraphError(0, None, "no attempts left")  # pragma: no cover - the loop always returns or raises

    def _delay(self, attempt: int, retry_after: str | None) -> float:
        if retry_after:
            try:
                return min(max(float(retry_after), 0.0), 30.0)
            except ValueError:
                pass
        return self.backoff_s * (2**attempt) * (1 + random.random() * 0.2)


def _rate_limited(status: int, data: bytes) -> bool:
    """Throughput errors Graph sometimes sends with 400: they are worth a retry too."""
    if status != 400 or b'"code"' not in data:
        return False
    try:
        code = json.loads(data).get("error", {}).get("code")
    except (json.JSONDecodeError, UnicodeDecodeError, AttributeError):
        return False
    return code in RATE_LIMIT_CODES
