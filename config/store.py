"""The live business config: validated on every change, re-read when the file changes."""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from pathlib import Path

from config.business import EXAMPLE_PATH, BusinessConfig, dump_config, load_config, parse_config_text

log = logging.getLogger(__name__)


class ConfigStore:
    """Holds the current `BusinessConfig`; a bad file edit keeps the running version."""

    def __init__(self, path: Path, *, overrides: dict[str, str] | None = None, check_interval: float = 1.0) -> None:
        self.path = Path(path)
        self.overrides = {k: v for k, v in (overrides or {}).items() if v}
        self.check_interval = check_interval
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(EXAMPLE_PATH, self.path)
        self._mtime = self.path.stat().st_mtime_ns
        self._checked = time.monotonic()
        self.current = self._apply_overrides(load_config(self.path))
        self.last_error: str | None = None

    def _apply_overrides(self, config: BusinessConfig) -> BusinessConfig:
        if not self.overrides:
            return config
        data = config.model_dump()
        if "timezone" in self.overrides:
            data["timezone"] = self.overrides["timezone"]
        if "language" in self.overrides and self.overrides["language"] in ("es", "en"):
            data["default_language"] = self.overrides["language"]
            if self.overrides["language"] not in data["languages"]:
                data["languages"] = [*data["languages"], self.overrides["language"]]
        return BusinessConfig.model_validate(data)

    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")

    async def refresh(self) -> BusinessConfig:
        """Pick up an edit made to the file on disk (checked at most once per interval)."""
        if time.monotonic() - self._checked < self.check_interval:
            return self.current
        self._checked = time.monotonic()
        mtime = await asyncio.to_thread(lambda: self.path.stat().st_mtime_ns)
        if mtime != self._mtime:
            self._mtime = mtime
            try:
                text = await asyncio.to_thread(self.text)
                self.current = self._apply_overrides(parse_config_text(text))
                self.last_error = None
                log.info("business config reloaded from %s", self.path)
            except ValueError as exc:
                self.last_error = str(exc)
                log.error("config file edit refused, keeping the running version: %s", exc)
        return self.current

    async def replace(self, config: BusinessConfig) -> str:
        """Write an already validated config; returns the stored text."""
        text = dump_config(config)
        tmp = self.path.with_suffix(".tmp")
        await asyncio.to_thread(tmp.write_text, text, "utf-8")
        await asyncio.to_thread(tmp.replace, self.path)
        self._mtime = self.path.stat().st_mtime_ns
        self.current = self._apply_overrides(config)
        return text
