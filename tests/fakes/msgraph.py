"""A fake Microsoft identity platform (HTTPS) and Microsoft Graph calendar (HTTP).

msal only accepts https authorities, so the identity server runs TLS with a
throwaway CA generated at start. msal fetches exactly two things from it:
`GET /{tenant}/v2.0/.well-known/openid-configuration` (at construction) and
`POST /{tenant}/oauth2/v2.0/token`. Trust the CA in one of three ways:

- `verify=ms.ca_path`: only when REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE are
  unset, because requests lets those variables override a session's `verify`
  (psf/requests#3829), and msal's default client is such a session;
- `http_client=ms.msal_http_client()`: a requests session with `verify`
  set and `trust_env` off, which works whatever the environment says;
- `monkeypatch.setenv("REQUESTS_CA_BUNDLE", ms.ca_bundle_path)`: for code
  that builds msal itself; the bundle is the system CAs plus the fake's.

    async with FakeMicrosoft() as ms:
        app = msal.ConfidentialClientApplication(
            ms.client_id, client_credential=ms.client_secret, authority=ms.authority,
            instance_discovery=False, http_client=ms.msal_http_client())
        token = await asyncio.to_thread(
            app.acquire_token_for_client, scopes=["https://graph.microsoft.com/.default"])

Graph runs over plain HTTP at `graph_base_url` and checks that the bearer
token was issued by the identity half. It serves the calendar calls the
product uses (getSchedule, calendarView, events create/get/update/delete/
cancel), is case-insensitive in paths like Graph, and answers times in UTC
unless a `Prefer: outlook.timezone="..."` header names another zone.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import os
import re
import shutil
import socket
import ssl
import tempfile
import time
import uuid
from collections import deque
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests
from aiohttp import web
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = dt.UTC
GRAPH_SCOPE = "https://graph.microsoft.com/.default"

# Windows zone names Graph uses by default (a subset: the ones a Spanish- or
# English-speaking small business is likely to have); IANA names also work.
WINDOWS_ZONES = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "Romance Standard Time": "Europe/Madrid",
    "W. Europe Standard Time": "Europe/Berlin",
    "Canary Standard Time": "Atlantic/Canary",
    "Eastern Standard Time": "America/New_York",
    "Central Standard Time": "America/Chicago",
    "Mountain Standard Time": "America/Denver",
    "Pacific Standard Time": "America/Los_Angeles",
    "Central Standard Time (Mexico)": "America/Mexico_City",
    "SA Pacific Standard Time": "America/Bogota",
    "SA Western Standard Time": "America/La_Paz",
    "Argentina Standard Time": "America/Argentina/Buenos_Aires",
    "Pacific SA Standard Time": "America/Santiago",
    "E. South America Standard Time": "America/Sao_Paulo",
    "Venezuela Standard Time": "America/Caracas",
    "Central America Standard Time": "America/Guatemala",
    "Montevideo Standard Time": "America/Montevideo",
    "Paraguay Standard Time": "America/Asuncion",
}
_AVAILABILITY = {"free": "0", "workingelsewhere": "0", "tentative": "1", "busy": "2", "oof": "3"}


class GraphError(Exception):
    """Raised inside handlers; rendered as a Graph error body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# -- certificates -----------------------------------------------------------


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1 / localhost.

    Returns (ca.pem, server.pem, server.key). A separate CA keeps strict
    verifiers happy (a self-signed leaf that is its own CA is rejected by
    some OpenSSL builds in X509_STRICT mode).
    """
    now = dt.datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Mostrador test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(ca_ski, critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.IPv4Address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path, cert_path, key_path = directory / "ca.pem", directory / "server.pem", directory / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return ca_path, cert_path, key_path


# -- time helpers -----------------------------------------------------------


def zone(name: str | None) -> dt.tzinfo | None:
    """A Graph time zone name (Windows or IANA) as tzinfo; None if unknown."""
    if not name:
        return None
    name = name.strip()
    if name.upper() in ("UTC", "Z", "ETC/UTC", "GMT"):
        return UTC
    try:
        return ZoneInfo(WINDOWS_ZONES.get(name, name))
    except (ZoneInfoNotFoundError, ValueError):
        return None


def parse_datetime(value: str, tz: dt.tzinfo | None = UTC) -> dt.datetime:
    """Graph's ISO strings ("...T09:00:00.0000000", "...Z", "+01:00") as aware UTC."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    parsed = dt.datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=tz or UTC)
    return parsed.astimezone(UTC)


def format_datetime(moment: dt.datetime, tz_name: str) -> dict[str, str]:
    local = moment.astimezone(zone(tz_name) or UTC)
    return {"dateTime": local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": tz_name}


def _iso_now() -> str:
    return dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f0Z")


# -- the fake ---------------------------------------------------------------


class FakeMicrosoft:
    """Identity (client credentials) + Graph calendar for one tenant."""

    def __init__(
        self,
        *,
        tenant_id: str = "11111111-2222-3333-4444-555555555555",
        client_id: str = "client-id",
        client_secret: str = "client-secret",
        mailbox: str = "agenda@mostrador.test",
        token_lifetime: int = 3599,
    ) -> None:
        self.tenant_id = tenant_id
        self.client_id = client_id
        self.client_secret = client_secret
        self.mailbox = mailbox
        self.token_lifetime = token_lifetime
        self.mailboxes: set[str] = {mailbox.lower()}
        self.identity_requests: list[str] = []  # "GET /tenant/v2.0/.well-known/..." per request
        self.token_requests: list[dict[str, str]] = []  # token form bodies, secret removed
        self.graph_requests: list[tuple[str, str, Any]] = []  # (method, path?query, json body)
        self._events: list[dict[str, Any]] = []
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._failures: dict[str, deque[tuple[int, float | None]]] = {"token": deque(), "graph": deque()}
        self._down = False
        self._tmp: Path | None = None
        self._runners: list[web.AppRunner] = []
        self.identity_port = 0
        self.graph_port = 0

    # -- lifecycle ---------------------------------------------------------

    async def start(self) -> Self:
        self._tmp = Path(tempfile.mkdtemp(prefix="fake-msid-"))
        self._ca_path, cert, key = make_certificates(self._tmp)
        tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        tls.load_cert_chain(cert, key)

        identity = web.Application(middlewares=[self._identity_gate])
        identity.router.add_get("/{tenant}/v2.0/.well-known/openid-configuration", self._openid_configuration)
        identity.router.add_get("/common/discovery/instance", self._instance_discovery)
        identity.router.add_get("/{tenant}/discovery/v2.0/keys", self._keys)
        identity.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        graph = web.Application(middlewares=[self._graph_gate])
        graph.router.add_route("*", "/{tail:.*}", self._graph_dispatch)

        self.identity_port = await self._serve(identity, tls)
        self.graph_port = await self._serve(graph, None)
        return self

    async def _serve(self, app: web.Application, tls: ssl.SSLContext | None) -> int:
        runner = web.AppRunner(app, handler_cancellation=True, shutdown_timeout=0.5)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(runner, sock, ssl_context=tls).start()
        self._runners.append(runner)
        return sock.getsockname()[1]

    async def close(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- addresses ---------------------------------------------------------

    @property
    def ca_path(self) -> str:
        """PEM of the CA that signed the identity server's certificate."""
        return str(self._ca_path)

    @property
    def ca_bundle_path(self) -> str:
        """The system CA bundle plus the fake's CA, for REQUESTS_CA_BUNDLE."""
        assert self._tmp is not None, "start() first"
        bundle = self._tmp / "bundle.pem"
        if not bundle.exists():
            system = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE") or ""
            if not os.path.isfile(system):
                import certifi

                system = certifi.where()
            bundle.write_bytes(Path(system).read_bytes() + b"\n" + self._ca_path.read_bytes())
        return str(bundle)

    def msal_http_client(self) -> requests.Session:
        """A session for msal's `http_client=` that trusts the fake regardless of env vars."""
        session = requests.Session()
        session.verify = self.ca_path
        session.trust_env = False
        return session

    @property
    def authority_url(self) -> str:
        return f"https://127.0.0.1:{self.identity_port}"

    @property
    def authority(self) -> str:
        """`authority=` for msal: the authority URL plus the tenant."""
        return f"{self.authority_url}/{self.tenant_id}"

    @property
    def graph_base_url(self) -> str:
        return f"http://127.0.0.1:{self.graph_port}/v1.0"

    # -- test API ----------------------------------------------------------

    @property
    def events(self) -> list[dict[str, Any]]:
        """Stored events as Graph returns them (UTC), oldest start first."""
        ordered = sorted(self._events, key=lambda e: e["_start"])
        return [self._render(e, "UTC") for e in ordered]

    def add_busy(
        self,
        start: dt.datetime,
        end: dt.datetime,
        subject: str = "Ocupado",
        *,
        mailbox: str | None = None,
        show_as: str = "busy",
    ) -> dict[str, Any]:
        """Put an existing event in a calendar (naive datetimes are UTC)."""
        owner = (mailbox or self.mailbox).lower()
        self.mailboxes.add(owner)
        event = self._new_event(owner, {"subject": subject, "showAs": show_as})
        event["_start"] = start if start.tzinfo else start.replace(tzinfo=UTC)
        event["_end"] = end if end.tzinfo else end.replace(tzinfo=UTC)
        event["_start"], event["_end"] = event["_start"].astimezone(UTC), event["_end"].astimezone(UTC)
        self._events.append(event)
        return self._render(event, "UTC")

    def fail_next(
        self, service: str = "graph", status: int = 503, times: int = 1, *, retry_after: float | None = None
    ) -> None:
        """The next `times` requests to "token" or "graph" fail with `status`.

        Without `retry_after` no Retry-After header is sent; note that msal
        then caches a 5xx/429 token response for 5 seconds (its throttling).
        """
        if service not in self._failures:
            raise ValueError("service must be 'token' or 'graph'")
        self._failures[service].extend([(status, retry_after)] * times)

    def down(self) -> None:
        """Every request to either server gets 503 until `up()`."""
        self._down = True

    def up(self) -> None:
        self._down = False

    def revoke_tokens(self) -> None:
        """Invalidate every issued token (Graph answers 401 until a new one)."""
        self._tokens.clear()

    # -- identity ----------------------------------------------------------

    @web.middleware
    async def _identity_gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.identity_requests.append(f"{request.method} {request.path_qs}")
        if self._down:
            return self._aad_error(
                503, "temporarily_unavailable", "AADSTS90033: A transient error has occurred."
            )
        return await handler(request)

    def _check_tenant(self, tenant: str) -> web.Response | None:
        if tenant.lower() in (self.tenant_id.lower(), "organizations", "common"):
            return None
        return self._aad_error(
            400,
            "invalid_tenant",
            f"AADSTS90002: Tenant '{tenant}' not found. Check to make sure you have the "
            "correct tenant ID and are signing into the correct cloud.",
        )

    def _aad_error(self, status: int, error: str, description: str) -> web.Response:
        codes = [int(m) for m in re.findall(r"AADSTS(\d+)", description)]
        body = {
            "error": error,
            "error_description": f"{description}\r\nTrace ID: {uuid.uuid4()}\r\nCorrelation ID: {uuid.uuid4()}"
            f"\r\nTimestamp: {dt.datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
            "error_codes": codes,
            "timestamp": f"{dt.datetime.now(UTC):%Y-%m-%d %H:%M:%SZ}",
            "trace_id": str(uuid.uuid4()),
            "correlation_id": str(uuid.uuid4()),
        }
        return web.json_response(body, status=status)

    async def _openid_configuration(self, request: web.Request) -> web.Response:
        tenant = request.match_info["tenant"]
        if (problem := self._check_tenant(tenant)) is not None:
            return problem
        base = f"{self.authority_url}/{tenant}"
        return web.json_response(
            {
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "subject_types_supported": ["pairwise"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "issuer": f"{self.authority_url}/{self.tenant_id}/v2.0",
                "request_uri_parameter_supported": False,
                "userinfo_endpoint": f"{self.graph_base_url.removesuffix('/v1.0')}/oidc/userinfo",
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
                "http_logout_supported": True,
                "frontchannel_logout_supported": True,
                "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "auth_time",
                    "acr",
                    "nonce",
                    "preferred_username",
                    "name",
                    "tid",
                    "ver",
                    "at_hash",
                    "c_hash",
                    "email",
                ],
                "kerberos_endpoint": f"{base}/kerberos",
                "tenant_region_scope": "EU",
                "cloud_instance_name": "microsoftonline.com",
                "cloud_graph_host_name": "graph.windows.net",
                "msgraph_host": "graph.microsoft.com",
                "rbac_url": "https://pas.windows.net",
            }
        )

    async def _instance_discovery(self, request: web.Request) -> web.Response:
        """Served in case a client leaves msal's instance discovery on."""
        host = f"127.0.0.1:{self.identity_port}"
        return web.json_response(
            {
                "tenant_discovery_endpoint": f"{self.authority}/v2.0/.well-known/openid-configuration",
                "api-version": "1.1",
                "metadata": [{"preferred_network": host, "preferred_cache": host, "aliases": [host]}],
            }
        )

    async def _keys(self, request: web.Request) -> web.Response:
        return web.json_response({"keys": []})

    async def _token(self, request: web.Request) -> web.Response:
        if (problem := self._check_tenant(request.match_info["tenant"])) is not None:
            return problem
        form = dict(await request.post())
        form = {k: str(v) for k, v in form.items()}
        secret = form.pop("client_secret", None)
        if secret is None and request.headers.get("Authorization", "").startswith("Basic "):
            user, _, secret = base64.b64decode(request.headers["Authorization"][6:]).decode().partition(":")
            form.setdefault("client_id", user)
        self.token_requests.append(form)
        if self._failures["token"]:
            status, retry_after = self._failures["token"].popleft()
            response = self._aad_error(
                status,
                "temporarily_unavailable",
                "AADSTS50196: The server is temporarily unavailable. Try again.",
            )
            if retry_after is not None:
                response.headers["Retry-After"] = f"{retry_after:g}"
            return response
        if form.get("grant_type") != "client_credentials":
            return self._aad_error(
                400, "unsupported_grant_type", "AADSTS70003: The app requested an unsupported grant type."
            )
        if form.get("client_id") != self.client_id:
            return self._aad_error(
                400,
                "unauthorized_client",
                f"AADSTS700016: Application with identifier "
                f"'{form.get('client_id')}' was not found in the directory '{self.tenant_id}'.",
            )
        if secret != self.client_secret:
            return self._aad_error(
                401,
                "invalid_client",
                "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                f"sent in the request is the client secret value, not the client secret ID, for a secret added "
                f"to app '{self.client_id}'.",
            )
        scopes = form.get("scope", "").split()
        if len(scopes) != 1 or not scopes[0].endswith("/.default"):
            return self._aad_error(
                400,
                "invalid_scope",
                f"AADSTS1002012: The provided value for scope {form.get('scope')} is not "
                "valid. Client credential flows must have a scope value with /.default suffixed to the "
                "resource identifier (application ID URI).",
            )
        token = f"fake-graph-token-{uuid.uuid4().hex}"
        self._tokens[token] = time.monotonic() + self.token_lifetime
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_lifetime,
                "ext_expires_in": self.token_lifetime,
                "access_token": token,
            }
        )

    # -- graph: plumbing ---------------------------------------------------

    def _graph_error(self, status: int, code: str, message: str) -> web.Response:
        body = {
            "error": {
                "code": code,
                "message": message,
                "innerError": {
                    "date": dt.datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                    "request-id": str(uuid.uuid4()),
                    "client-request-id": str(uuid.uuid4()),
                },
            }
        }
        return web.json_response(body, status=status)

    @staticmethod
    async def _body(request: web.Request) -> Any:
        """The JSON body (aiohttp caches the bytes, so handlers may call it again)."""
        if not request.body_exists:
            return None
        try:
            return await request.json()
        except ValueError:
            return await request.text()

    @web.middleware
    async def _graph_gate(self, request: web.Request, handler: Any) -> web.StreamResponse:
        self.graph_requests.append((request.method, request.path_qs, await self._body(request)))
        if self._down:
            return self._graph_error(503, "ServiceNotAvailable", "The service is temporarily unavailable.")
        if self._failures["graph"]:
            status, retry_after = self._failures["graph"].popleft()
            codes = {429: "TooManyRequests", 500: "UnknownError", 502: "BadGateway", 504: "GatewayTimeout"}
            response = self._graph_error(
                status,
                codes.get(status, "ServiceNotAvailable"),
                "Injected failure from the fake Graph server.",
            )
            if retry_after is not None:
                response.headers["Retry-After"] = f"{retry_after:g}"
            return response
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            return self._graph_error(401, "InvalidAuthenticationToken", "Access token is empty.")
        expiry = self._tokens.get(auth[7:].strip())
        if expiry is None:
            return self._graph_error(401, "InvalidAuthenticationToken", "IDX14100: JWT is not well formed.")
        if expiry < time.monotonic():
            return self._graph_error(
                401, "InvalidAuthenticationToken", "Lifetime validation failed, the token is expired."
            )
        try:
            return await handler(request)
        except GraphError as exc:
            return self._graph_error(exc.status, exc.code, exc.message)

    def _prefer_zone(self, request: web.Request) -> str:
        match = re.search(r'outlook\.timezone\s*=\s*"([^"]+)"', request.headers.get("Prefer", ""), re.I)
        if match and zone(match.group(1)) is not None:
            return match.group(1)
        return "UTC"

    def _json(self, request: web.Request, payload: Any, status: int = 200) -> web.Response:
        response = web.json_response(payload, status=status)
        tz_name = self._prefer_zone(request)
        if tz_name != "UTC":
            response.headers["Preference-Applied"] = f'outlook.timezone="{tz_name}"'
        return response

    async def _graph_dispatch(self, request: web.Request) -> web.StreamResponse:
        parts = [p for p in request.path.split("/") if p]
        low = [p.lower() for p in parts]
        if not low or low[0] != "v1.0":
            raise GraphError(400, "BadRequest", f"Invalid version: {parts[0] if parts else ''}")
        if len(low) > 1 and low[1] == "me":
            raise GraphError(
                400, "BadRequest", "/me request is only valid with delegated authentication flow."
            )
        if len(low) < 4 or low[1] != "users":
            raise GraphError(400, "BadRequest", f"Resource not found for the segment '{parts[-1]}'.")
        owner = parts[2].lower()
        if owner not in self.mailboxes:
            raise GraphError(404, "ErrorInvalidUser", f"The requested user '{parts[2]}' is invalid.")
        rest = low[3:]
        if rest and rest[0] == "calendar" and len(rest) > 1:
            rest = rest[1:]  # /calendar/events == /events, /calendar/calendarView == /calendarView
        method = request.method
        body = await self._body(request)
        match rest:
            case ["getschedule"] | ["microsoft.graph.getschedule"] if method == "POST":
                return self._get_schedule(request, owner, body)
            case ["calendarview"] if method == "GET":
                return self._calendar_view(request, owner)
            case ["events"] if method == "POST":
                return self._create_event(request, owner, body)
            case ["events"] if method == "GET":
                events = sorted((e for e in self._events if e["_owner"] == owner), key=lambda e: e["_start"])
                return self._json(
                    request, {"value": [self._render(e, self._prefer_zone(request)) for e in events]}
                )
            case ["events", _]:
                return self._one_event(request, owner, parts[-1], body)
            case ["events", _, "cancel"] if method == "POST":
                event = self._find(owner, parts[-2])
                self._events.remove(event)
                return web.Response(status=202)
        raise GraphError(400, "BadRequest", f"Unsupported request: {method} {request.path}")

    # -- graph: calendar ---------------------------------------------------

    def _find(self, owner: str, event_id: str) -> dict[str, Any]:
        for event in self._events:
            if event["id"] == event_id and event["_owner"] == owner:
                return event
        raise GraphError(404, "ErrorItemNotFound", "The specified object was not found in the store.")

    @staticmethod
    def _read_dtz(value: Any, field: str) -> tuple[dt.datetime, str]:
        if not isinstance(value, dict) or not value.get("dateTime"):
            raise GraphError(
                400, "ErrorInvalidRequest", f"Your request can't be completed. '{field}' is required."
            )
        tz_name = value.get("timeZone") or "UTC"
        tz = zone(tz_name)
        if tz is None:
            raise GraphError(
                400,
                "TimeZoneNotSupportedException",
                f"A valid TimeZone value must be specified. The following TimeZone value is not supported: '{tz_name}'.",
            )
        try:
            return parse_datetime(value["dateTime"], tz), tz_name
        except ValueError as exc:
            raise GraphError(
                400, "ErrorInvalidRequest", f"Cannot convert the literal '{value['dateTime']}'."
            ) from exc

    def _new_event(self, owner: str, body: dict[str, Any]) -> dict[str, Any]:
        event_id = f"AAMkAG{uuid.uuid4().hex}{uuid.uuid4().hex[:16]}"
        now = _iso_now()
        return {
            "_owner": owner,
            "id": event_id,
            "createdDateTime": now,
            "lastModifiedDateTime": now,
            "changeKey": uuid.uuid4().hex[:20],
            "transactionId": body.get("transactionId"),
            "originalStartTimeZone": "UTC",
            "originalEndTimeZone": "UTC",
            "iCalUId": "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper(),
            "subject": body.get("subject", ""),
            "body": body.get("body") or {"contentType": "text", "content": ""},
            "showAs": body.get("showAs", "busy"),
            "isAllDay": bool(body.get("isAllDay", False)),
            "isCancelled": False,
            "isOrganizer": True,
            "location": {
                "displayName": "",
                "locationType": "default",
                "uniqueIdType": "unknown",
                **(body.get("location") or {}),
            },
            "attendees": [self._attendee(a) for a in body.get("attendees") or []],
            "organizer": {"emailAddress": {"name": owner, "address": owner}},
            "webLink": f"https://outlook.office365.com/owa/?itemid={quote(event_id)}&exvsurl=1&path=/calendar/item",
        }

    @staticmethod
    def _attendee(raw: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": raw.get("type", "required"),
            "status": {"response": "none", "time": "0001-01-01T00:00:00Z"},
            "emailAddress": dict(raw.get("emailAddress") or {}),
        }

    def _apply_times(self, event: dict[str, Any], body: dict[str, Any]) -> None:
        if "start" in body:
            event["_start"], event["originalStartTimeZone"] = self._read_dtz(body["start"], "start")
        if "end" in body:
            event["_end"], event["originalEndTimeZone"] = self._read_dtz(body["end"], "end")
        if event["_end"] < event["_start"]:
            raise GraphError(400, "ErrorInvalidRequest", "The end time must be after the start time.")

    def _render(self, event: dict[str, Any], tz_name: str) -> dict[str, Any]:
        out = {k: v for k, v in event.items() if not k.startswith("_")}
        out["@odata.etag"] = f'W/"{event["changeKey"]}"'
        content = str((event.get("body") or {}).get("content", ""))
        out["bodyPreview"] = re.sub(r"<[^>]+>", "", content)[:255]
        out["start"] = format_datetime(event["_start"], tz_name)
        out["end"] = format_datetime(event["_end"], tz_name)
        return out

    def _create_event(self, request: web.Request, owner: str, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        transaction = body.get("transactionId")
        if transaction:  # documented: avoids duplicates when a client retries a POST
            for event in self._events:
                if event["_owner"] == owner and event.get("transactionId") == transaction:
                    return self._json(request, self._render(event, self._prefer_zone(request)), status=201)
        for field in ("start", "end"):
            if field not in body:
                raise GraphError(
                    400, "ErrorInvalidRequest", f"Your request can't be completed. '{field}' is required."
                )
        event = self._new_event(owner, body)
        self._apply_times(event, body)
        self._events.append(event)
        return self._json(request, self._render(event, self._prefer_zone(request)), status=201)

    def _one_event(self, request: web.Request, owner: str, event_id: str, body: Any) -> web.StreamResponse:
        event = self._find(owner, event_id)
        if request.method == "GET":
            return self._json(request, self._render(event, self._prefer_zone(request)))
        if request.method == "DELETE":
            self._events.remove(event)
            return web.Response(status=204)
        if request.method != "PATCH":
            raise GraphError(405, "ErrorInvalidRequest", "The OData request is not supported.")
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        updated = dict(event)
        for key in ("subject", "body", "showAs", "isAllDay", "transactionId"):
            if key in body:
                updated[key] = body[key]
        if "location" in body:
            updated["location"] = {"displayName": "", "locationType": "default", **(body["location"] or {})}
        if "attendees" in body:
            updated["attendees"] = [self._attendee(a) for a in body["attendees"] or []]
        self._apply_times(updated, body)
        updated["lastModifiedDateTime"] = _iso_now()
        updated["changeKey"] = uuid.uuid4().hex[:20]
        self._events[self._events.index(event)] = updated
        return self._json(request, self._render(updated, self._prefer_zone(request)))

    def _window_param(self, request: web.Request, name: str) -> dt.datetime:
        value = next((v for k, v in request.query.items() if k.lower() == name.lower()), None)
        if value is None:
            raise GraphError(
                400,
                "ErrorInvalidParameter",
                "This request requires a time window specified by the "
                "query string parameters StartDateTime and EndDateTime.",
            )
        try:
            if " " in value.strip():  # an unencoded '+' offset arrives as a space
                raise ValueError(value)
            return parse_datetime(value)
        except ValueError as exc:
            raise GraphError(
                400, "ErrorInvalidParameter", f"The value '{value}' of parameter '{name}' is invalid."
            ) from exc

    def _calendar_view(self, request: web.Request, owner: str) -> web.Response:
        start = self._window_param(request, "startDateTime")
        end = self._window_param(request, "endDateTime")
        hits = sorted(
            (e for e in self._events if e["_owner"] == owner and e["_start"] < end and e["_end"] > start),
            key=lambda e: e["_start"],
        )
        top = next((v for k, v in request.query.items() if k.lower() == "$top"), None)
        if top and top.isdigit():
            hits = hits[: int(top)]
        tz_name = self._prefer_zone(request)
        context = f"https://graph.microsoft.com/v1.0/$metadata#users('{owner}')/calendarView"
        return self._json(
            request, {"@odata.context": context, "value": [self._render(e, tz_name) for e in hits]}
        )

    def _get_schedule(self, request: web.Request, owner: str, body: Any) -> web.Response:
        if not isinstance(body, dict):
            raise GraphError(400, "BadRequest", "Empty Payload. JSON content expected.")
        params = {k.lower(): v for k, v in body.items()}  # Graph accepts "Schedules" and "schedules"
        schedules = params.get("schedules")
        if not isinstance(schedules, list) or not schedules:
            raise GraphError(400, "ErrorInvalidParameter", "Schedules is required.")
        start, _ = self._read_dtz(params.get("starttime"), "startTime")
        end, _ = self._read_dtz(params.get("endtime"), "endTime")
        try:
            interval = int(params.get("availabilityviewinterval") or 30)
        except (TypeError, ValueError):
            interval = -1
        if not 5 <= interval <= 1440:
            raise GraphError(
                400, "ErrorInvalidParameter", "availabilityViewInterval must be between 5 and 1440."
            )
        tz_name = self._prefer_zone(request)
        slot = dt.timedelta(minutes=interval)
        value = []
        for address in schedules:
            who = str(address).lower()
            if who not in self.mailboxes:
                value.append(
                    {
                        "scheduleId": address,
                        "availabilityView": "",
                        "scheduleItems": [],
                        "error": {
                            "message": f"The recipient {address} could not be found.",
                            "responseCode": "ErrorMailRecipientNotFound",
                        },
                    }
                )
                continue
            items = sorted(
                (
                    e
                    for e in self._events
                    if e["_owner"] == who and e["_start"] < end and e["_end"] > start and not e["isCancelled"]
                ),
                key=lambda e: e["_start"],
            )
            view = []
            cursor = start
            while cursor < end:
                nxt = cursor + slot
                codes = [
                    _AVAILABILITY.get(e["showAs"].lower(), "2")
                    for e in items
                    if e["_start"] < nxt and e["_end"] > cursor
                ]
                view.append(max(codes, default="0"))
                cursor = nxt
            value.append(
                {
                    "scheduleId": address,
                    "availabilityView": "".join(view),
                    "scheduleItems": [
                        {
                            "isPrivate": False,
                            "status": e["showAs"][:1].upper()
                            + e["showAs"][1:],  # Graph answers "Busy", "Tentative"
                            "subject": e["subject"],
                            "location": e["location"].get("displayName", ""),
                            "isMeeting": bool(e["attendees"]),
                            "isRecurring": False,
                            "isException": False,
                            "isReminderSet": True,
                            "start": format_datetime(e["_start"], tz_name),
                            "end": format_datetime(e["_end"], tz_name),
                        }
                        for e in items
                    ],
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": tz_name},
                    },
                }
            )
        context = "https://graph.microsoft.com/v1.0/$metadata#Collection(microsoft.graph.scheduleInformation)"
        return self._json(request, {"@odata.context": context, "value": value})


async def _wait_forever() -> None:  # pragma: no cover - manual runs only
    async with FakeMicrosoft() as ms:
        print("authority", ms.authority, "graph", ms.graph_base_url, "ca", ms.ca_path)
        await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover
    asyncio.run(_wait_forever())
