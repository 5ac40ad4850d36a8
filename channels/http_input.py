"""Reading request bodies safely: bounded in size and time, strict JSON.

(First version by the lead so the webhook handlers can use it; the bad-input
work refines it.)
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

MAX_DEPTH = 64


class BadJson(ValueError):
    """A body that is not acceptable JSON; the message says why."""


async def read_body(request: web.Request, limit: int) -> bytes:
    """The body, refusing (413) as soon as more than `limit` bytes arrive, chunked or not."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    chunks, size = [], 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> web.HTTPRequestEntityTooLarge:
    return web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=limit + 1,
                                         text=json.dumps({"error": f"request body larger than {limit} bytes"}),
                                         content_type="application/json")


def loads_json(body: bytes) -> Any:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson("the body is not valid UTF-8") from exc
    if _depth(text) > MAX_DEPTH:
        raise BadJson(f"JSON nested deeper than {MAX_DEPTH} levels")
    try:
        value = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise BadJson("malformed JSON") from exc
    if _has_surrogate(value):
        raise BadJson("JSON string with a lone surrogate (not valid Unicode)")
    return value


def _depth(text: str) -> int:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _has_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False
