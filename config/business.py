"""The owner-editable business/tool config: schema, loading and validation.

The file is YAML or JSON on disk (`BOT_CONFIG`, by default
`<data dir>/business.yaml`, seeded from `config/business.example.yaml`).
It is validated as a whole: a bad edit is refused and the running version
stays.
"""

from __future__ import annotations

import json
import re
from datetime import time
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

EXAMPLE_PATH = Path(__file__).with_name("business.example.yaml")

ToolName = Literal[
    "search_products",
    "register_sale",
    "schedule_meeting",
    "qualify_lead",
    "generate_insights",
    "search_knowledge",
    "handoff_to_human",
]
ALL_TOOLS: tuple[str, ...] = ToolName.__args__  # type: ignore[attr-defined]
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MeetingConfig(_Strict):
    duration_minutes: int = Field(30, ge=5, le=480)
    slot_step_minutes: int = Field(30, ge=5, le=240)
    min_notice_minutes: int = Field(60, ge=0)
    max_days_ahead: int = Field(60, ge=1, le=365)
    alternatives: int = Field(3, ge=1, le=10)


class LeadConfig(_Strict):
    threshold: int = Field(60, ge=0, le=100)
    weights: dict[str, int] = Field(
        default_factory=lambda: {
            "name": 10,
            "email": 15,
            "phone": 10,
            "company": 15,
            "need": 15,
            "budget": 15,
            "timeline": 10,
            "authority": 10,
        }
    )

    @field_validator("weights")
    @classmethod
    def _known_weights(cls, value: dict[str, int]) -> dict[str, int]:
        known = {"name", "email", "phone", "company", "need", "budget", "timeline", "authority"}
        unknown = set(value) - known
        if unknown:
            raise ValueError(f"unknown lead weight(s): {sorted(unknown)}; known: {sorted(known)}")
        if any(w < 0 for w in value.values()):
            raise ValueError("lead weights must be >= 0")
        if sum(value.values()) <= 0:
            raise ValueError("lead weights must add up to more than 0")
        return value


class InsightsConfig(_Strict):
    on_idle: bool = True
    idle_minutes: int = Field(30, ge=1)


class WhatsAppConfig(_Strict):
    template_name: str | None = None
    template_language: str = "es"


class BusinessConfig(_Strict):
    business_id: str = Field("default", min_length=1, max_length=64)
    name: str = Field("Ferretería Demo", min_length=1, max_length=120)
    currency: str = Field("ARS", min_length=3, max_length=3)
    country: str = Field("AR", min_length=2, max_length=2, description="ISO 3166 region for phone numbers")
    timezone: str = "America/Argentina/Buenos_Aires"
    languages: list[Literal["es", "en"]] = Field(default_factory=lambda: ["es", "en"], min_length=1)
    default_language: Literal["es", "en"] = "es"
    tone: str = Field("amable, breve y profesional", max_length=300)
    enabled_tools: list[ToolName] = Field(default_factory=lambda: list(ALL_TOOLS))
    business_hours: dict[str, list[tuple[str, str]]] = Field(
        default_factory=lambda: {
            "mon": [("09:00", "18:00")],
            "tue": [("09:00", "18:00")],
            "wed": [("09:00", "18:00")],
            "thu": [("09:00", "18:00")],
            "fri": [("09:00", "18:00")],
            "sat": [("09:00", "13:00")],
            "sun": [],
        }
    )
    max_order_quantity: int = Field(1000, ge=1)
    # An open order (or a proposed meeting) not answered for this long lapses, with a sentence saying so.
    order_idle_hours: float = Field(24.0, gt=0)
    meeting: MeetingConfig = Field(default_factory=MeetingConfig)
    lead: LeadConfig = Field(default_factory=LeadConfig)
    insights: InsightsConfig = Field(default_factory=InsightsConfig)
    whatsapp: WhatsAppConfig = Field(default_factory=WhatsAppConfig)

    @field_validator("currency")
    @classmethod
    def _currency(cls, value: str) -> str:
        if not value.isalpha():
            raise ValueError("currency must be a 3-letter ISO 4217 code, e.g. ARS, EUR, USD")
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone: {value!r}") from exc
        return value

    @field_validator("business_hours")
    @classmethod
    def _hours(cls, value: dict[str, list[tuple[str, str]]]) -> dict[str, list[tuple[str, str]]]:
        unknown = set(value) - set(DAYS)
        if unknown:
            raise ValueError(f"unknown day(s) {sorted(unknown)}; use {list(DAYS)}")
        for day, ranges in value.items():
            for start, end in ranges:
                if not (_HHMM.match(start) and _HHMM.match(end)):
                    raise ValueError(f"{day}: times must be HH:MM, got {start!r}-{end!r}")
                if start >= end:
                    raise ValueError(f"{day}: opening {start} must be before closing {end}")
        return {day: value.get(day, []) for day in DAYS}

    @model_validator(mode="after")
    def _default_language_listed(self) -> BusinessConfig:
        if self.default_language not in self.languages:
            raise ValueError(f"default_language {self.default_language!r} must be one of languages {self.languages}")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def opening_ranges(self, weekday: int) -> list[tuple[time, time]]:
        """Opening ranges for a weekday (0 = Monday) as `time` pairs."""
        return [(time.fromisoformat(a), time.fromisoformat(b)) for a, b in self.business_hours.get(DAYS[weekday], [])]

    def tool_enabled(self, name: str) -> bool:
        return name in self.enabled_tools


def parse_config_text(text: str) -> BusinessConfig:
    """Parse YAML or JSON text into a validated config (raises ValueError)."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise ValueError(f"not valid YAML/JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError("the config must be a mapping of settings")
    return BusinessConfig.model_validate(data)


def dump_config(config: BusinessConfig) -> str:
    return yaml.safe_dump(json.loads(config.model_dump_json()), sort_keys=False, allow_unicode=True)


def load_config(path: Path) -> BusinessConfig:
    return parse_config_text(path.read_text(encoding="utf-8"))
