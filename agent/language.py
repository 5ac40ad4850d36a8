"""Which language a customer wrote in: Spanish or English.

A small lexicon score, not a model: chat messages are short ("hola", "yes",
"thanks", "tenés martillos?"), where statistical detectors guess wildly.
Words that are shared or meaningless in isolation ("no", "ok", "me",
product names) count for nothing, and when nothing tips the balance the
caller's default (the conversation's language so far) wins.
"""

from __future__ import annotations

from agent.offline.text import tokenize

_SPANISH = frozenset(
    """
    de la el que y en los las del se por un una unos unas para con es lo como mas pero sus le ya o
    este esta estos estas ese esa eso esos esas si sí porque son entre cuando muy sin sobre tambien hasta hay
    donde quien desde todo nos todos les ni otro otra otros yo mi mis tu te ti tus usted ustedes nosotros
    ella ellos algo nada mucho poco cual cuales que al
    hola holis buenas buen buenos dia dias tardes noches gracias muchas mil chau chao adios dale che
    bueno vale claro listo perfecto genial barbaro joya
    tenes tienen tienes tiene tengo hay quiero quisiera queria necesito busco mandame dame pasame
    cuanto cuanta sale salen cuesta cuestan precio precios comprar compro llevo vendes venden manejan
    manana hoy ayer semana lunes martes miercoles jueves viernes sabado domingo hora horas horario
    podes puedo puede pueden podemos hacen hacer envio envios envian pagar pago tarjeta efectivo
    abren cierran atienden direccion donde estan
    soy llamo nombre correo telefono celular empresa dueno encargado encargada compras
    visita reunion turno cita llamada agendar agendame agendas coordinar cancelar reprogramar
    persona humano alguien hablar vendedor roto rota llego funciona anda queja reclamo pesima
    ayuda ayudar sos eres estas estás andas tal onda nomas mejor sean cambialo solo
    cotizacion presupuesto mayorista favor confirmo nop
    """.split()
)

_ENGLISH = frozenset(
    """
    the an and is are am do does did you your have has had i i'm i'll i'd i've it it's to of for on with
    what what's how much many can could would will should my we our us they them this that these those
    there here when where which who why be was were been not don't doesn't didn't won't can't from about
    just only also too some any get got give send take want need like please thanks thank hi hello hiya
    yes yeah yep yup sure nope nah bye goodbye morning afternoon evening night good great awesome cool
    today tomorrow tonight week monday tuesday wednesday thursday friday saturday sunday
    price cost costs buy order sell carry stock available open close hours address located deliver
    shipping ship pay cash card return refund warranty meet meeting call visit appointment schedule
    reschedule cancel talk speak human person someone agent representative name email phone company
    broken unacceptable terrible worst never arrived complain help make instead actually one two three
    """.split()
)

_SPANISH_MARKS = set("ñ¿¡áéíóú")
_ENGLISH_ENDINGS = ("'s", "'ll", "n't", "'m", "'re", "'ve", "'d")


def language_scores(text: str) -> tuple[float, float]:
    """(Spanish, English) evidence found in `text`."""
    es = en = 0.0
    lowered = text.lower()
    es += min(2, sum(1 for ch in lowered if ch in _SPANISH_MARKS))
    for token in tokenize(text):
        word = token.norm
        if word in _SPANISH:
            es += 1
        if word in _ENGLISH:
            en += 1
        if word.endswith(_ENGLISH_ENDINGS):
            en += 1
        elif word.endswith(("cion", "ciones")):
            es += 0.5
        elif len(word) > 5 and word.endswith(("tion", "ing")):
            en += 0.5
    return es, en


def detect_language(text: str, default: str = "es") -> str:
    """'es' or 'en' for `text`; `default` when the text gives no clear sign."""
    es, en = language_scores(text or "")
    if es > en:
        return "es"
    if en > es:
        return "en"
    return default
