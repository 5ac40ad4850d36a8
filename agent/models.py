"""The one chat-model factory and the retry policy every model call goes through.

`make_chat_model` turns the `LLMSettings` section into a LangChain chat model:
ChatOpenAI (OpenAI or any OpenAI-compatible server), ChatGoogleGenerativeAI
(Gemini) or the built-in offline model. The SDKs are imported lazily so an
offline deployment never pays for them.

Retries are owned by `ainvoke_with_retries` (exponential backoff with jitter,
a per-attempt deadline, one place that decides what is retryable). A model
built for it should be made with `sdk_retries=False`: otherwise each of our
attempts hides the SDK's own retries (3 attempts x 3 SDK tries = 9 calls) and
the per-attempt deadline fires in the middle of an SDK backoff sleep.

A caller may also give a total `budget_s` for all attempts and backoff
sleeps: each attempt's deadline is capped by what is left of it, and a call
that runs out of it raises `BudgetExhausted` (a `TimeoutError`), so a hung
provider costs a turn the budget, not attempts x timeout.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import random
from collections.abc import Callable, Sequence
from typing import Any

from langchain_core.exceptions import ModelError
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import SecretStr

from config.settings import LLMSettings

log = logging.getLogger(__name__)

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"
DEFAULT_GEMINI_MODEL = "gemini-2.0-flash"
RETRYABLE_STATUS = frozenset({408, 409, 429})
# Local OpenAI-compatible servers (Ollama, LM Studio, vLLM) ignore the key,
# but the openai SDK refuses to start without one.
_UNUSED_KEY = "unused"


def make_chat_model(
    llm: LLMSettings,
    *,
    offline_factory: Callable[[], BaseChatModel],
    sdk_retries: bool = True,
) -> BaseChatModel:
    """Build the chat model the settings ask for.

    `sdk_retries=False` turns the SDK's own retries off; use it when calls go
    through `ainvoke_with_retries`. Gemini's `max_retries` counts attempts,
    not retries, so it is shifted by one here; 1 is the documented way to
    disable them (langchain-google-genai warns that 0 may mean "SDK default").
    """
    if llm.provider == "offline":
        return offline_factory()
    if llm.provider == "openai":
        from langchain_openai import ChatOpenAI

        key = llm.openai_api_key
        if key is None:
            if not llm.openai_base_url:
                raise ValueError("BOT_LLM_PROVIDER=openai needs OPENAI_API_KEY (or OPENAI_BASE_URL)")
            key = SecretStr(_UNUSED_KEY)
        return ChatOpenAI(
            model=llm.model or DEFAULT_OPENAI_MODEL,
            api_key=key,
            base_url=llm.openai_base_url,
            timeout=llm.timeout_s,
            max_retries=llm.max_retries if sdk_retries else 0,
            stream_usage=False,
        )
    if llm.provider == "gemini":
        from langchain_google_genai import ChatGoogleGenerativeAI

        if llm.google_api_key is None:
            raise ValueError("BOT_LLM_PROVIDER=gemini needs GOOGLE_API_KEY")
        extra: dict[str, Any] = {"base_url": llm.gemini_base_url} if llm.gemini_base_url else {}
        return ChatGoogleGenerativeAI(
            model=llm.model or DEFAULT_GEMINI_MODEL,
            google_api_key=llm.google_api_key,
            timeout=llm.timeout_s,
            max_retries=(llm.max_retries + 1) if sdk_retries else 1,
            **extra,
        )
    raise ValueError(f"unknown LLM provider {llm.provider!r}")


def model_name(model: Any) -> str:
    """A short, stable model name for metrics labels (no provider paths)."""
    while hasattr(model, "bound"):  # RunnableBinding from bind_tools()
        model = model.bound
    for attr in ("model_name", "model", "model_id"):
        value = getattr(model, attr, None)
        if isinstance(value, str) and value:
            return value.removeprefix("models/")
    llm_type = getattr(model, "_llm_type", None)
    return llm_type if isinstance(llm_type, str) else type(model).__name__


@functools.cache
def _transport_errors() -> tuple[type[BaseException], ...]:
    """Connection and timeout exception types of the HTTP stacks the SDKs use."""
    types: list[type[BaseException]] = [TimeoutError, ConnectionError]
    try:
        import aiohttp

        types += [aiohttp.ClientConnectionError, aiohttp.ServerTimeoutError, aiohttp.ClientPayloadError]
    except ImportError:  # pragma: no cover
        pass
    try:
        import httpx

        types.append(httpx.TransportError)
    except ImportError:  # pragma: no cover
        pass
    try:
        import openai

        types.append(openai.APIConnectionError)  # includes APITimeoutError
    except ImportError:  # pragma: no cover
        pass
    return tuple(types)


def _status_of(exc: BaseException) -> int | None:
    """The HTTP status an SDK exception carries, if any."""
    for attr in ("status_code", "status"):  # openai.APIStatusError, aiohttp.ClientResponseError
        value = getattr(exc, attr, None)
        if isinstance(value, int) and 100 <= value < 600:
            return value
    if type(exc).__module__.startswith("google.genai"):  # google.genai.errors.APIError
        code = getattr(exc, "code", None)
        if isinstance(code, int):
            return code
    response = getattr(exc, "response", None)  # httpx.HTTPStatusError
    code = getattr(response, "status_code", None)
    return code if isinstance(code, int) else None


def _chain(exc: BaseException, depth: int = 4) -> list[BaseException]:
    out: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(out) < depth and current not in out:
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def is_retryable(exc: BaseException) -> bool:
    """True for rate limits (429), server errors (5xx), timeouts and lost connections.

    Works for both SDKs, raw or wrapped by LangChain (wrappers are
    `langchain_core.exceptions.ModelError` subclasses with `is_retryable`).
    """
    for err in _chain(exc):
        status = _status_of(err)
        if status is not None:
            return status in RETRYABLE_STATUS or status >= 500
        if isinstance(err, ModelError):
            return err.is_retryable
        if isinstance(err, _transport_errors()):
            return True
    return False


def _retry_after(exc: BaseException) -> float | None:
    """The server's Retry-After in seconds, when it sent one."""
    headers = getattr(getattr(exc, "response", None), "headers", None)
    try:
        value = headers.get("retry-after") if headers is not None else None
        return float(value) if value is not None else None
    except (TypeError, ValueError, AttributeError):
        return None


class BudgetExhausted(TimeoutError):
    """The call's total budget ran out while waiting on the provider (it hung or is too slow)."""


def backoff_delay(attempt: int, base_delay: float, max_delay: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random."""
    ceiling = min(max_delay, base_delay * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


async def ainvoke_with_retries(
    runnable: Runnable[LanguageModelInput, Any],
    messages: LanguageModelInput | Sequence[Any],
    *,
    attempts: int = 3,
    base_delay: float = 0.5,
    timeout_s: float | None,
    max_delay: float = 8.0,
    budget_s: float | None = None,
    config: RunnableConfig | None = None,
) -> AIMessage:
    """Invoke a chat model, retrying retryable failures with backoff.

    Each attempt gets its own `timeout_s` deadline (a hung connection counts
    as a retryable failure), capped by what is left of `budget_s` when one is
    given; after `attempts` tries the last error is raised, and when the
    budget runs out `BudgetExhausted`. Only the exception type and HTTP
    status are logged: SDK messages may echo request details, and keys must
    never reach the logs.
    """
    loop = asyncio.get_running_loop()
    deadline = None if budget_s is None else loop.time() + budget_s
    attempts = max(1, attempts)
    for attempt in range(1, attempts + 1):
        limit, capped = _attempt_deadline(timeout_s, deadline, loop.time())
        if limit is not None and limit <= 0:
            raise BudgetExhausted(f"model budget of {budget_s:g}s used up")
        try:
            async with asyncio.timeout(limit) as scope:
                result = await runnable.ainvoke(messages, config=config)
        except Exception as exc:
            if capped and scope.expired():
                log.warning("model call ran out of its %.1fs budget (attempt %d)", budget_s, attempt)
                raise BudgetExhausted(f"model budget of {budget_s:g}s used up") from exc
            if attempt >= attempts or not is_retryable(exc):
                raise
            delay = backoff_delay(attempt, base_delay, max_delay)
            hinted = _retry_after(exc)
            if hinted is not None:
                delay = max(delay, min(hinted, max_delay))
            if deadline is not None and loop.time() + delay >= deadline:  # no budget for another try
                if scope.expired():  # and the provider hung: the budget went to waiting on it
                    raise BudgetExhausted(f"model budget of {budget_s:g}s used up") from exc
                raise
            log.warning(
                "model call failed (%s, status=%s), attempt %d/%d, retrying in %.2fs",
                type(exc).__name__,
                _status_of(exc),
                attempt,
                attempts,
                delay,
            )
            await asyncio.sleep(delay)
            continue
        if not isinstance(result, AIMessage):
            raise TypeError(f"expected an AIMessage from the model, got {type(result).__name__}")
        return result
    raise AssertionError("unreachable")  # pragma: no cover


def _attempt_deadline(
    timeout_s: float | None, deadline: float | None, now: float
) -> tuple[float | None, bool]:
    """One attempt's timeout, and whether the budget (not `timeout_s`) sets it."""
    if deadline is None:
        return timeout_s, False
    left = deadline - now
    if timeout_s is None or left < timeout_s:
        return left, True
    return timeout_s, False
