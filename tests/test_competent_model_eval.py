"""Issue 10: the evaluation conversations also pass through the OpenAI-compatible fake scripted as a competent model.

tests/eval/fresh_set_2.yaml is played twice with `run_eval`: on the built-in
model, and with `llm_provider="openai"` against `FakeOpenAI` scripted by
`CompetentModel` (the built-in model reading only the wire format: the
system text with its dialogue-state block, the history with JSON tool-call
arguments, the tool schemas). Every conversation must have the same outcome
on both paths, so whatever passes on the built-in model passes through the
LLM path too: nothing the built-in model reads in-process is missing from
the prompt, and confirmation and commit stay deterministic. The fake must
have answered every model step: a fallback to the offline model (counted on
/metrics and logged) would make the paths agree for the wrong reason.
The whole set runs (a few seconds each way).
"""

from __future__ import annotations

from pathlib import Path

from bench.eval_llm import differences, outcomes, run_builtin, run_via_fake
from tests.conftest import ROOT

SET = ROOT / "tests" / "eval" / "fresh_set_2.yaml"


async def test_fresh_set_2_passes_through_the_competent_fake_as_on_the_built_in_model(tmp_path: Path) -> None:
    spec = SET.read_text(encoding="utf-8")
    builtin = await run_builtin(spec, tmp_path / "builtin")
    via_fake = await run_via_fake(spec, tmp_path / "fake")

    assert via_fake.fallbacks == []
    assert via_fake.chat_steps > 0 and via_fake.requests >= via_fake.chat_steps
    passed_builtin = {name for name, ok in outcomes(builtin.report).items() if ok}
    passed_fake = {name for name, ok in outcomes(via_fake.report).items() if ok}
    assert passed_builtin, "the built-in model passed nothing: the set did not run"
    assert passed_builtin <= passed_fake, (
        f"pass on the built-in model only: {sorted(passed_builtin - passed_fake)}"
    )
    assert differences(builtin.report, via_fake.report) == []
    assert via_fake.report["by_kind"] == builtin.report["by_kind"]
