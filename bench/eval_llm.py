"""Evaluation sets on the built-in model and through the LLM path: `.venv/bin/python -m bench.eval_llm FILE...`.

Each file is played twice by `agent.evaluation.run_eval`, each time on a fresh
sandbox: once with the built-in offline model, once with
`llm_provider="openai"` against the fake OpenAI server (tests/fakes/openai_api.py)
scripted as a competent model (tests/fakes/competent.py: the built-in model
reading only the wire format). Both reports are printed, per kind, with the
requests the fake served, and every conversation whose outcome differs
(`--summary`: the side-by-side figures only).

The LLM run must really be answered by the fake: a turn that fell back to
the offline model (a provider error, a spent turn budget, an open breaker)
would make the two runs agree for the wrong reason. It is detected from
what the daemon itself reports: the model-error and per-model token
counters of /metrics (a fallback turn counts tokens for "mostrador-offline")
and the warnings logged when a model call or the model's insights failed.
Exit status: 0 when both paths give the same outcomes and nothing fell back, 1 otherwise.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from agent import metrics  # noqa: E402
from agent.evaluation import format_report, run_eval  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.fakes.competent import CompetentModel  # noqa: E402
from tests.fakes.openai_api import FakeOpenAI  # noqa: E402

OFFLINE_MODEL = "mostrador-offline"
FAKE_MODEL = "gpt-4o-mini"


def _counter(metric: Any, *labels: str) -> float:
    """A Prometheus counter's value for these labels (0 when never touched)."""
    return float(metric.labels(*labels)._value.get())


def _model_errors() -> float:
    """Every model error counted so far, whatever the model and error type."""
    total = 0.0
    for family in metrics.MODEL_ERRORS.collect():
        total += sum(s.value for s in family.samples if s.name.endswith("_total"))
    return total


class _Warnings(logging.Handler):
    """Collects the warnings that say a model call did not answer."""

    WATCHED = ("model failed after retries", "model insights failed")

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if any(message.startswith(w) for w in self.WATCHED):
            self.seen.append(message)


@contextlib.contextmanager
def watching() -> Iterator[_Warnings]:
    handler = _Warnings()
    loggers = [logging.getLogger(n) for n in ("agent.nodes", "tools.generate_insights")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.addHandler(handler)
        if not logger.isEnabledFor(logging.WARNING):
            logger.setLevel(logging.WARNING)
    try:
        yield handler
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.removeHandler(handler)
            logger.setLevel(level)


@dataclass
class Run:
    """One evaluation set through one path."""

    report: dict[str, Any]
    seconds: float
    requests: int = 0  # chat-completion requests the fake served
    chat_steps: int = 0
    insights: int = 0
    fallbacks: list[str] = field(default_factory=list)  # why the fake path is not trusted, if it is not


async def run_builtin(spec: str, data_dir: Path) -> Run:
    started = time.monotonic()
    report = await run_eval(make_settings(data_dir), spec)
    return Run(report, time.monotonic() - started)


async def run_via_fake(spec: str, data_dir: Path) -> Run:
    """The set through ChatOpenAI and the fake, with every sign of a fallback collected."""
    competent = CompetentModel()
    async with FakeOpenAI() as fake:
        fake.script(competent)
        settings = make_settings(
            data_dir, llm_provider="openai", openai_api_key="sk-test", openai_base_url=fake.base_url
        )
        offline_tokens = _counter(metrics.MODEL_TOKENS, OFFLINE_MODEL, "input")
        fake_tokens = _counter(metrics.MODEL_TOKENS, FAKE_MODEL, "input")
        errors = _model_errors()
        started = time.monotonic()
        with watching() as warnings:
            report = await run_eval(settings, spec)
        seconds = time.monotonic() - started
        run = Run(report, seconds, len(fake.requests), competent.chat_steps, competent.insights)
    if _counter(metrics.MODEL_TOKENS, OFFLINE_MODEL, "input") != offline_tokens:
        run.fallbacks.append("some turn was answered by the offline model (its token counter grew)")
    if _model_errors() != errors:
        run.fallbacks.append(f"{_model_errors() - errors:g} model error(s) counted")
    if _counter(metrics.MODEL_TOKENS, FAKE_MODEL, "input") == fake_tokens or not run.requests:
        run.fallbacks.append("the fake answered no turn")
    run.fallbacks += [f"logged: {w}" for w in warnings.seen]
    return run


def outcomes(report: Mapping[str, Any]) -> dict[str, bool]:
    return {r["name"]: r["passed"] for r in report["results"]}


def differences(builtin: Mapping[str, Any], via_fake: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Conversations whose outcome differs between the two paths, with both sides' failures and replies."""
    fake_by_name = {r["name"]: r for r in via_fake["results"]}
    out = []
    for result in builtin["results"]:
        other = fake_by_name.get(result["name"])
        if other is None or other["passed"] != result["passed"]:
            out.append({"name": result["name"], "kind": result.get("kind"), "builtin": result, "fake": other})
    return out


def _kinds(builtin: Mapping[str, Any], via_fake: Mapping[str, Any]) -> list[str]:
    lines = [f"  {'kind':<10} {'built-in':>9} {'via fake':>9}"]
    kinds = sorted(set(builtin.get("by_kind") or {}) | set(via_fake.get("by_kind") or {}))
    for kind in kinds:
        a, b = (r.get("by_kind", {}).get(kind, {"passed": 0, "total": 0}) for r in (builtin, via_fake))
        lines.append(f"  {kind:<10} {a['passed']:>4}/{a['total']:<4} {b['passed']:>4}/{b['total']:<4}")
    total = len(builtin["results"])
    lines.append(
        f"  {'all':<10} {builtin['passed']:>4}/{total:<4} {via_fake['passed']:>4}/{len(via_fake['results']):<4}"
    )
    return lines


async def compare(path: Path, *, full: bool = True) -> bool:
    spec = await asyncio.to_thread(path.read_text, encoding="utf-8-sig")
    with tempfile.TemporaryDirectory(prefix="mostrador-eval-llm-") as tmp:
        builtin = await run_builtin(spec, Path(tmp) / "builtin")
        via_fake = await run_via_fake(spec, Path(tmp) / "fake")
    print(f"\n=== {path} ===")
    if full:
        print("-- built-in model --")
        print(format_report(builtin.report))
        print("-- via the fake OpenAI server (competent script) --")
        print(format_report(via_fake.report))
    print("\n".join(_kinds(builtin.report, via_fake.report)))
    print(
        f"  built-in {builtin.seconds:.1f} s; via fake {via_fake.seconds:.1f} s, {via_fake.requests} requests "
        f"served ({via_fake.chat_steps} model steps, {via_fake.insights} insights)"
    )
    diffs = differences(builtin.report, via_fake.report)
    for diff in diffs:
        b, f = diff["builtin"], diff["fake"]
        print(
            f"  DIFFERS [{diff['kind']}] {diff['name']}: built-in {'pass' if b['passed'] else 'fail'}, "
            f"via fake {'missing' if f is None else 'pass' if f['passed'] else 'fail'}"
        )
        for side, result in (("built-in", b), ("via fake", f)):
            if result is None:
                continue
            for reason in result["failures"]:
                print(f"    {side}: - {reason}")
            for text in result["replies"]:
                print(f"    {side} bot: {' '.join(text.split())}")
    for reason in via_fake.fallbacks:
        print(f"  NOT TRUSTED: {reason}")
    if not diffs and not via_fake.fallbacks:
        print("  same outcome for every conversation; every model step answered by the fake")
    return not diffs and not via_fake.fallbacks


async def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument(
        "--summary", action="store_true", help="only the side-by-side figures, not both reports"
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    ok = True
    for path in args.files:
        ok = await compare(path, full=not args.summary) and ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
