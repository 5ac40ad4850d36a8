"""Messages read in context with the built-in model, over HTTP; the same reading on every run."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT, Harness

PROBE = """
from prompts import PromptStore
from config.settings import REPO_ROOT
from agent.offline.nlu import understand
ps = PromptStore(REPO_ROOT / "prompts")
print([understand(t, ps, "es").intent for t in ["¿y cuántas te quedan?", "quedo atento", "transfiero", "presio del taladro"]])
"""


def test_the_same_message_gets_the_same_reading_under_any_hash_seed() -> None:
    readings = set()
    for seed in ("0", "1", "7", "42", "1234"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True,
                             check=True, timeout=120)
        readings.add(out.stdout.strip())
    assert len(readings) == 1, readings
    assert "complaint" not in readings.pop()  # "cuántas" is never read as the insult "chantas"


async def test_words_that_name_no_product_never_get_a_catalog_miss(bot: Harness) -> None:
    for n, text in enumerate(("quedo atento", "transfiero", "perfecto, quedo a la espera")):
        replies = await bot.say(f"miss-{n}", text)
        assert all("No encontré" not in r["text"] for r in replies), (text, replies)
    conv = await bot.conversation("miss-0")
    assert conv["status"] == "bot"  # not handed to a person


async def test_how_many_are_left_is_a_stock_question_not_a_complaint(bot: Harness) -> None:
    await bot.say("stock-q", "¿tienen martillos?")
    replies = await bot.say("stock-q", "¿y cuántas te quedan?")
    assert (await bot.conversation("stock-q"))["status"] == "bot"
    assert replies and all("persona" not in r["text"] for r in replies)
