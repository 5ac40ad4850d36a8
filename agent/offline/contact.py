"""Pulling lead data out of a message: name, email, phone, company and BANT signals.

"soy Juan Pérez de Constructora Sur, mi mail es juan@sur.com.ar y mi cel
11 5555-1234" -> name, company, email, phone. Extraction is literal (what
the customer typed); `qualify_lead` validates and scores it.
"""

from __future__ import annotations

import re

from agent.offline.lexicon import NOT_NAMES, STOPWORDS
from agent.offline.text import fold

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w@.])\+?\(?\d[\d\s().-]{6,}\d(?![\w@])")
_UPPER = "A-ZÁÉÍÓÚÑÜ"
_NAME_WORD = rf"[{_UPPER}][\wáéíóúñü'-]+"
_CAP_RUN = re.compile(rf"({_NAME_WORD}(?:\s+(?:{_NAME_WORD}|&|y|S\.?A\.?|SRL|S\.R\.L\.))*)")
# In a company name "del", "de la", "y", "&" join capitalized words ("Constructora del Sur").
_COMPANY_RUN = re.compile(
    rf"({_NAME_WORD}(?:\s+(?:{_NAME_WORD}|S\.?A\.?|SRL|S\.R\.L\.|(?:&|y|del|de la|de las|de los|de)(?=\s+[{_UPPER}])))*)"
)
_NAME_INTRO = re.compile(
    r"\b(?:me llamo|mi nombre es|my name is|soy|i'm|i am|this is|habla|les habla|te habla|le escribe|"
    r"les escribe|te escribe|name is|nombre:|name:|"
    r"mis datos(?: son)?:?|mis datos)\s+",
    re.IGNORECASE,
)
_COMPANY_INTRO = re.compile(
    r"\b(?:(?:tengo|tenemos|manejo|tiene|arrancando|arranque|arranqué|abri|abrí|empezando) (?:una|un) [a-záéíóúñ]+"
    r"(?: [a-záéíóúñ]+){0,5},|del estudio|"
    r"estudio|de la empresa|empresa|de la firma|trabajo en|trabajo para|trabajamos en|de|del|en la|en el|from|at|"
    r"at the|with|company|i work (?:at|for)|we are|somos|dueñ[oa] de|own|i own a [\w ]{0,30}?,|"
    r"(?:mantenimiento|compras|obra|obras|trabajo|trabajamos) en|administro|administramos|represento|"
    r"representamos|gerencio|dirijo|i manage|i run|we run)\s+(?:(?:el|la|los|las|the|una|un|a)\s+)?",
    re.IGNORECASE,
)
_AUTHORITY = re.compile(
    r"\b(soy (?:el |la )?(?:dueñ[oa]|duen[oa]|encargad[oa]|gerente|jef[ea]|responsable|titular|soci[oa]|director[a]?|"
    r"administrador[a]?|coordinador[a]?|propietari[oa])(?: de compras)?|"
    r"(?:encargad[oa]|jef[ea]|coordinador[a]?|gerente|responsable) de (?:compras|mantenimiento)|decido yo|yo decido|"
    r"(?:yo )?(?:apruebo|autorizo|firmo) (?:las|los) (?:compras|pedidos|presupuestos)|"
    r"i'?m the (?:owner|manager|buyer|director|ceo|founder)|purchasing (?:manager|agent)|i own|"
    r"(?:facilities|operations|procurement|purchasing|general|store) (?:manager|lead|director)|"
    r"i sign off|sign off on|i approve|i make the (?:purchasing |buying |final )?decisions?|decision maker|"
    r"i'?m in charge|(?:yo )?decido (?:yo )?(?:las|los) (?:compras|pedidos))",
    re.IGNORECASE,
)
_BUDGET = re.compile(
    r"\b(?:presupuesto|budget)(?:\s+\w+){0,3}?\s*(?:de|es|of|is|:|máximo|maximo|aproximado)?\s*"
    r"(?:unos|de unos|hasta|around|about|aprox\.?|arriba de|más de|over)?\s*(?:ars|usd|cop|mxn)?\s*"
    r"(\$?\s?\d[\d.,]*\s*(?:millones|millón|millon|mil|palos|k|m|pesos|usd|dólares|dolares|million|thousand)?)",
    re.IGNORECASE,
)
# A budget stated without a figure: "tenemos el presupuesto aprobado", "the budget is approved".
_BUDGET_APPROVED = re.compile(
    r"\b(presupuesto (?:ya )?(?:aprobado|asignado|autorizado)|(?:tenemos|hay|contamos con) (?:el )?presupuesto|"
    r"budget (?:is )?(?:approved|allocated|signed off)|approved budget|we have (?:the )?budget)\b",
    re.IGNORECASE,
)
# An amount said without the word "budget": "contamos con unos 4 millones", "gastamos 3 palos por mes",
# "around ARS 1.2M a month".
_AMOUNT = re.compile(
    r"(?:contamos con|tenemos|tengo|gastamos|gasto|unos|around|about|maybe|roughly|approximately|alrededor de|"
    r"cerca de|más o menos|mas o menos|ars|usd|cop|mxn)\s*(?:como|unos|unas|alrededor de|cerca de)?\s*"
    r"(?:ars|usd|cop|mxn)?\s*"
    r"(\$?\s?\d[\d.,]*\s*(?:millones|millón|millon|mil|palos|k|m|million|thousand)\b)",
    re.IGNORECASE,
)
_TIMELINE = re.compile(
    r"\b(para (?:la semana que viene|el mes que viene|la pr[oó]xima semana|el pr[oó]ximo mes|fin de mes|"
    r"fin de año|mañana|manana|hoy|ya|el (?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado)|"
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre))|"
    r"urgente|cuanto antes|lo antes posible|(?:dentro de |en )(?:\d+|un|una|dos|tres|cuatro|quince) "
    r"(?:d[ií]as|semanas?|mes(?:es)?)|esta semana|este mes|asap|next week|next month|para la otra semana|"
    r"la otra semana|(?:arrancamos|empezamos|comenzamos|empieza|arranca) (?:en|el|la) [\w ]{2,20}?(?=[,.;]|$)|"
    r"(?:el )?pr[oó]ximo mes|(?:la )?pr[oó]xima semana|(?:el )?mes que viene|(?:la )?semana que viene|"
    r"antes de fin de mes|fin de mes|en (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre)|vacaciones de (?:invierno|verano|julio|enero)|"
    r"in (?:\d+|one|two|three|four|five|six) (?:days|weeks|months)|in (?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december)|starting (?:in|next)|"
    r"this week|this month|as soon as possible|urgent|within \d+ days|by (?:monday|tuesday|wednesday|"
    r"thursday|friday|the end of the month|next week))",
    re.IGNORECASE,
)
_NEED = re.compile(
    r"\b(?:necesito|necesitamos|busco|buscamos|estoy buscando|estamos buscando|queremos|quiero|ocupamos|ocupo|"
    r"compramos|consumimos|usamos|estoy cotizando|estamos cotizando|cotizando|me interesar[ií]a(?: comprar)?|"
    r"nos interesar[ií]a(?: comprar)?|nos interesa(?: comprar)?|(?:i'?m|we'?re|we are) interested in|"
    r"i need|we need|looking for|we want|i want|we buy|we use)\s+(.+?)(?=\s*(?:[,.;!?]|\s(?:y mi|and my|presupuesto|budget)\b|$))",
    re.IGNORECASE,
)


def find_email(text: str) -> str | None:
    match = EMAIL.search(text)
    return match.group().rstrip(".") if match else None


def find_phone(text: str) -> str | None:
    for match in PHONE.finditer(EMAIL.sub(" ", text)):
        digits = re.sub(r"\D", "", match.group())
        if 8 <= len(digits) <= 15:
            return match.group().strip()
    return None


def _name_after(text: str, start: int) -> str | None:
    match = _CAP_RUN.match(text, start)
    if match:
        words = match.group(1).split()
        kept: list[str] = []
        for word in words[:3]:
            if word.lower() in {"y", "&"} or fold(word) in NOT_NAMES:
                break
            kept.append(word)
        return " ".join(kept) or None
    if text == text.lower():  # all-lowercase typists: "soy juan"
        word = re.match(r"[\wáéíóúñü]+", text[start:])
        if word and fold(word.group()) not in NOT_NAMES | STOPWORDS and not word.group().isdigit():
            return word.group().capitalize()
    return None


def find_name(text: str) -> str | None:
    for match in _NAME_INTRO.finditer(text):
        name = _name_after(text, match.end())
        if name:
            return name
    return None


def find_company(text: str, name: str | None) -> str | None:
    for match in _COMPANY_INTRO.finditer(text):
        run = _COMPANY_RUN.match(text, match.end())
        if not run:
            continue
        company = run.group(1).strip()
        if name and (company in name or name in company):
            continue
        return company
    return None


def extract_lead(text: str) -> dict[str, str]:
    """The lead fields found in `text` (only those present)."""
    name = find_name(text)
    fields: dict[str, str | None] = {
        "name": name,
        "email": find_email(text),
        "phone": find_phone(text),
        "company": find_company(text, name),
    }
    for key, pattern in (("authority", _AUTHORITY), ("timeline", _TIMELINE)):
        match = pattern.search(text)
        fields[key] = match.group(1) if match else None
    budget = _BUDGET.search(text) or _AMOUNT.search(text) or _BUDGET_APPROVED.search(text)
    fields["budget"] = budget.group(1).strip() if budget else None
    need = _NEED.search(text)
    fields["need"] = need.group(1).strip() if need else None
    return {key: value for key, value in fields.items() if value}
