"""The SQLite checkpointer: what it serves from memory is exactly what is on disk."""

from __future__ import annotations

from pathlib import Path

from langchain_core.messages import AIMessage, HumanMessage
from langgraph.graph import START, StateGraph

from agent.checkpoints import DURABILITY, ThreadedSqliteSaver, prune
from agent.state import ConversationState


async def _reply(state: ConversationState) -> dict:
    text = state["messages"][-1].content
    return {"messages": [AIMessage(f"eco: {text}")], "pending": {"kind": "sale", "text": text}}


def _graph(saver: ThreadedSqliteSaver):
    graph = StateGraph(ConversationState)
    graph.add_node("reply", _reply)
    graph.add_edge(START, "reply")
    return graph.compile(checkpointer=saver)


def _same(memory, disk) -> None:
    assert memory.config == disk.config
    assert memory.checkpoint["id"] == disk.checkpoint["id"]
    assert memory.checkpoint["channel_values"] == disk.checkpoint["channel_values"]
    assert memory.checkpoint["channel_versions"] == disk.checkpoint["channel_versions"]
    assert memory.metadata == disk.metadata
    assert memory.parent_config == disk.parent_config
    assert list(memory.pending_writes) == list(disk.pending_writes)


async def test_latest_checkpoint_from_memory_equals_the_stored_one(tmp_path: Path) -> None:
    saver = await ThreadedSqliteSaver.open(tmp_path / "checkpoints.db")
    try:
        graph = _graph(saver)
        config = {"configurable": {"thread_id": "conv-1"}}
        for text in ("hola", "quiero 3", "sí"):
            await graph.ainvoke({"messages": [HumanMessage(text)]}, config, durability=DURABILITY)
            memory = await saver.aget_tuple(config)
            disk = saver.saver.get_tuple(config)
            assert memory is not None and disk is not None
            _same(memory, disk)
        state = await graph.aget_state(config)
        assert [m.content for m in state.values["messages"]][-2:] == ["sí", "eco: sí"]
        assert state.values["pending"] == {"kind": "sale", "text": "sí"}

        # An explicit, older checkpoint id is read from disk, not confused with the latest.
        older = [c async for c in saver.alist(config)][-1]
        assert (await saver.aget_tuple(older.config)).checkpoint["id"] == older.checkpoint["id"]

        # Pruning keeps the newest one; the memory copy stays right.
        await prune(saver, "conv-1")
        assert len([c async for c in saver.alist(config)]) == 1
        _same(await saver.aget_tuple(config), saver.saver.get_tuple(config))
    finally:
        await saver.close()


async def test_pending_writes_and_deletion_are_never_hidden_by_memory(tmp_path: Path) -> None:
    saver = await ThreadedSqliteSaver.open(tmp_path / "checkpoints.db")
    try:
        graph = _graph(saver)
        config = {"configurable": {"thread_id": "conv-2"}}
        await graph.ainvoke({"messages": [HumanMessage("hola")]}, config, durability=DURABILITY)
        latest = await saver.aget_tuple(config)
        await saver.aput_writes(latest.config, [("messages", [HumanMessage("a medias")])], task_id="t1")
        after = await saver.aget_tuple(config)
        assert [(task, channel) for task, channel, _ in after.pending_writes] == [("t1", "messages")]

        await saver.adelete_thread("conv-2")
        assert await saver.aget_tuple(config) is None
    finally:
        await saver.close()


async def test_a_restart_reads_the_same_state_from_disk(tmp_path: Path) -> None:
    path = tmp_path / "checkpoints.db"
    config = {"configurable": {"thread_id": "conv-3"}}
    saver = await ThreadedSqliteSaver.open(path)
    await _graph(saver).ainvoke({"messages": [HumanMessage("mandame 2")]}, config, durability=DURABILITY)
    before = await saver.aget_tuple(config)
    await saver.close()

    reopened = await ThreadedSqliteSaver.open(path)
    try:
        _same(before, await reopened.aget_tuple(config))
    finally:
        await reopened.close()
