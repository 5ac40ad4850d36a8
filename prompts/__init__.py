"""The one loader for owner-editable text: prompts and every sentence the bot says.

Files live in this folder (or `BOT_PROMPTS_DIR`):
- `<name>.<lang>.md`: a prompt (e.g. `system.es.md`), with `{placeholders}`;
- `<group>.<lang>.yaml`: a mapping of keys to sentences (a string or a list
  of variants), looked up as `"<group>.<key>"`.

Spanish is the fallback language. Files are re-read when their mtime
changes (checked at most once a second, off the event loop), so an edit on
disk or through the admin API is used by the next turn without a restart.
"""

from __future__ import annotations

import asyncio
import logging
import re
import string
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

log = logging.getLogger(__name__)
FALLBACK_LANGUAGE = "es"
DERIVED_LIMIT = 2048
T = TypeVar("T")
_FORMATTER = string.Formatter()
_NAME = re.compile(r"^[a-z][a-z0-9_-]*(\.[a-z]{2})?$")

# Placeholders every prompt may use; the admin API refuses a template that uses others.
PROMPT_PLACEHOLDERS: dict[str, set[str]] = {
    "system": {"business_name", "tone", "currency", "today", "timezone", "language", "tools", "hours"},
}


class TemplateError(ValueError):
    """A template that cannot render (syntax error or unknown placeholder)."""


class _SafeDict(dict):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def placeholders(template: str) -> set[str]:
    """Names used by a `str.format` template; raises TemplateError on bad syntax."""
    try:
        return {field.split(".")[0].split("[")[0] for _, field, _, _ in _FORMATTER.parse(template) if field}
    except ValueError as exc:
        raise TemplateError(f"template syntax error: {exc}") from exc


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested mappings become dotted keys: {"sale": {"offer": ...}} -> {"sale.offer": ...}."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(_flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


def render(template: str, values: Mapping[str, Any]) -> str:
    return template.format_map(_SafeDict(values))


class PromptStore:
    """Prompts and sentences by name and language, reloaded when files change."""

    def __init__(self, directory: Path, check_interval: float = 1.0) -> None:
        self.directory = Path(directory)
        self.check_interval = check_interval
        self._prompts: dict[tuple[str, str], str] = {}
        self._texts: dict[tuple[str, str], str | list[str]] = {}
        self._mtimes: dict[Path, float] = {}
        self._checked = 0.0
        self._counter = 0
        self._derived: OrderedDict[Hashable, Any] = OrderedDict()
        self.reload()

    # -- loading -----------------------------------------------------------

    def _scan(self) -> dict[Path, float]:
        return {p: p.stat().st_mtime_ns for p in self.directory.glob("*.*") if p.suffix in (".md", ".yaml")}

    def reload(self) -> None:
        prompts: dict[tuple[str, str], str] = {}
        texts: dict[tuple[str, str], str | list[str]] = {}
        mtimes = self._scan()
        for path in sorted(mtimes):
            stem, _, lang = path.stem.rpartition(".")
            if not stem or len(lang) != 2:
                continue
            content = path.read_text(encoding="utf-8")
            if path.suffix == ".md":
                prompts[(stem, lang)] = content
            else:
                for key, value in _flatten(yaml.safe_load(content) or {}).items():
                    texts[(f"{stem}.{key}", lang)] = value
        self._prompts, self._texts, self._mtimes = prompts, texts, mtimes
        self._derived = OrderedDict()
        self._checked = time.monotonic()

    async def refresh(self) -> None:
        """Reload if any file changed; cheap, and the disk access runs in a thread."""
        if time.monotonic() - self._checked < self.check_interval:
            return
        mtimes = await asyncio.to_thread(self._scan)
        if mtimes != self._mtimes:
            try:
                await asyncio.to_thread(self.reload)
            except Exception as exc:  # a broken file on disk must not break every turn
                self._mtimes = mtimes  # retried once the file changes again
                log.error("prompt file edit refused, keeping the running version: %s", exc)
        self._checked = time.monotonic()

    def derived(self, key: Hashable, compute: Callable[[], T]) -> T:
        """A value computed from the loaded files (a parsed word list, an analysed message).

        Kept until the files change, least recently used first out past
        DERIVED_LIMIT entries; callers must treat the value as read-only.
        """
        try:
            self._derived.move_to_end(key)
            return self._derived[key]
        except KeyError:
            pass
        value = self._derived[key] = compute()
        if len(self._derived) > DERIVED_LIMIT:
            self._derived.popitem(last=False)
        return value

    # -- lookups -------------------------------------------------------------

    def prompt(self, name: str, lang: str, **values: Any) -> str:
        template = self._prompts.get((name, lang)) or self._prompts.get((name, FALLBACK_LANGUAGE))
        if template is None:
            raise KeyError(f"no prompt named {name!r}")
        return render(template, values)

    def has(self, key: str, lang: str = FALLBACK_LANGUAGE) -> bool:
        return (key, lang) in self._texts or (key, FALLBACK_LANGUAGE) in self._texts

    def variants(self, key: str, lang: str) -> list[str]:
        value = self._texts.get((key, lang))
        if value is None:
            value = self._texts.get((key, FALLBACK_LANGUAGE))
        if value is None:
            raise KeyError(f"no text {key!r} in prompts/")
        return list(value) if isinstance(value, list) else [value]

    def text(self, key: str, lang: str, *, vary: bool = False, **values: Any) -> str:
        """The sentence `key` in `lang`; `vary=True` rotates through its variants."""
        options = self.variants(key, lang)
        if vary and len(options) > 1:
            self._counter += 1
            choice = options[self._counter % len(options)]
        else:
            choice = options[0]
        return render(choice, values)

    def words(self, key: str, lang: str | None = None) -> list[str]:
        """A word list (e.g. yes/no vocabularies); without lang, all languages merged."""
        langs = [lang] if lang else sorted({lg for (_, lg) in self._texts})
        out: list[str] = []
        for lg in langs:
            value = self._texts.get((key, lg))
            if value:
                out.extend(value if isinstance(value, list) else [value])
        return out

    # -- owner edits -----------------------------------------------------------

    def path_for(self, name: str) -> Path:
        """`system` -> system.es.md; `system.en` -> system.en.md; `messages.en` -> messages.en.yaml."""
        if not _NAME.match(name):
            raise KeyError(f"invalid prompt name {name!r}")
        stem, _, lang = name.rpartition(".") if "." in name else (name, "", FALLBACK_LANGUAGE)
        for suffix in (".md", ".yaml"):
            candidate = self.directory / f"{stem}.{lang}{suffix}"
            if candidate.exists():
                return candidate
        raise KeyError(f"no prompt named {name!r}")

    def names(self) -> list[str]:
        return sorted(
            f"{p.stem}" for p in self.directory.glob("*.*") if p.suffix in (".md", ".yaml") and p.stem.count(".") == 1
        )

    def _current_sentences(self, path: Path) -> dict[str, Any]:
        """The file's keys; when the file on disk is itself broken, the loaded (running) ones."""
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError:
            loaded = None
        if isinstance(loaded, dict):
            return _flatten(loaded)
        stem, _, lang = path.stem.rpartition(".")
        prefix = f"{stem}."
        return {k[len(prefix):]: v for (k, lg), v in self._texts.items() if lg == lang and k.startswith(prefix)}

    def validate(self, name: str, content: str) -> None:
        """Raise TemplateError unless `content` is a valid replacement for prompt `name`."""
        path = self.path_for(name)
        stem = path.stem.rpartition(".")[0]
        if path.suffix == ".md":
            if not content.strip():
                raise TemplateError("a prompt cannot be empty")
            used = placeholders(content)
            allowed = PROMPT_PLACEHOLDERS.get(stem)
            if allowed is not None and used - allowed:
                raise TemplateError(f"unknown placeholder(s) {sorted(used - allowed)}; allowed: {sorted(allowed)}")
            return
        try:
            data = yaml.safe_load(content)
        except yaml.YAMLError as exc:
            raise TemplateError(f"not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise TemplateError("a sentences file must be a mapping of keys to text")
        data = _flatten(data)
        current = self._current_sentences(path)
        missing = set(current) - set(data)
        if missing:
            raise TemplateError(f"missing key(s) {sorted(missing)}")
        for key, value in data.items():
            for option in value if isinstance(value, list) else [value]:
                if not isinstance(option, str):
                    raise TemplateError(f"{key}: every sentence must be text")
                before = current.get(key)
                allowed_fields: set[str] = set()
                for old in before if isinstance(before, list) else [before or ""]:
                    allowed_fields |= placeholders(old) if isinstance(old, str) else set()
                used = placeholders(option)
                if before is not None and used - allowed_fields:
                    raise TemplateError(f"{key}: unknown placeholder(s) {sorted(used - allowed_fields)}")
