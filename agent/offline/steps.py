"""What one model step produces: the reply text, or tool calls with unique ids."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Step:
    """The model's output for one step: tool calls (maybe with words), or the reply text."""

    text: str = ""
    calls: list[dict[str, Any]] = field(default_factory=list)


def call(tool: str, /, **args: Any) -> dict[str, Any]:
    """A tool call with a unique id; None-valued arguments are left out."""
    return {
        "name": tool,
        "args": {k: v for k, v in args.items() if v is not None},
        "id": f"call_{uuid.uuid4().hex}",
        "type": "tool_call",
    }


def swap_calls(old: str, new: dict[str, Any], quantity: int) -> list[dict[str, Any]]:
    """Another product for an open order's line: the new line is proposed, and the old one taken out only
    when the new one can be sold (a sold-out choice leaves the order as it was)."""
    calls = [call("register_sale", sku=str(new["sku"]), quantity=quantity)]
    if int(new.get("stock", 1) or 0) > 0:
        calls.append(call("register_sale", sku=old, quantity=0))
    return calls
