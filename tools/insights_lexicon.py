"""The offline insights analyzer's cue words (config/lexicon/insights.yaml) and how they match.

Intents with their category and weighted cue phrases, sentiment words,
negations, intensifiers, emoji and churn phrases, Spanish and English; all
folded (lowercase, no accents) when loaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from tools.text_signals import fold, split_words

LEXICON_PATH = Path(__file__).resolve().parent.parent / "config" / "lexicon" / "insights.yaml"

Phrase = tuple[str, ...]


@dataclass(frozen=True)
class Lexicon:
    intents: dict[str, tuple[str, dict[Phrase, float]]]
    default_intent: str
    default_category: str
    recency_boost: float
    quantity_cue: float
    negative_to_complaint: float
    positive: dict[Phrase, float]
    negative: dict[Phrase, float]
    complaint_cue: float
    positive_at: float
    negative_at: float
    negations: frozenset[str]
    negation_window: int
    intensifiers: dict[str, float]
    emoji: dict[str, float]
    churn: dict[Phrase, float]


def _phrases(mapping: dict[str, Any] | None) -> dict[Phrase, float]:
    return {
        tuple(split_words(fold(str(k)))): float(v) for k, v in (mapping or {}).items() if split_words(fold(str(k)))
    }


@lru_cache(maxsize=4)
def _parse_lexicon(path: str, _mtime_ns: int) -> Lexicon:
    raw = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    senti = raw.get("sentiment", {})
    return Lexicon(
        intents={
            name: (spec["category"], _phrases(spec.get("cues"))) for name, spec in raw["intents"].items()
        },
        default_intent=raw.get("default_intent", "general"),
        default_category=raw.get("default_category", "support"),
        recency_boost=float(raw.get("recency_boost", 0.5)),
        quantity_cue=float(raw.get("quantity_cue", 1.5)),
        negative_to_complaint=float(raw.get("negative_to_complaint", 0.8)),
        positive=_phrases(senti.get("positive")),
        negative=_phrases(senti.get("negative")),
        complaint_cue=float(senti.get("complaint_cue", 1.0)),
        positive_at=float(senti.get("positive_at", 1.0)),
        negative_at=float(senti.get("negative_at", -1.0)),
        negations=frozenset(fold(str(w)) for w in raw.get("negations", [])),
        negation_window=int(raw.get("negation_window", 3)),
        intensifiers={fold(str(k)): float(v) for k, v in (raw.get("intensifiers") or {}).items()},
        emoji={str(k): float(v) for k, v in (raw.get("emoji") or {}).items()},
        churn=_phrases(raw.get("churn")),
    )


def load_lexicon(path: Path = LEXICON_PATH) -> Lexicon:
    """The lexicon, re-parsed when the file changes (sync file access: call off the event loop)."""
    return _parse_lexicon(str(path), path.stat().st_mtime_ns)


def _inflected(word: str, cue: str) -> bool:
    """A single-word cue also matches its inflections: "cotizar" ~ "cotizás", "demora" ~ "demoraron".

    Only the cue's last letter may differ and the word may add up to three more,
    so "comprar" does not match the past "compré".
    """
    return len(cue) >= 5 and word.startswith(cue[:-1]) and len(word) - len(cue) + 1 <= 3


def hits(words: list[str], phrases: dict[Phrase, float]) -> list[tuple[int, Phrase, float]]:
    """Where in `words` each phrase (or a single-word cue's inflection) starts, with its weight."""
    out = []
    for i, word in enumerate(words):
        for phrase, weight in phrases.items():
            if len(phrase) == 1:
                if word == phrase[0] or _inflected(word, phrase[0]):
                    out.append((i, phrase, weight))
            elif word == phrase[0] and tuple(words[i : i + len(phrase)]) == phrase:
                out.append((i, phrase, weight))
    return out
