"""Replay suite: real webhook payloads written by third parties, delivered twice to the real daemon.

The bodies under `tests/replay/` come from the platforms' documentation and public client libraries'
test data (`tests/replay/SOURCES.yaml` says where each came from and what it should do). One daemon per
platform serves every case, against the fake Telegram Bot API / WhatsApp Cloud API; each case gets chats
of its own (ids rewritten consistently, see `isolate_*`), is POSTed like the platform does (signed /
secret header), settles, and is POSTed again (a redelivery). Per case we check: 2xx both times, the
inbound rows stored, how many of them got a reply on the platform, the events applied to rows that
existed before, that the redelivery changed nothing, and that nothing logged an ERROR.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import logging
import re
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml

from tests.conftest import Harness, make_settings, running
from tests.fakes import telegram_api as tg
from tests.fakes import whatsapp_api as wa
from tests.fakes.telegram_api import DEFAULT_BOT_ID, FakeTelegram
from tests.fakes.whatsapp_api import ACCESS_TOKEN, APP_SECRET, PHONE_NUMBER_ID, FakeWhatsApp

REPLAY = Path(__file__).resolve().parent / "replay"
CASES: list[dict[str, Any]] = yaml.safe_load((REPLAY / "SOURCES.yaml").read_text(encoding="utf-8"))["cases"]
TG_TOKEN = f"{DEFAULT_BOT_ID}:replay-token"
TG_SECRET = "replay-secret_token"
CONCURRENCY = 8
SETTLE_S = 3.0  # after the channel's jobs are done, how long an expected row or reply may still take
_BSUID = re.compile(r"^[A-Z]{2}\.")
_ANSWERED = ("sent", "delivered", "read")


def load(file: str) -> dict[str, Any]:
    return json.loads((REPLAY / file).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------------------------------- isolation


def _replace(value: Any, mapping: dict[Any, Any]) -> Any:
    """`value` with every string or int equal to a key of `mapping` replaced (bools left alone)."""
    if isinstance(value, dict):
        return {k: _replace(v, mapping) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, mapping) for v in value]
    if isinstance(value, str | int) and not isinstance(value, bool) and value in mapping:
        return mapping[value]
    return value


def _wa_values(payload: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for entry in payload.get("entry") or []:
        for change in entry.get("changes") or [] if isinstance(entry, dict) else []:
            value = change.get("value") if isinstance(change, dict) else None
            if isinstance(value, dict):
                yield value


def _wa_ids(payload: dict[str, Any]) -> tuple[set[str], set[str], set[str]]:
    """(phone-number-like ids, business-scoped user ids, message ids) of a WhatsApp body."""
    phones: set[str] = set()
    bsuids: set[str] = set()
    wamids: set[str] = set()
    for value in _wa_values(payload):
        for m in value.get("messages") or []:
            phones.add(m.get("from"))
            bsuids.add(m.get("from_user_id"))
            wamids.add(m.get("id"))
            wamids.add((m.get("context") or {}).get("id"))
            for key in ("reaction", "revoke", "edit"):
                body = m.get(key) or {}
                wamids.update((body.get("message_id"), body.get("original_message_id")))
        for c in value.get("contacts") or []:
            phones.add(c.get("wa_id"))
            bsuids.add(c.get("user_id"))
        for s in value.get("statuses") or []:
            phones.add(s.get("recipient_id"))
            bsuids.add(s.get("recipient_user_id"))
            wamids.add(s.get("id"))
    clean = lambda ids: {i for i in ids if isinstance(i, str) and i}  # noqa: E731
    return clean(phones), clean(bsuids), clean(wamids)


def isolate_whatsapp(payloads: list[dict[str, Any]], n: int) -> tuple[list[dict[str, Any]], set[str]]:
    """Fresh customer ids (digits, or `CC.<digits>` for business-scoped ids) and message ids for case `n`."""
    phones: set[str] = set()
    bsuids: set[str] = set()
    wamids: set[str] = set()
    for payload in payloads:
        p, b, w = _wa_ids(payload)
        phones |= p
        bsuids |= b
        wamids |= w
    mapping: dict[Any, Any] = {}
    for k, old in enumerate(sorted(phones - bsuids)):
        mapping[old] = f"59899{n:04d}{k:02d}"
    for k, old in enumerate(sorted(bsuids)):
        prefix = old[:2] if _BSUID.match(old) else "US"
        mapping[old] = f"{prefix}.7700{n:04d}{k:02d}"
    for old in wamids - set(mapping):
        mapping[old] = f"{old}.r{n}"
    customers = {v for k, v in mapping.items() if k in phones or k in bsuids}
    return [_replace(p, mapping) for p in payloads], customers


def _tg_collect(value: Any, ids: set[int], queries: set[str], key: str = "") -> None:
    if isinstance(value, dict):
        if isinstance(value.get("id"), int) and not isinstance(value.get("id"), bool) and any(
            k in value for k in ("first_name", "last_name", "type", "title", "is_bot", "username")
        ):
            ids.add(value["id"])
        for k in ("user_id", "user_chat_id"):
            if isinstance(value.get(k), int) and not isinstance(value.get(k), bool):
                ids.add(value[k])
        if key == "callback_query" and isinstance(value.get("id"), str):
            queries.add(value["id"])
        for k, v in value.items():
            _tg_collect(v, ids, queries, k)
    elif isinstance(value, list):
        for v in value:
            _tg_collect(v, ids, queries, key)


def isolate_telegram(payloads: list[dict[str, Any]], n: int) -> tuple[list[dict[str, Any]], set[str]]:
    """Fresh chat and user ids (never the fake bot's) and callback query ids for case `n`."""
    ids: set[int] = set()
    queries: set[str] = set()
    for payload in payloads:
        _tg_collect(payload, ids, queries)
    ids.discard(DEFAULT_BOT_ID)
    mapping: dict[Any, Any] = {}
    for k, old in enumerate(sorted(ids)):
        fresh = 8_000_000_000 + n * 100 + k
        mapping[old] = -(1_000_000_000_000 + fresh) if old < 0 else fresh
    for old in queries:
        mapping[old] = f"{old}-r{n}"
    chats = {str(v) for k, v in mapping.items() if isinstance(k, int)}
    return [_replace(p, mapping) for p in payloads], chats


def as_original(before: dict[str, Any], event: dict[str, Any]) -> dict[str, Any]:
    """`before` (a WhatsApp message) re-keyed as the original an edit/revoke `event` refers to."""
    before = copy.deepcopy(before)
    message = next(_wa_values(event))["messages"][0]
    original = (message.get(message.get("type")) or {}).get("original_message_id")
    value = next(_wa_values(before))
    value["messages"][0]["id"] = original
    value["messages"][0]["from"] = message.get("from")
    for contact in value.get("contacts") or []:
        contact["wa_id"] = message.get("from")
    return before


# ---------------------------------------------------------------------------------------------- observing


@dataclass
class Seen:
    status: int
    stored: int
    answered: int
    sends: int
    rows: dict[int, Any]


@dataclass
class Outcome:
    case: dict[str, Any]
    ids: set[str] = field(default_factory=set)
    first: Seen | None = None
    second: Seen | None = None
    events: int = 0
    errors: list[str] = field(default_factory=list)
    failure: str | None = None
    base: tuple[int, int] = (0, 0)


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


def _text_of(record: logging.LogRecord) -> str:
    """The record's message with its extras (chat ids, wamids), to tell which case it belongs to."""
    extras = {k: v for k, v in record.__dict__.items() if k not in _STANDARD}
    return f"{record.name}: {record.getMessage()} {extras} {record.exc_text or ''}"


@dataclass
class Platform:
    name: str
    harness: Harness
    deliver: Any
    sends: Any

    async def conversations(self, ids: set[str]) -> list[dict[str, Any]]:
        resp = await self.harness.client.get(
            "/admin/conversations", params={"channel": self.name, "limit": "500"}, headers=self.harness.admin
        )
        assert resp.status == 200, await resp.text()
        items = (await resp.json())["items"]
        mine = [c for c in items if c["chat_id"] in ids or c["chat_id"].split(":")[0] in ids]
        details = []
        for conv in mine:
            resp = await self.harness.client.get(
                f"/admin/conversations/{self.name}/{quote(conv['chat_id'], safe='')}", headers=self.harness.admin
            )
            assert resp.status == 200, await resp.text()
            details.append(await resp.json())
        return details

    async def observe(self, ids: set[str], status: int) -> Seen:
        stored = answered = 0
        rows: dict[int, Any] = {}
        for conv in await self.conversations(ids):
            messages = conv["messages"]
            for i, m in enumerate(messages):
                rows[m["id"]] = (m["text"], m["payload"], m["delivery_status"], m["kind"])
                if m["direction"] != "in":
                    continue
                stored += 1
                following = []
                for later in messages[i + 1 :]:
                    if later["direction"] == "in":
                        break
                    following.append(later)
                if any(r["author"] == "bot" and r["delivery_status"] in _ANSWERED for r in following):
                    answered += 1
        return Seen(status, stored, answered, self.sends(ids), rows)

    async def settle(self, ids: set[str], status: int, expect: dict[str, int]) -> Seen:
        """Once the channel's jobs are done, the rows and replies (waiting a little for expected ones)."""
        channel = self.harness.daemon.channels.get(self.name)
        await channel.inbox.join(timeout=20)
        deadline = time.monotonic() + SETTLE_S
        while True:
            seen = await self.observe(ids, status)
            if (seen.stored >= expect["stored"] and seen.answered >= expect["answered"]) or time.monotonic() > deadline:
                return seen
            await asyncio.sleep(0.05)


async def run_case(platform: Platform, case: dict[str, Any], n: int) -> Outcome:
    outcome = Outcome(case)
    try:
        payload = load(case["file"])
        befores = []
        for before in case.get("before") or []:
            body = load(before["file"])
            befores.append(as_original(body, payload) if before.get("as_original") else body)
        isolate = isolate_whatsapp if platform.name == "whatsapp" else isolate_telegram
        bodies, outcome.ids = isolate([*befores, payload], n)
        for body in bodies[:-1]:
            await platform.deliver(body)
        nothing = {"stored": 0, "answered": 0}
        before_rows = (await platform.settle(outcome.ids, 0, nothing)).rows if befores else {}
        base = await platform.observe(outcome.ids, 0)
        outcome.base = (base.stored, base.sends)
        outcome.first = await platform.settle(outcome.ids, await platform.deliver(bodies[-1]), case["expect"])
        outcome.second = await platform.settle(outcome.ids, await platform.deliver(bodies[-1]), case["expect"])
        for seen in (outcome.first, outcome.second):
            seen.stored -= base.stored
            seen.answered -= base.answered
            seen.sends -= base.sends
        outcome.events = sum(1 for k, v in before_rows.items() if outcome.second.rows.get(k, v) != v)
    except Exception as exc:  # reported by the case's own test
        outcome.failure = f"{type(exc).__name__}: {exc}"
    return outcome


@contextlib.asynccontextmanager
async def whatsapp_platform(data_dir: Path) -> AsyncIterator[Platform]:
    async with FakeWhatsApp() as fake:
        for case in CASES:
            if case["platform"] == "whatsapp":
                register_whatsapp_media(fake, load(case["file"]))
        settings = make_settings(
            data_dir,
            whatsapp_access_token=ACCESS_TOKEN,
            whatsapp_phone_number_id=PHONE_NUMBER_ID,
            whatsapp_app_secret=APP_SECRET,
            whatsapp_verify_token="replay-verify",
            whatsapp_api_base_url=fake.base_url,
        )
        async with running(settings) as h:
            url = str(h.client.make_url("/webhooks/whatsapp"))

            async def deliver(body: dict[str, Any]) -> int:
                return (await wa.post_webhook(url, body, APP_SECRET))[0]

            def sends(ids: set[str]) -> int:
                return sum(1 for b in fake.sent if b.get("recipient") in ids or b.get("to") in ids)

            yield Platform("whatsapp", h, deliver, sends)


@contextlib.asynccontextmanager
async def telegram_platform(data_dir: Path) -> AsyncIterator[Platform]:
    async with FakeTelegram(TG_TOKEN, max_poll_wait=1.0) as fake:
        for case in CASES:
            if case["platform"] == "telegram":
                register_telegram_files(fake, load(case["file"]))
        settings = make_settings(
            data_dir,
            telegram_bot_token=TG_TOKEN,
            telegram_base_url=fake.base_url,
            telegram_webhook_url="https://bot.example.test/webhooks/telegram",
            telegram_webhook_secret=TG_SECRET,
        )
        async with running(settings) as h:
            url = str(h.client.make_url("/webhooks/telegram"))

            async def deliver(body: dict[str, Any]) -> int:
                return (await tg.post_webhook(url, body, TG_SECRET))[0]

            def sends(ids: set[str]) -> int:
                return sum(
                    1 for method, params in fake.sent
                    if method.startswith("send") and method != "sendChatAction" and str(params.get("chat_id")) in ids
                )

            yield Platform("telegram", h, deliver, sends)


def _each_dict(value: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object inside a body, at any depth."""
    if isinstance(value, dict):
        yield value
        for v in value.values():
            yield from _each_dict(v)
    elif isinstance(value, list):
        for v in value:
            yield from _each_dict(v)


def register_whatsapp_media(fake: FakeWhatsApp, payload: dict[str, Any]) -> None:
    """The media a body refers to exist on the fake platform (as they do on Meta's)."""
    mimes = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/ogg", "document": "application/pdf",
             "sticker": "image/webp"}
    for value in _each_dict(payload):
        for kind, mime in mimes.items():
            media = value.get(kind)
            if isinstance(media, dict) and isinstance(media.get("id"), str | int):
                mime_type = media.get("mime_type") or mime
                fake.add_media(str(media["id"]), f"replay {kind} {media['id']}".encode(), mime_type)


def register_telegram_files(fake: FakeTelegram, payload: dict[str, Any]) -> None:
    """Every file a body refers to can be fetched with getFile from the fake Bot API."""
    for value in _each_dict(payload):
        if isinstance(value.get("file_id"), str) and value["file_id"]:
            fake.add_file(value["file_id"], f"replay file {value['file_id']}".encode())


async def replay_all(platform_name: str, data_dir: Path) -> tuple[dict[str, Outcome], list[str]]:
    log = ErrorLog()
    logging.getLogger().addHandler(log)
    try:
        factory = whatsapp_platform if platform_name == "whatsapp" else telegram_platform
        async with factory(data_dir) as platform:
            gate = asyncio.Semaphore(CONCURRENCY)

            async def one(n: int, case: dict[str, Any]) -> Outcome:
                async with gate:
                    return await run_case(platform, case, n)

            cases = [(n, c) for n, c in enumerate(CASES) if c["platform"] == platform_name]
            outcomes = await asyncio.gather(*(one(n, c) for n, c in cases))
            # A late duplicate (a sweep, a retry) shows up here: every case is looked at again at the end.
            for outcome in outcomes:
                if outcome.failure is None and outcome.second is not None:
                    final = await platform.observe(outcome.ids, outcome.second.status)
                    late = (final.stored - outcome.base[0] - outcome.second.stored,
                            final.sends - outcome.base[1] - outcome.second.sends)
                    if late != (0, 0):
                        outcome.failure = f"after settling: {late[0]} more rows stored, {late[1]} more sends"
    finally:
        logging.getLogger().removeHandler(log)
    unattributed = []
    for record in log.records:
        text = _text_of(record)
        owners = [o for o in outcomes if any(i in text for i in o.ids)]
        for owner in owners:
            owner.errors.append(text[:500])
        if not owners:
            unattributed.append(text[:500])
    return {o.case["file"]: o for o in outcomes}, unattributed


@pytest.fixture(scope="module")
def replayed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict[str, Outcome], list[str]]]:
    """Every case, replayed once per platform on one daemon (a plain loop of its own: module scope)."""
    return {
        name: asyncio.run(replay_all(name, tmp_path_factory.mktemp(f"replay-{name}") / "data"))
        for name in ("whatsapp", "telegram")
    }


@pytest.mark.timeout(300)
@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_replayed_payload(case: dict[str, Any], replayed: dict[str, tuple[dict[str, Outcome], list[str]]]) -> None:
    outcome = replayed[case["platform"]][0][case["file"]]
    assert outcome.failure is None, outcome.failure
    assert outcome.first is not None and outcome.second is not None
    expect = case["expect"]
    got = {
        "2xx both times": all(200 <= s.status < 300 for s in (outcome.first, outcome.second)),
        "stored": outcome.second.stored,
        "answered": outcome.second.answered,
        "events": outcome.events,
        "redelivery changed nothing": (outcome.first.stored, outcome.first.sends)
        == (outcome.second.stored, outcome.second.sends),
        "replies on the platform": bool(outcome.second.sends) == bool(outcome.second.answered),
        "errors logged": outcome.errors,
    }
    want = {
        "2xx both times": True,
        "stored": expect["stored"],
        "answered": expect["answered"],
        "events": expect["events"],
        "redelivery changed nothing": True,
        "replies on the platform": True,
        "errors logged": [],
    }
    assert got == want, f"{case['kind']} ({case['file']})"


@pytest.mark.timeout(300)
@pytest.mark.parametrize("platform", ["whatsapp", "telegram"])
def test_no_unattributed_errors(platform: str, replayed: dict[str, tuple[dict[str, Outcome], list[str]]]) -> None:
    assert replayed[platform][1] == []


def test_sources_cover_every_file() -> None:
    """Every body on disk is listed once with where it came from, and the suite is big enough."""
    listed = [c["file"] for c in CASES]
    on_disk = sorted(str(p.relative_to(REPLAY)) for p in REPLAY.glob("*/*.json"))
    assert sorted(listed) == on_disk and len(set(listed)) == len(listed)
    assert len(listed) >= 60
    for case in CASES:
        assert case["platform"] in ("whatsapp", "telegram") and case["kind"]
        assert {"repo", "path", "commit"} <= set(case["source"]) or "url" in case["source"], case["file"]
        assert set(case["expect"]) == {"stored", "answered", "events"}, case["file"]
