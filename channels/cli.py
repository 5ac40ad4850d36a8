"""`python bot.py chat`: the terminal as a channel, same runtime and graph."""

from __future__ import annotations

import asyncio
import getpass
import sys
import uuid

from channels.base import InboundMessage, MessageHandler

PROMPT = "tú/you> "


async def run_cli(handler: MessageHandler, chat_id: str | None = None) -> None:
    chat_id = chat_id or f"cli-{getpass.getuser()}"
    interactive = sys.stdin.isatty()
    print("Mostrador chat. Ctrl-D para salir / Ctrl-D to quit.")
    while True:
        line = await asyncio.to_thread(_read_line, PROMPT if interactive else "")
        if line is None:
            break
        text = line.strip()
        if not text:
            continue
        msg = InboundMessage(channel="cli", chat_id=chat_id, message_id=uuid.uuid4().hex, text=text)
        result = await handler.handle(msg)
        for reply in result.replies:
            print(f"bot> {reply.text}")
            if reply.buttons:
                print("     [" + "] [".join(b.title for b in reply.buttons) + "]")


def _read_line(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None
