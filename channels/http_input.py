"""Reading requests safely: bodies bounded in size and time, JSON strict, headers on a deadline.

aiohttp buffers a chunked body up to the app's `client_max_size` before a
handler could refuse it, waits for a slow body as long as the client likes,
lets `json.loads` recurse until a RecursionError, and accepts JSON that no
database stores (lone surrogates, NaN, integers beyond 64 bits). Every route
that reads a body goes through `read_body` / `read_json`, so bad input is a
4xx with a reason, never a 500, and an upload cut off by the client is a
quiet 400, not a traceback in the log. Query integers and URLs get the same
treatment (`query_int`, the `clean_url` middleware). The server side (a
deadline on request headers) is in `channels.http_server`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from typing import Any, Literal

from aiohttp import web

MAX_DEPTH = 64
DEFAULT_BODY_TIMEOUT_S = 30.0
BODY_TIMEOUT = web.AppKey("body_timeout_s", float)
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_INT64 = 2**63
log = logging.getLogger(__name__)


class BadJson(ValueError):
    """A body that is not acceptable JSON; the message says why."""


def http_error(cls: type[web.HTTPException], reason: str, **kwargs: Any) -> web.HTTPException:
    """An aiohttp HTTP exception whose body is `{"error": reason}`."""
    return cls(text=json.dumps({"error": reason}), content_type="application/json", **kwargs)


async def read_body(request: web.Request, limit: int, *, within_s: float | None = None) -> bytes:
    """The body, refusing (413) as soon as more than `limit` bytes arrive, chunked or not.

    The whole body must arrive within `within_s` seconds (default: the app's
    BODY_TIMEOUT, else 30 s), else 408. A client that hangs up mid-body gets
    a 400 nobody reads, and the log gets no traceback.
    """
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    seconds = within_s if within_s is not None else request.config_dict.get(BODY_TIMEOUT, DEFAULT_BODY_TIMEOUT_S)
    try:
        async with asyncio.timeout(seconds):
            return await _read_capped(request, limit)
    except TimeoutError:
        raise http_error(web.HTTPRequestTimeout, f"the request body did not arrive within {seconds:g} s") from None
    except (ConnectionError, web.RequestPayloadError) as exc:
        raise http_error(web.HTTPBadRequest, f"the request body was cut off ({type(exc).__name__})") from None


async def _read_capped(request: web.Request, limit: int) -> bytes:
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> web.HTTPException:
    return http_error(web.HTTPRequestEntityTooLarge, f"request body larger than {limit} bytes",
                      max_size=limit, actual_size=limit + 1)


def loads_json(body: bytes, *, lone_surrogates: Literal["refuse", "replace"] = "refuse") -> Any:
    """Strict JSON: UTF-8, at most MAX_DEPTH levels, no lone surrogates, NaN/Infinity or 64-bit overflow.

    `lone_surrogates="replace"` turns each lone surrogate into U+FFFD instead
    of refusing the body: for a webhook whose platform would redeliver the
    same payload forever (or drop the customer's message) on a 400.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        value = json.loads(text, parse_int=_int64, parse_float=_finite, parse_constant=_no_constant)
    except RecursionError:
        raise BadJson(f"JSON nested deeper than {MAX_DEPTH} levels") from None
    except json.JSONDecodeError as exc:
        raise BadJson(f"malformed JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except BadJson:
        raise
    except ValueError as exc:  # e.g. an integer of thousands of digits
        raise BadJson(f"malformed JSON: {exc}") from None
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    if surrogates or text.count("[") + text.count("{") > MAX_DEPTH:
        value = _check_tree(value, surrogates=surrogates, replace=lone_surrogates == "replace")
    return value


def _int64(digits: str) -> int:
    if len(digits) > 20 or not -_INT64 <= (value := int(digits)) < _INT64:
        raise BadJson(f"JSON integer out of the 64-bit range: {digits[:24]}{'...' if len(digits) > 24 else ''}")
    return value


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJson(f"JSON number out of range: {text[:24]}")
    return value


def _no_constant(name: str) -> Any:
    raise BadJson(f"{name} is not JSON")


def _check_tree(value: Any, *, surrogates: bool, replace: bool) -> Any:
    """Depth and lone surrogates (json.loads keeps a lone \\ud800 as is), walked without recursion.

    Containers are fixed in place when `replace`; the (possibly replaced) value is returned.
    """
    if isinstance(value, str):
        return _clean_string(value, replace) if surrogates else value
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_DEPTH:
            raise BadJson(f"JSON nested deeper than {MAX_DEPTH} levels")
        if isinstance(item, dict):
            if surrogates and any(_SURROGATE.search(k) for k in item):
                pairs = [(_clean_string(k, replace), v) for k, v in item.items()]
                item.clear()
                item.update(pairs)
            slots: Any = item.items()
        else:
            slots = enumerate(item)
        for slot, child in list(slots):
            if isinstance(child, str):
                if surrogates and _SURROGATE.search(child):
                    item[slot] = _clean_string(child, replace)
            elif isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return value


def _clean_string(text: str, replace: bool) -> str:
    if not _SURROGATE.search(text):
        return text
    if not replace:
        raise BadJson("JSON string with a lone surrogate (not valid Unicode)")
    return _SURROGATE.sub("\ufffd", text)


async def read_json(request: web.Request, limit: int, *, within_s: float | None = None) -> Any:
    """`read_body` then `loads_json`; bad JSON is a 400 with `{"error": reason}`."""
    body = await read_body(request, limit, within_s=within_s)
    try:
        return loads_json(body)
    except BadJson as exc:
        raise http_error(web.HTTPBadRequest, str(exc)) from None


# -- URLs and query parameters --------------------------------------------------------

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def has_unstorable(text: str) -> bool:
    """NUL (PostgreSQL refuses it in text) or a lone surrogate (not encodable as UTF-8)."""
    return _UNSTORABLE.search(text) is not None


@web.middleware
async def clean_url(request: web.Request, handler: Any) -> web.StreamResponse:
    """A path or query with NUL or a lone surrogate is a 400, before it reaches a database query."""
    if has_unstorable(request.path) or any(has_unstorable(k) or has_unstorable(v) for k, v in request.query.items()):
        raise http_error(web.HTTPBadRequest, "the URL holds a NUL character or invalid Unicode")
    return await handler(request)


_INTEGER = re.compile(r"-?[0-9]{1,19}")
MAX_ROW_ID = 2**31 - 1  # the tables' ids are INTEGER columns: 32-bit on PostgreSQL


def query_int(request: web.Request, name: str, default: int, lo: int, hi: int) -> int:
    """An integer query parameter in [lo, hi] (ASCII digits, 64-bit at most), else 400 with the range."""
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not _INTEGER.fullmatch(raw) or not lo <= int(raw) <= hi:
        raise http_error(web.HTTPBadRequest, f"{name} must be an integer from {lo} to {hi}")
    return int(raw)
