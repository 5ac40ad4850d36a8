"""The offline model's vocabulary: cue patterns per intent, and words that are not products.

Patterns run on folded text (lowercase, no accents, chat abbreviations
spelled out, one space between words). Each intent sums the weights of its
patterns that match; the strongest intent wins (ties go to the more
specific one, see nlu.PRIORITY). Weights are coarse on purpose: 4-5 is an
unmistakable signal (an email, "cotización", "llegó roto"), 2.5-3 a clear
one ("tenés", "horario", "quiero"), 1-2 a hint that only wins alone
("hola", "gracias").
"""

from __future__ import annotations

import re

Cue = tuple[re.Pattern[str], float]


def _cues(*items: tuple[str, float]) -> list[Cue]:
    return [(re.compile(pattern), weight) for pattern, weight in items]


MEETING_NOUN = (
    r"(turno|turnos|visita|visitas|cita|citas|reunion|reuniones|llamada|llamado|videollamada|entrevista|"
    r"demo|meeting|meetings|call|visit|appointment|appointments|appt|medicion|tecnico|slot|slots|time slots)"
)
_ROLE = (
    r"(dueno|duena|encargado|encargada|gerente|jefe|jefa|responsable|titular|socio|socia|director|directora)"
)
_NOT_BUY = (
    r"(?! (saber|consultar|preguntar|ver|hablar|agendar|(?:ir|pasar|venir|acercarme|arrimarme)(?!(?: \w+){0,3} a (?:buscar|retirar|recoger|comprar|llevar))|cancelar|devolver|reclamar|quejarme|cambiar|"
    r"reprogramar|coordinar|pagar|hacer (un|una) (reclamo|consulta|devolucion|queja|cambio)|que)\b)"
    r"(?! to (know|ask|talk|speak|book|schedule|cancel|complain|return|check|pay|meet|open)\b)"
    r"(?! (a |my |mi |un |el )?(refund|reembolso|devolucion|money back|plata de vuelta|dinero de vuelta)\b)"
)
_NOT_INFO = r"(?! (el |la |los |las |un |una )?(precio|precios|info|informacion|datos|lista|catalogo|direccion|horario|link|presupuesto|cotizacion|mail|numero|contacto|telefono|whatsapp|celular|correo)\b)"

CUES: dict[str, list[Cue]] = {
    "greeting": _cues(
        (
            r"^(hola|holis|holas|buenas|buen dia|buenos dias|buenas tardes|buenas noches|que tal|que onda|"
            r"hey|hi|hello|hiya|howdy|good (morning|afternoon|evening)|saludos|alo)\b",
            1.0,
        ),
        (r"\b(hola|holis|hello|hiya)\b", 1.0),
    ),
    "thanks": _cues((r"\b(gracias|thanks|thank you|thank u|agradezco|much appreciated|cheers)\b", 1.5)),
    "goodbye": _cues(
        (
            r"\b(chau|chao|adios|hasta luego|hasta pronto|hasta la proxima|nos vemos|nos hablamos|bye|goodbye|"
            r"see you|see ya|talk later|good night|goodnight|buen finde|buen fin de semana|hasta manana|hasta el (lunes|martes|miercoles|jueves|viernes|sabado))\b",
            1.8,
        )
    ),
    "smalltalk": _cues(
        (
            r"\b(como (estas|andas|va|te va|anda)|todo bien|how are (you|things)|how'?s it going|what'?s up|"
            r"(sos|eres) (un |una )?(bot|robot|maquina|ia|humano|persona|real)|"
            r"are you (a |an )?(bot|robot|human|real|ai|person)|quien (sos|eres)|who are you|"
            r"como te llamas|what'?s your name|jaja+|jeje+|lol|bot|robot|chatbot)\b",
            1.8,
        )
    ),
    "help": _cues(
        (r"^(ayuda|help|menu|opciones|info|informacion|start|inicio)$", 2.0),
        (
            r"\b(que (cosas )?(podes|puedes|sabes|pueden|saben) hacer|en que (me )?(podes|puedes|pueden) ayudar|"
            r"what can you do|what do you do|how can you help|como funciona esto|necesito ayuda|help me|"
            r"que (haces|hace este bot|hace esto)|explicame|me explicas)\b",
            1.8,
        ),
    ),
    "human": _cues(
        (r"\b(pasame|paseme|pasenme|pasar|pasarme|pasas|pasan|pasaria|comunicame|comuniqueme|comuniquenme|comunicar|"
         r"transfer me|"
         r"put me through) (con|with|to) "
         r"(el|la|un|una|alguien|the|a|someone)\b", 6.0),
        (
            r"\b(hablar|hablarlo|hablarla|hable|comunicarme|comunicar|comunicas|comunican|comunicame|comuniqueme|comuniquenme|"
            r"comunicarnos|contactar|contactarme|contacteme|ponerme en contacto|charlar|"
            r"chatear|atienda|atiende|atender|pasame|pasas|pasan|derivame|derivar|transferime|transferir|conectame)\b"
            r".*\b(persona|personas|humano|humana|alguien|asesor|asesora|vendedor|vendedora|vendedores|"
            r"encargado|encargada|operador|operadora|agente|representante|gerente|dueno|duena|responsable|"
            r"empleado|empleada)\b",
            4.5,
        ),
        (
            r"\b(persona|humano|alguien|asesor) (real|de verdad|de carne y hueso)\b|\bhay alguien (real|ahi|con quien)\b|"
            r"\b(algun|alguna) (humano|persona|asesor|asesora)\b|\balguien con quien (pueda|puedo) hablar\b",
            4.5,
        ),
        (
            r"^(un |una |a |an )?(humano|persona|operador|operadora|asesor|asesora|agente|agent|human|operator|representative)( please| por favor)?$",
            4.5,
        ),
        (r"\bno (quiero|me sirve) (hablar con )?(un |una |el |la )?(bot|robot|maquina|contestador)\b", 4.5),
        (
            r"\b(?:contacto|numero|telefono|whatsapp|celular|mail|correo) (?:de|del) (?:un |una |algun |alguna |el |la |tu |su )?"
            r"(?:asesor|asesora|vendedor|vendedora|encargado|encargada|gerente|persona|humano|responsable|comercial)\b|"
            r"\b(?:a|some|one|real) (?:person|human|rep|representative|salesperson|someone) (?:to |who can |that can |who will )?"
            r"(?:call|phone|ring|contact|text) (?:me|us)\b|\b(?:someone|somebody) (?:to |who can |that can )?(?:call|phone|ring) (?:me|us)\b|"
            r"\bque me (?:llame|llamen|contacte|contacten|escriba|escriban) (?:alguien|una persona|un asesor|una asesora|un vendedor|"
            r"el encargado|la encargada|un humano)\b|\b(?:alguien|una persona|un asesor) (?:que|para que) me (?:llame|contacte|escriba)\b",
            4.5,
        ),
        (
            r"\b(talk|speak|chat) (to|with) (a |an |the |some |your )?(human|person|someone|somebody|agent|"
            r"representative|rep|manager|owner|real person|operator|staff|salesperson|people)\b",
            4.5,
        ),
        (
            r"\b(real|live) (person|human|agent)\b|\b(agent|human|representative|operator) please\b|\bget me (a |an )?(human|person|agent|manager)\b|"
            # "is there a manager or someone from staff I can speak to?"
            r"\b(manager|someone|somebody|anyone|a person|a human|staff)\b.{0,40}\b(i|we) (can|could) (talk|speak|chat) (to|with)\b",
            4.5,
        ),
    ),
    "complaint": _cues(
        (
            r"\b(roto|rota|rotos|rotas|fallado|fallada|fallados|falladas|defectuoso|defectuosa|danado|danada|"
            r"abollado|abollada|rajado|rajada|golpeado|golpeada|rayado|rayada|manchado|manchada|doblado|doblada|"
            r"torcido|torcida|incompleto|incompleta|equivocado|equivocada|se rompio|se rompieron|"
            r"se quemo|se partio|se quebro|se rajo|se desarmo|se salio|vencido|vencida|vencidos|vencidas|"
            r"dejo de (funcionar|andar)|broken|damaged|defective|faulty|cracked|dented|stopped working|"
            r"broke|garbage|junk|useless)\b",
            4.0,
        ),
        (  # what came is not what was ordered: "pedí el de 20 litros y me mandaron el de 10, ¿cómo puede ser?"
            r"\bped[ií]\w* .{0,60}\b(?:y|pero) me (?:mandaron|enviaron|trajeron|dieron|entregaron|lleg[oó]|llegaron|vino|"
            r"vinieron)\b|\b(?:es )?la (?:segunda|tercera|cuarta) vez (?:que|q) (?:me |os |se |nos |les )?"
            r"(?:pasa|sucede|ocurre|equivoc\w*)\b|"
            r"\ben (?:vez|lugar) del? .{0,40}\bme (?:han|habeis|ha) (?:mandado|enviado|traido|dado|entregado|llegado)\b|"
            r"\bme (?:han|habeis) (?:mandado|enviado|traido|dado|entregado) (?:otr[oa]|mal|cualquier)\w*|"
            r"\b(?:malograd[oa]s?|se malogro|ya no carga|no carga|dejo de cargar)\b|"
            r"\b(?:second|third) time (?:this|that|it) (?:happens|has happened|happened)\b|"
            r"\bc[oó]mo puede ser\b|\b(?:i )?ordered .{0,60}\b(?:but|and) (?:you sent|i got|i received|got|received)\b|"
            r"\b(?:nothing|it|order|delivery|package) (?:has|have|had)? ?(?:not|never|still not) (?:arrived|come|shown up)\b|"
            r"\b(?:hasn'?t|has not|never|didn'?t|did not) (?:arrived|arrive|come)\b|\bnobody (?:answers|answered|replies)\b|"
            r"\bnadie (?:contesta|atiende|responde)\b|\bmalos modos\b|\bme (?:apuro|grito|hablo fuerte)\b",
            4.0,
        ),
        (
            r"(?<!\bsi )\bno (me )?(funciona|funcionan|anda|andan|prende|prenden|arranca|enciende|llego|llegaron|"
            r"vino|vinieron|contestan|responden|respondieron|contestaron)\b"
            r"(?! a (?:pasar|ir|venir|buscar|retirar|las)\b)",  # "no llego a pasar": I cannot make it
            4.0,
        ),
        (
            r"\b(nunca|todavia no|aun no|sigue sin|sigo sin|no) (me )?(llego|llega|llegan|llegaron|ha llegado|han llegado|"
            r"vino|recibi|respondieron|contestaron|funciono|anduvo)\b(?! a (?:pasar|ir|venir|buscar|retirar|las)\b)",
            4.0,
        ),
        (
            r"\b(pesima|pesimo|pesimos|pesimas|malisimo|malisima|horrible|desastre|verguenza|estafa|estafaron|"
            r"estafadores|chantas|inaceptable|indignante|indignado|indignada|harto|harta|podrido|podrida|(?<!se )queja|"
            r"quejarme|reclamo|reclamar|reclamos|denuncia|denunciar|decepcion|decepcionado|decepcionada|"
            r"lamentable|muy molesto|muy molesta|estoy molesto|estoy molesta|mal servicio|que mal servicio|"
            r"(tenia|tenian|debia|debian) que (llegar|venir)|nadie me avisa|todo el dia esperando|"
            r"(ya )?no (arranca|prende|enciende)|charged (me|my [a-z]+( [a-z]+)?) twice|want my money back|"
            r"not ok|pedi (un|una|el|la) [a-z ]{2,40} y me (llego|mandaron|trajeron|vino)|"
            r"no es lo que (pedi|compre|encargue)|me (mandaron|enviaron|trajeron|dieron) (otra cosa|otro|otra|"
            r"cualquier cosa|lo que no)|wrong item|not what i ordered|me desespere|desesperado|desesperada|mala atencion|mal atendido|mal atendida|maltrato|me trataron mal|vergonzoso|enojado|"
            r"enojada|furioso|furiosa|sigo esperando|nadie me (responde|contesta|atiende)|"
            r"estoy (re |muy )?caliente|hace .{1,25} que espero|(muy |re )?(mala|malo|malisima) (la |el )?"
            r"(atencion|calidad|experiencia|servicio)|pague y (no|nada|todavia)|(llego|vino|llegaron|vinieron) mal)\b",
            4.0,
        ),
        (r"\bme (cobraron|cobran|cobro) (de mas|dos veces|mal|doble)\b", 4.0),
        (  # waiting with no news, charged twice in any person, demands: "llevo 3 días esperando y nadie me dice nada"
            r"\b(?:llevo|llevamos|hace) .{0,25}\besperando\b|\besperando (?:mi|el|nuestro|un) (?:pedido|envio|compra|paquete)\b|"
            r"\bnadie (?:me |nos )?(?:dice|avisa|informa|explica|llama|da bola|da pelota)\b|"
            r"\b(?:falta de|poca|cero|ninguna) seriedad\b|\b(?:no|que) (?:son|sean) serios\b|"
            r"\b(?:me|nos) (?:habeis|han|has|ha|hayan|hubieran) cobrado (?:de mas|dos veces|doble|mal)\b|"
            r"\bcobrado (?:dos veces|doble|de mas)\b|\bexij[oa]\b|\bexigimos\b|"
            r"\b(?:i )?(?:want|need|demand|expect) (?:a |my )?(?:full )?refund\b|\b(?:poor|terrible|awful|bad|cheap) quality\b|"
            r"\b(?:started|starts|began) (?:peeling|cracking|rusting|leaking|falling apart)\b|\b(?:came|fell|comes) (?:off|apart)\b|"
            r"\balmost (?:hit|hurt|killed|injured)\b|\bcasi (?:me |le |nos )?(?:lastima|lastimo|mata|mato|golpea|golpeo)\b|"
            r"\bstill waiting\b|\bbeen waiting\b|\bno one (?:tells|told|answers|calls)\b|\bnobody (?:tells|told|calls)\b",
            4.0,
        ),
        (
            r"\bme (mandaron|enviaron|vendieron|dieron) (otro|otra|cualquier|mal)\b|\b(incompleto|incompleta|equivocado|equivocada)\b",
            3.0,
        ),
        (
            r"\b(doesn'?t|does not|didn'?t|did not|won'?t|will not|isn'?t|is not|stopped) (work|working|arrive|arrived|turn on|start|charge)\b",
            4.0,
        ),
        (
            r"\b(never|still hasn'?t|still haven'?t|hasn'?t|haven'?t) (arrived|came|come|received|shown up|gotten)\b",
            4.0,
        ),
        (
            r"\b(unacceptable|terrible|awful|horrible|worst|ridiculous|disgusting|scam|ripoff|rip off|"
            r"disappointed|disappointing|furious|angry|upset|complaint|complain|complaining|rude|overcharged|"
            r"charged (me )?twice|double charged|wrong (item|product|order|size|color|colour|one|thing)|poor service|bad service|"
            r"not happy|unhappy|fed up|shameful)\b",
            4.0,
        ),
        (  # how they were treated: "me atendió de muy mala manera", "no merezco ese trato"
            r"\b(?:(?:de|con) (?:muy )?mala manera|de mala gana|mal(?:isimo)? trato|no merezco|que el dueno se entere|"
            r"quiero hablar con el dueno|me trato mal|me trataron como|me hablo como|treated me (?:badly|like)|"
            r"was rude|were rude)\b",
            4.0,
        ),
    ),
    "quote": _cues(
        (
            r"\b(cotizacion|cotizaciones|cotizar|cotizame|cotizan|cotizas|cotiza|cotice|presupuesto (por|para)|"
            r"presupuesto de (?!\d)|un presupuesto|precio mayorista|precios mayoristas|precio por mayor|"
            r"al por mayor|por mayor|precio por cantidad|quote|quotation|quotes|estimate|bulk pricing|"
            r"bulk price|wholesale|cotizas|cuanto me (hacen|haces|dejan|dejas)|me hacen (precio|descuento)|"
            r"descuento por cantidad|volume discount)\b",
            5.0,
        ),
    ),
    "contact": _cues(
        (
            r"\b(me llamo|mi nombre es|my name is|mi mail|mi email|mi e mail|mi correo|mi cel|mi celular|"
            r"mi telefono|mi tel|mi numero|mi whatsapp|mis datos|te dejo mi|te paso mi|my email|my e mail|"
            r"my phone|my number|my cell|reach me|contact me at|email me|call me at|text me at)\b",
            3.0,
        ),
        (rf"\b(soy (el|la) {_ROLE}|{_ROLE} de compras|jefe de compras|decido yo|yo decido)\b", 2.0),
        (
            r"\b(i'?m the (owner|manager|buyer|director|ceo|founder)|purchasing (manager|agent)|i make the decisions|decision maker|i'?m in charge)\b",
            2.0,
        ),
        (
            r"\b(presupuesto|budget) (de |es |of |is |maximo |aproximado |de unos |de hasta |around |about )?\d",
            1.5,
        ),
    ),
    "meeting": _cues(
        (rf"\b{MEETING_NOUN}\b", 2.5),
        (r"\b(?:que )?(?:alguien (?:del negocio |del local )?)?(?:me|nos) (?:atienda|atiendan|asesore|asesoren|reciba|reciban)\b",
         2.5),
        (  # "quiero pasar el lunes 9:30", "¿puedo ir el sábado a las 11?": coming to the shop at a time
            r"\b(?:quiero|quisiera|puedo|podria|podemos|voy a|vamos a|me gustaria|can i|could i) "
            r"(?:pasar|ir|venir|acercarme|darme una vuelta|come by|come in|stop by|drop by|visit)\b",
            2.0,
        ),
        # "¿podemos quedar el viernes a las 9:30 en la tienda?": agreeing to meet
        (r"(?:podemos|podriamos|puedo|quiero|quisiera|vamos a|me gustaria) quedar|quedamos (?:el|en|a las)", 2.5),
        (
            r"\b(agendar|agendame|agendas|agendan|agendemos|agende|coordinar|coordinamos|coordinemos|programar|"
            r"reprogramar|reagendar|reprogramame|schedule|reschedule|set up a|arrange a|meet|juntarnos|"
            r"reunirnos|reunirme|juntarme|vernos|visitarlos|pasar a verlos|ir a verlos|verlos|vengan? a medir|venir a medir|que vengan?|llamame|"
            r"llamenme|me llamen|me llaman|call me|me (pueden|podes|podrian|podrias) llamar|llamarme|"
            r"give me a call|phone me)\b",
            2.5,
        ),
        (r"\b(book)\b", 1.0),
        # someone of the shop to see in person: "con un asesor el martes", "pasar por el local el jueves"
        (r"\b(hay|tenes|tienen|tendrias|tendrian|queda|quedan) (lugar|turno|turnos|hueco|espacio)\b", 2.5),
        (r"\b(asesor|asesora|asesores|asesoramiento|asesoria|me asesore|me oriente|orientacion|advisor|consultation)\b",
         1.5),
        (r"\b(pasar|ir|caer|venir|come|stop) (por|al|a la|by|to) (el |la |the |your )?(local|tienda|negocio|ferreteria|store|shop)\b",
         1.5),
        (r"\b(come by|stop by|drop by|swing by|come in|come over|pop in|pop by)\b", 1.5),
        (r"\b(horarios?|turnos?|lugar|times?|slots?)\b.{0,16}\b(libres?|disponibles?|free|available)\b", 3.0),
        # the meeting (feminine: la visita, la cita, la reunión) moved: "¿la podemos pasar al miércoles?"
        (r"\bla (podemos |puedo |podria |podriamos |podes |podran )?(pasar|mover|correr|reprogramar|postergar|"
         r"adelantar)\b", 2.5),
        (r"\b(cancelala|cancelamela|cancelame la|cancel(ar|a|á)? (la|mi) (visita|cita|reunion|turno)|"
         r"cancel (my|the) (visit|appointment|meeting|call))\b", 3.0),
    ),
    "knowledge": _cues(
        (
            r"\b(horario|horarios|a que hora|hasta que hora|que hora (abren|cierran|atienden)|abren|abre|cierran|"
            r"cierra|abiertos|esta abierto|estan abiertos|atienden|atiende|feriado|feriados|opening|open|closing|"
            r"close|closed|hours|(trabajan|atienden|abren|estan) (los |el )?(hoy|manana|feriados?|domingos?|sabados?|"
            r"lunes|fines de semana|sundays?|saturdays?))\b",
            3.0,
        ),
        (
            r"\b(direccion|donde (estan|queda|quedan|los encuentro|se encuentran|se ubican|tienen el local|esta el local)|"
            r"ubicacion|ubicados|ubicadas|ubicado|ubicada|local|sucursal|sucursales|como llego|address|"
            r"where are you|where (exactly )?is (the|your) (store|shop|place)|located|location|directions|estacionamiento|"
            r"estacionar|parking|park|en que (barrio|zona|parte)|que barrio|your (phone|phone number|number|email|"
            r"whatsapp|website)|(telefono|whatsapp|mail|email|celular) (del local|de ustedes|de la empresa))\b",
            3.0,
        ),
        (
            r"\b(envio|envios|envian|enviar|envias|mandan a|mandan al|llevan a|delivery|deliver|deliveries|ship|"
            r"(me |nos )?(lo|la|los|las) (mandan|envian|traen|llevan|acercan)|hacen envios|a domicilio|"
            r"shipping|shipment|despacho|despachan|flete|fletes|domicilio|entrega|entregas|entregan|llega a|"
            r"llegan a|cuando (me )?llega|cuando (me )?llegan|tarda|tardan|demora|demoran|retiro|retirar|pick up|pickup|pasar a buscar|paso a buscar|"
            r"pick (?:it|them|this|that|everything|(?:the|my|our) \w+) up)\b",
            3.0,
        ),
        (
            r"\b(pago|pagos|pagar|pagan|abonar|abono|tarjeta|tarjetas|credito|debito|efectivo|transferencia|"
            r"transferencias|mercado pago|mercadopago|cuotas|financiacion|financian|factura|facturan|facturas|"
            r"payment|payments|pay|paying|card|cards|debit|cash|bank transfer|paypal|installments|invoice|invoices|"
            r"visa|mastercard|amex|american express|cabal|naranja|nequi|daviplata|yape|plin|oxxo|do you (?:accept|take) \w+)\b",
            3.0,
        ),
        (
            r"\b(devolucion|devoluciones|devolver|devuelvo|devuelven|reembolso|reintegro|cambiar (un|el|la|los|las) "
            r"(producto|articulo)|cambio de producto|cambios|return|returns|refund|refunds|exchange|exchanges|"
            r"politica|policy)\b",
            3.0,
        ),
        (r"\b(garantia|garantias|warranty|guarantee|guaranteed)\b", 3.0),
        (
            r"\bcomo (se )?(usa|uso|usar|usan|utiliza|utilizo|instala|instalo|instalar|arma|armo|armar|configuro|"
            r"configura|limpio|limpia|aplico|aplica|preparo|prepara|mezclo|mezcla|coloco|coloca|colocar|conecto|"
            r"conecta)\b|\b(instrucciones|manual|tutorial|instructions)\b|"
            r"\bhow (do|does|can|should) (i|you|one) (use|install|set up|assemble|apply|mix|clean|charge|connect)\b|"
            r"\bhow to (use|install|set up|assemble|apply|mix|clean|charge|connect)\b",
            3.0,
        ),
    ),
    "purchase": _cues(
        (
            rf"\b(quiero|quisiera|queria|queremos|i want|i'd like|i would like){_NOT_BUY}\b",
            2.5,
        ),
        (
            rf"\b(dame|deme|danos|mandame|mandeme|mandanos|enviame|envieme|pasame|traeme|vendeme|me vendes|"
            rf"me vendas|me das|me da|regalame|regaleme|me regala|me regalas|me colabora con|me colaboras con|"
            rf"me pasas|(?<!que )me pasa|me pones|me poneis|ponme|ponedme|poneme|me ponen|give me|send me|get me|can i get|can i have|could i get|i'll have)\b{_NOT_INFO}",
            2.5,
        ),
        (
            r"\b(estoy por (?:llevar|comprar|pedir)|pienso (?:llevar|comprar)|me pondrias|me pondriais|me pondria|me pondrian|confirm(?:o|a|ame) (?=\d|un |una |uno )|me llevo|llevo(?! (?:(?:\d+|un|una|unos|unas|dos|tres|cuatro|cinco|varios|varias|mas de|casi) )?(?:\w+ )?(?:dias|dia|semanas|semana|horas|hora|meses|mes|rato|tiempo|anos|esperando)\b)|voy a llevar|me lo llevo|lo llevo|los llevo|las llevo|la llevo|te compro|compro|"
            r"comprar|comprarte|comprarles|encargar|encargo|te encargo|reservame|reservar|apartame|apartar|"
            r"separame|separeme|separamel[oa]s?|separemel[oa]s?|me (?:lo|la|los|las) separ(?:a|as|an|e|en)|"
            r"anotame|agregame|agrega|agregale|sumame|suma|sumale|ocupo|ocupamos|hacer un pedido|hago un pedido|i'll take|i will take|i'll buy|buy|let me (get|have)|"
            r"put me down for|i'll get|i'll grab|send (\d+|one|two|three|four|five|six|seven|eight|nine|ten|a dozen)|"
            r"purchase|to order|can i order|i'm buying|i am buying|we're buying|we are buying|estoy comprando|estamos comprando|me quedo con|voy con|me voy con|i'll go with|ill go with|go with the|"
            r"armame|armeme|arma(?:me)? un pedido|preparame|prepareme|hace(?:me)? un pedido|"
            r"can you set (?:that|it|them|this) up|set (?:it|that|them) aside|put (?:it|that|them) aside|"
            r"(?<!might )(?<!may )(?<!could )(?:and |also |just )?need (?:the|a|an|two|three|four|five|\d+)\b"
            r"(?! (?:quote|quotation|estimate|price|prices|proforma|budget)\b)|"
            r"(?:^|orale |dale |ok )va (?:la|el|los|las))\b",
            2.5,
        ),
        (r"\b(necesito|necesitaria|necesitamos|i need|we need)\b|^(?:hi|hello|hey|hola)?\W*need\b", 1.5),
    ),
    "quantity_change": _cues(
        (
            r"^(?:(?:ya|ok|dale|bueno|si|yes|ah|ay)\s+(?:pero\s+|but\s+)?)?(no )?(mejor|mejor que sean|que sean|sean|cambialo a|cambia a|cambiala a|ponele|dejalo en|dejala en|"
            r"solo|solamente|nada mas|bajalo|bajala|baja|bajame|subilo|subila|sube|subime|reducilo|aumentalo|make it|"
            r"change it to|change to|lower it|reduce it|increase it|bump it|actually|instead|only|just)\b",
            3.0,
        ),
        (  # "sorry, actually just 1 can is enough", "con 3 me alcanza", "yes, confirm 12"
            r"^(?:(?:sorry|wait|hmm+|oh|ah|ay|perdon|perdona|disculpa|uy|uh)\W+)+(?:actually|just|only|mejor|solo|make it|"
            r"make that)\b|\b(?:is|are|will be|would be|should be) enough\b|\b(?:con|with) \d+ (?:\w+ )?"
            r"(?:me alcanza|alcanza|basta|me basta|is enough|will do)\b|^(?:yes|si|ok|dale)\W+(?:confirm\w*) (?:los |las |the )?\d+\b",
            3.0,
        ),
        (
            r"\b(en vez de|en lugar de|instead of|rather than|change it to|make it|make that|que sean)\b|\b(nomas|nada mas)$",
            3.0,
        ),
        (
            r"\b(cambia|cambiale|cambiame|cambiar|cambiemos|modifica|modificar|change|update) (la |the )?(cantidad|quantity)\b",
            3.0,
        ),
    ),
    "product_query": _cues(
        (
            r"\b(tenes|tienen|tienes|tiene|tendras|tendrias|tendran|tenian|hay|habra|venden|vendes|vende|manejan|"
            r"manejas|maneja|trabajan con|traen|traes|consiguen|conseguis|disponible|disponibles|disponibilidad|stock|"
            r"quedan|queda|te queda|te quedan|precio|precios|cuanto|cuantos|cuestan|cuesta|sale|salen|a como|"
            r"valor|costo|busco|buscaba|buscando|me interesa|me interesan|mostrame|me mostras|catalogo|"
            r"recomendame|recomendas|recomiendan|recomienda|elegir|modelos|marcas|barato|barata|baratos|baratas|"
            r"economico|economica|economicos|economicas|mas caro|mas cara|"
            r"do (you|ya|y'?all|you guys|you all) (have|sell|carry|stock)|have any|got any|any|in stock|how much|"
            r"price|prices|pricing|cost|costs|available|looking for|catalog|show me|sell|carry|recommend|suggest|"
            r"what kind of|cheap|cheaper|cheapest|most expensive)\b",
            2.0,
        ),
    ),
}

MEETING_ACTIONS: dict[str, re.Pattern[str]] = {
    "cancel": re.compile(
        r"\b(cancelar|cancela|cancelo|cancelame|cancelala|cancelalo|cancel|anular|anula|anulo|anulala|suspender|"
        r"suspende|no (voy a poder|puedo|podre) (ir|venir|asistir))\b"
    ),
    "reschedule": re.compile(
        r"\b(reprogramar|reprogramame|reprograma|reagendar|reagenda|mover|move|moverla|movela|movamos|pasar la|"
        r"pasarla|pasala|pasar el (?:turno|horario|encuentro)|pasarlo|pasalo|pasemos|postergar|posponer|adelantar|atrasar|reschedule|change|"
        r"cambiar|cambia|cambiala|cambialo|cambiemos|push|pasar al|pasar para|pasarla al)\b"
    ),
    "availability": re.compile(
        r"\b(disponibilidad|disponible|disponibles|libre|libres|hueco|huecos|available|availability|free|"
        r"slots|que (dias|horarios) (tenes|tienen|hay))\b"
    ),
}

# "¿a qué hora abren?", "what are your hours?": answered from the configured business hours...
HOURS_ASK = re.compile(
    r"\b(horario|horarios|a que hora|hasta que hora|que hora (abren|cierran|atienden)|cuando (abren|cierran|atienden)|"
    r"estan abiertos|opening hours|open hours|business hours|your hours|what time do you (open|close)|"
    r"when do you (open|close)|are you open)\b"
)
# ...unless it names a day or a date: the owner's documents know holidays and exceptions.
HOURS_SPECIFIC = re.compile(
    r"\b(hoy|manana|lunes|martes|miercoles|jueves|viernes|sabados?|domingos?|feriados?|fin de semana|"
    r"fines de semana|navidad|ano nuevo|today|tomorrow|tonight|mondays?|tuesdays?|wednesdays?|thursdays?|"
    r"fridays?|saturdays?|sundays?|weekends?|holidays?|christmas)\b"
)
PRICE_ASK = re.compile(
    r"\b(precio|precios|cuanto|cuesta|cuestan|sale|salen|vale|valen|valor|costo|how much|price|cost|costs)\b"
)
STOCK_ASK = re.compile(
    r"\b(tenes|tienen|tienes|tiene|hay|stock|disponible|disponibles|disponibilidad|quedan|queda|"
    r"do (you|ya|y'?all|you guys|you all) have|have any|got any|any|in stock|available)\b"
)
OFF_TOPIC = re.compile(
    r"\b(opinas|opinion|messi|futbol|partido|gano|clima|llueve|lluvia|chiste|chistes|politica|presidente|"
    r"novia|novio|pelicula|musica|cancion|receta|weather|rain|joke|jokes|football|soccer|match|movie|song|"
    r"politics|president|girlfriend|boyfriend|serie|series|netflix|hambre|calor|frio|sueno|aburrido|aburrida|cansado|cansada|"
    r"hungry|hot|cold|tired|bored|sentido de la vida|meaning of life)\b"
)
# A message that asks something, by how it opens (folded text; a greeting or "una consulta" may come
# first): "cuál es...", "¿hacen...?", "what's...", "is there...". Its question mark is checked apart.
QUESTION_OPENER = re.compile(
    r"^((hola|holis|buenas|buen dia|buenos dias|buenas tardes|buenas noches|che|hey|hi|hello|una consulta|"
    r"consulta|una pregunta|pregunta|disculpa|disculpe|perdon|sorry|quick question|question|y) )*"
    r"((en|a|de|para|con|desde|hasta|por) )?"
    r"(que|cual|cuales|como|donde|adonde|cuando|quien|quienes|cuyo|cuya|por que|porque|hacen|haces|tienen|"
    r"tenes|tienes|aceptan|aceptas|ofrecen|ofreces|dan|dais|se puede|se pueden|puedo|podemos|es posible|existe|"
    r"existen|hay|sabes|saben|what|what's|which|how|where|when|who|who's|whose|why|do you|do y'?all|does|did|"
    r"can i|can we|could i|may i|is there|are there|is it|are you|have you|will you|would you)\b"
)
# Nouns about the business itself, never products: who runs it, its tax data, programs, perks,
# facilities, jobs, online presence. A question whose only nouns are these is a question about the
# business even when it opens like a product question ("do you have a loyalty program?"), and they
# are left out of the product words ("tienen club de beneficios?" searches nothing in the catalog).
BUSINESS_WORDS = frozenset(
    """
    dueno duena duenos propietario propietaria propietarios gerente gerenta encargado encargada jefe jefa
    responsable responsables titular socio socios socia fundador fundadora fundadores empleado empleada
    empleados personal vendedores staff empresa negocio comercio cuit cuil razon social nombre nombres
    apellido fundacion historia antiguedad programa programas fidelidad fidelizacion puntos beneficio
    beneficios club membresia membresias afiliado afiliados afiliacion suscripcion descuento descuentos
    promocion promociones promo promos jubilado jubilados estudiante estudiantes cupon cupones voucher
    vouchers giftcard wifi internet accesibilidad ascensor empleo empleos vacante vacantes
    busqueda curriculum cv pasantia pasantias franquicia franquicias web pagina sitio instagram facebook
    redes tiktok aplicacion app resenas opiniones certificado certificados certificacion certificaciones
    habilitacion habilitaciones licencia matricula seguro servicio servicios asesoramiento telefono mail
    email correo whatsapp cliente clientes
    owner owners manager managers boss founder founders ceo employee employees staff company business name
    names surname tax vat ein history program programs programme loyalty reward rewards points perk perks
    membership memberships member members club discount discounts promo promos promotion promotions
    coupon coupons voucher vouchers giftcard wifi internet accessibility accessible elevator wheelchair
    job jobs hiring vacancy vacancies career careers internship internships resume cv franchise
    franchises website site instagram facebook tiktok app reviews certificate certificates certification
    certified license licensed insurance insured service services consulting phone email customer customers
    """.split()
)

ORDINALS: dict[str, int] = {
    "primero": 0, "primera": 0, "primer": 0, "first": 0, "segundo": 1, "segunda": 1, "second": 1,
    "tercero": 2, "tercera": 2, "tercer": 2, "third": 2, "cuarto": 3, "cuarta": 3, "fourth": 3,
    "quinto": 4, "quinta": 4, "fifth": 4, "ultimo": -1, "ultima": -1, "last": -1,
}  # fmt: skip

# Words that never name a product: function words, the verbs and nouns the cues use, politeness.
STOPWORDS = frozenset(
    """
    a al algo alguna algun alguno algunos algunas ante aqui aca ahi asi cada como con contra cual cuales cuando
    de del desde donde el ella ellos en entre era es esa ese eso esos esas esta estas este esto estos estoy
    estan estar hay hasta la las le les lo los mas me mi mis mucho muy nada ni no nos nosotros o otra otro
    otros para pero poco por porque que quien se sea ser si sin sobre solo son su sus tambien tan tanto te ti
    tu tus un una uno unos unas usted ustedes y ya yo vos che bueno dale ok okey listo bien buen buena buenas
    buenos hola holis dia dias tardes noches gracias favor please porfa
    tenes tienen tienes tiene tendras tendrias tendran tenian tengo habra venden vendes vende manejan manejas
    maneja trabajan traen traes consiguen conseguis disponible disponibles disponibilidad stock quedan queda
    precio precios cuanto cuantos cuanta cuestan cuesta sale salen vale valen valor costo busco buscaba
    buscando ando estoy necesito necesitaria necesitamos quiero quisiera queria queremos comprar compro
    comprarte comprarles llevo llevar lleva voy mandame mandeme mandanos enviame envieme dame deme danos
    pasame pasas pasa das da traeme vendeme vendas encargar encargo reservame reservar apartame apartar
    separa separame separeme
    regalame regaleme regala regalas colabora colaboras compra compras
    anotame agregame sumame hacer hago pedido pedir pido mostrame mostras mostrar ver info informacion
    recomendame recomendas recomiendan recomienda recomendar elegir marca marcas modelo modelos opciones
    tipo tipos cosa cosas saber consultar consulta preguntar interesa interesan unidad unidades u piezas
    mejor sean cambialo cambia ponele dejalo solamente nomas vez lugar cotizacion cotizar cotizame
    presupuesto mayorista mayor cantidad obra proyecto quote quotation estimate bulk wholesale
    tal onda podes puedes puede pueden podrias podria decime dime sabes hace tengo
    the an i i'm i'll i'd i've me my you your u we our us it its is are am do does did have has had any some
    of for to in on at with and or thanks thank hi hello hey can could would will should what what's how
    much many price prices pricing cost costs sell sells carry available availability looking look need
    want like take get got give send buy purchase order show see find there here this that these those
    one ones kind type brand brands options which about just also too so please be there's is
    make change actually instead rather only know tell best good better ideal conviene convienen
    producto productos articulo articulos product products item items
    ese esa esos esas eso este esta estos estas aquel aquella ahi them that those it
    primero primera primer segundo segunda tercero tercera tercer ultimo ultima first second third last
    hmm mmm ehh eh ah uh jaja jeje lol ok oki
    entonces uy ni modo chale orale simon pues mismo misma mismos mismas otro otra otros otras
    buenisimo buenisima genial perfecto perfecta excelente joya barbaro barbara espectacular great perfect awesome
    po pe nomas then
    """.split()
)

# Role words that follow "soy" without being a name.
NOT_NAMES = frozenset(
    """
    el la de del un una cliente clienta nuevo nueva yo quien arquitecto arquitecta particular dueno duena
    encargado encargada de the a an new customer client from here looking interested owner manager buyer
    """.split()
)


def _pattern_words(pattern: str) -> set[str]:
    plain = re.sub(r"\\[a-zA-Z]", " ", pattern).replace("'?", "'")
    return set(re.findall(r"[a-z]+(?:'[a-z]+)?", plain))


# Every word the cues know, and the long ones typos are corrected towards.
CUE_WORDS: frozenset[str] = frozenset(
    word for cues in CUES.values() for pattern, _ in cues for word in _pattern_words(pattern.pattern)
)
VOCABULARY: frozenset[str] = CUE_WORDS | STOPWORDS | BUSINESS_WORDS
# Typos are never corrected towards a complaint cue: an ordinary word that happens to be
# one letter from an insult ("cuantas" / "chantas") must not hand a customer to a person. A tuple in
# sorted order, so a tie between two close words is broken the same way on every run (a frozenset's
# order changes with Python's hash seed).
_NEVER_GUESSED = frozenset(
    word for pattern, _ in CUES.get("complaint", ()) for word in _pattern_words(pattern.pattern)
)
KEYWORDS: tuple[str, ...] = tuple(sorted(word for word in CUE_WORDS if len(word) >= 6 and word not in _NEVER_GUESSED))
