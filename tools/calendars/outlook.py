"""Outlook through Microsoft Graph, with app credentials (client credentials flow).

The token comes from msal's `ConfidentialClientApplication`, which is
synchronous and contacts the authority when built, so it is built lazily in
a thread (then kept) and every token request runs in a thread too; msal
caches the token until it nears expiry. Graph itself is called with aiohttp.

Every call is tried up to `attempts` times with exponential backoff when the
failure may pass: HTTP 429 (honouring Retry-After), 5xx, connection errors
and timeouts, a failed sign-in, and a 401 (the cached token is dropped
first). Any other answer, or the last failure, raises `CalendarError`.
Event creation sends a Graph `transactionId`, so a retried POST whose first
answer was lost does not create the event twice.

Secrets (the client secret, tokens) are never logged.
"""

from __future__ import annotations

import asyncio
import logging
import re
import ssl
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import aiohttp

from config.settings import OutlookSettings
from tools.calendars.base import CalendarError, Interval

log = logging.getLogger(__name__)

BUSY_STATUSES = {"busy", "tentative", "oof"}
MAX_RETRY_AFTER_S = 30.0


class _Retryable(Exception):
    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class OutlookCalendar:
    name = "outlook"

    def __init__(
        self,
        settings: OutlookSettings,
        *,
        session: aiohttp.ClientSession | None = None,
        verify: str | bool = True,
        attempts: int = 3,
        backoff_s: float = 0.5,
        timeout_s: float = 15.0,
    ) -> None:
        self.settings = settings
        self.verify = verify
        self.attempts = max(1, attempts)
        self.backoff_s = backoff_s
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session = session
        self._owns_session = session is None
        self._app: Any = None
        self._app_lock = asyncio.Lock()
        self._ssl: ssl.SSLContext | bool | None = None
        base = settings.graph_base_url.rstrip("/")
        self._user_url = f"{base}/users/{quote(settings.mailbox, safe='@.')}"
        parts = urlsplit(base)
        self._scope = f"{parts.scheme}://{parts.netloc}/.default"

    # -- the Calendar protocol ---------------------------------------------------

    async def busy(self, start: datetime, end: datetime) -> list[Interval]:
        body = {
            "schedules": [self.settings.mailbox],
            "startTime": _graph_time(start),
            "endTime": _graph_time(end),
            "availabilityViewInterval": 15,
        }
        data = await self._call("POST", "/calendar/getSchedule", json=body)
        out: list[Interval] = []
        for schedule in (data or {}).get("value", []):
            if schedule.get("error"):
                raise CalendarError(
                    f"Outlook free/busy failed: {schedule['error'].get('responseCode', 'error')}"
                )
            for item in schedule.get("scheduleItems", []):
                if str(item.get("status", "busy")).lower() not in BUSY_STATUSES:
                    continue
                a, b = _parse_graph_time(item["start"]), _parse_graph_time(item["end"])
                if a < end and b > start:
                    out.append((a, b))
        return sorted(out)

    async def create(
        self,
        *,
        start: datetime,
        end: datetime,
        subject: str,
        body: str,
        attendee_email: str | None,
        attendee_name: str | None,
    ) -> str:
        event: dict[str, Any] = {
            "subject": subject,
            "body": {"contentType": "text", "content": body},
            "start": _graph_time(start),
            "end": _graph_time(end),
            "transactionId": str(uuid.uuid4()),
        }
        if attendee_email:
            address = {"address": attendee_email, "name": attendee_name or attendee_email}
            event["attendees"] = [{"emailAddress": address, "type": "required"}]
        data = await self._call("POST", "/events", json=event)
        event_id = (data or {}).get("id")
        if not event_id:
            raise CalendarError("Outlook created no event id")
        return str(event_id)

    async def cancel(self, external_id: str) -> None:
        await self._call("DELETE", f"/events/{quote(external_id, safe='')}", missing_ok=True)

    async def reschedule(self, external_id: str, start: datetime, end: datetime) -> None:
        patch = {"start": _graph_time(start), "end": _graph_time(end)}
        await self._call("PATCH", f"/events/{quote(external_id, safe='')}", json=patch)

    async def close(self) -> None:
        if self._owns_session and self._session is not None:
            await self._session.close()
            self._session = None

    # -- HTTP with retries -----------------------------------------------------------

    async def _call(
        self, method: str, path: str, *, json: dict[str, Any] | None = None, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        last = "no attempt"
        for attempt in range(self.attempts):
            try:
                return await self._once(method, path, json=json, missing_ok=missing_ok)
            except _Retryable as exc:
                last = str(exc)
                if attempt + 1 == self.attempts:
                    break
                delay = exc.delay if exc.delay is not None else self.backoff_s * 2**attempt
                log.warning(
                    "Outlook %s %s failed (%s); retry %d in %.1fs", method, path, last, attempt + 1, delay
                )
                await asyncio.sleep(delay)
        raise CalendarError(f"Outlook unavailable after {self.attempts} attempts: {last}")

    async def _once(
        self, method: str, path: str, *, json: dict[str, Any] | None, missing_ok: bool
    ) -> dict[str, Any] | None:
        token = await self._token()
        session = await self._http()
        headers = {"Authorization": f"Bearer {token}", "Prefer": 'outlook.timezone="UTC"'}
        try:
            async with session.request(
                method, self._user_url + path, json=json, headers=headers, ssl=await self._ssl_context()
            ) as resp:
                if resp.status in (200, 201, 202):
                    try:
                        return await resp.json(content_type=None)
                    except ValueError as exc:
                        raise CalendarError(
                            f"Outlook sent an unreadable answer (HTTP {resp.status})"
                        ) from exc
                if resp.status == 204 or (resp.status == 404 and missing_ok):
                    return None
                code = await _error_code(resp)
                if resp.status == 401:
                    await self._forget_token()
                    raise _Retryable(f"HTTP 401 {code}")
                if resp.status == 429 or resp.status >= 500:
                    raise _Retryable(
                        f"HTTP {resp.status} {code}", _retry_after(resp.headers.get("Retry-After"))
                    )
                raise CalendarError(f"Outlook refused the request: HTTP {resp.status} {code}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise _Retryable(type(exc).__name__) from exc

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._owns_session = True
        return self._session

    async def _ssl_context(self) -> ssl.SSLContext | bool:
        if self._ssl is None:
            if isinstance(self.verify, str):
                self._ssl = await asyncio.to_thread(ssl.create_default_context, cafile=self.verify)
            else:
                self._ssl = True if self.verify else False
        return self._ssl

    # -- identity (msal, in threads) ---------------------------------------------------

    async def _token(self) -> str:
        app = await self._msal_app()
        try:
            result = await asyncio.to_thread(app.acquire_token_for_client, scopes=[self._scope])
        except Exception as exc:  # msal raises whatever its HTTP client raises
            raise _Retryable(f"sign-in failed: {type(exc).__name__}") from exc
        token = (result or {}).get("access_token")
        if not token:
            raise _Retryable(f"sign-in failed: {(result or {}).get('error', 'no token')}")
        return str(token)

    async def _msal_app(self) -> Any:
        async with self._app_lock:
            if self._app is None:
                try:
                    self._app = await asyncio.to_thread(self._build_msal_app)
                except Exception as exc:  # the authority was unreachable or refused us
                    raise _Retryable(f"sign-in failed: {type(exc).__name__}") from exc
            return self._app

    def _build_msal_app(self) -> Any:
        import msal  # imported here: only Outlook set-ups pay for it

        s = self.settings
        return msal.ConfidentialClientApplication(
            s.client_id,
            client_credential=s.client_secret.get_secret_value(),
            authority=f"{s.authority_url.rstrip('/')}/{s.tenant_id}",
            instance_discovery=False,
            http_client=_msal_http_client(self.verify, self.timeout.total),
        )

    async def _forget_token(self) -> None:
        if self._app is not None:
            await asyncio.to_thread(self._app.remove_tokens_for_client)


def _msal_http_client(verify: str | bool, timeout: float | None) -> Any:
    """A requests session for msal whose `verify` really applies.

    msal's own `verify=` is set on a requests.Session, and requests lets
    REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the environment override a
    session's `verify` (psf/requests#3829): with those set (common in
    containers) a private CA such as a test server's was ignored.
    """
    import requests

    class _Session(requests.Session):
        def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
            if kwargs.get("timeout") is None:
                kwargs["timeout"] = timeout
            return super().request(method, url, *args, **kwargs)

        def merge_environment_settings(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
            merged = super().merge_environment_settings(*args, **kwargs)
            if self.verify is not True:
                merged["verify"] = self.verify
            return merged

    session = _Session()
    session.verify = verify
    return session


def _graph_time(value: datetime) -> dict[str, str]:
    utc = value.astimezone(UTC).replace(tzinfo=None)
    return {"dateTime": utc.isoformat(timespec="seconds"), "timeZone": "UTC"}


def _parse_graph_time(value: dict[str, Any]) -> datetime:
    raw = re.sub(r"(\.\d{6})\d+", r"\1", str(value["dateTime"]))  # Graph sends 7 fractional digits
    parsed = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    if parsed.tzinfo is not None:
        return parsed
    name = value.get("timeZone") or "UTC"
    try:
        tz = UTC if name.upper() in ("UTC", "Z") else ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC  # a Windows zone name: we ask Graph for UTC, so this should not happen
    return parsed.replace(tzinfo=tz)


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER_S) if value else None
    except ValueError:
        return None


async def _error_code(resp: aiohttp.ClientResponse) -> str:
    try:
        data = await resp.json(content_type=None)
        return str(data.get("error", {}).get("code", "")) if isinstance(data, dict) else ""
    except (ValueError, aiohttp.ClientError):
        return ""
