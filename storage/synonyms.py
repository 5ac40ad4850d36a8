"""The owner's synonyms for product search: groups of equivalent terms, from a YAML file.

The file is either a list of groups or `{groups: [...]}`; each group is a
list of terms ("martillo", "maza", "hammer"). `SynonymsFile` re-reads it
when it changes, and a broken file keeps the previous synonyms in use.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from pathlib import Path

import yaml

from storage.embedding import tokens

log = logging.getLogger(__name__)

CHECK_EVERY_S = 1.0


class Synonyms:
    """Groups of equivalent terms from the owner's YAML, as normalized token tuples."""

    def __init__(self, groups: Iterable[Iterable[str]] = ()) -> None:
        self.groups: list[list[tuple[str, ...]]] = []
        self.phrase_groups: dict[tuple[str, ...], list[int]] = {}
        for raw in groups:
            members = []
            for term in raw:
                phrase = tuple(tokens(str(term), drop_stopwords=True))
                if phrase and phrase not in members:
                    members.append(phrase)
            if len(members) < 2:
                continue
            for phrase in members:
                self.phrase_groups.setdefault(phrase, []).append(len(self.groups))
            self.groups.append(members)
        self.by_first: dict[str, list[tuple[str, ...]]] = {}
        for phrase in sorted(self.phrase_groups, key=len, reverse=True):
            self.by_first.setdefault(phrase[0], []).append(phrase)
        self.vocab = {t for phrase in self.phrase_groups for t in phrase}

    def equivalents(self, text: str) -> frozenset[str]:
        """The one-word terms the owner made equivalent to a word of `text` ("bulb" for "Lámpara LED")."""
        out: set[str] = set()
        for word in tokens(text, drop_stopwords=True):
            for group in self.phrase_groups.get((word,), []):
                out.update(phrase[0] for phrase in self.groups[group] if len(phrase) == 1)
        return frozenset(out)

    @classmethod
    def load(cls, path: Path | None) -> Synonyms:
        if path is None or not path.exists():
            return cls()
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if isinstance(data, dict):
            data = data.get("groups", [])
        if not isinstance(data, list):
            raise ValueError(f"{path}: expected a list of groups of terms")
        return cls(g if isinstance(g, list) else [g] for g in data)


class SynonymsFile:
    """Where the synonyms come from, and whether the file changed since it was last read."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._mtime: float | None = None
        self._checked = 0.0

    def load(self, fallback: Synonyms) -> Synonyms:
        """Read the file (blocking); on a broken file log it and return `fallback`."""
        path = self.path
        try:
            self._mtime = path.stat().st_mtime if path and path.exists() else None
            return Synonyms.load(path)
        except (OSError, ValueError, yaml.YAMLError) as exc:
            log.warning("synonyms file %s not loaded: %s", path, exc)
            return fallback

    def changed(self) -> bool:
        """True when the file's mtime moved since `load` (checked at most once a second)."""
        now = time.monotonic()
        if now - self._checked < CHECK_EVERY_S:
            return False
        self._checked = now
        path = self.path
        try:
            mtime = path.stat().st_mtime if path and path.exists() else None
        except OSError:
            return False
        return mtime != self._mtime
