"""Nothing leaks, nothing is lost: message ids scoped to their chat, turns cut off and taken up again,
a sale committed whose reply was lost, a conversation too busy to answer now.

The crash states are made the way a crash leaves them: the database rows
and checkpoints as they stand at that instant, then a fresh daemon on the
same data dir (its start-up sweep) or the client's retry.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from sqlalchemy import delete, update

from storage.models import Message, Turn
from tests.conftest import SMALL_CATALOG, make_settings, running


async def test_message_id_is_scoped_to_its_chat(data_dir: Path) -> None:
    async with running(make_settings(data_dir)) as h:
        assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
        first = await h.say("chat-a", "¿tienen taladros?", message_id="m-1")
        second = await h.say("chat-b", "hello, do you sell cement?", message_id="m-1")
        assert "Taladro" in first[0]["text"]
        assert "Cemento" in second[0]["text"] and second != first  # answered on its own, not chat-a's replies
        assert await h.say("chat-a", "¿tienen taladros?", message_id="m-1") == first  # a retry is still one turn
        a, b = await h.conversation("chat-a"), await h.conversation("chat-b")
        assert [m["text"] for m in a["messages"] if m["direction"] == "in"] == ["¿tienen taladros?"]
        assert [m["text"] for m in b["messages"] if m["direction"] == "in"] == ["hello, do you sell cement?"]
        # The other chat's replies are never served, whatever id is asked for.
        resp = await h.client.get("/api/chat/chat-b/messages")
        assert all("Taladro" not in m["text"] for m in (await resp.json())["messages"])


async def _lose_reply(h, chat_id: str, message_id: str) -> None:
    """The state a crash leaves after the turn's checkpoint but before its replies were stored."""
    repos = h.daemon.services.repos
    conv = await repos.conversations.get("web", chat_id)
    inbound = await repos.messages.find(conv.id, "in", message_id)
    async with repos.db.transaction() as s:
        await s.execute(delete(Message).where(Message.reply_to_id == inbound.id))
        await s.execute(delete(Turn).where(Turn.inbound_message_id == inbound.id))
        await s.execute(update(Message).where(Message.id == inbound.id).values(turn_status="pending", attempts=1))


def _drop_latest_checkpoint(data_dir: Path, conversation_id: int) -> None:
    """The state a crash leaves after the sale's commit but before the turn's checkpoint."""
    with sqlite3.connect(data_dir / "checkpoints.db") as db:
        thread = f"conv-{conversation_id}"
        (latest,) = db.execute("SELECT max(checkpoint_id) FROM checkpoints WHERE thread_id = ?", (thread,)).fetchone()
        db.execute("DELETE FROM checkpoints WHERE thread_id = ? AND checkpoint_id = ?", (thread, latest))
        db.execute("DELETE FROM writes WHERE thread_id = ? AND checkpoint_id = ?", (thread, latest))


async def test_committed_sale_whose_reply_was_lost_is_confirmed_on_sweep_and_retry(data_dir: Path) -> None:
    settings = make_settings(data_dir)
    async with running(settings) as h:
        assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
        offer = await h.say("buyer", "quiero 2 martillos", message_id="b-1")
        assert offer[-1].get("buttons")
        done = await h.say("buyer", "sí", message_id="b-2")
        assert "Registré" in done[0]["text"]
        await _lose_reply(h, "buyer", "b-2")
    async with running(settings) as h:  # restart: the start-up sweep takes the message up again
        detail = await _settled(h, "buyer", 4)
        assert detail["messages"][-1]["text"] == done[0]["text"]  # the confirmation, not "what would you like?"
        assert len(detail["sales"]) == 1 and (await h.product("MART-16"))["stock"] == 5
        assert await h.say("buyer", "sí", message_id="b-2") == done  # the client's retry: the same answer

        # Earlier crash: the sale committed, the checkpoint (offer answered) never written.
        offer = await h.say("buyer2", "quiero 1 taladro", message_id="c-1")
        assert offer[-1].get("buttons")
        done = await h.say("buyer2", "dale, sí", message_id="c-2")
        assert "Registré" in done[0]["text"]
        conv = await h.daemon.services.repos.conversations.get("web", "buyer2")
        await _lose_reply(h, "buyer2", "c-2")
    _drop_latest_checkpoint(data_dir, conv.id)
    async with running(settings) as h:
        retried = await h.say("buyer2", "dale, sí", message_id="c-2")
        assert "Registré" in retried[0]["text"] and "#" in retried[0]["text"]
        detail = await h.conversation("buyer2")
        assert len(detail["sales"]) == 1 and (await h.product("TAL-650"))["stock"] == 2


async def _settled(h, chat_id: str, count: int) -> dict:
    for _ in range(200):
        resp = await h.client.get(f"/admin/conversations/web/{chat_id}", headers=h.admin)
        detail = await resp.json()
        if len(detail["messages"]) >= count:
            return detail
        await asyncio.sleep(0.05)
    raise AssertionError(f"{chat_id} never reached {count} messages: {detail['messages']}")


async def test_busy_conversation_gets_503_and_the_message_is_kept(data_dir: Path) -> None:
    async with running(make_settings(data_dir, lock_timeout_s=0.3)) as h:
        assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
        runtime = h.daemon.runtime
        async with runtime._locks("web:busy-chat"):  # a turn of this conversation that does not end
            resp = await h.client.post("/api/chat", json={"chat_id": "busy-chat", "text": "¿tienen cemento?",
                                                          "message_id": "x-1"})
            assert resp.status == 503 and resp.headers["Retry-After"].isdigit()
            body = await resp.json()
            assert body["replies"][0]["text"] and "error" in body
        detail = await h.conversation("busy-chat")
        assert [(m["text"], m["direction"]) for m in detail["messages"]] == [("¿tienen cemento?", "in")]
        replies = await h.say("busy-chat", "¿tienen cemento?", message_id="x-1")  # the page's retry
        assert "Cemento" in replies[0]["text"]
        swept = await runtime.sweep(older_than=runtime.clock())
        assert swept == {"turns": 0, "sends": 0}  # answered once: nothing left for the sweep
        detail = await h.conversation("busy-chat")
        assert [m["direction"] for m in detail["messages"]] == ["in", "out"]


async def test_busy_message_left_unretried_is_answered_by_the_sweep(data_dir: Path) -> None:
    async with running(make_settings(data_dir, lock_timeout_s=0.3)) as h:
        assert (await h.import_csv(SMALL_CATALOG))["status"] == 200
        runtime = h.daemon.runtime
        async with runtime._locks("web:gone"):
            resp = await h.client.post("/api/chat", json={"chat_id": "gone", "text": "hola", "message_id": "g-1"})
            assert resp.status == 503
        assert await runtime.sweep(older_than=runtime.clock()) == {"turns": 1, "sends": 0}  # no stored reply was unsent
        detail = await h.conversation("gone")
        assert [(m["direction"], m["delivery_status"]) for m in detail["messages"]] == [("in", None), ("out", "sent")]
        resp = await h.client.get("/api/chat/gone/messages")
        assert len((await resp.json())["messages"]) == 2  # the page's poll shows the late answer
