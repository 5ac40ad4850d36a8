"""classify_reply: only an unmistakable yes/no commits or drops a pending action."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from agent.confirm import classify_reply
from prompts import PromptStore

PROMPTS = Path(__file__).resolve().parent.parent / "prompts"


@pytest.fixture(scope="module")
def prompts() -> PromptStore:
    return PromptStore(PROMPTS)


@pytest.mark.parametrize(
    "text",
    [
        "sí", "Sí", "si", "SI!", "siii", "sisi", "si si si", "si, confirmo", "sí por favor", "sí, dale",
        "dale", "dale!!", "daleee", "ok", "OK.", "okey", "oki", "de una", "confirmo", "listo", "perfecto",
        "va", "claro", "obvio", "por supuesto", "bueno dale", "👍", "👍🏻", "✅", "si, está bien",
        "perfecto, confirmo", "dale, mandalo", "yes", "Yes!", "yep", "yesss", "sure", "sure, go ahead",
        "go ahead", "yes please", "ok sounds good", "confirm", "of course", "sí, confirmo el pedido",
    ],
)  # fmt: skip
def test_confirms(prompts: PromptStore, text: str) -> None:
    assert classify_reply(text, None, prompts) == "confirm"


@pytest.mark.parametrize(
    "text",
    [
        "no", "No.", "nono", "no no", "noo", "nop", "mejor no", "no, gracias", "no gracias", "cancelá",
        "cancelalo", "no, dejalo", "olvidalo", "ahora no", "👎", "mmm mejor no", "no, está muy caro",
        "no, ya lo compré en otra ferretería", "no quiero", "nah", "nope", "no thanks", "no thank you",
        "cancel", "never mind", "forget it", "cancelá el pedido",
    ],
)  # fmt: skip
def test_declines(prompts: PromptStore, text: str) -> None:
    assert classify_reply(text, None, prompts) == "decline"


@pytest.mark.parametrize(
    "text",
    [
        # quantity changes and other requests go to the model
        "mejor 5", "que sean 3", "no, mandame 3", "make it 2", "sí, pero mejor 5", "no, el otro",
        "no, quiero el de goma", "yes, 3 please", "no, solo 2",
        # questions and doubts are never a yes or a no
        "no sé", "no se", "ni idea", "not sure", "I don't know", "si tenés martillos", "sí, el martes",
        "no?, cuánto sale?", "cuánto sale?", "hmm", "gracias", "ok bye", "", "   ", "!!!",
        # mixed signals
        "si no", "yes no",
    ],
)  # fmt: skip
def test_other(prompts: PromptStore, text: str) -> None:
    assert classify_reply(text, None, prompts) == "other"


def test_button_payloads_win(prompts: PromptStore) -> None:
    assert classify_reply("", "confirm", prompts) == "confirm"
    assert classify_reply("whatever", "decline", prompts) == "decline"
    assert classify_reply("sí", "something-else", prompts) == "confirm"


def test_word_lists_are_owner_editable(tmp_path: Path) -> None:
    for path in PROMPTS.glob("confirm.*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    store = PromptStore(tmp_path)
    assert classify_reply("joya joya", None, store) == "confirm"
    assert classify_reply("ni en pedo", None, store) == "other"
    path = tmp_path / "confirm.es.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace('"no":\n', '"no":\n  - ni en pedo\n'), encoding="utf-8"
    )
    store.reload()
    assert classify_reply("ni en pedo", None, store) == "decline"


ORDER = {"kind": "sale", "sku": "FER-001", "name": "Candado de bronce 40 mm", "quantity": 2}


@pytest.mark.parametrize(("text", "verdict"), [
    ("sí, confirmo los 2 candados", "confirm"),
    ("listo, confirmo el pedido de los 2", "confirm"),
    ("dale, confirmo los 2 candados, los paso a buscar el sábado", "confirm"),
    ("Listo, confirmo el pedido. Paso a recogerlo", "confirm"),
    ("yes, confirm. I'll pick them up tomorrow", "confirm"),
    ("sí, confirmo los 3 candados", "other"),  # a different quantity is an edit
    ("sí, pero mejor 3", "other"),
    ("confirmo, y sumale un candado", "other"),
    ("sí, confirmo. ¿tienen estacionamiento?", "other"),
    ("no, gracias. Lo pienso", "decline"),
])
def test_a_yes_restating_the_order_or_with_a_remark(prompts: PromptStore, text: str, verdict: str) -> None:
    assert classify_reply(text, None, prompts, ORDER) == verdict


def test_an_acknowledgment_accepts_a_meeting_only(prompts: PromptStore) -> None:
    meeting = {"kind": "meeting", "start": "2026-12-08T10:00:00-03:00"}
    assert classify_reply("gracias, quedo atento", None, prompts, meeting) == "confirm"
    assert classify_reply("gracias, quedo atento", None, prompts, ORDER) == "other"
    assert classify_reply("mmm", None, prompts, meeting) == "other"


@pytest.mark.parametrize(("text", "verdict"), [
    ("dale, el martes a las 10 está perfecto, confirmalo", "confirm"),
    ("Yes, that works, please book it", "confirm"),
    ("Sale, perfecto, confírmala", "confirm"),
    ("sí, el martes a las 11", "other"),  # another time: a change, not a yes
    ("sí, confirmo el sábado a las 10", "other"),
])
def test_a_yes_restating_the_proposed_meeting(prompts: PromptStore, text: str, verdict: str) -> None:
    meeting = {"kind": "meeting", "start": "2026-12-08T10:00:00-03:00"}  # a Tuesday, 10:00
    assert classify_reply(text, None, prompts, meeting) == verdict
