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
    r"\b(?:me llamo|mi nombre es|my name is|soy|i'm|i am|this is|it's|name's|habla|les habla|te habla|le escribe|"
    r"les escribe|te escribe|le saluda|les saluda|te saluda|los saluda|name is|nombre:|name:|"
    r"mis datos(?: son)?:?|mis datos)\s+",
    re.IGNORECASE,
)
_COMPANY_INTRO = re.compile(
    r"\b(?:somos (?:una|un) [a-záéíóúñ]+(?: [a-záéíóúñ]+){0,3},|(?:tengo|tenemos|manejo|tiene|arrancando|arranque|arranqué|abri|abrí|empezando) (?:una|un) [a-záéíóúñ]+"
    r"(?: [a-záéíóúñ]+){0,5},|"
    r"de la empresa|empresa|de la firma|trabajo en|trabajo para|trabajamos en|de|del|en la|en el|from|at|"
    r"at the|with|company|i work (?:at|for)|we are|somos|dueñ[oa] de|own|i own a [\w ]{0,30}?,|"
    r"(?:mantenimiento|compras|obra|obras|trabajo|trabajamos) en|administro|administramos|represento|"
    r"representamos|gerencio|dirijo|i manage|i run|we run|we'?re|on behalf of|owner of|compradora? (?:en|de)|"
    r"escribo (?:de|desde|del)|comunico (?:de|desde|del)|"
    r"(?:empresa|negocio|local|estudio|taller|tienda|comercio|emprendimiento|marca|pyme|business|company|shop|store)"
    r"(?: [a-záéíóúñ]+){0,3} (?:que se llama|se llama|llamad[oa]|called|named))\s+"
    r"(?:(?:el|la|los|las|the|una|un|a)\s+)?",
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
    r"i'?m in charge|(?:yo )?decido (?:yo )?(?:las|los) (?:compras|pedidos)|"
    r"(?:la |las )?(?:compras?|decisi[oó]n|adjudicaci[oó]n) (?:la |las |lo )?(?:tomo|tomamos|decido|autorizo|apruebo|firmo)"
    r"(?: yo)?(?: con (?:mi|el|la) \w+)?|"
    r"(?:las |los )?(?:compras |pedidos )?(?:las |los )?(?:autorizo|apruebo|firmo) yo|"
    r"(?:la |las |lo )?(?:compras? |decisi[oó]n |adjudicaci[oó]n )?(?:la |las |lo )?(?:aprueba|autoriza|firma|decide|"
    r"tiene que aprobar|tienen que aprobar|debe aprobar)n? (?:el |la |los |las |mi |nuestro |nuestra )?"
    r"(?:due[nñ][oa]|gerente|gerencia|director[a]?|directora|directorio|socio|socios|asamblea|comisi[oó]n|presidente|"
    r"jef[ea]|administraci[oó]n|cooperadora|consejo)(?: [\w ]{0,30}?(?=[,.;]|$))?|"
    r"el que decide es [\w ]{2,30}?(?=[,.;]|$)|"
    r"(?:final )?approval comes from (?:our |the |my )?\w+|i approve (?:all )?(?:purchases|orders)?[\w ]{0,20}?|"
    r"(?:our|the) (?:cfo|ceo|owner|boss|board|director) (?:approves|decides|signs)|"
    r"(?:i|we) decide|la decisi[oó]n es m[ií]a|lo decido yo|decidimos nosotros|"
    # "soy Rodrigo Salas, dueño de Herrería Salas", "yo me encargo de hacer la compra"
    r"(?<=, )(?:el |la )?(?:dueñ[oa]|duen[oa]|propietari[oa]|gerente|director[a]?|soci[oa]|titular) de "
    r"[A-ZÁÉÍÓÚÑ][\wáéíóúñ]+(?: [A-ZÁÉÍÓÚÑ][\wáéíóúñ]+)*|"
    r"(?:yo )?me encargo de (?:hacer )?(?:la |las )?compras?|(?:yo )?hago (?:la |las )?compras?|"
    r"(?:la |el )?(?:junta|directorio|consejo|gerencia) (?:ya )?(?:aprob[oó]|autoriz[oó]))",
    re.IGNORECASE,
)
_BUDGET = re.compile(
    r"\b(?:presupuesto|presu|budget)(?:(?:\s+\w+){0,3}?|(?:\s+\w+){0,5}?\s+(?:ronda|rondan|anda|andan|llega|alcanza|"
    r"es de)(?:\s+(?:los|las|en|por|a))?)\s*(?:de|es|of|is|:|máximo|maximo|aproximado)?\s*"
    r"(?:unos|de unos|hasta|around|about|aprox\.?|arriba de|más de|over)?\s*(?:ars|usd|cop|mxn)?\s*"
    r"(\$?\s?\d[\d.,]*\s*(?:millones|millón|millon|million|mil|palos|k|m|pesos|usd|dólares|dolares|thousand)?\b)"
    # the figure first: "traemos como 1.5 millones de presupuesto"
    r"|(\$?\s?\d[\d.,]*\s*(?:millones|millón|millon|million|mil|palos|lucas|k|m|thousand)?)\s+(?:de|of|in|as)\s+"
    r"(?:presupuesto|presu|budget)\b",
    re.IGNORECASE,
)
# A budget stated without a figure: "tenemos el presupuesto aprobado", "the budget is approved".
_BUDGET_APPROVED = re.compile(
    r"\b(presupuesto (?:ya )?(?:aprobado|asignado|autorizado)|(?:tenemos|hay|contamos con) (?:el )?presupuesto|"
    r"presupuesto (?:tenemos )?(?:amplio|ajustado|acotado|limitado|justo)|"
    r"budget (?:is )?(?:approved|allocated|signed off|flexible|tight|limited)|approved budget|"
    r"we have (?:the )?budget)\b",
    re.IGNORECASE,
)
# An amount said without the word "budget": "contamos con unos 4 millones", "gastamos 3 palos por mes",
# "around ARS 1.2M a month".
_AMOUNT = re.compile(
    r"(?:contamos con|tenemos(?: hasta| aprobados?| asignados?)?|tengo(?: hasta)?|gastamos|gasto|unos|unas|hasta|"
    r"traemos|traigo|manejamos|disponemos de|ronda(?:n)?(?: los| las)?|anda(?:mos)? (?:por|en)(?: los| las)?|"
    r"around|about|maybe|roughly|approximately|alrededor de|"
    r"cerca de|más o menos|mas o menos|ars|usd|cop|mxn)\s*(?:como|unos|unas|alrededor de|cerca de)?\s*"
    r"(?:ars|usd|cop|mxn)?\s*"
    r"(\$?\s?\d[\d.,]*\s*(?:millones|millón|millon|million|mil|palos|lucas|k|m|thousand)\b|\$?\s?\d{1,3}(?:\.\d{3})+\b)",
    re.IGNORECASE,
)
_TIMELINE = re.compile(
    r"\b(para (?:la semana que viene|el mes que viene|la pr[oó]xima semana|el pr[oó]ximo mes|fin de mes|"
    r"fin de año|mañana|manana|hoy|ya|el (?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado)|"
    r"(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre))|"
    r"urgente|cuanto antes|lo antes posible|esta misma semana|ahorita|ya mismo|de inmediato|inmediatamente|"
    r"(?:dentro de |en )(?:\d+|un|una|dos|tres|cuatro|quince) "
    r"(?:d[ií]as|semanas?|mes(?:es)?)|esta semana|este mes|asap|next week|next month|para la otra semana|"
    r"la otra semana|(?:arrancamos|empezamos|comenzamos|empieza|arranca) (?:en|el|la) [\w ]{2,20}?(?=[,.;]|$)|"
    r"(?:el )?pr[oó]ximo mes|(?:la )?pr[oó]xima semana|(?:el )?mes que viene|(?:la )?semana que viene|"
    r"(?:para |a )?(?:principios|mediados|fines|finales|comienzos) de (?:enero|febrero|marzo|abril|mayo|junio|julio|"
    r"agosto|septiembre|octubre|noviembre|diciembre|mes|año)|"
    r"(?:antes|despu[eé]s) del? (?:\d{1,2} de )?(?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre)|(?:el )?mes que entra|este (?:lunes|martes|mi[eé]rcoles|jueves|viernes|s[aá]bado)|"
    r"next (?:monday|tuesday|wednesday|thursday|friday|year)|(?:within|in) (?:a|one|two|three|\d+) (?:days?|weeks?|months?)|"
    r"antes de fin de mes|fin de mes|en (?:enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|"
    r"noviembre|diciembre)|vacaciones de (?:invierno|verano|julio|enero)|"
    r"in (?:\d+|one|two|three|four|five|six) (?:days|weeks|months)|in (?:january|february|march|april|may|june|july|"
    r"august|september|october|november|december)|starting (?:in|next)|"
    r"this week|this month|as soon as possible|urgent|within \d+ days|by (?:monday|tuesday|wednesday|"
    r"thursday|friday|the end of the month|next week))",
    re.IGNORECASE,
)
_NEED = re.compile(
    r"\b(?:necesito|necesitamos|necesitaremos|necesitar[ií]amos|vamos a necesitar|busco|buscamos|estoy buscando|estamos buscando|queremos|quiero|ocupamos|ocupo|"
    r"compramos|consumimos|usamos|estoy cotizando|estamos cotizando|cotizando|me interesar[ií]a(?: comprar)?|"
    r"nos interesar[ií]a(?: comprar)?|nos interesa(?: comprar)?|(?:i'?m|we'?re|we are) interested in|"
    r"i need|we need|and need|also need|looking for|we want|i want|we buy|we use)\s+(.+?)(?=\s*(?:[,.;!?]|\s(?:y mi|and my|presupuesto|budget)\b|$))",
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
    if text == text.lower():  # all-lowercase typists: "soy juan", "soy valeria sosa de la cooperadora"
        words = re.match(r"([\wáéíóúñü]+)(?: ([\wáéíóúñü]+)(?=\s+(?:de|del|y|,)\b|\s*[,.]|$))?", text[start:])
        if words and fold(words.group(1)) not in NOT_NAMES | STOPWORDS and not words.group(1).isdigit():
            last = words.group(2)
            if last and fold(last) not in NOT_NAMES | STOPWORDS and not last.isdigit():
                return f"{words.group(1).capitalize()} {last.capitalize()}"
            return words.group(1).capitalize()
    return None


_TITLE = re.compile(r"(?:(?:el|la)\s+)?(?:(?:ing|lic|arq|dr|dra|sr|sra|prof|mr|mrs|ms)\.?\s+)?", re.IGNORECASE)
_ROLE_THEN_NAME = re.compile(r"(?:el |la |an? )?[a-záéíóúñ]+(?: [a-záéíóúñ]+)?,\s+(?=[A-ZÁÉÍÓÚÑ])")
# "Pierre Dubois here", "Buenas, Federico Lanza, de Lanza Construcciones", "Sure: Tom Becker, Becker Logistics, tom@…"
_NAME_HERE = re.compile(rf"(?:^|[,.!:;]\s*|\b(?:hi|hello|hey|hola|buenas|buen d[ií]a)\W+)({_NAME_WORD}\s+{_NAME_WORD})\s+here\b")
_NAME_FIRST = re.compile(
    rf"^(?:(?:hola|buenas(?: tardes| noches)?|buen d[ií]a|buenos d[ií]as|hi|hello|hey|sure|ok|dale)\W+)?"
    rf"({_NAME_WORD}\s+{_NAME_WORD}(?:\s+{_NAME_WORD})?)(?:\s*,\s*(?=de\b|del\b|from\b|{_NAME_WORD})|"
    rf"\s+(?=(?:de|del|de la|from)\s+(?-i:[{_UPPER}])))",  # "Buen día, Lucía Ferraro del Estudio Ferraro"
    re.IGNORECASE,
)


def _plausible_name(name: str | None) -> str | None:
    if not name:
        return None
    words = name.split()
    if any(fold(w) in NOT_NAMES or fold(w) in _ORG_WORDS or fold(w) in STOPWORDS for w in words):
        return None
    return name


def find_name(text: str) -> str | None:
    for match in _NAME_INTRO.finditer(text):
        start = match.end()
        title = _TITLE.match(text, start)
        if title and title.end() > start and _CAP_RUN.match(text, title.end()):
            start = title.end()
        role = _ROLE_THEN_NAME.match(text, start)  # "soy arquitecto, Pablo Ronconi"
        if role and not _CAP_RUN.match(text, start):
            start = role.end()
        name = _name_after(text, start)
        if name:
            return name
    for pattern in (_NAME_HERE, _NAME_FIRST):
        match = pattern.search(text)
        if match and (name := _plausible_name(match.group(1))) and _signs_for(text, match):
            return name
    return None


def _signs_for(text: str, match: re.Match[str]) -> bool:
    """A name said with no comma ("Lucía Ferraro del Estudio Ferraro") must be followed by a business."""
    after = text[match.end():]
    if "," in text[match.end(1):match.end()] or not re.match(r"(?:de|del|de la|from)\s", after, re.IGNORECASE):
        return True
    org = re.match(r"(?:de la|del|de|from)\s+(?:the\s+)?([\wáéíóúñü]+)", after, re.IGNORECASE)
    return bool(org) and (fold(org.group(1)) in _ORG_WORDS or bool(_ORG_SUFFIX.search(after.split(",")[0].split(".")[0])))


# Words that open a business's name: "Constructora Río Sur", "Colegio Santa Teresa", "Grupo Habitar".
_ORG_WORDS = frozenset(
    """
    constructora construcciones colegio escuela instituto jardin universidad facultad grupo municipalidad municipio
    cooperativa hotel hostel estudio metalurgica logistica desarrollos desarrolladora distribuidora inversiones
    administracion consorcio consorcios carpinteria mudanzas electricidad piletas instalaciones techos refacciones
    reformas inmobiliaria ferreteria fundacion asociacion club clinica hospital sanatorio restaurante panaderia
    taller talleres empresa industrias comercial servicios transportes agropecuaria estancia vivero pintureria
    corralon edificio complejo parroquia iglesia secretaria direccion ministerio cabanas hostal posada
    salon gimnasio estudios bar cafeteria almacen kiosco veterinaria farmacia optica barberia peluqueria
    """.split()
)
_ORG_SUFFIX = re.compile(
    r"\b(?:SA|S\.A\.?|SRL|S\.R\.L\.?|SAS|LLC|Inc|Ltd|Co|Events|Logistics|Construction|Constructions|Coworking|College|"
    r"School|Hotel|Films|Renovations|Builders|Group|Studio|Services|Hnos|Hermanos|Asociados|Obras)\.?$"
)
_COMPANY_RUN_EN = re.compile(
    rf"((?:(?:St|Sta|Sto|Santa|San)\.?\s+)?{_NAME_WORD}(?:\s+(?:{_NAME_WORD}|S\.?A\.?|SRL|S\.R\.L\.|SAS|(?:&|y|e|del|de la|de las|de los|de|of|of the)"
    rf"(?=\s+[{_UPPER}])))*)"
)


def _org_run(text: str) -> str | None:
    """A capitalized run that names a business by its form: "Logística Cóndor", "Becker Logistics",
    "carpintería Los Álamos" (a lowercase business word before a proper name)."""
    for match in _COMPANY_RUN_EN.finditer(text):
        run = match.group(1).strip()
        words = run.split()
        if len(words) >= 2 and (fold(words[0]) in _ORG_WORDS or _ORG_SUFFIX.search(run)):
            return run
        # "carpintería Los Álamos", "del estudio de arquitectura Arq Sur": the business word a little before
        for before in (re.search(r"([a-záéíóúñ]+)\s+$", text[: match.start()]),
                       re.search(r"([a-záéíóúñ]+)\s+(?:de|del|de la)\s+[a-záéíóúñ]+\s+$", text[: match.start()])):
            if before and fold(before.group(1)) in _ORG_WORDS and fold(words[0]) not in NOT_NAMES:
                return f"{text[before.start(): match.start()].strip()} {run}"
    return None


_POLITE = re.compile(r"(?:buen|buena|buenas|buenos|hola|gracias|muchas|saludos|thanks|thank|hi|hello|good|best|kind|"
                     r"regards|cheers|chau|adios|que tal|dear|estimad)\b")


def find_company(text: str, name: str | None) -> str | None:
    for match in _COMPANY_INTRO.finditer(text):
        run = _COMPANY_RUN_EN.match(text, match.end())
        if not run:
            continue
        company = run.group(1).strip()
        if name and (company in name or name in company):
            continue
        if fold(company.split()[0]) in NOT_NAMES:
            continue
        return company
    company = _org_run(text)
    if company and not (name and (company in name or name in company)):
        return company
    if name:  # "Tom Baker, Baker & Sons Roofing", "Ana Ruiz - Obras Norte": the name, then what they sign for
        after = re.match(rf"\s*(?:{re.escape(name)})\s*(?:[,(/|]|\s-\s)\s*", text)
        run = _COMPANY_RUN_EN.match(text, after.end()) if after else None
        words = run.group(1).split() if run else []
        polite = _POLITE.match(fold(run.group(1))) if run else None
        if len(words) >= 2 and not polite and fold(words[0]) not in NOT_NAMES and run.group(1).strip() not in name:
            return run.group(1).strip()
    return None


_NOT_A_NEED = frozenset(
    """como unos unas varios varias muchos muchas mucho mucha todos todas los las el la mes meses semana semanas
    año aprox aproximadamente mas más menos cantidad ya urgente algo cosas some lots lot of many about around""".split()
)


def _need_value(value: str) -> str | None:
    """What was said after "necesitamos…", when it names something: not a date ("para la semana que viene")
    nor a bare amount ("como 6", "varias", "todos los meses")."""
    value = value.strip()
    if _TIMELINE.fullmatch(value) or re.match(r"(?:para|by|for) ", value, re.IGNORECASE) and _TIMELINE.search(value):
        return None
    words = [w for w in re.findall(r"[\wáéíóúñü]+", value.lower()) if not w.isdigit()]
    if not words or all(w in _NOT_A_NEED for w in words):
        return None
    return value


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
        # the fullest statement: "la adjudicación la firma el director" over "soy el responsable de compras"
        found = [m.group(1) for m in pattern.finditer(text)]
        fields[key] = max(found, key=len) if found else None
    budget = _BUDGET.search(text) or _AMOUNT.search(text) or _BUDGET_APPROVED.search(text)
    amount = next(g for g in budget.groups() if g).strip() if budget else None
    # "presupuesto de membrana para 3 techos" asks for a quote for three roofs: a bare small count is no budget
    fields["budget"] = None if amount and re.fullmatch(r"\d{1,3}", amount) else amount
    fields["need"] = next((n for m in _NEED.finditer(text) if (n := _need_value(m.group(1)))), None)
    return {key: value for key, value in fields.items() if value}
