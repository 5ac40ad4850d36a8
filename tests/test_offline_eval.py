"""Runs the offline model's language understanding over tests/eval/utterances.yaml.

Prints accuracy per intent, writes tests/artifacts/offline_eval.json (with
every miss, for whoever tunes the lexicon next) and requires >= 90% overall
intent accuracy. Slot and language accuracy are reported, not asserted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

import yaml

from agent.language import detect_language
from agent.offline.nlu import understand
from agent.offline.text import fold
from prompts import PromptStore

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "eval" / "utterances.yaml"
ARTIFACT = ROOT / "tests" / "artifacts" / "offline_eval.json"


def _slot_errors(case: dict, got) -> list[str]:
    errors = []
    if (
        "quantity" in case
        and got.quantity != case["quantity"]
        and not (case["quantity"] == 1 and got.quantity is None)
    ):
        errors.append(f"quantity {got.quantity!r} != {case['quantity']!r}")
    if "query" in case and case["query"] not in fold(got.query):
        errors.append(f"query {got.query!r} lacks {case['query']!r}")
    if "action" in case and got.action != case["action"]:
        errors.append(f"action {got.action!r} != {case['action']!r}")
    if "when" in case and case["when"] not in fold(got.when or ""):
        errors.append(f"when {got.when!r} lacks {case['when']!r}")
    return errors


def test_offline_eval_accuracy() -> None:
    prompts = PromptStore(ROOT / "prompts")
    cases = yaml.safe_load(EVAL.read_text(encoding="utf-8"))
    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    misses, slot_misses = [], []
    lang_ok = slots_ok = slots_total = 0
    for case in cases:
        got = understand(case["text"], prompts)
        hit = got.intent == case["intent"]
        per_intent[case["intent"]][0] += hit
        per_intent[case["intent"]][1] += 1
        if not hit:
            misses.append({"text": case["text"], "expected": case["intent"], "got": got.intent})
        lang_ok += detect_language(case["text"]) == case["lang"]
        if hit and any(k in case for k in ("quantity", "query", "action", "when")):
            slots_total += 1
            errors = _slot_errors(case, got)
            slots_ok += not errors
            if errors:
                slot_misses.append({"text": case["text"], "errors": errors})
    total = len(cases)
    correct = sum(ok for ok, _ in per_intent.values())
    report = {
        "total": total,
        "intent_accuracy": round(correct / total, 4),
        "language_accuracy": round(lang_ok / total, 4),
        "slot_accuracy": round(slots_ok / max(slots_total, 1), 4),
        "per_intent": {
            k: {"correct": ok, "total": n, "accuracy": round(ok / n, 4)}
            for k, (ok, n) in sorted(per_intent.items())
        },
        "misses": misses,
        "slot_misses": slot_misses,
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(
        f"\noffline NLU: {correct}/{total} = {report['intent_accuracy']:.1%} intents, "
        f"language {report['language_accuracy']:.1%}, slots {report['slot_accuracy']:.1%}"
    )
    for name, row in report["per_intent"].items():
        print(f"  {name:16} {row['correct']:3}/{row['total']:<3} {row['accuracy']:.0%}")
    assert total >= 150
    assert report["intent_accuracy"] >= 0.9, misses
