"""A fake Telegram Bot API server (and builders for real-shaped updates).

The fake serves ``/bot<token>/<method>`` and ``/file/bot<token>/<file_path>``
on 127.0.0.1 like api.telegram.org or a self-hosted Bot API server does, so
python-telegram-bot talks to it unchanged through ``base_url`` and
``base_file_url``.  It accepts form-encoded, multipart and JSON bodies (PTB
sends form data with nested objects such as ``reply_markup`` as JSON strings),
answers ``{"ok": true, "result": ...}`` with real-shaped objects and errors
``{"ok": false, "error_code": ..., "description": ...}``.

Tests feed it updates (:func:`text_update` and friends, then
:meth:`FakeTelegram.push_update`, served through long-polling ``getUpdates``)
or post them to the daemon's webhook (:func:`post_webhook`), then read what
the bot sent from :attr:`FakeTelegram.sent` or :meth:`FakeTelegram.wait_for`.

Behaviour copied from the real server because product code depends on it:
updates stay queued until a ``getUpdates`` with a higher ``offset`` confirms
them; ``getUpdates`` answers 409 while a webhook is set; editing a message to
identical content answers 400 "message is not modified"; empty or over-4096
character texts answer 400; only inline keyboards are echoed in the returned
Message (reply keyboards are not, as on Telegram).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from . import FakeServer, wait_until

__all__ = [
    "DEFAULT_BOT_ID",
    "FakeTelegram",
    "Recorded",
    "UploadedFile",
    "audio_update",
    "callback_update",
    "contact_update",
    "document_update",
    "edited_text_update",
    "location_update",
    "photo_update",
    "poll_update",
    "post_webhook",
    "sticker_update",
    "text_update",
    "voice_update",
]

DEFAULT_BOT_ID = 123
"""Bot id used by the builders and by the fake when the token has no numeric prefix."""

MAX_TEXT_LENGTH = 4096
MAX_DOWNLOAD_SIZE = 20 * 1024 * 1024

_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "allowed_updates",
        "commands",
        "scope",
        "link_preview_options",
        "reply_parameters",
        "media",
        "results",
        "options",
        "reaction",
    }
)
_INT_FIELDS = frozenset(
    {
        "chat_id",
        "message_id",
        "offset",
        "limit",
        "timeout",
        "user_id",
        "duration",
        "reply_to_message_id",
        "message_thread_id",
        "cache_time",
        "max_connections",
        "from_chat_id",
        "width",
        "height",
    }
)
_BOOL_PREFIXES = ("disable_", "is_", "show_", "drop_", "protect_", "allow_", "has_", "can_", "supports_")

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_update_ids = itertools.count(700_000_001)
_incoming_message_ids = itertools.count(1)
_callback_ids = itertools.count(4_382_000_000_000_000_001)


# ---------------------------------------------------------------------------
# Update builders (real Bot API shapes)
# ---------------------------------------------------------------------------


def _now() -> int:
    return int(time.time())


def _unique_id(file_id: str) -> str:
    return "AQAD" + hashlib.sha1(file_id.encode()).hexdigest()[:12]


def _user(user_id: int, first_name: str, language_code: str | None = "es") -> dict[str, Any]:
    user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
    if language_code:
        user["language_code"] = language_code
    return user


def _bot_user(bot_id: int = DEFAULT_BOT_ID, username: str = "mostrador_bot") -> dict[str, Any]:
    return {"id": bot_id, "is_bot": True, "first_name": "Mostrador", "username": username}


def _private_chat(chat_id: int, first_name: str) -> dict[str, Any]:
    return {"id": chat_id, "first_name": first_name, "type": "private"}


def _user_update(
    chat_id: int,
    content: dict[str, Any],
    *,
    kind: str = "message",
    update_id: int | None = None,
    user_id: int | None = None,
    first_name: str = "Ana",
    message_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """An update carrying a Message a user sent in a private chat (chat id == user id by default)."""
    sender = user_id if user_id is not None else chat_id
    message = {
        "message_id": message_id if message_id is not None else next(_incoming_message_ids),
        "from": _user(sender, first_name),
        "chat": _private_chat(chat_id, first_name),
        "date": date if date is not None else _now(),
        **content,
    }
    return _update(kind, message, update_id)


def _update(kind: str, payload: dict[str, Any], update_id: int | None = None) -> dict[str, Any]:
    return {"update_id": update_id if update_id is not None else next(_update_ids), kind: payload}


def text_update(
    chat_id: int,
    text: str,
    *,
    user_id: int | None = None,
    first_name: str = "Ana",
    message_id: int | None = None,
    update_id: int | None = None,
    date: int | None = None,
) -> dict[str, Any]:
    """A ``message`` update with text; ``/commands`` get a ``bot_command`` entity as on Telegram."""
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        command = text.split()[0]
        content["entities"] = [{"offset": 0, "length": len(command), "type": "bot_command"}]
    return _user_update(
        chat_id,
        content,
        update_id=update_id,
        user_id=user_id,
        first_name=first_name,
        message_id=message_id,
        date=date,
    )


def callback_update(
    chat_id: int,
    data: str,
    *,
    message_id: int,
    user_id: int | None = None,
    first_name: str = "Ana",
    message: dict[str, Any] | None = None,
    message_text: str = "…",
    bot_id: int = DEFAULT_BOT_ID,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A ``callback_query`` update: the user tapped an inline button on the bot's message.

    Pass ``message=fake.message(chat_id, message_id)`` to embed exactly what
    the fake returned when the bot sent it (text and inline keyboard).
    """
    sender = user_id if user_id is not None else chat_id
    embedded = (
        dict(message)
        if message is not None
        else {
            "message_id": message_id,
            "from": _bot_user(bot_id),
            "chat": _private_chat(chat_id, first_name),
            "date": _now(),
            "text": message_text,
        }
    )
    query = {
        "id": str(next(_callback_ids)),
        "from": _user(sender, first_name),
        "message": embedded,
        "chat_instance": str(-(abs(hash((chat_id, bot_id))) % 10**18)),
        "data": data,
    }
    return _update("callback_query", query, update_id)


def voice_update(chat_id: int, file_id: str, duration: int = 3, **kw: Any) -> dict[str, Any]:
    """A voice note (OGG/Opus), as sent from the microphone button."""
    voice = {
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_id": file_id,
        "file_unique_id": _unique_id(file_id),
        "file_size": 2_000 * duration,
    }
    return _user_update(chat_id, {"voice": voice}, **kw)


def audio_update(
    chat_id: int,
    file_id: str,
    duration: int = 30,
    *,
    title: str | None = None,
    performer: str | None = None,
    mime_type: str = "audio/mpeg",
    file_name: str = "audio.mp3",
    **kw: Any,
) -> dict[str, Any]:
    """An audio file (music player attachment, not a voice note)."""
    audio: dict[str, Any] = {
        "duration": duration,
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": file_id,
        "file_unique_id": _unique_id(file_id),
        "file_size": 16_000 * duration,
    }
    if title:
        audio["title"] = title
    if performer:
        audio["performer"] = performer
    return _user_update(chat_id, {"audio": audio}, **kw)


def photo_update(chat_id: int, file_id: str, caption: str | None = None, **kw: Any) -> dict[str, Any]:
    """A photo: three PhotoSize objects, smallest first; the largest one has ``file_id``."""
    sizes = [
        {
            "file_id": f"{file_id}-s",
            "file_unique_id": _unique_id(file_id + "s"),
            "file_size": 1_200,
            "width": 90,
            "height": 68,
        },
        {
            "file_id": f"{file_id}-m",
            "file_unique_id": _unique_id(file_id + "m"),
            "file_size": 16_000,
            "width": 320,
            "height": 240,
        },
        {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "file_size": 64_000,
            "width": 1280,
            "height": 960,
        },
    ]
    content: dict[str, Any] = {"photo": sizes}
    if caption is not None:
        content["caption"] = caption
    return _user_update(chat_id, content, **kw)


def document_update(
    chat_id: int,
    file_id: str,
    file_name: str,
    mime_type: str,
    *,
    caption: str | None = None,
    file_size: int = 10_240,
    **kw: Any,
) -> dict[str, Any]:
    """A document (any file sent as a file)."""
    document = {
        "file_name": file_name,
        "mime_type": mime_type,
        "file_id": file_id,
        "file_unique_id": _unique_id(file_id),
        "file_size": file_size,
    }
    content: dict[str, Any] = {"document": document}
    if caption is not None:
        content["caption"] = caption
    return _user_update(chat_id, content, **kw)


def contact_update(
    chat_id: int, phone: str, first_name: str, last_name: str | None = None, *, own: bool = True, **kw: Any
) -> dict[str, Any]:
    """A shared contact; ``own=True`` (the "share my phone number" button) sets ``user_id`` to the sender."""
    contact: dict[str, Any] = {"phone_number": phone, "first_name": first_name}
    if last_name:
        contact["last_name"] = last_name
    if own:
        contact["user_id"] = kw.get("user_id") if kw.get("user_id") is not None else chat_id
    return _user_update(chat_id, {"contact": contact}, **kw)


def location_update(chat_id: int, lat: float, lon: float, **kw: Any) -> dict[str, Any]:
    """A shared (static) location."""
    return _user_update(chat_id, {"location": {"latitude": lat, "longitude": lon}}, **kw)


def sticker_update(
    chat_id: int, *, emoji: str = "👍", file_id: str = "CAACAgIAAxkBAAIBsticker", **kw: Any
) -> dict[str, Any]:
    """A regular static sticker."""
    sticker = {
        "width": 512,
        "height": 512,
        "emoji": emoji,
        "set_name": "HotCherry",
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "file_id": file_id,
        "file_unique_id": _unique_id(file_id),
        "file_size": 24_000,
    }
    return _user_update(chat_id, {"sticker": sticker}, **kw)


def poll_update(chat_id: int, question: str = "¿Cuál prefieres?", **kw: Any) -> dict[str, Any]:
    """A message carrying a poll the user created (unsupported content for the bot)."""
    poll = {
        "id": str(5_000_000_000_000_000_000 + next(_incoming_message_ids)),
        "question": question,
        "options": [
            {"persistent_id": "0", "text": "A", "voter_count": 0},
            {"persistent_id": "1", "text": "B", "voter_count": 0},
        ],
        "total_voter_count": 0,
        "is_closed": False,
        "is_anonymous": True,
        "type": "regular",
        "allows_multiple_answers": False,
        "allows_revoting": False,  # required since Bot API 9.6
        "members_only": False,  # required since Bot API 10.0
    }
    return _user_update(chat_id, {"poll": poll}, **kw)


def edited_text_update(chat_id: int, message_id: int, text: str, **kw: Any) -> dict[str, Any]:
    """An ``edited_message`` update: the user edited an earlier text message."""
    now = _now()
    content = {"text": text, "edit_date": now}
    return _user_update(chat_id, content, kind="edited_message", message_id=message_id, date=now - 30, **kw)


async def post_webhook(url: str, update: dict[str, Any], secret_token: str | None = None) -> tuple[int, str]:
    """POST an update to a webhook the way Telegram does; returns ``(status, body text)``."""
    headers = {"Content-Type": "application/json"}
    if secret_token is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret_token
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=json.dumps(update), headers=headers) as resp,
    ):
        return resp.status, await resp.text()


# ---------------------------------------------------------------------------
# The fake server
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UploadedFile:
    """A file part received in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _StoredFile:
    file_id: str
    data: bytes
    file_path: str


@dataclass
class _Failure:
    status: int
    description: str
    parameters: dict[str, Any] | None = None


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


@dataclass
class Recorded:
    """One API call as received (``requests`` keeps failed ones too, with their status)."""

    method: str
    params: dict[str, Any]
    status: int = 200
    token: str = ""


Handler = Callable[[dict[str, Any], str], Awaitable[Any]]


class FakeTelegram(FakeServer):
    """A Telegram Bot API server on 127.0.0.1.

    Use ``base_url``/``base_file_url`` as PTB's ``base_url``/``base_file_url``.
    ``token`` (optional) makes other tokens get 401 Unauthorized, as on
    Telegram; without it any token is accepted and recorded in ``tokens``.
    ``max_poll_wait`` caps a long poll so shutdowns stay quick.
    """

    def __init__(
        self, token: str | None = None, *, bot_username: str = "mostrador_bot", max_poll_wait: float = 5.0
    ) -> None:
        super().__init__()
        self.expected_token = token
        self.bot_username = bot_username
        self.max_poll_wait = max_poll_wait
        self.tokens: list[str] = []
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.requests: list[Recorded] = []
        self.poll_count = 0
        self.webhook: dict[str, Any] | None = None
        self.commands: list[dict[str, Any]] = []
        self._updates: list[dict[str, Any]] = []
        self._chats: dict[int | str, dict[str, Any]] = {}
        self._messages: dict[tuple[int | str, int], dict[str, Any]] = {}
        self._next_message_id: dict[int | str, int] = {}
        self._files: dict[str, _StoredFile] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._wake: asyncio.Event | None = None
        self._closing = False
        self._upload_ids = itertools.count(1)
        self.send_delay_s = 0.0  # how long a sendMessage takes (a slow platform keeps turns in flight)
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for name, handler in {
            "getMe": self._get_me,
            "logOut": self._true,
            "close": self._true,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._true,
            "sendChatAction": self._true,
            "getFile": self._get_file,
            "sendPhoto": self._send_photo,
            "sendDocument": self._send_document,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "deleteMessage": self._delete_message,
        }.items():
            self._handlers[name.lower()] = (name, handler)

    # -- public API ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """PTB ``base_url``: PTB appends ``<token>`` then ``/<method>``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB ``base_file_url``: PTB appends ``<token>`` then ``/<file_path>``."""
        return f"{self.url}/file/bot"

    def push_update(self, update: dict[str, Any]) -> None:
        """Queue an update for ``getUpdates`` (kept until confirmed by a higher offset)."""
        if "update_id" not in update:
            update = {"update_id": next(_update_ids), **update}
        self._remember_chat(update)
        self._updates.append(update)
        self._notify()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by the client."""
        return list(self._updates)

    def add_file(self, file_id: str, data: bytes, file_path: str | None = None) -> str:
        """Register file bytes for ``getFile`` and download; returns the file_path."""
        path = file_path or f"documents/file_{len(self._files)}_{_unique_id(file_id)}"
        self._files[file_id] = _StoredFile(file_id, data, path)
        return path

    def file_data(self, file_id: str) -> bytes:
        """Bytes of a registered or uploaded file."""
        return self._files[file_id].data

    def fail_next(
        self,
        method: str,
        *,
        status: int = 429,
        retry_after: int = 1,
        times: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail (``"file"`` targets downloads)."""
        params: dict[str, Any] | None = None
        if status == 429:
            desc = description or f"Too Many Requests: retry after {retry_after}"
            params = {"retry_after": retry_after}
        else:
            desc = description or _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        queue = self._failures.setdefault(method.lower(), [])
        queue.extend(_Failure(status, desc, params) for _ in range(times))

    def calls(self, method: str) -> list[dict[str, Any]]:
        """Params of every successful call of ``method`` (case-insensitive), oldest first."""
        wanted = method.lower()
        return [params for name, params in self.sent if name.lower() == wanted]

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts sent with ``sendMessage`` (optionally to one chat), oldest first."""
        return [p.get("text", "") for p in self.calls("sendMessage") if _chat_matches(p, chat_id)]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any]:
        """The current Message object of a message the bot sent (as the fake returned it)."""
        return dict(self._messages[(_chat_key(chat_id), message_id)])

    async def wait_for(
        self,
        method: str,
        *,
        chat_id: int | str | None = None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - test-facing deadline
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` successful calls of ``method`` (to ``chat_id``) were made; return all of them."""

        def matching() -> list[dict[str, Any]]:
            return [p for p in self.calls(method) if _chat_matches(p, chat_id)]

        try:
            await wait_until(lambda: len(matching()) >= count, timeout=timeout, what=f"{count} x {method}")
        except AssertionError as exc:
            seen = [(m, p.get("chat_id"), p.get("text")) for m, p in self.sent if m != "getMe"]
            raise AssertionError(f"{exc}; sent so far: {seen}") from None
        return matching()

    post_webhook = staticmethod(post_webhook)

    # -- server plumbing ----------------------------------------------------

    def build_app(self) -> web.Application:
        self._wake = asyncio.Event()
        self._closing = False
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._dispatch)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)
        return app

    async def before_stop(self) -> None:
        self._closing = True
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None:
            self._wake.set()
            self._wake = asyncio.Event()

    def _check_token(self, token: str) -> None:
        if ":" not in token:
            raise _ApiError(404, "Not Found")
        if token not in self.tokens:
            self.tokens.append(token)
        if self.expected_token is not None and token != self.expected_token:
            raise _ApiError(401, "Unauthorized")

    def _take_failure(self, method: str) -> _Failure | None:
        queue = self._failures.get(method.lower())
        return queue.pop(0) if queue else None

    async def _dispatch(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        method_in = request.match_info["method"]
        try:
            params = await _read_params(request)
        except ValueError as exc:
            return _error_response(_ApiError(400, f"Bad Request: {exc}"))
        entry = self._handlers.get(method_in.lower())
        name = entry[0] if entry else method_in
        record = name != "getUpdates"
        if not record:
            self.poll_count += 1
        try:
            self._check_token(token)
            if entry is None:
                raise _ApiError(404, "Not Found")
            failure = self._take_failure(name)
            if failure is not None:
                raise _ApiError(failure.status, failure.description, failure.parameters)
            result = await entry[1](params, token)
        except _ApiError as err:
            if record:
                self.requests.append(Recorded(name, params, err.status, token))
            return _error_response(err)
        if record:
            self.requests.append(Recorded(name, params, 200, token))
            self.sent.append((name, params))
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        path = request.match_info["file_path"]
        try:
            self._check_token(token)
            failure = self._take_failure("file")
            if failure is not None:
                raise _ApiError(failure.status, failure.description, failure.parameters)
        except _ApiError as err:
            return _error_response(err)
        for stored in self._files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return _error_response(_ApiError(404, "Not Found"))

    # -- state helpers ------------------------------------------------------

    def _remember_chat(self, update: dict[str, Any]) -> None:
        for key in ("message", "edited_message", "channel_post"):
            msg = update.get(key)
            if isinstance(msg, dict) and isinstance(msg.get("chat"), dict):
                self._chats[_chat_key(msg["chat"]["id"])] = dict(msg["chat"])

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        if chat_id is None or chat_id == "":
            raise _ApiError(400, "Bad Request: chat_id is empty")
        key = _chat_key(chat_id)
        if key in self._chats:
            return dict(self._chats[key])
        if isinstance(key, str):
            return {
                "id": -1001000000000 - len(key),
                "title": key.lstrip("@"),
                "username": key.lstrip("@"),
                "type": "channel",
            }
        if key < 0:
            kind = "supergroup" if str(key).startswith("-100") else "group"
            return {"id": key, "title": "Grupo", "type": kind}
        return {"id": key, "first_name": "Ana", "type": "private"}

    def _bot(self, token: str) -> dict[str, Any]:
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else DEFAULT_BOT_ID
        return _bot_user(bot_id, self.bot_username)

    def _new_message(self, params: dict[str, Any], token: str, **content: Any) -> dict[str, Any]:
        chat = self._chat(params.get("chat_id"))
        key = _chat_key(params["chat_id"])
        message_id = self._next_message_id.get(key, 10_000) + 1
        self._next_message_id[key] = message_id
        msg: dict[str, Any] = {
            "message_id": message_id,
            "from": self._bot(token),
            "chat": chat,
            "date": _now(),
        }
        msg.update({k: v for k, v in content.items() if v is not None})
        reply = params.get("reply_parameters")
        if isinstance(reply, str):
            reply = json.loads(reply)
        if isinstance(reply, dict) and (key, reply.get("message_id")) in self._messages:
            msg["reply_to_message"] = dict(self._messages[(key, reply["message_id"])])
        _attach_markup(msg, params.get("reply_markup"))
        self._messages[(key, message_id)] = msg
        return msg

    def _stored(self, params: dict[str, Any], what: str) -> dict[str, Any]:
        key = (_chat_key(params.get("chat_id")), params.get("message_id"))
        if key not in self._messages:
            raise _ApiError(400, f"Bad Request: message to {what} not found")
        return self._messages[key]

    def _register_upload(self, value: Any, kind: str, default_mime: str) -> tuple[str, int, str | None, str]:
        """Resolve a file parameter (file_id, URL or upload) to (file_id, size, filename, mime)."""
        if isinstance(value, UploadedFile):
            file_id = f"{'AgACAgE' if kind == 'photo' else 'BQACAgE'}Upload{next(self._upload_ids)}"
            self.add_file(file_id, value.data, f"{kind}s/file_{len(self._files)}")
            return file_id, len(value.data), value.filename, value.content_type or default_mime
        if not value:
            raise _ApiError(400, f"Bad Request: there is no {kind} in the request")
        text = str(value)
        if text in self._files:
            return text, len(self._files[text].data), None, default_mime
        if text.startswith(("http://", "https://")):
            file_id = f"AgACAgUrl{next(self._upload_ids)}"
            return file_id, 0, text.rsplit("/", 1)[-1] or None, default_mime
        raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")

    # -- methods ------------------------------------------------------------

    async def _true(self, params: dict[str, Any], token: str) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {
            **self._bot(token),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _set_webhook(self, params: dict[str, Any], token: str) -> bool:
        url = params.get("url") or ""
        if not url:
            self.webhook = None
            return True
        if not str(url).startswith(("https://", "http://")):
            raise _ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
        self.webhook = {k: v for k, v in params.items() if k != "certificate"}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _delete_webhook(self, params: dict[str, Any], token: str) -> bool:
        self.webhook = None
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        info: dict[str, Any] = {
            "url": (self.webhook or {}).get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self.webhook:
            info["max_connections"] = self.webhook.get("max_connections", 40)
            info["ip_address"] = "127.0.0.1"
            if self.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.webhook["allowed_updates"]
        return info

    async def _get_updates(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        if self.webhook:
            raise _ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
            )
        offset = params.get("offset")
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), self.max_poll_wait)
        if isinstance(offset, int) and offset != 0:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            else:
                self._updates = self._updates[offset:]
        deadline = time.monotonic() + timeout
        while True:
            if self._updates or self._closing:
                return self._updates[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._wake is None:
                return []
            try:
                await asyncio.wait_for(self._wake.wait(), remaining)
            except TimeoutError:
                return []

    async def _send_message(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        if self.send_delay_s:
            await asyncio.sleep(self.send_delay_s)
        text = params.get("text")
        if not text or not str(text).strip():
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: message is too long")
        return self._new_message(params, token, text=str(text), entities=params.get("entities"))

    async def _edit_message_text(self, params: dict[str, Any], token: str) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        text = params.get("text")
        if not text:
            raise _ApiError(400, "Bad Request: message text is empty")
        if len(str(text)) > MAX_TEXT_LENGTH:
            raise _ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        msg = self._stored(params, "edit")
        if "text" not in msg:
            raise _ApiError(400, "Bad Request: there is no text in the message to edit")
        new_markup = _inline_markup(params.get("reply_markup"))
        if msg["text"] == text and msg.get("reply_markup") == new_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        msg["text"] = str(text)
        msg["edit_date"] = _now()
        msg.pop("reply_markup", None)
        _attach_markup(msg, params.get("reply_markup"))
        return dict(msg)

    async def _edit_message_reply_markup(self, params: dict[str, Any], token: str) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        msg = self._stored(params, "edit")
        new_markup = _inline_markup(params.get("reply_markup"))
        if msg.get("reply_markup") == new_markup:
            raise _ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup "
                "are exactly the same as a current content and reply markup of the message",
            )
        msg.pop("reply_markup", None)
        _attach_markup(msg, params.get("reply_markup"))
        msg["edit_date"] = _now()
        return dict(msg)

    async def _delete_message(self, params: dict[str, Any], token: str) -> bool:
        self._stored(params, "delete")
        del self._messages[(_chat_key(params.get("chat_id")), params.get("message_id"))]
        return True

    async def _get_file(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        file_id = str(params.get("file_id") or "")
        stored = self._files.get(file_id)
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        if len(stored.data) > MAX_DOWNLOAD_SIZE:
            raise _ApiError(400, "Bad Request: file is too big")
        return {
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "file_size": len(stored.data),
            "file_path": stored.file_path,
        }

    async def _send_photo(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        file_id, size, _, _ = self._register_upload(params.get("photo"), "photo", "image/jpeg")
        photo = [
            {
                "file_id": f"{file_id}-s",
                "file_unique_id": _unique_id(file_id + "s"),
                "file_size": max(size // 20, 1),
                "width": 90,
                "height": 90,
            },
            {
                "file_id": file_id,
                "file_unique_id": _unique_id(file_id),
                "file_size": size,
                "width": 800,
                "height": 800,
            },
        ]
        return self._new_message(
            params,
            token,
            photo=photo,
            caption=params.get("caption"),
            caption_entities=params.get("caption_entities"),
        )

    async def _send_document(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        file_id, size, filename, mime = self._register_upload(
            params.get("document"), "document", "application/octet-stream"
        )
        document = {
            "file_name": filename or "document",
            "mime_type": mime,
            "file_id": file_id,
            "file_unique_id": _unique_id(file_id),
            "file_size": size,
        }
        return self._new_message(params, token, document=document, caption=params.get("caption"))

    async def _set_my_commands(self, params: dict[str, Any], token: str) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _ApiError(400, "Bad Request: can't parse BotCommand array")
        for cmd in commands:
            name = str(cmd.get("command", ""))
            if not name or len(name) > 32 or not name.replace("_", "").isalnum() or name.lower() != name:
                raise _ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self.commands = commands
        return True

    async def _get_my_commands(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        return list(self.commands)

    async def _delete_my_commands(self, params: dict[str, Any], token: str) -> bool:
        self.commands = []
        return True


# ---------------------------------------------------------------------------
# Request parsing and small helpers
# ---------------------------------------------------------------------------


def _chat_key(chat_id: Any) -> int | str:
    if isinstance(chat_id, int):
        return chat_id
    text = str(chat_id)
    try:
        return int(text)
    except ValueError:
        return text


def _chat_matches(params: dict[str, Any], chat_id: int | str | None) -> bool:
    return chat_id is None or str(params.get("chat_id")) == str(chat_id)


def _inline_markup(markup: Any) -> dict[str, Any] | None:
    if isinstance(markup, dict) and "inline_keyboard" in markup:
        return markup
    return None


def _attach_markup(msg: dict[str, Any], markup: Any) -> None:
    inline = _inline_markup(markup)
    if inline is not None:
        msg["reply_markup"] = inline


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ValueError(f"can't parse {name} JSON object") from exc
    if name in _INT_FIELDS:
        try:
            return int(value)
        except ValueError:
            return value
    if name.startswith(_BOOL_PREFIXES) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return value


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Merge query string and body (JSON, form-encoded or multipart) into one decoded dict."""
    raw: dict[str, Any] = dict(request.query)
    if request.can_read_body:
        ctype = request.content_type
        if ctype == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError as exc:
                raise ValueError("can't parse JSON request body") from exc
            if not isinstance(body, dict):
                raise ValueError("request body must be a JSON object")
            raw.update(body)
        elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
    params = {key: _decode(key, value) for key, value in raw.items()}
    for key, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[key] = params.pop(value[len("attach://") :], value)
    return params


def _error_response(err: _ApiError) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
    if err.parameters:
        body["parameters"] = err.parameters
    return web.json_response(body, status=err.status)
