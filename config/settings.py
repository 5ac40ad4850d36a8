"""Process settings, read from the environment and `.env`.

One `Settings` object is built in `bot.py` and each section is handed to the
part that needs it. Names are the ones in PRODUCT.md (the vendors' usual
names where they exist); secrets are `SecretStr` so they never print.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _env(*names: str) -> AliasChoices:
    return AliasChoices(*names)


class TelegramSettings(BaseModel):
    token: SecretStr
    base_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    groups: bool = True  # answer in group chats (when addressed); False ignores groups entirely


class WhatsAppSettings(BaseModel):
    access_token: SecretStr
    phone_number_id: str
    app_secret: SecretStr | None = None
    verify_token: SecretStr | None = None
    api_base_url: str = "https://graph.facebook.com/v21.0"


class OutlookSettings(BaseModel):
    tenant_id: str
    client_id: str
    client_secret: SecretStr
    mailbox: str
    authority_url: str = "https://login.microsoftonline.com"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"


class BreakerSettings(BaseModel):
    """The model provider's circuit breaker (agent/breaker.py)."""

    failures: int = 3  # consecutive failed calls that open it (one that hangs half the turn budget does)
    cooldown_s: float = 30.0  # open this long, then one probe call
    probe_timeout_s: float = 5.0  # the probe's deadline


class LLMSettings(BaseModel):
    provider: Literal["offline", "openai", "gemini"]
    model: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    google_api_key: SecretStr | None = None
    gemini_base_url: str | None = None
    timeout_s: float = 30.0
    max_retries: int = 2
    fallback_offline: bool = True
    transcription_model: str | None = None
    # Total wait on the provider in one turn (all steps, attempts, backoff), and its circuit breaker;
    # None for the offline model, which runs in-process.
    turn_budget_s: float | None = None
    breaker: BreakerSettings | None = None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(Path("./data"), validation_alias=_env("BOT_DATA_DIR"))
    http_host: str = Field("127.0.0.1", validation_alias=_env("BOT_HTTP_HOST"))
    http_port: int = Field(8080, validation_alias=_env("BOT_HTTP_PORT"))
    admin_token: SecretStr | None = Field(None, validation_alias=_env("BOT_ADMIN_TOKEN"))
    database_url: str | None = Field(None, validation_alias=_env("BOT_DATABASE_URL"))
    config_path: Path | None = Field(None, validation_alias=_env("BOT_CONFIG"))
    prompts_dir: Path = Field(REPO_ROOT / "prompts", validation_alias=_env("BOT_PROMPTS_DIR"))
    knowledge_dir: Path | None = Field(None, validation_alias=_env("BOT_KNOWLEDGE_DIR"))
    timezone: str | None = Field(None, validation_alias=_env("BOT_TIMEZONE"))
    language: str | None = Field(None, validation_alias=_env("BOT_LANGUAGE"))
    demo_catalog: bool = Field(True, validation_alias=_env("BOT_DEMO_CATALOG"))
    log_level: str = Field("INFO", validation_alias=_env("BOT_LOG_LEVEL"))
    turn_timeout_s: float = Field(60.0, validation_alias=_env("BOT_TURN_TIMEOUT"))
    # How long a turn waits for its conversation's lock (or a database connection) before the
    # customer is told to wait a moment and the message is left for the sweep.
    lock_timeout_s: float = Field(20.0, gt=0, validation_alias=_env("BOT_LOCK_TIMEOUT"))
    # How long a statement waits for a pooled PostgreSQL connection (then: a busy reply, not a hang).
    db_pool_timeout_s: float = Field(10.0, gt=0, validation_alias=_env("BOT_DB_POOL_TIMEOUT"))
    # Stored but unanswered messages and unsent replies are taken up at start-up and by a sweep this often.
    sweep_interval_s: float = Field(30.0, gt=0, validation_alias=_env("BOT_SWEEP_INTERVAL"))
    sweep_grace_s: float = Field(60.0, ge=0, validation_alias=_env("BOT_SWEEP_GRACE"))

    llm_provider: Literal["offline", "openai", "gemini"] | None = Field(
        None, validation_alias=_env("BOT_LLM_PROVIDER")
    )
    llm_model: str | None = Field(None, validation_alias=_env("BOT_LLM_MODEL"))
    llm_timeout_s: float = Field(30.0, validation_alias=_env("BOT_LLM_TIMEOUT"))
    llm_max_retries: int = Field(2, validation_alias=_env("BOT_LLM_MAX_RETRIES"))
    llm_fallback_offline: bool = Field(True, validation_alias=_env("BOT_LLM_FALLBACK_OFFLINE"))
    # A hung provider costs one turn at most this long (then the fallback answers); after one such
    # hang, or BOT_LLM_BREAKER_FAILURES failed calls in a row, turns skip it for BOT_LLM_BREAKER_COOLDOWN
    # seconds, then one probe call (deadline BOT_LLM_BREAKER_PROBE_TIMEOUT) decides whether it is back.
    llm_turn_budget_s: float = Field(10.0, gt=0, validation_alias=_env("BOT_LLM_TURN_BUDGET"))
    llm_breaker_failures: int = Field(3, ge=1, validation_alias=_env("BOT_LLM_BREAKER_FAILURES"))
    llm_breaker_cooldown_s: float = Field(30.0, ge=0, validation_alias=_env("BOT_LLM_BREAKER_COOLDOWN"))
    llm_breaker_probe_timeout_s: float = Field(
        5.0, gt=0, validation_alias=_env("BOT_LLM_BREAKER_PROBE_TIMEOUT")
    )
    transcription_model: str | None = Field(None, validation_alias=_env("BOT_TRANSCRIPTION_MODEL"))
    openai_api_key: SecretStr | None = Field(None, validation_alias=_env("OPENAI_API_KEY"))
    openai_base_url: str | None = Field(None, validation_alias=_env("OPENAI_BASE_URL"))
    google_api_key: SecretStr | None = Field(None, validation_alias=_env("GOOGLE_API_KEY"))
    gemini_base_url: str | None = Field(None, validation_alias=_env("GEMINI_BASE_URL"))

    telegram_bot_token: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_BOT_TOKEN"))
    telegram_base_url: str | None = Field(None, validation_alias=_env("TELEGRAM_BASE_URL"))
    telegram_webhook_url: str | None = Field(None, validation_alias=_env("TELEGRAM_WEBHOOK_URL"))
    telegram_webhook_secret: SecretStr | None = Field(None, validation_alias=_env("TELEGRAM_WEBHOOK_SECRET"))
    telegram_groups: bool = Field(True, validation_alias=_env("TELEGRAM_GROUPS"))

    whatsapp_access_token: SecretStr | None = Field(None, validation_alias=_env("WHATSAPP_ACCESS_TOKEN"))
    whatsapp_phone_number_id: str | None = Field(None, validation_alias=_env("WHATSAPP_PHONE_NUMBER_ID"))
    whatsapp_app_secret: SecretStr | None = Field(None, validation_alias=_env("WHATSAPP_APP_SECRET"))
    whatsapp_verify_token: SecretStr | None = Field(None, validation_alias=_env("WHATSAPP_VERIFY_TOKEN"))
    whatsapp_api_base_url: str = Field(
        "https://graph.facebook.com/v21.0", validation_alias=_env("WHATSAPP_API_BASE_URL")
    )

    outlook_tenant_id: str | None = Field(None, validation_alias=_env("OUTLOOK_TENANT_ID"))
    outlook_client_id: str | None = Field(None, validation_alias=_env("OUTLOOK_CLIENT_ID"))
    outlook_client_secret: SecretStr | None = Field(None, validation_alias=_env("OUTLOOK_CLIENT_SECRET"))
    outlook_mailbox: str | None = Field(None, validation_alias=_env("OUTLOOK_MAILBOX"))
    outlook_authority_url: str = Field(
        "https://login.microsoftonline.com", validation_alias=_env("OUTLOOK_AUTHORITY_URL")
    )
    outlook_graph_base_url: str = Field(
        "https://graph.microsoft.com/v1.0", validation_alias=_env("OUTLOOK_GRAPH_BASE_URL")
    )

    # A client must send a request's headers within this many seconds (from the connection's
    # start or the first byte after the previous answer), and a body within the second one.
    http_header_timeout_s: float = Field(15.0, gt=0, validation_alias=_env("BOT_HTTP_HEADER_TIMEOUT"))
    http_body_timeout_s: float = Field(30.0, gt=0, validation_alias=_env("BOT_HTTP_BODY_TIMEOUT"))

    # -- derived sections -------------------------------------------------

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "mostrador.db"

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.sqlite_path}"

    @property
    def is_postgres(self) -> bool:
        return self.effective_database_url.startswith("postgresql")

    @property
    def effective_config_path(self) -> Path:
        return self.config_path or self.data_dir / "business.yaml"

    @property
    def effective_knowledge_dir(self) -> Path:
        return self.knowledge_dir or self.data_dir / "knowledge"

    @property
    def llm(self) -> LLMSettings:
        provider = self.llm_provider
        if provider is None:
            if self.openai_api_key:
                provider = "openai"
            elif self.google_api_key:
                provider = "gemini"
            else:
                provider = "offline"
        return LLMSettings(
            provider=provider,
            model=self.llm_model,
            openai_api_key=self.openai_api_key,
            openai_base_url=self.openai_base_url,
            google_api_key=self.google_api_key,
            gemini_base_url=self.gemini_base_url,
            timeout_s=self.llm_timeout_s,
            max_retries=self.llm_max_retries,
            fallback_offline=self.llm_fallback_offline,
            transcription_model=self.transcription_model,
            **self._provider_guard(provider),
        )

    def _provider_guard(self, provider: str) -> dict[str, object]:
        """A remote provider's turn budget and circuit breaker; the in-process offline model needs neither."""
        if provider == "offline":
            return {}
        breaker = BreakerSettings(
            failures=self.llm_breaker_failures,
            cooldown_s=self.llm_breaker_cooldown_s,
            probe_timeout_s=self.llm_breaker_probe_timeout_s,
        )
        return {"turn_budget_s": self.llm_turn_budget_s, "breaker": breaker}

    @property
    def telegram(self) -> TelegramSettings | None:
        if not self.telegram_bot_token:
            return None
        return TelegramSettings(
            token=self.telegram_bot_token,
            base_url=self.telegram_base_url,
            webhook_url=self.telegram_webhook_url,
            webhook_secret=self.telegram_webhook_secret,
            groups=self.telegram_groups,
        )

    @property
    def whatsapp(self) -> WhatsAppSettings | None:
        if not (self.whatsapp_access_token and self.whatsapp_phone_number_id):
            return None
        return WhatsAppSettings(
            access_token=self.whatsapp_access_token,
            phone_number_id=self.whatsapp_phone_number_id,
            app_secret=self.whatsapp_app_secret,
            verify_token=self.whatsapp_verify_token,
            api_base_url=self.whatsapp_api_base_url,
        )

    @property
    def outlook(self) -> OutlookSettings | None:
        required = (self.outlook_tenant_id, self.outlook_client_id, self.outlook_client_secret, self.outlook_mailbox)
        if not all(required):
            return None
        return OutlookSettings(
            tenant_id=self.outlook_tenant_id,
            client_id=self.outlook_client_id,
            client_secret=self.outlook_client_secret,
            mailbox=self.outlook_mailbox,
            authority_url=self.outlook_authority_url,
            graph_base_url=self.outlook_graph_base_url,
        )
