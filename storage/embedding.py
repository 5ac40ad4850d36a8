"""Offline text embedding and the embedded Chroma client.

Chroma's default embedding downloads an ONNX model on first use, which
fails on a box with no internet. This module gives a dependency-free
alternative: hashed character n-grams (3-5, with word boundaries) plus word
unigrams, signed feature hashing into a small dense vector, L2-normalized.
It is not "semantic", but it is deterministic across processes (crc32, never
Python's salted `hash()`), robust to accents, case, plurals and most typos,
and embeds ~20k short texts per second.

The text helpers (`normalize`, `tokens`) are shared with the lexical side of
the search indexes so that every signal sees the same words.
"""

from __future__ import annotations

import re
import unicodedata
import zlib
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.config import Settings
from chromadb.utils.embedding_functions import register_embedding_function

DEFAULT_DIM = 512
EMBEDDING_NAME = "mostrador-hashed-ngrams"

# Measurement units written after a number; "20 litros" and "20lts" both become "20 l".
_UNITS = {
    "mm": "mm", "milimetro": "mm", "milimetros": "mm",
    "cm": "cm", "centimetro": "cm", "centimetros": "cm",
    "m": "m", "mt": "m", "mts": "m", "metro": "m", "metros": "m",
    "kg": "kg", "kgs": "kg", "kilo": "kg", "kilos": "kg", "kilogramo": "kg", "kilogramos": "kg",
    "g": "g", "gr": "g", "grs": "g", "gramo": "g", "gramos": "g",
    "l": "l", "lt": "l", "lts": "l", "litro": "l", "litros": "l",
    "ml": "ml", "cc": "ml",
    "oz": "oz", "onza": "oz", "onzas": "oz",
    "w": "w", "watt": "w", "watts": "w", "v": "v", "volt": "v", "volts": "v",
    "pulg": "pulg", "pulgada": "pulg", "pulgadas": "pulg", "in": "pulg", "inch": "pulg", "inches": "pulg",
    "mah": "mah", "a": "a", "amp": "a", "amper": "a", "ah": "ah", "hp": "hp", "rpm": "rpm",
}
_UNIT_RE = re.compile(r"\b(\d+(?:[./]\d+)?)\s*(" + "|".join(sorted(_UNITS, key=len, reverse=True)) + r")\b")
_NUM_SEP_RE = re.compile(r"(?<=\d)[,.](?=\d)")
_FRACTION_RE = re.compile(r"(?<=\d)\s*/\s*(?=\d)")
_INCH_RE = re.compile(r'(?<=\d)\s*(?:"|\'\'|”)')
_NON_WORD_RE = re.compile(r"[^a-z0-9./]+")
_LOOSE_PUNCT_RE = re.compile(r"(?<![0-9])[./]|[./](?![0-9])")

# Words that end like plurals but are not (or whose "singular" would collide).
_KEEP = frozenset(
    """gas tres mas menos antes despues ademas jamas atras detras entonces lunes martes miercoles jueves
    viernes dos seis diez pies mes res tos atlas crisis dosis chasis paraguas abrelatas sacacorchos
    portalamparas cortaunas lavavajillas parabrisas salvavidas cumpleanos tenis this has was yes plus
    bus virus gratis express glass press cross boss less ves vez ingles pais""".split()
)

STOPWORDS = frozenset(
    """de del la las el los un una unos unas y o u e con sin para por en al a que se su sus lo le les
    mi me te tu es son hay algo alguno alguna algun quiero queria necesito busco buscando tenes tienen
    tiene tenés venden vendes vende hola buenas buen dia como cual cuanto cuanta sale precio favor porfa
    the an and or of for with to in on is are i need want looking some any do you have sell""".split()
)


_FAST_FOLD = str.maketrans("áàâäãåéèêëíìîïóòôöõúùûüçñ", "aaaaaaeeeeiiiiooooouuuucn")
_DIGIT_RE = re.compile(r"\d")


def _strip_accents(text: str) -> str:
    text = text.translate(_FAST_FOLD)
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> str:
    """Lowercase, strip accents, canonicalize numbers/units, collapse punctuation.

    Decimal commas become dots ("2,5" -> "2.5"), fractions lose their spaces
    ("1 / 2" -> "1/2"), inch marks become "pulg" and a unit after a number is
    split from it in a canonical spelling ("16oz" -> "16 oz", "20 litros" -> "20 l").
    """
    text = _strip_accents(text.lower())
    has_digits = _DIGIT_RE.search(text) is not None
    if has_digits:
        text = _INCH_RE.sub(" pulg ", text)
        text = _NUM_SEP_RE.sub(".", text)
        text = _FRACTION_RE.sub("/", text)
    text = _NON_WORD_RE.sub(" ", text)
    if not has_digits:
        return " ".join(text.replace(".", " ").replace("/", " ").split())
    if "." in text or "/" in text:
        text = _LOOSE_PUNCT_RE.sub(" ", text)
    text = _UNIT_RE.sub(lambda m: f"{m.group(1)} {_UNITS[m.group(2)]}", text)
    return " ".join(text.split())


@lru_cache(maxsize=200_000)
def singular(word: str) -> str:
    """A light Spanish/English singularizer: consistent rather than linguistically perfect."""
    if len(word) <= 3 or word in _KEEP or not word.isalpha():
        return word
    if word.endswith("ces"):
        return word[:-3] + "z"  # luces -> luz, lapices -> lapiz
    if word.endswith("xes"):
        return word[:-2]  # boxes -> box
    if word.endswith("es") and len(word) > 4 and word[-3] in "lnrdjy" and word[-4] in "aeiou":
        return word[:-2]  # destornilladores -> destornillador, colores -> color
    if word[-1] == "s" and word[-2] not in "siu":
        return word[:-1]  # martillos -> martillo, llaves -> llave, hammers -> hammer
    return word


def tokens(text: str, *, drop_stopwords: bool = False) -> list[str]:
    """Normalized, singularized words of `text` (optionally without stopwords)."""
    words = (singular(w) for w in normalize(text).split())
    if drop_stopwords:
        return [w for w in words if w not in STOPWORDS]
    return list(words)


@lru_cache(maxsize=200_000)
def _word_features(word: str, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Hashed slots and signed weights of one word: its unigram plus its 3-5 char grams."""
    feats = ["w:" + word]
    padded = f" {word} "
    for n in (3, 4, 5):
        feats.extend("c:" + padded[i : i + n] for i in range(max(1, len(padded) - n + 1)))
    idx = np.empty(len(feats), dtype=np.int64)
    val = np.empty(len(feats), dtype=np.float32)
    for i, feature in enumerate(feats):
        h = zlib.crc32(feature.encode())
        idx[i] = h % dim
        sign = 1.0 if (h >> 31) & 1 else -1.0
        val[i] = sign * (1.0 if i == 0 else 0.5)
    return idx, val


def embed_texts(texts: Iterable[str], dim: int = DEFAULT_DIM) -> np.ndarray:
    """Embed texts into an (n, dim) float32 matrix of L2-normalized rows.

    A repeated word counts sublinearly (1 + log tf) so long descriptions do
    not drown the name.
    """
    texts = list(texts)
    flat_idx: list[np.ndarray] = []
    flat_val: list[np.ndarray] = []
    for row, text in enumerate(texts):
        counts: dict[str, int] = {}
        for word in tokens(text):
            counts[word] = counts.get(word, 0) + 1
        for word, tf in counts.items():
            idx, val = _word_features(word, dim)
            flat_idx.append(idx + row * dim)
            flat_val.append(val if tf == 1 else val * (1.0 + float(np.log(tf))))
    if flat_idx:
        out = np.bincount(
            np.concatenate(flat_idx), weights=np.concatenate(flat_val), minlength=len(texts) * dim
        ).astype(np.float32).reshape(len(texts), dim)
    else:
        out = np.zeros((len(texts), dim), dtype=np.float32)
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out /= norms
    return out


class OfflineEmbedding(EmbeddingFunction[Documents]):
    """Chroma embedding function over `embed_texts`; needs no model and no network."""

    def __init__(self, dim: int = DEFAULT_DIM) -> None:
        self.dim = int(dim)

    def __call__(self, input: Documents) -> Embeddings:
        return list(embed_texts(input, self.dim))

    @staticmethod
    def name() -> str:
        return EMBEDDING_NAME

    def get_config(self) -> dict[str, Any]:
        return {"dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OfflineEmbedding:
        return _cached_embedding(int(config.get("dim", DEFAULT_DIM)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]


@lru_cache(maxsize=8)
def _cached_embedding(dim: int) -> OfflineEmbedding:
    return OfflineEmbedding(dim)


register_embedding_function(OfflineEmbedding)


def open_chroma(path: Path) -> ClientAPI:
    """An embedded, persistent Chroma client under `path`, telemetry off (sync: call in a thread)."""
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(
        path=str(path), settings=Settings(anonymized_telemetry=False, allow_reset=False)
    )


def get_collection(client: ClientAPI, name: str, dim: int = DEFAULT_DIM) -> Collection:
    """Get or create a cosine-space collection that embeds with `OfflineEmbedding`."""
    return client.get_or_create_collection(
        name,
        embedding_function=_cached_embedding(dim),
        configuration={"hnsw": {"space": "cosine"}},
    )
