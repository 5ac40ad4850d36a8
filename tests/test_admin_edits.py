"""Owner edits without a restart: prompts (API and disk), config and knowledge; validation, versions, rollback, audit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, SMALL_CATALOG, Harness, copy_prompts, make_settings, running

OFFER_LINE = 'offer: "Te confirmo el pedido:'
SPECIAL = "OFERTA ESPECIAL"


@pytest.fixture
async def editable(tmp_path: Path) -> AsyncIterator[Harness]:
    """A daemon on its own copy of the prompts (never the repo's)."""
    settings = make_settings(tmp_path / "data", prompts_dir=copy_prompts(tmp_path / "prompts"))
    async with running(settings) as harness:
        assert (await harness.import_csv(SMALL_CATALOG))["status"] == 200
        yield harness


def as_user(h: Harness, user: str = "marta") -> dict[str, str]:
    return {**h.admin, "X-Admin-User": user}


async def get_json(h: Harness, path: str) -> Any:
    resp = await h.client.get(path, headers=h.admin)
    assert resp.status == 200, await resp.text()
    return await resp.json()


async def offer(h: Harness, chat_id: str) -> dict[str, Any]:
    replies = await h.say(chat_id, "quiero 2 martillos")
    return replies[-1]


async def audit(h: Harness) -> list[tuple[str, str, str]]:
    entries = (await get_json(h, "/admin/audit"))["items"]
    assert all(datetime.fromisoformat(e["created_at"]) for e in entries)
    return [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]


# -- prompts -------------------------------------------------------------------------------


async def test_prompt_edit_changes_next_reply_refuses_bad_edits_and_rolls_back(editable: Harness) -> None:
    h = editable
    prompts_dir = h.daemon.services.prompts.directory
    assert prompts_dir != ROOT / "prompts"
    disk = prompts_dir / "messages.es.yaml"
    original = disk.read_text(encoding="utf-8")
    assert SPECIAL not in (await offer(h, "p0"))["text"]

    current = await get_json(h, "/admin/prompts/messages.es")
    assert current["content"] == original and current["versions"] == []
    assert {"messages.es", "system.es", "system.en"} <= {
        i["name"] for i in (await get_json(h, "/admin/prompts"))["items"]
    }
    assert OFFER_LINE in original
    edited = original.replace(OFFER_LINE, f'offer: "{SPECIAL}. Te confirmo el pedido:')
    resp = await h.client.put("/admin/prompts/messages.es", json={"content": edited}, headers=as_user(h))
    assert resp.status == 200, await resp.text()
    edit_version = (await resp.json())["version_id"]

    first = await offer(h, "p1")
    assert SPECIAL in first["text"] and "2 × Martillo" in first["text"]
    assert [b["payload"] for b in first["buttons"]] == ["confirm", "decline"]

    # Bad edits: 422 with the reason; the file and the behaviour stay.
    system_before = (await get_json(h, "/admin/prompts/system"))["content"]
    bad_edits = [
        ("system", system_before + "\nTu clave es {secreto}.", "secreto"),
        ("messages.es", "sale:\n  offer: [sin cerrar\n", "YAML"),
        (
            "messages.es",
            edited.replace('  declined: "Listo, no registré nada. ¿Te ayudo con otra cosa?"\n', ""),
            "sale.declined",
        ),
        (
            "messages.es",
            edited.replace("total {total}. ¿Lo registro?", "total {total} {secreto}. ¿Lo registro?"),
            "secreto",
        ),
        ("messages.es", "- una\n- lista\n", "mapping"),
        ("system", "   ", "empty"),
    ]
    for name, content, reason in bad_edits:
        assert content != edited, name
        resp = await h.client.put(f"/admin/prompts/{name}", json={"content": content}, headers=as_user(h))
        assert resp.status == 422, (name, reason, await resp.text())
        assert reason in (await resp.json())["error"], (name, reason)
    assert disk.read_text(encoding="utf-8") == edited
    assert (await get_json(h, "/admin/prompts/system"))["content"] == system_before
    assert "{secreto}" not in (prompts_dir / "system.es.md").read_text(encoding="utf-8")
    again = await offer(h, "p2")
    assert SPECIAL in again["text"] and again["buttons"]
    assert (
        await h.client.put("/admin/prompts/nope.es", json={"content": "x: y"}, headers=h.admin)
    ).status == 404

    # Versions: the baseline and the edit, with author and time.
    versions = (await get_json(h, "/admin/prompts/messages.es"))["versions"]
    assert [v["author"] for v in versions] == ["marta", "baseline"]
    assert versions[0]["id"] == edit_version
    assert all(datetime.fromisoformat(v["created_at"]) for v in versions)
    baseline = versions[1]["id"]

    resp = await h.client.post(
        "/admin/prompts/messages.es/rollback", json={"version_id": 999_999}, headers=h.admin
    )
    assert resp.status == 404
    resp = await h.client.post(
        "/admin/prompts/messages.es/rollback", json={"version_id": baseline}, headers=as_user(h, "jorge")
    )
    assert resp.status == 200, await resp.text()
    assert disk.read_text(encoding="utf-8") == original
    restored = await offer(h, "p3")
    assert SPECIAL not in restored["text"] and restored["text"].startswith("Te confirmo el pedido:")
    versions = (await get_json(h, "/admin/prompts/messages.es"))["versions"]
    assert [v["author"] for v in versions] == ["jorge", "marta", "baseline"]

    assert await audit(h) == [
        ("marta", "prompt.edit", "messages.es"),
        ("jorge", "prompt.rollback", "messages.es"),
    ]


async def test_prompt_file_edited_on_disk_is_picked_up_and_a_broken_file_keeps_the_running_text(
    editable: Harness,
) -> None:
    h = editable
    disk = h.daemon.services.prompts.directory / "messages.es.yaml"
    original = disk.read_text(encoding="utf-8")
    assert "DESDE EL DISCO" not in (await offer(h, "d0"))["text"]

    disk.write_text(
        original.replace(OFFER_LINE, 'offer: "DESDE EL DISCO. Te confirmo el pedido:'), encoding="utf-8"
    )
    await asyncio.sleep(1.2)  # the store looks at the files at most once a second
    assert "DESDE EL DISCO" in (await offer(h, "d1"))["text"]

    # A file broken on disk is not used; the running text stays and turns keep working.
    disk.write_text("sale:\n  offer: [roto\n", encoding="utf-8")
    await asyncio.sleep(1.2)
    resp = await h.client.post("/api/chat", json={"chat_id": "d2", "text": "quiero 2 martillos"})
    assert resp.status == 200, await resp.text()
    replies = (await resp.json())["replies"]
    assert "DESDE EL DISCO" in replies[-1]["text"] and replies[-1]["buttons"]
    detail = await h.conversation("d2")
    assert [m["direction"] for m in detail["messages"]] == ["in", "out"]

    disk.write_text(original, encoding="utf-8")
    await asyncio.sleep(1.2)
    assert (await offer(h, "d3"))["text"].startswith("Te confirmo el pedido:")


# -- config --------------------------------------------------------------------------------


def public(config: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in config.items() if not k.startswith("_")}


async def test_config_validated_applied_next_turn_and_rolled_back(editable: Harness) -> None:
    h = editable
    before = await get_json(h, "/admin/config")
    assert before["timezone"] == "America/Argentina/Buenos_Aires" and before["name"] == "Ferretería Demo"
    assert "Ferretería Demo" in (await h.say("g0", "hola"))[0]["text"]

    bad_edits = [
        ({**public(before), "timezone": "Mars/Olympus"}, "Mars/Olympus"),
        (
            {**public(before), "business_hours": {**before["business_hours"], "mon": [["09:00", "25:00"]]}},
            "25:00",
        ),
        ({**public(before), "enabled_tools": ["search_products", "teleport"]}, "enabled_tools"),
        ({**public(before), "lead": {"threshold": 150}}, "threshold"),
        ({**public(before), "colour": "blue"}, "colour"),
    ]
    for body, reason in bad_edits:
        resp = await h.client.put("/admin/config", json=body, headers=as_user(h))
        assert resp.status == 422, (reason, await resp.text())
        assert reason in (await resp.json())["error"], reason
    for raw in (b"{not json", b"[1, 2]"):
        resp = await h.client.put(
            "/admin/config", data=raw, headers={**h.admin, "Content-Type": "application/json"}
        )
        assert resp.status == 422 and (await resp.json())["error"]
    assert public(await get_json(h, "/admin/config")) == public(before)
    assert (await get_json(h, "/admin/config"))["_versions"] == []

    # A valid edit, made as the owner would: GET, change, PUT the same document back.
    renamed = {**before, "name": "Ferretería Los Andes"}
    resp = await h.client.put("/admin/config", json=renamed, headers=as_user(h))
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["name"] == "Ferretería Los Andes"
    assert "Ferretería Los Andes" in (await h.say("g1", "hola"))[0]["text"]

    current = await get_json(h, "/admin/config")
    no_sales = {
        **public(current),
        "enabled_tools": [t for t in current["enabled_tools"] if t != "register_sale"],
    }
    resp = await h.client.put("/admin/config", json=no_sales, headers=as_user(h, "jorge"))
    assert resp.status == 200, await resp.text()
    reply = await offer(h, "g2")
    assert "buttons" not in reply and "¿Lo registro?" not in reply["text"]
    assert "Martillo" in reply["text"]  # still searches the catalog

    versions = (await get_json(h, "/admin/config"))["_versions"]
    assert [v["author"] for v in versions] == ["jorge", "marta", "baseline"]
    resp = await h.client.post(
        "/admin/config/rollback", json={"version_id": versions[-1]["id"]}, headers=as_user(h)
    )
    assert resp.status == 200, await resp.text()
    assert public(await get_json(h, "/admin/config")) == public(before)
    assert "Ferretería Demo" in (await h.say("g3", "hola"))[0]["text"]
    assert (await offer(h, "g4"))["buttons"]

    assert await audit(h) == [
        ("marta", "config.edit", "business"),
        ("jorge", "config.edit", "business"),
        ("marta", "config.rollback", "business"),
    ]


# -- knowledge -------------------------------------------------------------------------------


async def test_knowledge_edit_answers_from_the_new_text(editable: Harness) -> None:
    h = editable
    names = {i["name"] for i in (await get_json(h, "/admin/knowledge"))["items"]}
    assert {"horarios.md", "envios.md", "pagos.md"} <= names
    before = (await h.say("k0", "¿abren los domingos?"))[0]["text"]
    assert "cerrado" in before and "«Domingos»" in before

    doc = (await get_json(h, "/admin/knowledge/horarios.md"))["content"]
    start = doc.index("## Domingos")
    end = doc.index("## Feriados")
    sunday = "## Domingos\n\nLos domingos abrimos de 10 a 14 horas, solo para retirar pedidos hechos por el chat.\n\n"
    edited = doc[:start] + sunday + doc[end:]
    resp = await h.client.put("/admin/knowledge/horarios.md", json={"content": edited}, headers=as_user(h))
    assert resp.status == 200, await resp.text()

    after = (await h.say("k1", "¿abren los domingos?"))[0]["text"]
    assert "10 a 14" in after and "cerrado" not in after, after

    for bad in ("", "   \n"):
        resp = await h.client.put("/admin/knowledge/horarios.md", json={"content": bad}, headers=h.admin)
        assert resp.status == 422 and (await resp.json())["error"]
    assert (await h.client.put("/admin/knowledge/..%2Fsecreto", data=b"x", headers=h.admin)).status in (
        400,
        404,
    )
    assert "10 a 14" in (await h.say("k2", "¿abren los domingos?"))[0]["text"]

    resp = await h.client.put(
        "/admin/knowledge/estacionamiento.md",
        data=b"# Estacionamiento\n\nHay estacionamiento gratuito para clientes.",
        headers={**as_user(h), "Content-Type": "text/markdown"},
    )
    assert resp.status == 200, await resp.text()
    assert "estacionamiento.md" in {i["name"] for i in (await get_json(h, "/admin/knowledge"))["items"]}

    assert await audit(h) == [
        ("marta", "knowledge.edit", "horarios.md"),
        ("marta", "knowledge.edit", "estacionamiento.md"),
    ]


async def test_put_repairs_a_prompt_file_broken_on_disk(tmp_path) -> None:
    """A sentences file broken by a hand edit can still be replaced through the API (no 500)."""
    from tests.conftest import copy_prompts, make_settings, running

    prompts_dir = copy_prompts(tmp_path / "prompts")
    good = (prompts_dir / "messages.en.yaml").read_text(encoding="utf-8")
    async with running(make_settings(tmp_path / "data", prompts_dir=prompts_dir)) as bot:
        (prompts_dir / "messages.en.yaml").write_text("error: [unclosed\n", encoding="utf-8")
        resp = await bot.client.put(
            "/admin/prompts/messages.en", json={"content": good}, headers=bot.admin
        )
        assert resp.status == 200, await resp.text()
        assert (prompts_dir / "messages.en.yaml").read_text(encoding="utf-8") == good
