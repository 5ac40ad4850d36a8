"""A fake WhatsApp Cloud API (Graph) server and builders for real-shaped webhooks.

The server answers what a Cloud API client calls, under ``base_url``
(``http://127.0.0.1:PORT/v21.0``, our ``WHATSAPP_API_BASE_URL``):

- ``POST /{version}/{phone_number_id}/messages``: text, interactive (button,
  list), template, media by ``id`` or ``link``, reaction, location, contacts,
  and the read receipt ``{"messaging_product": "whatsapp", "status": "read",
  "message_id": ...}`` (answered ``{"success": true}``);
- ``POST /{version}/{phone_number_id}/media``: multipart upload, answers ``{"id"}``;
- ``GET /{version}/{media_id}``: media metadata with a download ``url``;
- ``GET /media-files/{media_id}?...``: the bytes (the lookaside URL stand-in;
  it needs the bearer token and the exact query string the metadata gave).

Every call needs ``Authorization: Bearer <access token>`` (or ``access_token``
in the query) and otherwise gets 401 with Graph error code 190. Errors use the
Graph shape ``{"error": {"message", "type", "code", "error_data":
{"messaging_product", "details"}, "error_subcode"?, "fbtrace_id"}}``.

The module-level builders produce webhook payloads as Meta posts them
(``object``/``entry[].changes[].value`` with ``messages[]`` or
``statuses[]``); :func:`post_webhook` sends the exact bytes it signs, escaped
like Meta's body (ASCII-only, ``\\/``), so a verifier that re-serializes JSON
instead of hashing the raw body fails as it would in production.
"""

from __future__ import annotations

import asyncio
import base64
import copy
import hashlib
import hmac
import itertools
import json
import re
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web

from . import FakeServer, wait_until

__all__ = [
    "ACCESS_TOKEN",
    "API_VERSION",
    "APP_SECRET",
    "DISPLAY_PHONE_NUMBER",
    "PHONE_NUMBER_ID",
    "WABA_ID",
    "FakeWhatsApp",
    "audio_message",
    "batch",
    "button_reply",
    "contacts_message",
    "document_message",
    "graph_error",
    "image_message",
    "list_reply",
    "location_message",
    "new_wamid",
    "post_webhook",
    "reaction_message",
    "sign",
    "status_update",
    "sticker_message",
    "text_message",
    "unsupported_message",
    "verify_webhook",
    "webhook_error",
]

WABA_ID = "102290129340398"
PHONE_NUMBER_ID = "106540352242922"
DISPLAY_PHONE_NUMBER = "15550783881"
API_VERSION = "v21.0"
ACCESS_TOKEN = "EAAG-test-whatsapp-token"
APP_SECRET = "test-app-secret"

ERROR_CODES_URL = "https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/"

# code -> (message as the API phrases it, error_data.details)
ERRORS: dict[int, tuple[str, str | None]] = {
    1: ("An unknown error occurred", None),
    2: ("(#2) Service temporarily unavailable", None),
    4: ("(#4) Application request limit reached", "Too many API calls from this app."),
    10: ("(#10) Application does not have permission for this action", None),
    100: ("(#100) Invalid parameter", "Invalid parameter"),
    190: ("Invalid OAuth access token - Cannot parse access token", None),
    80007: ("(#80007) Rate limit issues", "The WhatsApp Business Account has reached its rate limit."),
    130429: ("(#130429) Rate limit hit", "Cloud API message throughput has been reached."),
    131000: ("(#131000) Something went wrong", "Message failed to send due to an unknown error."),
    131009: ("(#131009) Parameter value is not valid", "Parameter value is not valid"),
    131026: (
        "(#131026) Message undeliverable",
        "Message failed to send because the recipient's phone number is not a WhatsApp phone number "
        "or the recipient has not accepted the latest Terms of Service.",
    ),
    131047: (
        "(#131047) Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer last replied to this number.",
    ),
    131048: (
        "(#131048) Spam rate limit hit",
        "Message failed to send because there are restrictions on how many messages can be sent from this phone number.",
    ),
    131051: ("(#131051) Message type unknown", "Message type is currently not supported."),
    131056: (
        "(#131056) (Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone number "
        "to the same phone number in a short period of time.",
    ),
    132001: ("(#132001) Template name does not exist in the translation", "Template name does not exist."),
}
_DEFAULT_CODE_FOR_STATUS = {400: 100, 401: 190, 403: 10, 404: 100, 429: 130429, 500: 131000, 503: 2}

_SUPPORTED_TYPES = frozenset(
    {
        "text",
        "interactive",
        "template",
        "image",
        "document",
        "audio",
        "video",
        "sticker",
        "reaction",
        "location",
        "contacts",
    }
)
_MEDIA_TYPES = frozenset({"image", "document", "audio", "video", "sticker"})
_wamid_counter = itertools.count(1)


# ---------------------------------------------------------------------------
# Errors in the Graph shape
# ---------------------------------------------------------------------------


def graph_error(
    code: int,
    *,
    message: str | None = None,
    details: str | None = None,
    subcode: int | None = None,
    error_type: str = "OAuthException",
    transient: bool | None = None,
) -> dict[str, Any]:
    """An error body as Graph returns it for a failed API call."""
    known_message, known_details = ERRORS.get(code, (f"(#{code}) Error", None))
    error: dict[str, Any] = {"message": message or known_message, "type": error_type, "code": code}
    if details or known_details:
        error["error_data"] = {"messaging_product": "whatsapp", "details": details or known_details}
    if subcode is not None:
        error["error_subcode"] = subcode
    if transient is not None:
        error["is_transient"] = transient
    error["fbtrace_id"] = "A" + secrets.token_urlsafe(16)
    return {"error": error}


def webhook_error(code: int, details: str | None = None) -> dict[str, Any]:
    """An entry of ``errors[]`` as it appears in webhooks (failed statuses, unsupported messages)."""
    message, known_details = ERRORS.get(code, (f"(#{code}) Error", None))
    title = re.sub(r"^\(#\d+\)\s*", "", message)
    return {
        "code": code,
        "title": title,
        "message": title,
        "error_data": {"details": details or known_details or title},
        "href": ERROR_CODES_URL,
    }


# ---------------------------------------------------------------------------
# Webhook payload builders
# ---------------------------------------------------------------------------


def new_wamid(wa_id: str = "") -> str:
    """A fresh message id in the ``wamid.<base64>`` form WhatsApp uses."""
    raw = f"\x18\x0d{wa_id}\x15\x02\x00\x12\x18\x14{next(_wamid_counter):06d}{uuid.uuid4().hex[:14].upper()}\x00"
    return "wamid." + base64.b64encode(raw.encode()).decode()


def _ts(timestamp: int | str | None) -> str:
    return str(timestamp if timestamp is not None else int(time.time()))


def _envelope(
    value: dict[str, Any],
    *,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    body = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": display_phone_number, "phone_number_id": phone_number_id},
        **value,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": body, "field": "messages"}]}],
    }


def _inbound(
    wa_id: str,
    msg_type: str,
    content: dict[str, Any],
    *,
    msg_id: str | None = None,
    name: str = "Ana",
    timestamp: int | str | None = None,
    context_id: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    message: dict[str, Any] = {}
    if context_id is not None:
        message["context"] = {"from": display_phone_number, "id": context_id}
    message.update(
        {"from": wa_id, "id": msg_id or new_wamid(wa_id), "timestamp": _ts(timestamp), "type": msg_type}
    )
    message.update(content)
    value = {"contacts": [{"profile": {"name": name}, "wa_id": wa_id}], "messages": [message]}
    return _envelope(
        value, phone_number_id=phone_number_id, display_phone_number=display_phone_number, waba_id=waba_id
    )


def _sha256_b64(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def text_message(
    wa_id: str,
    text: str,
    *,
    msg_id: str | None = None,
    name: str = "Ana",
    timestamp: int | str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """A text message from a customer (``context_id=`` makes it a quoted reply)."""
    return _inbound(
        wa_id, "text", {"text": {"body": text}}, msg_id=msg_id, name=name, timestamp=timestamp, **kw
    )


def button_reply(
    wa_id: str, button_id: str, title: str, context_id: str | None = None, **kw: Any
) -> dict[str, Any]:
    """The customer tapped a reply button of an interactive message we sent (``context_id``: its wamid)."""
    interactive = {"type": "button_reply", "button_reply": {"id": button_id, "title": title}}
    return _inbound(
        wa_id, "interactive", {"interactive": interactive}, context_id=context_id or new_wamid(), **kw
    )


def list_reply(
    wa_id: str,
    row_id: str,
    title: str,
    description: str | None = None,
    context_id: str | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """The customer picked a row of an interactive list message."""
    row: dict[str, Any] = {"id": row_id, "title": title}
    if description is not None:
        row["description"] = description
    interactive = {"type": "list_reply", "list_reply": row}
    return _inbound(
        wa_id, "interactive", {"interactive": interactive}, context_id=context_id or new_wamid(), **kw
    )


def image_message(
    wa_id: str,
    media_id: str,
    caption: str | None = None,
    mime_type: str = "image/jpeg",
    *,
    data: bytes | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """An image; pass ``data`` to make ``sha256`` match the bytes registered with ``add_media``."""
    image: dict[str, Any] = {
        "mime_type": mime_type,
        "sha256": _sha256_b64(data or media_id.encode()),
        "id": media_id,
    }
    if caption is not None:
        image["caption"] = caption
    return _inbound(wa_id, "image", {"image": image}, **kw)


def audio_message(
    wa_id: str,
    media_id: str,
    voice: bool = True,
    *,
    mime_type: str | None = None,
    data: bytes | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """An audio; ``voice=True`` is a push-to-talk voice note (OGG/Opus)."""
    audio = {
        "mime_type": mime_type or ("audio/ogg; codecs=opus" if voice else "audio/mpeg"),
        "sha256": _sha256_b64(data or media_id.encode()),
        "id": media_id,
        "voice": voice,
    }
    return _inbound(wa_id, "audio", {"audio": audio}, **kw)


def document_message(
    wa_id: str,
    media_id: str,
    filename: str,
    *,
    mime_type: str = "application/pdf",
    caption: str | None = None,
    data: bytes | None = None,
    **kw: Any,
) -> dict[str, Any]:
    """A document (file) with its original file name."""
    document: dict[str, Any] = {
        "filename": filename,
        "mime_type": mime_type,
        "sha256": _sha256_b64(data or media_id.encode()),
        "id": media_id,
    }
    if caption is not None:
        document["caption"] = caption
    return _inbound(wa_id, "document", {"document": document}, **kw)


def sticker_message(
    wa_id: str, media_id: str = "1234567890123456", *, animated: bool = False, **kw: Any
) -> dict[str, Any]:
    """A sticker (WebP)."""
    sticker = {
        "mime_type": "image/webp",
        "sha256": _sha256_b64(media_id.encode()),
        "id": media_id,
        "animated": animated,
    }
    return _inbound(wa_id, "sticker", {"sticker": sticker}, **kw)


def location_message(
    wa_id: str, lat: float, lon: float, name: str | None = None, address: str | None = None, **kw: Any
) -> dict[str, Any]:
    """A shared location; ``name``/``address`` are present for a chosen place, absent for a pin."""
    location: dict[str, Any] = {"latitude": lat, "longitude": lon}
    if address is not None:
        location["address"] = address
    if name is not None:
        location["name"] = name
    return _inbound(wa_id, "location", {"location": location}, **kw)


def contacts_message(
    wa_id: str, phone: str, formatted_name: str, *, contact_wa_id: str | None = None, **kw: Any
) -> dict[str, Any]:
    """A shared contact card with one phone number."""
    first, _, last = formatted_name.partition(" ")
    name: dict[str, Any] = {"formatted_name": formatted_name, "first_name": first}
    if last:
        name["last_name"] = last
    digits = re.sub(r"\D", "", phone)
    phone_entry = {"phone": phone, "wa_id": contact_wa_id or digits, "type": "CELL"}
    return _inbound(wa_id, "contacts", {"contacts": [{"name": name, "phones": [phone_entry]}]}, **kw)


def reaction_message(wa_id: str, message_id: str, emoji: str, **kw: Any) -> dict[str, Any]:
    """The customer reacted to ``message_id`` (an empty ``emoji`` removes the reaction)."""
    reaction: dict[str, Any] = {"message_id": message_id}
    if emoji:
        reaction["emoji"] = emoji
    return _inbound(wa_id, "reaction", {"reaction": reaction}, **kw)


def unsupported_message(wa_id: str, unsupported_type: str = "poll_creation", **kw: Any) -> dict[str, Any]:
    """A message type the Cloud API does not deliver (error 131051)."""
    content = {"errors": [webhook_error(131051)], "unsupported": {"type": unsupported_type}}
    return _inbound(wa_id, "unsupported", content, **kw)


def status_update(
    recipient_id: str,
    wamid: str,
    status: str,
    *,
    timestamp: int | str | None = None,
    errors: list[dict[str, Any] | int] | None = None,
    category: str = "service",
    conversation_id: str | None = None,
    phone_number_id: str = PHONE_NUMBER_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """A ``statuses[]`` webhook: ``sent``/``delivered``/``read``/``failed`` for a message we sent.

    ``sent`` and ``delivered`` carry ``conversation`` and ``pricing``; ``failed``
    carries ``errors`` (ints are expanded with :func:`webhook_error`,
    default 131000).
    """
    ts = _ts(timestamp)
    entry: dict[str, Any] = {"id": wamid, "status": status, "timestamp": ts, "recipient_id": recipient_id}
    if status in ("sent", "delivered"):
        conversation: dict[str, Any] = {
            "id": conversation_id or hashlib.md5(recipient_id.encode()).hexdigest()
        }
        if status == "sent":
            conversation["expiration_timestamp"] = str(int(ts) + 24 * 3600)
        conversation["origin"] = {"type": category}
        entry["conversation"] = conversation
        entry["pricing"] = {"billable": True, "pricing_model": "CBP", "category": category}
    if status == "failed" or errors:
        entry["errors"] = [webhook_error(e) if isinstance(e, int) else e for e in (errors or [131000])]
    return _envelope(
        {"statuses": [entry]},
        phone_number_id=phone_number_id,
        display_phone_number=display_phone_number,
        waba_id=waba_id,
    )


def batch(*payloads: dict[str, Any]) -> dict[str, Any]:
    """Merge several webhook payloads into one, as Meta batches messages/statuses in one POST."""
    if not payloads:
        raise ValueError("batch() needs at least one payload")
    merged = copy.deepcopy(payloads[0])
    target = merged["entry"][0]["changes"][0]["value"]
    for payload in payloads[1:]:
        for entry in payload["entry"]:
            for change in entry["changes"]:
                value = change["value"]
                for key in ("messages", "statuses"):
                    if key in value:
                        target.setdefault(key, []).extend(copy.deepcopy(value[key]))
                known = {c["wa_id"] for c in target.get("contacts", [])}
                for contact in value.get("contacts", []):
                    if contact["wa_id"] not in known:
                        target.setdefault("contacts", []).append(copy.deepcopy(contact))
                        known.add(contact["wa_id"])
    return merged


# ---------------------------------------------------------------------------
# Delivering webhooks to the daemon
# ---------------------------------------------------------------------------


def meta_json(payload: dict[str, Any]) -> bytes:
    """Serialize like Meta's webhook bodies: compact, ASCII-only (``\\uXXXX``), slashes escaped."""
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def sign(body: bytes, app_secret: str) -> str:
    """The ``X-Hub-Signature-256`` header value for ``body``: ``sha256=<hex hmac>``."""
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


async def post_webhook(
    url: str,
    payload: dict[str, Any] | bytes | str,
    app_secret: str | None = None,
    *,
    signature: str | None = None,
) -> tuple[int, str]:
    """POST a webhook as Meta does; returns ``(status, body text)``.

    A dict is serialized with :func:`meta_json`; bytes/str are sent verbatim
    (for malformed-body tests). The signature header is ``signature`` if given,
    else computed from ``app_secret`` over the exact bytes sent, else absent.
    """
    if isinstance(payload, dict):
        body = meta_json(payload)
    elif isinstance(payload, str):
        body = payload.encode()
    else:
        body = payload
    headers = {"Content-Type": "application/json", "User-Agent": "facebookexternalua"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif app_secret is not None:
        headers["X-Hub-Signature-256"] = sign(body, app_secret)
    async with aiohttp.ClientSession() as session, session.post(url, data=body, headers=headers) as resp:
        return resp.status, await resp.text()


async def verify_webhook(url: str, verify_token: str, challenge: str = "1158201444") -> tuple[int, str]:
    """The subscription handshake: GET ``hub.mode=subscribe`` with the verify token; returns ``(status, text)``."""
    params = {"hub.mode": "subscribe", "hub.verify_token": verify_token, "hub.challenge": challenge}
    async with aiohttp.ClientSession() as session, session.get(url, params=params) as resp:
        return resp.status, await resp.text()


# ---------------------------------------------------------------------------
# The fake server
# ---------------------------------------------------------------------------


@dataclass
class _Media:
    data: bytes
    mime_type: str
    key: str


@dataclass
class _Failure:
    status: int
    body: dict[str, Any]


class _GraphError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body["error"]["message"])
        self.status = status
        self.body = body


def _invalid(details: str, code: int = 100, message: str | None = None) -> _GraphError:
    return _GraphError(400, graph_error(code, message=message, details=details))


def _digits(number: str) -> str:
    return re.sub(r"\D", "", number)


class FakeWhatsApp(FakeServer):
    """A WhatsApp Cloud API server on 127.0.0.1.

    ``approved_templates`` (optional) limits template names that exist;
    unknown ones then fail with 132001.
    """

    def __init__(
        self,
        access_token: str = ACCESS_TOKEN,
        phone_number_id: str = PHONE_NUMBER_ID,
        *,
        api_version: str = API_VERSION,
        display_phone_number: str = DISPLAY_PHONE_NUMBER,
        waba_id: str = WABA_ID,
        approved_templates: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.access_token = access_token
        self.phone_number_id = phone_number_id
        self.api_version = api_version
        self.display_phone_number = display_phone_number
        self.waba_id = waba_id
        self.approved_templates = approved_templates
        self.sent: list[dict[str, Any]] = []
        self.reads: list[str] = []
        self.typing: list[str] = []
        self.wamids: dict[str, dict[str, Any]] = {}
        self.requests: list[tuple[str, int, Any]] = []
        self.pending_statuses: list[dict[str, Any]] = []
        self.media: dict[str, _Media] = {}
        self._outside: dict[str, bool] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._media_ids = itertools.count(1_000_000_000_000_001)
        self.send_delay_s = 0.0  # how long a send takes (a slow platform keeps turns in flight)

    # -- public API ---------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``WHATSAPP_API_BASE_URL``: Graph root including the version."""
        return f"{self.url}/{self.api_version}"

    def add_media(self, media_id: str, data: bytes, mime_type: str = "image/jpeg") -> None:
        """Register media a customer sent, retrievable through ``GET /{version}/{media_id}``."""
        self.media[media_id] = _Media(data, mime_type, secrets.token_hex(8))

    def set_outside_window(self, wa_id: str, outside: bool = True, *, async_failure: bool = False) -> None:
        """Mark a customer as outside the 24-hour customer-service window.

        Free-form (non-template) sends to them fail with 131047: synchronously
        with HTTP 400 by default; with ``async_failure=True`` the send is
        accepted and a ``failed`` status webhook is queued in
        ``pending_statuses`` for the test to deliver. Templates still succeed.
        """
        if outside:
            self._outside[_digits(wa_id)] = async_failure
        else:
            self._outside.pop(_digits(wa_id), None)

    def fail_next(
        self,
        kind: str = "messages",
        *,
        status: int = 429,
        times: int = 1,
        error_code: int | None = None,
        details: str | None = None,
        subcode: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``kind`` fail with a Graph error.

        ``kind``: ``"messages"`` (sends), ``"read"`` (read receipts),
        ``"media"`` (metadata), ``"media-file"`` (download), ``"upload"``.
        ``error_code`` defaults by status: 429→130429, 400→100, 401→190,
        500→131000, 503→2.
        """
        code = error_code if error_code is not None else _DEFAULT_CODE_FOR_STATUS.get(status, 1)
        transient = True if status >= 500 else None
        queue = self._failures.setdefault(kind, [])
        for _ in range(times):
            queue.append(
                _Failure(status, graph_error(code, details=details, subcode=subcode, transient=transient))
            )

    def messages(self, msg_type: str | None = None, *, to: str | None = None) -> list[dict[str, Any]]:
        """Sent bodies, optionally of one ``type`` and/or to one recipient."""
        return [b for b in self.sent if _matches(b, msg_type, to)]

    def texts(self, to: str | None = None) -> list[str]:
        """Bodies of the text messages sent (optionally to one recipient)."""
        return [b["text"]["body"] for b in self.messages("text", to=to)]

    async def wait_for(
        self,
        match: str | Callable[[dict[str, Any]], bool] | None = None,
        *,
        to: str | None = None,
        count: int = 1,
        timeout: float = 10.0,  # noqa: ASYNC109 - test-facing deadline
    ) -> list[dict[str, Any]]:
        """Wait until ``count`` sent bodies match (a ``type`` name or a predicate); return all matches."""

        def matching() -> list[dict[str, Any]]:
            if callable(match):
                return [b for b in self.sent if match(b) and _matches(b, None, to)]
            return self.messages(match, to=to)

        try:
            await wait_until(
                lambda: len(matching()) >= count, timeout=timeout, what=f"{count} x {match or 'message'}"
            )
        except AssertionError as exc:
            raise AssertionError(f"{exc}; sent so far: {self.sent}") from None
        return matching()

    sign = staticmethod(sign)
    post_webhook = staticmethod(post_webhook)

    # -- server plumbing ----------------------------------------------------

    def build_app(self) -> web.Application:
        app = web.Application(client_max_size=110 * 1024 * 1024)
        app.router.add_post(r"/{version:v\d+\.\d+}/{phone_number_id}/messages", self._post_messages)
        app.router.add_post(r"/{version:v\d+\.\d+}/{phone_number_id}/media", self._post_media)
        app.router.add_get(r"/{version:v\d+\.\d+}/{media_id}", self._get_media)
        app.router.add_get("/media-files/{media_id}", self._download)
        return app

    def _check_auth(self, request: web.Request) -> None:
        header = request.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else request.query.get("access_token", "")
        if token != self.access_token:
            raise _GraphError(401, graph_error(190))

    def _take_failure(self, kind: str) -> None:
        queue = self._failures.get(kind)
        if queue:
            failure = queue.pop(0)
            raise _GraphError(failure.status, failure.body)

    def _check_phone(self, request: web.Request, verb: str) -> None:
        pnid = request.match_info["phone_number_id"]
        if pnid != self.phone_number_id:
            raise _GraphError(400, _missing_object(pnid, verb))

    async def _post_messages(self, request: web.Request) -> web.Response:
        body: Any = None
        kind = "messages"
        if self.send_delay_s:
            await asyncio.sleep(self.send_delay_s)
        try:
            self._check_auth(request)
            self._check_phone(request, "post")
            try:
                body = await request.json()
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise _invalid("Request body must be valid JSON") from None
            if not isinstance(body, dict):
                raise _invalid("Request body must be a JSON object")
            if body.get("status") == "read":
                kind = "read"
            self._take_failure(kind)
            result = self._read_receipt(body) if kind == "read" else self._send(body)
        except _GraphError as err:
            self.requests.append((kind, err.status, body))
            return web.json_response(err.body, status=err.status)
        self.requests.append((kind, 200, body))
        return web.json_response(result)

    def _read_receipt(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("messaging_product") != "whatsapp":
            raise _invalid("The parameter messaging_product is required.")
        message_id = body.get("message_id")
        if not isinstance(message_id, str) or not message_id.startswith("wamid."):
            raise _invalid("Invalid message_id")
        self.reads.append(message_id)
        if isinstance(body.get("typing_indicator"), dict):
            self.typing.append(message_id)
        return {"success": True}

    def _send(self, body: dict[str, Any]) -> dict[str, Any]:
        if body.get("messaging_product") != "whatsapp":
            raise _invalid("The parameter messaging_product is required.")
        to = body.get("to")
        recipient = body.get("recipient")  # a business-scoped user id (users with a username, no phone)
        if to is None and isinstance(recipient, str) and _BSUID.fullmatch(recipient):
            to = recipient
        elif not isinstance(to, str) or not _digits(to):
            raise _invalid("The parameter to is required.")
        msg_type = body.get("type", "text")
        if msg_type not in _SUPPORTED_TYPES:
            raise _invalid(
                f'Param type must be one of {{{", ".join(sorted(_SUPPORTED_TYPES))}}} - got "{msg_type}".'
            )
        _validate(msg_type, body, self.media)
        if msg_type == "template" and self.approved_templates is not None:
            name = body["template"]["name"]
            if name not in self.approved_templates:
                lang = body["template"]["language"]["code"]
                raise _GraphError(
                    404, graph_error(132001, details=f"template name ({name}) does not exist in {lang}")
                )
        wa_id = _digits(to) if recipient is None else to
        wamid = new_wamid(_digits(wa_id))
        if wa_id in self._outside and msg_type != "template":
            if not self._outside[wa_id]:
                raise _GraphError(400, graph_error(131047))
            self.pending_statuses.append(
                status_update(
                    wa_id,
                    wamid,
                    "failed",
                    errors=[131047],
                    phone_number_id=self.phone_number_id,
                    display_phone_number=self.display_phone_number,
                    waba_id=self.waba_id,
                )
            )
        self.sent.append(body)
        self.wamids[wamid] = body
        message: dict[str, Any] = {"id": wamid}
        if msg_type == "template":
            message["message_status"] = "accepted"
        return {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": wa_id} if recipient is None else {"input": to, "user_id": to}],
            "messages": [message],
        }

    async def _post_media(self, request: web.Request) -> web.Response:
        try:
            self._check_auth(request)
            self._check_phone(request, "post")
            self._take_failure("upload")
            if request.content_type != "multipart/form-data":
                raise _invalid("Upload must be multipart/form-data")
            form = await request.post()
            upload = form.get("file")
            if form.get("messaging_product") != "whatsapp":
                raise _invalid("The parameter messaging_product is required.")
            if not isinstance(upload, web.FileField):
                raise _invalid("The parameter file is required.")
            media_id = str(next(self._media_ids))
            mime = str(form.get("type") or upload.content_type or "application/octet-stream")
            self.add_media(media_id, upload.file.read(), mime)
        except _GraphError as err:
            self.requests.append(("upload", err.status, None))
            return web.json_response(err.body, status=err.status)
        self.requests.append(("upload", 200, None))
        return web.json_response({"id": media_id})

    async def _get_media(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        try:
            self._check_auth(request)
            self._take_failure("media")
            media = self.media.get(media_id)
            if media is None:
                raise _GraphError(400, _missing_object(media_id, "get"))
        except _GraphError as err:
            self.requests.append(("media", err.status, media_id))
            return web.json_response(err.body, status=err.status)
        self.requests.append(("media", 200, media_id))
        url = f"{self.url}/media-files/{media_id}?mid={media_id}&ext={int(time.time())}&hash={media.key}"
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": hashlib.sha256(media.data).hexdigest(),
                "file_size": len(media.data),
                "id": media_id,
            }
        )

    async def _download(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        try:
            self._check_auth(request)
            self._take_failure("media-file")
        except _GraphError as err:
            self.requests.append(("media-file", err.status, media_id))
            return web.json_response(err.body, status=err.status)
        media = self.media.get(media_id)
        if media is None or request.query.get("hash") != media.key:
            self.requests.append(("media-file", 404, media_id))
            return web.Response(status=404, text="URL signature mismatch")
        self.requests.append(("media-file", 200, media_id))
        return web.Response(body=media.data, content_type=media.mime_type.split(";")[0])


# ---------------------------------------------------------------------------
# Validation of send bodies (the limits the real API enforces)
# ---------------------------------------------------------------------------


def _missing_object(object_id: str, verb: str) -> dict[str, Any]:
    return graph_error(
        100,
        message=(
            f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due to "
            "missing permissions, or does not support this operation. Please read the Graph API documentation at "
            "https://developers.facebook.com/docs/graph-api"
        ),
        subcode=33,
        error_type="GraphMethodException",
    )


_BSUID = re.compile(r"[A-Z]{2}\.[0-9A-Za-z]+")


def _matches(body: dict[str, Any], msg_type: str | None, to: str | None) -> bool:
    if msg_type is not None and body.get("type", "text") != msg_type:
        return False
    if to is None:
        return True
    if body.get("recipient") is not None:
        return body["recipient"] == to
    return _digits(str(body.get("to", ""))) == _digits(to)


def _length(value: Any, field_name: str, maximum: int, *, code: int = 131009) -> None:
    if not isinstance(value, str) or not value:
        raise _invalid(f"Param {field_name} is required.", code=100)
    if len(value) > maximum:
        raise _invalid(f"Param {field_name} must be at most {maximum} characters long.", code=code)


def _validate(msg_type: str, body: dict[str, Any], media: dict[str, _Media]) -> None:
    content = body.get(msg_type)
    if msg_type not in ("contacts",) and not isinstance(content, dict):
        raise _invalid(f"Param {msg_type} is required.")
    if msg_type == "text":
        _length(content.get("body"), "text['body']", 4096, code=100)
    elif msg_type == "interactive":
        _validate_interactive(content)
    elif msg_type == "template":
        if not content.get("name"):
            raise _invalid("Param template['name'] is required.")
        if not isinstance(content.get("language"), dict) or not content["language"].get("code"):
            raise _invalid("Param template['language']['code'] is required.")
    elif msg_type in _MEDIA_TYPES:
        if "id" in content:
            if str(content["id"]) not in media:
                raise _invalid(f"Param {msg_type}['id'] is not a valid media id.", code=131009)
        elif not str(content.get("link", "")).startswith(("http://", "https://")):
            raise _invalid(f"Param {msg_type} must contain either 'id' or a valid 'link'.")
        if "caption" in content:
            _length(content["caption"], f"{msg_type}['caption']", 1024)
    elif msg_type == "reaction":
        if not str(content.get("message_id", "")).startswith("wamid."):
            raise _invalid("Param reaction['message_id'] is required.")
    elif msg_type == "location":
        if not isinstance(content.get("latitude"), int | float) or not isinstance(
            content.get("longitude"), int | float
        ):
            raise _invalid("Params location['latitude'] and location['longitude'] are required.")
    elif msg_type == "contacts" and not (isinstance(content, list) and content):
        raise _invalid("Param contacts is required.")


def _validate_interactive(interactive: dict[str, Any]) -> None:
    kind = interactive.get("type")
    body = interactive.get("body")
    if kind not in (
        "button",
        "list",
        "cta_url",
        "product",
        "product_list",
        "flow",
        "location_request_message",
    ):
        raise _invalid("Param interactive['type'] is invalid.", code=131009)
    if kind in ("button", "list"):
        _length(body.get("text") if isinstance(body, dict) else None, "interactive['body']['text']", 1024)
    action = interactive.get("action")
    if not isinstance(action, dict):
        raise _invalid("Param interactive['action'] is required.")
    if kind == "button":
        buttons = action.get("buttons")
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= 3:
            raise _invalid("Buttons count invalid. Min: 1, Max: 3", code=131009)
        seen: set[str] = set()
        for button in buttons:
            reply = button.get("reply") if isinstance(button, dict) else None
            if button.get("type") != "reply" or not isinstance(reply, dict):
                raise _invalid(
                    "Param interactive['action']['buttons'][0]['type'] must be 'reply'.", code=131009
                )
            _length(reply.get("id"), "interactive['action']['buttons'][]['reply']['id']", 256)
            title = reply.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= 20:
                raise _invalid("Button title length invalid. Min length: 1, Max length: 20", code=131009)
            if title in seen:
                raise _invalid("Button title must be unique.", code=131009)
            seen.add(title)
    elif kind == "list":
        _length(action.get("button"), "interactive['action']['button']", 20)
        sections = action.get("sections")
        if not isinstance(sections, list) or not 1 <= len(sections) <= 10:
            raise _invalid("Sections count invalid. Min: 1, Max: 10", code=131009)
        rows = [row for section in sections for row in section.get("rows", [])]
        if not 1 <= len(rows) <= 10:
            raise _invalid("Total row count exceed max allowed count: 10", code=131009)
        if len(sections) > 1 and not all(section.get("title") for section in sections):
            raise _invalid("Section title is required when there are multiple sections.", code=131009)
        for row in rows:
            _length(row.get("id"), "interactive['action']['sections'][]['rows'][]['id']", 200)
            title = row.get("title")
            if not isinstance(title, str) or not 1 <= len(title) <= 24:
                raise _invalid("Row title length invalid. Min length: 1, Max length: 24", code=131009)
            if len(row.get("description", "")) > 72:
                raise _invalid("Row description length invalid. Max length: 72", code=131009)
