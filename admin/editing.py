"""Live edits by the owner: prompts, knowledge documents and the business config.

Every edit is validated before it is accepted (422 with the reason
otherwise, and the running version stays), written atomically, kept as a
revision with who and when, and used by the next turn without a restart.
Rollback re-applies an older revision through the same validation.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

from aiohttp import web
from pydantic import ValidationError

from admin.revisions import revision_json
from admin.routes import DEPS, MAX_JSON, AdminDeps, actor, bad_request
from channels.http_input import MAX_DEPTH, MAX_ROW_ID, BadJson, http_error, loads_json, read_body, read_json
from config.business import BusinessConfig
from prompts import TemplateError

KNOWLEDGE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,80}(\.[a-z]{2})?(\.md)?$")  # "envios", "envios.en.md"
MAX_NAME = 84
MAX_DOC = 200_000
MAX_BODY = 2 * 1024 * 1024  # MAX_DOC characters, JSON-escaped
MAX_EVAL = 1024 * 1024


class EditRefused(ValueError):
    """An edit that does not validate; its message is the reason given to the owner."""


async def _write_atomic(path: Path, content: str) -> None:
    def write() -> None:
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(content, encoding="utf-8")
        tmp.replace(path)

    await asyncio.to_thread(write)


async def _text_body(request: web.Request, limit: int) -> str:
    """The body as UTF-8 text (a BOM is dropped), else 400."""
    try:
        return (await read_body(request, limit)).decode("utf-8-sig")
    except UnicodeDecodeError:
        raise http_error(web.HTTPBadRequest, "the body must be UTF-8 text") from None


async def _content_of(request: web.Request) -> str:
    """The new content: JSON {"content": ...} or the raw body (text/plain, text/markdown)."""
    if request.content_type == "application/json":
        body = await read_json(request, MAX_BODY)
        if not isinstance(body, dict) or not isinstance(body.get("content"), str):
            raise http_error(web.HTTPBadRequest, 'expected {"content": "..."}')
        return body["content"]
    return await _text_body(request, MAX_BODY)


# -- the three kinds of editable things ------------------------------------------------


class PromptKind:
    kind = "prompt"

    def __init__(self, deps: AdminDeps) -> None:
        self.store = deps.prompts

    def names(self) -> list[str]:
        return self.store.names()

    def path(self, name: str) -> Path:
        if len(name) > MAX_NAME:
            raise http_error(web.HTTPBadRequest, f"a prompt name is at most {MAX_NAME} characters")
        try:
            return self.store.path_for(name)
        except KeyError as exc:
            raise web.HTTPNotFound(text='{"error": "no prompt with that name"}', content_type="application/json") from exc

    async def read(self, name: str) -> str:
        return await asyncio.to_thread(self.path(name).read_text, "utf-8")

    async def apply(self, name: str, content: str) -> str:
        path = self.path(name)
        try:
            self.store.validate(name, content)
        except TemplateError as exc:
            raise EditRefused(str(exc)) from exc
        await _write_atomic(path, content)
        await asyncio.to_thread(self.store.reload)
        return content


class KnowledgeKind:
    kind = "knowledge"

    def __init__(self, deps: AdminDeps) -> None:
        self.index = deps.runtime.services.knowledge
        self.directory: Path = self.index.directory

    def names(self) -> list[str]:
        return sorted(p.name for p in self.directory.glob("*.md"))

    def path(self, name: str, *, must_exist: bool = True) -> Path:
        if not KNOWLEDGE_NAME.match(name):
            raise web.HTTPBadRequest(text='{"error": "a document name is lowercase letters, digits, - and _, '
                                          'with an optional language: envios.en"}',
                                     content_type="application/json")
        path = self.directory / (name if name.endswith(".md") else f"{name}.md")
        if must_exist and not path.exists():
            raise web.HTTPNotFound(text='{"error": "no document with that name"}', content_type="application/json")
        return path

    async def read(self, name: str) -> str:
        return await asyncio.to_thread(self.path(name).read_text, "utf-8")

    async def apply(self, name: str, content: str) -> str:
        if not content.strip():
            raise EditRefused("a knowledge document cannot be empty")
        if len(content) > MAX_DOC:
            raise EditRefused(f"a knowledge document is at most {MAX_DOC} characters")
        if "\x00" in content:
            raise EditRefused("a knowledge document must be text")
        await _write_atomic(self.path(name, must_exist=False), content)
        await self.index.sync()
        return content


class ConfigKind:
    kind = "config"

    def __init__(self, deps: AdminDeps) -> None:
        self.store = deps.config

    def names(self) -> list[str]:
        return ["business"]

    async def read(self, name: str) -> str:
        return self.store.current.model_dump_json(indent=2)

    async def apply(self, name: str, content: str) -> str:
        try:
            data = loads_json(content.encode("utf-8", "surrogatepass"))
        except BadJson as exc:
            raise EditRefused(f"the config must be JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise EditRefused("the config must be a JSON object")
        # "_versions"/"_version_id" are what GET/PUT add; a GET-edit-PUT round trip must validate.
        data = {k: v for k, v in data.items() if k not in ("_versions", "_version_id")}
        try:
            config = BusinessConfig.model_validate(data)
        except ValidationError as exc:
            raise EditRefused("; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'config'}: {e['msg']}" for e in exc.errors()
            )) from exc
        await self.store.replace(config)
        return config.model_dump_json(indent=2)


# -- generic handlers ----------------------------------------------------------------


def _kind(request: web.Request) -> Any:
    deps = request.app[DEPS]
    return {"prompts": PromptKind, "knowledge": KnowledgeKind, "config": ConfigKind}[request.match_info["kind"]](deps)


def _name(request: web.Request) -> str:
    return request.match_info.get("name", "business")


async def list_items(request: web.Request) -> web.Response:
    return web.json_response({"items": [{"name": n} for n in _kind(request).names()]})


async def get_item(request: web.Request) -> web.Response:
    kind, name = _kind(request), _name(request)
    content = await kind.read(name)
    versions = await request.app[DEPS].revisions.list(kind.kind, name)
    if kind.kind == "config":
        return web.json_response({**json.loads(content), "_versions": [revision_json(v) for v in versions]})
    return web.json_response({"name": name, "content": content, "versions": [revision_json(v) for v in versions]})


async def _accept(request: web.Request, kind: Any, name: str, content: str, action: str) -> web.Response:
    deps = request.app[DEPS]
    try:
        previous = await kind.read(name)
    except web.HTTPNotFound:
        previous = None
    if "\x00" in content:
        return bad_request(422, f"a {kind.kind} must be text (it holds NUL characters)")
    try:
        stored = await kind.apply(name, content)
    except EditRefused as exc:
        return bad_request(422, str(exc))
    if previous is not None:
        await deps.revisions.ensure_baseline(kind.kind, name, previous)
    rev = await deps.revisions.save(kind.kind, name, stored, actor(request))
    await deps.revisions.audit(actor(request), f"{kind.kind}.{action}", name, {"version_id": rev.id})
    if kind.kind == "config":
        return web.json_response({**json.loads(stored), "_version_id": rev.id})
    return web.json_response({"name": name, "content": stored, "version_id": rev.id})


async def put_item(request: web.Request) -> web.Response:
    kind, name = _kind(request), _name(request)
    content = await _text_body(request, MAX_BODY) if kind.kind == "config" else await _content_of(request)
    return await _accept(request, kind, name, content, "edit")


async def rollback(request: web.Request) -> web.Response:
    kind, name = _kind(request), _name(request)
    body = await read_json(request, MAX_JSON)
    version_id = body.get("version_id") if isinstance(body, dict) else None
    if isinstance(version_id, str) and version_id.isascii() and version_id.isdigit() and len(version_id) < 19:
        version_id = int(version_id)
    if isinstance(version_id, bool) or not isinstance(version_id, int) or not 0 < version_id <= MAX_ROW_ID:
        return bad_request(400, f'expected {{"version_id": <id>}}, an integer from 1 to {MAX_ROW_ID}')
    rev = await request.app[DEPS].revisions.get(kind.kind, name, version_id)
    if rev is None:
        return bad_request(404, "no such version")
    return await _accept(request, kind, name, rev.content, "rollback")


async def audit_log(request: web.Request) -> web.Response:
    entries = await request.app[DEPS].revisions.audit_log()
    return web.json_response({"items": [
        {"id": e.id, "actor": e.actor, "action": e.action, "target": e.target, "detail": e.detail,
         "created_at": e.created_at.isoformat()} for e in entries
    ]})


async def run_eval(request: web.Request) -> web.Response:
    from agent.evaluation import run_eval as play

    deps = request.app[DEPS]
    text = await _text_body(request, MAX_EVAL)
    if not text.strip():
        return bad_request(400, "send the scripted conversations (YAML or JSON) as the body")
    if text.lstrip().startswith(("{", "[")):
        try:
            loads_json(text.encode())  # strict: depth, lone surrogates; the spec parser reads it again
        except BadJson as exc:
            return bad_request(400, str(exc))
    elif _flow_depth(text) > MAX_DEPTH:  # PyYAML would spend a second recursing before it gave up
        return bad_request(400, f"YAML nested deeper than {MAX_DEPTH} levels")
    try:
        report = await play(deps.settings, text)
    except RecursionError:
        return bad_request(422, "the scripted conversations are nested too deeply")
    except ValueError as exc:
        return bad_request(422, str(exc))
    await deps.revisions.audit(actor(request), "eval.run", "", {"passed": report["passed"], "failed": report["failed"]})
    return web.json_response(report)


def _flow_depth(text: str) -> int:
    """How deep `[`/`{` nest (quotes not parsed: an overestimate, enough to refuse a bomb fast)."""
    depth = deepest = 0
    for ch in re.sub(r"[^\[\]{}]+", "", text):
        depth = depth + 1 if ch in "[{" else max(0, depth - 1)
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
    return deepest


def register(app: web.Application) -> None:
    r = app.router
    for kind in ("prompts", "knowledge"):
        r.add_get(f"/admin/{{kind:{kind}}}", list_items)
        r.add_get(f"/admin/{{kind:{kind}}}/{{name}}", get_item)
        r.add_put(f"/admin/{{kind:{kind}}}/{{name}}", put_item)
        r.add_post(f"/admin/{{kind:{kind}}}/{{name}}/rollback", rollback)
    r.add_get("/admin/{kind:config}", get_item)
    r.add_put("/admin/{kind:config}", put_item)
    r.add_post("/admin/{kind:config}/rollback", rollback)
    r.add_get("/admin/audit", audit_log)
    r.add_post("/admin/eval", run_eval)
