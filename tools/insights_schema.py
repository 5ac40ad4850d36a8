"""The schema both insights analyzers fill: what one customer conversation was about."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, field_validator

from tools.text_signals import clip

SUMMARY_MAX = 300

Category = Literal["sale", "support", "complaint"]
Sentiment = Literal["positive", "neutral", "negative"]


class Entities(BaseModel):
    amounts: list[str] = Field(default_factory=list, description="Money amounts as written, with currency")
    dates: list[str] = Field(default_factory=list, description="Dates or deadlines as written")
    names: list[str] = Field(default_factory=list, description="People's names")
    products: list[str] = Field(default_factory=list, description="Products mentioned")
    emails: list[str] = Field(default_factory=list)
    phones: list[str] = Field(default_factory=list)


class InsightData(BaseModel):
    """Structured analysis of one customer conversation."""

    category: Category = Field(description="sale, support (question/help) or complaint")
    confidence: float = Field(ge=0.0, le=1.0, description="Confidence in the category, 0-1")
    sentiment: Sentiment = Field(description="The customer's sentiment")
    intent: str = Field(description="What the customer wants, in a few words")
    entities: Entities = Field(default_factory=Entities)
    summary: str = Field(max_length=SUMMARY_MAX, description="At most 300 characters")
    churn_risk: Literal["low", "medium", "high"] = Field(description="Risk that the customer leaves")
    next_action: str = Field(description="What the owner should do next")
    suggested_reply: str = Field(description="A reply to send to the customer")
    language: str = Field("es", description="Language of the conversation, e.g. es or en")

    @field_validator("summary", mode="before")
    @classmethod
    def _clip_summary(cls, value: Any) -> Any:
        return clip(value, SUMMARY_MAX) if isinstance(value, str) else value

    @field_validator("confidence", mode="before")
    @classmethod
    def _clamp_confidence(cls, value: Any) -> Any:
        return min(1.0, max(0.0, float(value))) if isinstance(value, int | float) else value
