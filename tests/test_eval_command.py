"""`python bot.py eval FILE`: scripted conversations on a throwaway copy of the data.

The shipped example passes against the demo catalog with the offline model,
a broken prompt makes a sale expectation fail, the live data stays exactly as
it was (even when the eval runs inside a live daemon, as `POST /admin/eval`
does) and an invalid file exits with 2 and says why.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import func, select

import bot
from agent.evaluation import EvalSpecError, parse_spec, run_eval, run_eval_command
from bot import assemble
from channels.base import InboundMessage
from storage.models import Appointment, Conversation, Lead, Message, Product, Sale
from storage.repository import ProductRow
from tests.conftest import ROOT, copy_prompts, make_settings

EXAMPLE = ROOT / "config" / "eval.example.yaml"
PURCHASE = {
    "conversations": [
        {
            "name": "compra",
            "turns": ["Quiero comprar 2 martillos carpintero", "sí"],
            "expect": {"sale": {"sku": "MAR-001", "quantity": 2}, "reply_contains": ["Registré"]},
        }
    ]
}
_ENV_CLEARED = (
    "BOT_DATABASE_URL", "BOT_CONFIG", "BOT_KNOWLEDGE_DIR", "BOT_PROMPTS_DIR", "BOT_TIMEZONE", "BOT_LANGUAGE",
    "OPENAI_API_KEY", "GOOGLE_API_KEY", "TELEGRAM_BOT_TOKEN", "WHATSAPP_ACCESS_TOKEN", "OUTLOOK_TENANT_ID",
)


@pytest.fixture
def live_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The environment `bot.main` builds Settings from; main() also reconfigures logging, undone here."""
    live = tmp_path / "live"
    for name in _ENV_CLEARED:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("BOT_DATA_DIR", str(live))
    monkeypatch.setenv("BOT_LLM_PROVIDER", "offline")
    monkeypatch.setenv("BOT_ADMIN_TOKEN", "x")
    monkeypatch.chdir(tmp_path)  # no stray .env from the working directory
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield live
    root.handlers[:] = handlers
    root.setLevel(level)


def test_shipped_example_passes(live_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = [c["name"] for c in yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))["conversations"]]

    code = bot.main(["eval", str(EXAMPLE)])

    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{len(names)}/{len(names)} passed, 0 failed" in out
    assert "✗" not in out
    for name in names:
        assert f"✓ {name}" in out
    assert not live_env.exists(), "the eval must not create or touch the live data dir"


def _break_confirmation(prompts: Path) -> None:
    """The owner's bad edit: "sí" and "si" are no longer words that confirm."""
    path = prompts / "confirm.es.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["yes"] = [w for w in data["yes"] if w not in ("sí", "si")]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


async def test_broken_prompt_fails_the_sale_expectation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = make_settings(tmp_path / "live")
    good = await run_eval(settings, PURCHASE)
    assert (good["passed"], good["failed"]) == (1, 0), good

    broken = copy_prompts(tmp_path / "prompts-edit")
    _break_confirmation(broken)
    report = await run_eval(settings, PURCHASE, prompts_dir=broken)

    assert (report["passed"], report["failed"]) == (0, 1)
    result = report["results"][0]
    assert result["name"] == "compra" and result["passed"] is False
    assert "expected a sale of 2 × MAR-001, got none" in result["failures"]
    assert "no reply contains 'Registré'" in result["failures"]
    assert any("¿Lo registro?" in reply for reply in result["replies"])

    spec = tmp_path / "purchase.yaml"
    spec.write_text(yaml.safe_dump(PURCHASE, allow_unicode=True), encoding="utf-8")
    assert await run_eval_command(settings, spec, prompts_dir=broken) == 1
    out = capsys.readouterr().out
    assert "✗ compra" in out and "expected a sale of 2 × MAR-001" in out and "0/1 passed, 1 failed" in out


async def _snapshot(daemon: Any) -> dict[str, Any]:
    repos = daemon.services.repos
    async with repos.db.session() as s:
        counts = {
            model.__tablename__: (await s.execute(select(func.count()).select_from(model))).scalar_one()
            for model in (Conversation, Message, Sale, Lead, Appointment, Product)
        }
        stock = dict((await s.execute(select(Product.sku, Product.stock))).all())
    files = {
        str(p.relative_to(daemon.settings.data_dir)): p.read_bytes()
        for p in sorted(daemon.settings.effective_knowledge_dir.rglob("*"))
        if p.is_file()
    }
    files["business.yaml"] = daemon.settings.effective_config_path.read_bytes()
    return {"counts": counts, "stock": stock, "files": files}


async def test_live_data_untouched_even_from_a_running_daemon(tmp_path: Path) -> None:
    """The eval reads the live catalog (a product only the live DB has) and writes nothing live."""
    settings = make_settings(tmp_path / "live", demo_catalog=True)
    spec = {
        "conversations": [
            {"name": "producto propio", "turns": ["quiero 1 hormigonera", "sí"],
             "expect": {"sale": {"sku": "HOR-130", "quantity": 1}}},
            {"name": "visita", "turns": ["¿Me agendás una visita el martes a las 10?", "sí"],
             "expect": {"appointment": True}},
            {"name": "lead", "turns": ["soy Ana Ruiz de Obras SA, ana@obras.com"],
             "expect": {"lead": {"email": "ana@obras.com"}}},
            {"name": "queja", "turns": ["el taladro llegó roto, pésima atención"],
             "expect": {"handoff": True, "category": "complaint"}},
        ]
    }
    async with assemble(settings, with_channels=False) as daemon:
        repos = daemon.services.repos
        await repos.products.upsert_many(
            [ProductRow("HOR-130", "Hormigonera 130 litros", "Hormigonera eléctrica", "Máquinas",
                        Decimal("450000.00"), 3)]
        )
        await daemon.services.catalog.sync(await repos.products.all())
        await daemon.runtime.handle(InboundMessage(channel="web", chat_id="real", message_id="m1", text="hola"))
        before = await _snapshot(daemon)

        report = await run_eval(settings, spec)

        assert report["failed"] == 0, report
        assert await _snapshot(daemon) == before
        assert before["stock"]["HOR-130"] == 3
        assert [c.chat_id for c in await repos.conversations.list()] == ["real"]


def test_invalid_file_exits_2_with_reasons(live_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    typo = tmp_path / "typo.yaml"
    typo.write_text(
        "conversations:\n  - name: compra\n    turns: [hola]\n    expect: {salee: true, sale: {sku: A, qty: 2}}\n",
        encoding="utf-8",
    )
    assert bot.main(["eval", str(typo)]) == 2
    err = capsys.readouterr().err
    assert "is not a valid eval file" in err
    assert "conversation 1 ('compra'), expect: unknown key 'salee'" in err
    assert "expect.sale: unknown key 'qty' (known keys: sku, quantity)" in err

    broken_yaml = tmp_path / "broken.yaml"
    broken_yaml.write_text("conversations: [\n  - name: x\n", encoding="utf-8")
    assert bot.main(["eval", str(broken_yaml)]) == 2
    assert "not valid YAML" in capsys.readouterr().err

    assert bot.main(["eval", str(tmp_path / "missing.yaml")]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert not live_env.exists()


def test_spec_parsing() -> None:
    spec = parse_spec(
        '{"conversations": [{"name": "v", "turns": "hola", '
        '"expect": {"appointment": {"weekday": "Martes", "time": "9"}, "lead": null, "reply_contains": "x"}}]}'
    )
    expect = spec.conversations[0].expect
    assert spec.conversations[0].turns == ["hola"]
    assert (expect.appointment.weekday, expect.appointment.time) == ("tue", "09:00")
    assert expect.expects_no_lead and expect.reply_contains == ["x"]
    # YAML 1.1 reads an unquoted 10:30 as 630 (base 60); it still means 10:30.
    unquoted = parse_spec("conversations:\n- name: v\n  turns: [hola]\n  expect: {appointment: {time: 10:30}}\n")
    assert unquoted.conversations[0].expect.appointment.time == "10:30"
    assert parse_spec({"conversations": [{"name": "a", "turns": ["x"], "expect": {"sale": False}}]})
    for bad, reason in [
        ("- just a list", "must be a mapping"),
        ("conversations: []", "conversations: List should have at least 1 item"),
        ("conversations:\n- name: a\n  turns: [x]\n  expect: {category: angry}", "expect.category"),
        ("conversations:\n- name: a\n  turns: [x]\n  expect: {appointment: {weekday: funday}}", "unknown weekday"),
    ]:
        with pytest.raises(EvalSpecError, match=reason):
            parse_spec(bad)


async def test_order_lines_and_pass_rate_per_kind(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "live", demo_catalog=True)
    spec = {"conversations": [
        {"name": "una línea", "kind": "sale", "turns": ["Quiero comprar 2 martillos carpintero", "sí"],
         "expect": {"sale": [{"sku": "MAR-001", "quantity": 2}]}},
        {"name": "líneas que faltan", "kind": "sale", "turns": ["Quiero comprar 1 martillo carpintero", "sí"],
         "expect": {"sale": [{"sku": "MAR-001", "quantity": 1}, {"sku": "DES-001", "quantity": 1}]}},
        {"name": "saludo", "kind": "other", "turns": ["hola"], "expect": {"sale": False}},
    ]}
    report = await run_eval(settings, spec)
    assert [r["passed"] for r in report["results"]] == [True, False, True]
    assert "DES-001" in " ".join(report["results"][1]["failures"])
    assert report["by_kind"] == {"sale": {"passed": 1, "total": 2}, "other": {"passed": 1, "total": 1}}
    with pytest.raises(EvalSpecError, match="kind"):
        parse_spec({"conversations": [{"name": "x", "kind": "compra", "turns": ["hola"]}]})
