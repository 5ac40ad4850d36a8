"""The fake OpenAI, Gemini and Microsoft servers, proven with the real clients.

Every test here talks to a fake through the vendor SDK exactly as the product
does (ChatOpenAI, ChatGoogleGenerativeAI, msal, aiohttp for Graph), so a fake
that drifts from the real wire format fails here first. The model factory
and the retry helper in `agent.models` are exercised against the same fakes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re

import aiohttp
import msal
import openai
import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langchain_google_genai import ChatGoogleGenerativeAI
from langchain_google_genai.chat_models import GoogleInvalidRequestError
from langchain_openai import ChatOpenAI
from pydantic import SecretStr

from agent.models import ainvoke_with_retries, is_retryable, make_chat_model, model_name
from config.settings import LLMSettings
from tests.fakes.gemini_api import FakeGemini
from tests.fakes.msgraph import GRAPH_SCOPE, FakeMicrosoft
from tests.fakes.openai_api import FakeOpenAI

# langchain-core's error metadata calls google-genai's aiohttp `response.json()`
# without awaiting it; harmless, but it warns at garbage collection.
pytestmark = pytest.mark.filterwarnings(
    "ignore:coroutine 'ClientResponse.json' was never awaited:RuntimeWarning"
)


def search_products(query: str, limit: int = 5) -> str:
    """Search the catalog by name or description."""
    return query


@pytest.fixture
async def openai_fake():
    async with FakeOpenAI() as fake:
        yield fake


@pytest.fixture
async def gemini_fake():
    async with FakeGemini() as fake:
        yield fake


@pytest.fixture
async def microsoft():
    async with FakeMicrosoft() as fake:
        yield fake


def _openai_settings(fake: FakeOpenAI, **extra) -> LLMSettings:
    return LLMSettings(
        provider="openai", openai_api_key=SecretStr("sk-test"), openai_base_url=fake.base_url, **extra
    )


def _gemini_settings(fake: FakeGemini, **extra) -> LLMSettings:
    return LLMSettings(
        provider="gemini", google_api_key=SecretStr("k"), gemini_base_url=fake.base_url, **extra
    )


# -- OpenAI ------------------------------------------------------------------


async def test_openai_tool_call_and_usage(openai_fake: FakeOpenAI) -> None:
    model = ChatOpenAI(base_url=openai_fake.base_url, api_key="sk-test", max_retries=0).bind_tools(
        [search_products]
    )
    openai_fake.push(
        FakeOpenAI.tool_call("search_products", {"query": "martillo"}, id="call_1"),
        FakeOpenAI.text("Tenemos martillos.", usage=(40, 5)),
    )

    first = await model.ainvoke([HumanMessage("¿Tienen martillos?")])
    assert first.tool_calls == [
        {"name": "search_products", "args": {"query": "martillo"}, "id": "call_1", "type": "tool_call"}
    ]
    assert first.usage_metadata and first.usage_metadata["total_tokens"] > 0
    assert first.response_metadata["finish_reason"] == "tool_calls"

    second = await model.ainvoke(
        [HumanMessage("¿Tienen martillos?"), first, ToolMessage("3 en stock", tool_call_id="call_1")]
    )
    assert second.content == "Tenemos martillos."
    assert second.usage_metadata == {
        "input_tokens": 40,
        "output_tokens": 5,
        "total_tokens": 45,
        "input_token_details": {"audio": 0, "cache_read": 0},
        "output_token_details": {"audio": 0, "reasoning": 0},
    }

    request = openai_fake.requests[0]
    assert request["tools"][0]["function"]["name"] == "search_products"
    assert openai_fake.requests[1]["messages"][-1] == {
        "content": "3 en stock",
        "role": "tool",
        "tool_call_id": "call_1",
    }


async def test_openai_streaming_and_parallel_tool_calls(openai_fake: FakeOpenAI) -> None:
    model = ChatOpenAI(base_url=openai_fake.base_url, api_key="sk-test", max_retries=0).bind_tools(
        [search_products]
    )
    openai_fake.push(
        [
            FakeOpenAI.tool_call("search_products", {"query": "a"}),
            FakeOpenAI.tool_call("search_products", {"query": "b"}),
        ]
    )
    chunks = [chunk async for chunk in model.astream([HumanMessage("a y b")])]
    merged = chunks[0]
    for chunk in chunks[1:]:
        merged += chunk
    assert [call["args"] for call in merged.tool_calls] == [{"query": "a"}, {"query": "b"}]


async def test_openai_rejects_bad_key_and_dangling_tool_calls(openai_fake: FakeOpenAI) -> None:
    wrong = ChatOpenAI(base_url=openai_fake.base_url, api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as info:
        await wrong.ainvoke("hola")
    assert not is_retryable(info.value)

    model = ChatOpenAI(base_url=openai_fake.base_url, api_key="sk-test", max_retries=0)
    dangling = AIMessage("", tool_calls=[{"name": "search_products", "args": {}, "id": "call_x"}])
    with pytest.raises(openai.BadRequestError, match="must be followed by tool messages"):
        await model.ainvoke([HumanMessage("hola"), dangling, HumanMessage("¿y?")])


# -- Gemini ------------------------------------------------------------------


async def test_gemini_function_call_and_usage(gemini_fake: FakeGemini) -> None:
    model = ChatGoogleGenerativeAI(
        model="gemini-2.0-flash", google_api_key="k", base_url=gemini_fake.base_url, max_retries=1
    ).bind_tools([search_products])
    gemini_fake.push(FakeGemini.tool_call("search_products", {"query": "taladro"}), "Hay 2 taladros.")

    first = await model.ainvoke([HumanMessage("¿Taladros?")])
    assert [(c["name"], c["args"]) for c in first.tool_calls] == [("search_products", {"query": "taladro"})]
    assert first.usage_metadata and first.usage_metadata["total_tokens"] == (
        first.usage_metadata["input_tokens"] + first.usage_metadata["output_tokens"]
    )

    reply = ToolMessage("2 en stock", tool_call_id=first.tool_calls[0]["id"], name="search_products")
    second = await model.ainvoke([HumanMessage("¿Taladros?"), first, reply])
    assert second.content == "Hay 2 taladros."

    # google-genai 3.x calls v1, older releases v1beta; the real API serves both.
    assert re.fullmatch(r"/v1(beta)?/models/gemini-2\.0-flash:generateContent", gemini_fake.paths[0])
    declared = gemini_fake.requests[0]["tools"][0]["functionDeclarations"][0]
    assert declared["name"] == "search_products"
    parts = gemini_fake.requests[1]["contents"][-1]["parts"]
    assert parts[0]["functionResponse"]["name"] == "search_products"


async def test_gemini_streaming_and_bad_key(gemini_fake: FakeGemini) -> None:
    model = ChatGoogleGenerativeAI(
        model="gemini-2.0-flash", google_api_key="k", base_url=gemini_fake.base_url, max_retries=1
    )
    gemini_fake.push("texto en streaming")
    text = "".join([str(chunk.content) async for chunk in model.astream("hola")])
    assert text == "texto en streaming"
    assert gemini_fake.paths[-1].endswith(":streamGenerateContent?alt=sse")

    wrong = ChatGoogleGenerativeAI(
        model="gemini-2.0-flash", google_api_key="nope", base_url=gemini_fake.base_url, max_retries=1
    )
    with pytest.raises(GoogleInvalidRequestError, match="API key not valid") as info:
        await wrong.ainvoke("hola")
    assert not is_retryable(info.value)


# -- the factory ---------------------------------------------------------------


async def test_make_chat_model_each_provider(openai_fake: FakeOpenAI, gemini_fake: FakeGemini) -> None:
    offline = GenericFakeChatModel(messages=iter([AIMessage("modo offline")]))
    factory = lambda: offline  # noqa: E731

    openai_model = make_chat_model(_openai_settings(openai_fake, timeout_s=7), offline_factory=factory)
    assert isinstance(openai_model, ChatOpenAI)
    assert (openai_model.model_name, openai_model.request_timeout, openai_model.max_retries) == (
        "gpt-4o-mini",
        7,
        2,
    )
    assert openai_model.stream_usage is False
    openai_fake.push("hola desde openai")
    assert (await openai_model.ainvoke("hola")).content == "hola desde openai"
    assert (
        make_chat_model(_openai_settings(openai_fake), offline_factory=factory, sdk_retries=False).max_retries
        == 0
    )

    gemini_model = make_chat_model(
        _gemini_settings(gemini_fake, model="gemini-2.5-flash"), offline_factory=factory
    )
    assert isinstance(gemini_model, ChatGoogleGenerativeAI)
    assert gemini_model.max_retries == 3  # Gemini counts attempts: 2 retries = 3 attempts
    gemini_fake.push("hola desde gemini")
    assert (await gemini_model.ainvoke("hola")).content == "hola desde gemini"
    assert gemini_fake.models == ["gemini-2.5-flash"]
    assert (
        make_chat_model(_gemini_settings(gemini_fake), offline_factory=factory, sdk_retries=False).max_retries
        == 1
    )

    assert make_chat_model(LLMSettings(provider="offline"), offline_factory=factory) is offline

    assert model_name(openai_model) == "gpt-4o-mini"
    assert model_name(gemini_model.bind_tools([search_products])) == "gemini-2.5-flash"
    assert model_name(offline) == "generic-fake-chat-model"
    with pytest.raises(ValueError, match="GOOGLE_API_KEY"):
        make_chat_model(LLMSettings(provider="gemini"), offline_factory=factory)


# -- retries -------------------------------------------------------------------


async def test_retries_after_two_server_errors(
    openai_fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    model = make_chat_model(
        _openai_settings(openai_fake), offline_factory=GenericFakeChatModel, sdk_retries=False
    )
    openai_fake.fail_next(500, times=2)
    openai_fake.push("por fin")
    with caplog.at_level(logging.WARNING, logger="agent.models"):
        reply = await ainvoke_with_retries(model, [HumanMessage("hola")], base_delay=0.01, timeout_s=5)
    assert reply.content == "por fin"
    assert len(openai_fake.requests) == 3
    assert caplog.text.count("retrying") == 2 and "sk-test" not in caplog.text


async def test_gives_up_after_persistent_errors(openai_fake: FakeOpenAI) -> None:
    model = make_chat_model(
        _openai_settings(openai_fake), offline_factory=GenericFakeChatModel, sdk_retries=False
    )
    openai_fake.fail_next(500, times=10)
    with pytest.raises(openai.InternalServerError) as info:
        await ainvoke_with_retries(model, "hola", attempts=3, base_delay=0.01, timeout_s=5)
    assert is_retryable(info.value)
    assert len(openai_fake.requests) == 3


async def test_does_not_retry_client_errors(openai_fake: FakeOpenAI) -> None:
    model = make_chat_model(
        _openai_settings(openai_fake), offline_factory=GenericFakeChatModel, sdk_retries=False
    )
    openai_fake.fail_next(400)
    with pytest.raises(openai.BadRequestError):
        await ainvoke_with_retries(model, "hola", base_delay=0.01, timeout_s=5)
    assert len(openai_fake.requests) == 1


async def test_slow_attempt_times_out_and_is_retried(openai_fake: FakeOpenAI) -> None:
    model = make_chat_model(
        _openai_settings(openai_fake), offline_factory=GenericFakeChatModel, sdk_retries=False
    )
    openai_fake.delay_next(5.0)
    openai_fake.push("a tiempo")
    started = asyncio.get_running_loop().time()
    reply = await ainvoke_with_retries(model, "hola", base_delay=0.01, timeout_s=0.5)
    assert reply.content == "a tiempo"
    assert len(openai_fake.requests) == 2
    assert asyncio.get_running_loop().time() - started < 3


async def test_gemini_rate_limit_then_success(gemini_fake: FakeGemini) -> None:
    model = make_chat_model(
        _gemini_settings(gemini_fake), offline_factory=GenericFakeChatModel, sdk_retries=False
    )
    gemini_fake.fail_next(429)
    gemini_fake.fail_next(503)
    gemini_fake.push("hola")
    reply = await ainvoke_with_retries(model, "hola", base_delay=0.01, timeout_s=5)
    assert reply.content == "hola" and len(gemini_fake.requests) == 3


def test_is_retryable_classification() -> None:
    assert is_retryable(TimeoutError())
    assert is_retryable(ConnectionResetError())
    assert is_retryable(aiohttp.ServerDisconnectedError())
    assert not is_retryable(ValueError("bad"))
    try:
        try:
            raise ConnectionRefusedError()
        except ConnectionRefusedError as inner:
            raise RuntimeError("wrapped") from inner
    except RuntimeError as outer:
        assert is_retryable(outer)


# -- Microsoft identity + Graph ----------------------------------------------


def _msal_app(ms: FakeMicrosoft, **trust) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        ms.client_id,
        client_credential=ms.client_secret,
        authority=ms.authority,
        instance_discovery=False,
        **trust,
    )


@pytest.mark.parametrize("trust", ["http_client", "verify", "env"])
async def test_msal_acquires_token(
    microsoft: FakeMicrosoft, monkeypatch: pytest.MonkeyPatch, trust: str
) -> None:
    if trust == "http_client":
        kwargs = {"http_client": microsoft.msal_http_client()}
    elif trust == "verify":  # requests lets these variables override `verify=`
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
        kwargs = {"verify": microsoft.ca_path}
    else:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", microsoft.ca_bundle_path)
        kwargs = {}
    app = await asyncio.to_thread(_msal_app, microsoft, **kwargs)
    result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    assert result["token_type"] == "Bearer" and result["expires_in"] == 3599, result.get("error")
    assert microsoft.identity_requests == [
        f"GET /{microsoft.tenant_id}/v2.0/.well-known/openid-configuration",
        f"POST /{microsoft.tenant_id}/oauth2/v2.0/token",
    ]
    assert microsoft.token_requests[0]["grant_type"] == "client_credentials"
    again = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    assert again["token_source"] == "cache" and len(microsoft.token_requests) == 1


async def test_msal_token_errors(microsoft: FakeMicrosoft) -> None:
    bad = await asyncio.to_thread(
        msal.ConfidentialClientApplication,
        microsoft.client_id,
        client_credential="wrong",
        authority=microsoft.authority,
        instance_discovery=False,
        http_client=microsoft.msal_http_client(),
    )
    result = await asyncio.to_thread(bad.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    assert result["error"] == "invalid_client"

    app = await asyncio.to_thread(_msal_app, microsoft, http_client=microsoft.msal_http_client())
    microsoft.fail_next("token", 503, retry_after=0)
    with pytest.raises(msal.exceptions.MsalServiceError):  # msal raises on 5xx, returns a dict on 4xx
        await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    assert "access_token" in result


async def _token(ms: FakeMicrosoft) -> str:
    app = await asyncio.to_thread(_msal_app, ms, http_client=ms.msal_http_client())
    result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[GRAPH_SCOPE])
    return result["access_token"]


async def test_graph_calendar_roundtrip(microsoft: FakeMicrosoft) -> None:
    token = await _token(microsoft)
    microsoft.add_busy(
        dt.datetime(2030, 5, 7, 9, tzinfo=dt.UTC), dt.datetime(2030, 5, 7, 10, tzinfo=dt.UTC), "Reparto"
    )
    headers = {"Authorization": f"Bearer {token}", "Prefer": 'outlook.timezone="Europe/Madrid"'}
    user = f"{microsoft.graph_base_url}/users/{microsoft.mailbox}"
    new_event = {
        "subject": "Visita: Ana",
        "start": {"dateTime": "2030-05-07T16:00:00", "timeZone": "Romance Standard Time"},
        "end": {"dateTime": "2030-05-07T16:30:00", "timeZone": "Romance Standard Time"},
        "attendees": [{"emailAddress": {"address": "ana@example.com", "name": "Ana"}, "type": "required"}],
    }
    async with aiohttp.ClientSession(headers=headers) as http:
        async with http.post(f"{user}/events", json=new_event) as response:
            assert response.status == 201
            created = await response.json()
        assert created["start"] == {"dateTime": "2030-05-07T16:00:00.0000000", "timeZone": "Europe/Madrid"}
        assert (
            created["webLink"].startswith("https://")
            and created["attendees"][0]["emailAddress"]["name"] == "Ana"
        )
        assert [e["id"] for e in microsoft.events if e["subject"] == "Visita: Ana"] == [created["id"]]
        assert (
            microsoft.events[-1]["start"]["dateTime"] == "2030-05-07T14:00:00.0000000"
        )  # stored view is UTC

        window = {"dateTime": "2030-05-07T08:00:00", "timeZone": "Europe/Madrid"}
        schedule = {
            "schedules": [microsoft.mailbox],
            "startTime": window,
            "endTime": {**window, "dateTime": "2030-05-07T18:00:00"},
            "availabilityViewInterval": 60,
        }
        async with http.post(f"{user}/calendar/getSchedule", json=schedule) as response:
            info = (await response.json())["value"][0]
        assert info["availabilityView"] == "0002000020"
        assert [item["subject"] for item in info["scheduleItems"]] == ["Reparto", "Visita: Ana"]

        params = {"startDateTime": "2030-05-07T00:00:00+02:00", "endDateTime": "2030-05-08T00:00:00+02:00"}
        async with http.get(f"{user}/calendarView", params=params) as response:
            assert [e["subject"] for e in (await response.json())["value"]] == ["Reparto", "Visita: Ana"]

        async with http.patch(
            f"{user}/events/{created['id']}", json={"subject": "Visita: Ana G."}
        ) as response:
            assert response.status == 200
        async with http.delete(f"{user}/events/{created['id']}") as response:
            assert response.status == 204
        assert [e["subject"] for e in microsoft.events] == ["Reparto"]

        microsoft.fail_next("graph", 503)
        async with http.get(f"{user}/calendarView", params=params) as response:
            assert response.status == 503
        microsoft.down()
        async with http.get(f"{user}/calendarView", params=params) as response:
            assert response.status == 503
        microsoft.up()
        async with http.get(
            f"{user}/calendarView", params=params, headers={"Authorization": "Bearer forged"}
        ) as response:
            assert response.status == 401
            assert (await response.json())["error"]["code"] == "InvalidAuthenticationToken"
