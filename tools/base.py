"""What a tool is: one self-contained unit (`Tool`) around a plain async function with typed arguments.

The function's docstring is the description the model sees; its first
argument is a pydantic model (the arguments the model may set) and its
second the run context (everything the model must not set). A tool returns
a `ToolOutcome`: JSON for the model plus, for actions that need the
customer's explicit "yes", a pending action that only the deterministic
confirmation step can commit.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, get_type_hints

from pydantic import BaseModel

if TYPE_CHECKING:
    from agent.offline.compose import Composer
    from agent.offline.turn import ToolResult


@dataclass
class ToolOutcome:
    data: dict[str, Any]
    pending: dict[str, Any] | None = None
    handoff: str | None = None
    ok: bool = True


ToolFn = Callable[[Any, Any], Awaitable[ToolOutcome]]
_SCHEMAS: dict[str, dict[str, Any]] = {}


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    args_model: type[BaseModel]
    fn: ToolFn = field(repr=False)

    def openai_schema(self) -> dict[str, Any]:
        """The function schema the model sees (computed once; the spec is immutable)."""
        cached = _SCHEMAS.get(self.name)
        if cached is None:
            params = self.args_model.model_json_schema()
            params.pop("title", None)
            params.pop("description", None)
            cached = _SCHEMAS[self.name] = {
                "type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": params},
            }
        return cached

    async def __call__(self, args: dict[str, Any], ctx: Any) -> ToolOutcome:
        return await self.fn(self.args_model.model_validate(args), ctx)


def tool(fn: ToolFn) -> ToolSpec:
    """Turn `async def name(args: Model, ctx) -> ToolOutcome` into a ToolSpec."""
    hints = get_type_hints(fn)
    first = next(iter(inspect.signature(fn).parameters))
    return ToolSpec(
        name=fn.__name__,
        description=inspect.cleandoc(fn.__doc__ or ""),
        args_model=hints[first],
        fn=fn,
    )


@dataclass(frozen=True)
class PendingHandler:
    """How a kind of pending action (sale, meeting) is offered, committed or declined.

    Only the graph's deterministic confirmation step calls `commit`, after
    the customer said yes; each returns the text to send (from prompts/).
    A commit may return a new pending action (e.g. stock fell meanwhile and a
    smaller order is offered instead) as the second element.
    """

    kind: str
    offer: Callable[[Any, dict[str, Any]], str]
    commit: Callable[[Any, dict[str, Any]], Awaitable[tuple[str, dict[str, Any] | None]]]
    decline: Callable[[Any, dict[str, Any]], str]


Focus = list[dict[str, Any]]


@dataclass(frozen=True)
class Tool:
    """One tool, whole: adding a tool is its module's `Tool(...)` plus one line in `tools/__init__.py`.

    - `spec`: the public function (name, description, argument schema, handler);
    - `awaiting`: how what it proposes is offered, committed on a yes, or declined;
    - `focus(data, focus)`: the products its result puts in front of the customer (None: unchanged);
    - `asks(data)`: the question its result puts to the customer (`agent.dialogue.Asked`), so the
      next message is read as the answer;
    - `profile(data)`: what its result says about the customer (`agent.dialogue.LeadProfile`);
    - `words(composer, result)`: the built-in model's skill, its result in the customer's words.
    """

    spec: ToolSpec
    awaiting: PendingHandler | None = None
    focus: Callable[[dict[str, Any], Focus], Focus | None] | None = None
    asks: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    profile: Callable[[dict[str, Any]], dict[str, Any] | None] | None = None
    words: Callable[[Composer, ToolResult], str] | None = None

    @property
    def name(self) -> str:
        return self.spec.name
