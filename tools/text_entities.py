"""Who and what a conversation mentions: people's names, emails, phones and catalog products."""

from __future__ import annotations

import re
from collections.abc import Sequence

from storage.embedding import normalize, tokens
from tools.text_signals import dedupe

_CAP = r"[A-ZÁÉÍÓÚÑ][a-záéíóúñü]+"
_NAME = re.compile(
    rf"(?i:\b(?:me llamo|mi nombre es|soy|i'm|i am|my name is|this is))\s+({_CAP}(?:\s+{_CAP}){{0,2}})"
)
_NOT_NAMES = {
    "el",
    "la",
    "los",
    "las",
    "un",
    "una",
    "de",
    "del",
    "the",
    "a",
    "an",
    "cliente",
    "clienta",
    "dueño",
    "dueña",
    "encargado",
    "encargada",
    "interested",
    "looking",
}
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w$.,/])\+?\d[\d\s-]{6,18}\d(?![\w/]|[.,]\d)")


def find_names(text: str) -> list[str]:
    """Names people give for themselves: "soy Ana Pérez", "me llamo Juan", "I'm John"."""
    out = []
    for m in _NAME.finditer(text):
        words = m.group(1).split()
        while words and words[0].lower() in _NOT_NAMES:
            words.pop(0)
        if words:
            out.append(" ".join(words))
    return out


def find_emails(text: str) -> list[str]:
    return _EMAIL.findall(text)


def find_phones(text: str) -> list[str]:
    return [
        m.group().strip() for m in _PHONE.finditer(text) if 8 <= sum(c.isdigit() for c in m.group()) <= 15
    ]


def _significant(name: str) -> list[str]:
    return [t for t in tokens(name, drop_stopwords=True) if len(t) >= 3 and not t[0].isdigit()]


def mentioned_products(text: str, product_names: Sequence[str], limit: int = 5) -> list[str]:
    """Catalog names the text refers to.

    A product counts when its full name appears, or its head noun plus another
    of its words ("pintura látex"), or just its head noun when no other product
    shares it ("el taladro" with one drill in the list); the best overlap wins.
    """
    norm = f" {normalize(text)} "
    words = set(tokens(text))
    exact: list[str] = []
    by_head: dict[str, list[tuple[int, str]]] = {}
    for name in product_names:
        sig = _significant(name)
        if not sig:
            continue
        if f" {normalize(name)} " in norm:
            exact.append(name)
        elif sig[0] in words:
            by_head.setdefault(sig[0], []).append((sum(1 for t in set(sig) if t in words), name))
    fuzzy: list[str] = []
    for candidates in by_head.values():
        best = max(n for n, _ in candidates)
        if best >= 2 or len(candidates) == 1:
            fuzzy.extend([name for n, name in candidates if n == best][:2])
    return dedupe(exact + fuzzy, limit)
