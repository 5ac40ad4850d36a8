"""What the push channels (Telegram, WhatsApp) share about message content.

- Media storage: downloaded files live under `<data dir>/media/<channel>/<chat>/`,
  written off the event loop and atomically (a partial file is never left
  behind under the final name).
- `OrderedInbox`: inbound work runs in background tasks, one chat's jobs
  strictly in arrival order (media is downloaded before the turn, so the
  runtime's lock alone could not keep a photo ahead of the text after it),
  different chats in parallel.
- `split_text`: long replies cut on paragraph, line or word boundaries.
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import os
import re
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_EXTRA_TYPES = {"audio/ogg": ".ogg", "audio/opus": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a",
                "audio/aac": ".aac", "audio/amr": ".amr", "image/jpeg": ".jpg", "image/webp": ".webp",
                "video/mp4": ".mp4", "application/pdf": ".pdf"}


def safe_name(value: str, max_len: int = 80) -> str:
    """A file-system safe name part (ids from platforms may contain anything)."""
    cleaned = _UNSAFE.sub("_", value).strip("._") or "x"
    return cleaned[:max_len]


def extension(mime_type: str | None, file_name: str | None = None) -> str:
    """A file extension from the original name, else from the MIME type; '' when unknown."""
    if file_name:
        suffix = Path(file_name).suffix[1:]
        if suffix and len(suffix) <= 7 and suffix.isalnum():
            return "." + suffix.lower()
    base = (mime_type or "").split(";")[0].strip().lower()
    return _EXTRA_TYPES.get(base) or mimetypes.guess_extension(base) or ""


class MediaStore:
    """Where a channel keeps the files customers send."""

    def __init__(self, root: Path, channel: str) -> None:
        self.root = Path(root) / channel

    def path_for(self, chat_id: str, name: str, ext: str = "") -> Path:
        return self.root / safe_name(chat_id) / f"{safe_name(name, 120)}{ext}"

    async def save(self, path: Path, data: bytes) -> Path:
        """Write `data` to `path` off the event loop (temp file, then rename)."""
        await asyncio.to_thread(_write_atomic, path, data)
        return path


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part")
    tmp.write_bytes(data)
    os.replace(tmp, path)


class OrderedInbox:
    """Background jobs per chat, run one after another in submission order.

    `track` is the runtime's `track`, so shutdown (`drain`) waits for them.
    `submit` must be called in arrival order (synchronously from the
    webhook/update handler); a failed job does not stop the next one.
    """

    def __init__(self, track: Callable[..., asyncio.Task[Any]]) -> None:
        self._track = track
        self._tails: dict[str, asyncio.Task[Any]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    def submit(self, key: str, job: Callable[[], Awaitable[Any]], *, name: str = "inbound") -> asyncio.Task[Any]:
        previous = self._tails.get(key)
        task = self._track(self._after(previous, job), name=name)
        self._tails[key] = task
        self._tasks.add(task)

        def _done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if self._tails.get(key) is t:
                del self._tails[key]

        task.add_done_callback(_done)
        return task

    @staticmethod
    def _after(previous: asyncio.Task[Any] | None, job: Callable[[], Awaitable[Any]]) -> Coroutine[Any, Any, Any]:
        async def run() -> Any:
            if previous is not None and not previous.done():
                await asyncio.wait([previous])  # its outcome is its own business; we only keep order
            return await job()

        return run()

    async def join(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109 - a shutdown deadline
        """Wait for every submitted job (used before a channel closes its HTTP client)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)


def split_text(text: str, limit: int, measure: Callable[[str], int] = len) -> list[str]:
    """Cut `text` into parts of at most `limit` (as `measure` counts), on the cleanest boundary.

    Paragraphs first, then lines, then words; a single overlong word is cut hard.
    """
    parts: list[str] = []
    rest = text.strip()
    while rest:
        if measure(rest) <= limit:
            parts.append(rest)
            break
        window = _max_prefix(rest, limit, measure)
        cut = _boundary(rest[:window])
        head, rest = rest[:cut].rstrip(), rest[cut:].lstrip()
        if head:
            parts.append(head)
    return parts


def _max_prefix(text: str, limit: int, measure: Callable[[str], int]) -> int:
    """The longest prefix length (in characters) whose measure fits `limit`."""
    lo, hi = 1, min(len(text), limit)
    if measure(text[:hi]) <= limit:
        return hi
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid]) <= limit:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _boundary(window: str) -> int:
    floor = len(window) // 3  # never produce a tiny part just to respect a boundary
    for sep in ("\n\n", "\n", ". ", " "):
        at = window.rfind(sep)
        if at > floor:
            return at + len(sep)
    return len(window)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (how Telegram counts message length)."""
    return len(text.encode("utf-16-le")) // 2


async def fetch_media(handler: Any, msg: Any, fetch_one: Callable[[Any, Any], Awaitable[Any]],
                      delays_s: tuple[float, ...], errors: tuple[type[BaseException], ...], channel: str) -> Any:
    """A message with its files downloaded (`fetch_one` per file); what fails is answered anyway.

    The stored message learns where the files are (`handler.media_fetched`);
    a failed download leaves the reference and is retried in the background.
    """
    if not msg.media:
        return msg

    async def fetch_all(message: Any) -> Any:
        return replace(message, media=tuple([await fetch_one(message, m) for m in message.media]))

    try:
        fetched = await fetch_all(msg)
    except errors as exc:
        # The error's type only: a client library's message may hold a URL with the bot token.
        log.warning("%s media download failed (%s); retrying in the background", channel, type(exc).__name__,
                    extra={"chat_id": msg.chat_id})
        handler.track(_retry_media(handler, msg, fetch_all, delays_s, errors), name=f"{channel}-media-retry")
        return msg
    await handler.media_fetched(fetched)
    return fetched


async def _retry_media(handler: Any, msg: Any, fetch: Callable[[Any], Awaitable[Any]], delays_s: tuple[float, ...],
                       errors: tuple[type[BaseException], ...]) -> bool:
    """Download a message's media again after a failure, in the background, with growing pauses.

    When a download succeeds, the stored message learns where the file is
    (`handler.media_fetched`). Stops early when the daemon shuts down.
    """
    for attempt, delay in enumerate(delays_s, start=1):
        deadline = asyncio.get_running_loop().time() + delay
        while asyncio.get_running_loop().time() < deadline:
            if getattr(handler, "closing", False):
                return False
            await asyncio.sleep(min(0.5, max(0.0, deadline - asyncio.get_running_loop().time())))
        try:
            fetched = await fetch(msg)
        except errors as exc:
            log.info("media download retry %s failed: %s", attempt, type(exc).__name__)
            continue
        await handler.media_fetched(fetched)
        return True
    log.warning("media download given up after %s retries", len(delays_s))
    return False
