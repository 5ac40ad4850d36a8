/* Mostrador dashboard: talks to the admin JSON API with the bearer token kept in sessionStorage.
   No framework and no build step; charts are small inline SVGs drawn here. */
"use strict";

(() => {
  // -- every visible string (Spanish UI) ---------------------------------------------------
  const LOCALE = "es-AR";
  const STRINGS = {
    loginSubtitle: "Panel del negocio",
    tokenLabel: "Token de administración",
    loginHint: "Es el valor de BOT_ADMIN_TOKEN (o el archivo data/admin_token). Se guarda sólo en esta pestaña.",
    login: "Entrar",
    badToken: "Token inválido.",
    sessionExpired: "La sesión venció: ingresá el token de nuevo.",
    logout: "Salir",
    refresh: "Actualizar",
    back: "Volver a la lista",
    navOverview: "Resumen",
    navConversations: "Conversaciones",
    navPrompts: "Prompts",
    navExports: "Exportar",
    kpiRevenue: "Ingresos",
    kpiSales: "Ventas",
    kpiConversations: "Conversaciones",
    kpiLeads: "Leads",
    kpiQualified: "{n} calificados",
    kpiAttention: "Requieren atención",
    chartSales: "Ventas e ingresos por día",
    chartChannels: "Conversaciones por canal",
    chartStatus: "Conversaciones por estado",
    chartLeads: "Leads por puntaje",
    chartInsights: "Insights de las conversaciones",
    chartCategories: "Categoría",
    chartSentiments: "Sentimiento",
    salesLegend: "Barras: ingresos · número sobre la barra: ventas",
    salesBarTitle: "{day}: {count} · {revenue}",
    salesCount: "{n} venta(s)",
    noData: "Sin datos todavía",
    allChannels: "Canal: todos",
    allStatuses: "Estado: todos",
    filterChannel: "Canal",
    filterStatus: "Estado",
    filterSince: "Desde",
    sinceAll: "Desde: siempre",
    since1: "Últimas 24 h",
    since7: "Últimos 7 días",
    since30: "Últimos 30 días",
    search: "Buscar texto o chat…",
    more: "Ver más",
    listCount: "{shown} de {total}",
    noConversations: "No hay conversaciones con esos filtros.",
    pickConversation: "Elegí una conversación de la lista.",
    takeover: "Tomar conversación",
    handback: "Devolver al bot",
    tookOver: "Ahora respondés vos; el bot está en pausa.",
    handedBack: "El bot vuelve a responder.",
    replyPlaceholder: "Responder como humano…",
    send: "Enviar",
    sent: "Mensaje enviado.",
    useReply: "Usar como respuesta",
    insights: "Insights",
    generateInsights: "Generar insights",
    generating: "Generando…",
    noInsights: "Sin insights todavía.",
    lead: "Lead",
    noLead: "Sin datos de contacto.",
    qualified: "calificado",
    sales: "Ventas",
    noSales: "Sin ventas.",
    total: "Total",
    appointments: "Turnos",
    leads: "Leads",
    noAppointments: "Sin turnos.",
    attention: "Atención",
    you: "Vos",
    save: "Guardar",
    saved: "Guardado.",
    saving: "Guardando…",
    unsaved: "Cambios sin guardar",
    discardChanges: "Hay cambios sin guardar. ¿Descartarlos?",
    versions: "Versiones",
    noVersions: "Sin versiones anteriores.",
    rollback: "Restaurar",
    rollbackConfirm: "¿Restaurar la versión {id}? La actual queda en el historial.",
    rolledBack: "Versión restaurada.",
    promptContent: "Contenido del prompt",
    exportsTitle: "Exportar CSV",
    downloaded: "Descargado: {file}",
    error: "Error: {msg}",
    networkError: "Sin conexión con el servidor.",
    channel: { web: "web", telegram: "Telegram", whatsapp: "WhatsApp" },
    status: { bot: "Bot", human: "Humano" },
    author: { customer: "Cliente", bot: "Bot", human: "Humano" },
    category: { sale: "Venta", support: "Soporte", complaint: "Reclamo" },
    sentiment: { positive: "Positivo", neutral: "Neutral", negative: "Negativo" },
    churn: { low: "bajo", medium: "medio", high: "alto" },
    delivery: { queued: "en cola", sent: "enviado", delivered: "entregado", read: "leído", failed: "falló" },
    appointmentStatus: { booked: "reservado", cancelled: "cancelado" },
    field: {
      category: "Categoría", sentiment: "Sentimiento", intent: "Intención", churn_risk: "Riesgo de abandono",
      summary: "Resumen", next_action: "Próxima acción", suggested_reply: "Respuesta sugerida",
      name: "Nombre", email: "Email", phone: "Teléfono", company: "Empresa", need: "Necesidad",
      budget: "Presupuesto", timeline: "Plazo", authority: "Decisión", score: "Puntaje",
    },
    kind: "[{kind}]",
  };

  const COLORS = {
    accent: "#0b6e4f",
    channel: { web: "#0b6e4f", telegram: "#2f8fd0", whatsapp: "#25a55f" },
    status: { bot: "#0b6e4f", human: "#c77700" },
    category: { sale: "#0b6e4f", support: "#2f6db5", complaint: "#c77700" },
    sentiment: { positive: "#2e9a5b", neutral: "#8a948f", negative: "#b3261e" },
    leads: ["#c9d6cf", "#9ec3b0", "#6fae8d", "#3f8f69", "#0b6e4f"],
    other: "#8a948f",
  };
  const TOKEN_KEY = "mostrador_admin_token";
  const PAGE_SIZE = 30;
  const POLL_MS = 8000;
  const SVG_NS = "http://www.w3.org/2000/svg";

  // -- small helpers ----------------------------------------------------------------------
  const $ = (sel) => document.querySelector(sel);
  const $$ = (sel) => Array.from(document.querySelectorAll(sel));

  function t(key, vars) {
    let value = key.split(".").reduce((obj, k) => (obj == null ? undefined : obj[k]), STRINGS);
    if (typeof value !== "string") value = key.includes(".") ? key.split(".").pop() : key;
    return vars ? value.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : value;
  }

  /** Build an HTML element; text children become text nodes (never parsed as HTML). */
  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function s(tag, attrs, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (const child of children.flat()) {
      if (child == null || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === "class") node.setAttribute("class", v);
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
  }

  const fmt = {
    money(value) {
      const n = Number(value) || 0;
      const digits = Number.isInteger(n) ? 0 : 2;
      try {
        return new Intl.NumberFormat(LOCALE, {
          style: "currency", currency: state.currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
        }).format(n);
      } catch (e) {
        return `${state.currency} ${n.toFixed(digits)}`;
      }
    },
    compact(value) { // axis labels: 2500 -> "2,5 k", 1200000 -> "1,2 M"
      const n = Number(value) || 0, abs = Math.abs(n);
      const short = (x) => new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 }).format(x);
      if (abs >= 1e6) return `${short(n / 1e6)} M`;
      if (abs >= 1e3) return `${short(n / 1e3)} k`;
      return short(n);
    },
    num(value) {
      return new Intl.NumberFormat(LOCALE).format(Number(value) || 0);
    },
    pct(value) {
      return new Intl.NumberFormat(LOCALE, { style: "percent", maximumFractionDigits: 0 }).format(Number(value) || 0);
    },
    day(iso) { // "2026-11-22" -> "22/11", with no time zone shift
      const [, m, d] = String(iso).split("-");
      return d && m ? `${d}/${m}` : String(iso);
    },
    longDay(iso) {
      const [y, m, d] = String(iso).split("-");
      return d ? `${d}/${m}/${y}` : String(iso);
    },
    dateTime(iso) {
      if (!iso) return "";
      const d = new Date(iso);
      return isNaN(d) ? String(iso) : d.toLocaleString(LOCALE, { dateStyle: "short", timeStyle: "short" });
    },
    time(iso) {
      const d = new Date(iso);
      return isNaN(d) ? "" : d.toLocaleTimeString(LOCALE, { hour: "2-digit", minute: "2-digit" });
    },
    ago(iso) {
      const d = new Date(iso);
      if (!iso || isNaN(d)) return "";
      const secs = (d.getTime() - Date.now()) / 1000;
      const rtf = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto", style: "short" });
      for (const [unit, size] of [["day", 86400], ["hour", 3600], ["minute", 60]]) {
        if (Math.abs(secs) >= size) return rtf.format(Math.round(secs / size), unit);
      }
      return rtf.format(0, "minute");
    },
  };

  let toastTimer = 0;
  function toast(message, isError) {
    const box = $("#toast");
    box.textContent = message;
    box.classList.toggle("error", !!isError);
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { box.hidden = true; }, isError ? 6000 : 3000);
  }

  // -- API --------------------------------------------------------------------------------
  class ApiError extends Error {
    constructor(status, message, data) { super(message); this.status = status; this.data = data; }
  }

  async function api(path, { method = "GET", body, raw = false } = {}) {
    const headers = { Authorization: `Bearer ${state.token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let resp;
    try {
      resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, t("networkError"));
    }
    if (resp.status === 401) {
      logout(state.loggedIn ? t("sessionExpired") : t("badToken"));
      throw new ApiError(401, t("badToken"));
    }
    if (!resp.ok) {
      let data = null;
      try { data = await resp.json(); } catch (e) { /* not JSON */ }
      throw new ApiError(resp.status, (data && (data.error || data.detail)) || `HTTP ${resp.status}`, data);
    }
    return raw ? resp : resp.json();
  }

  const convPath = (channel, chatId) =>
    `/admin/conversations/${encodeURIComponent(channel)}/${encodeURIComponent(chatId)}`;

  function fail(err) {
    if (err && err.status === 401) return; // already back at the login form
    toast(t("error", { msg: err && err.message ? err.message : String(err) }), true);
  }

  // -- state ------------------------------------------------------------------------------
  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || "",
    loggedIn: false,
    currency: "ARS",
    stats: null,
    list: { items: [], total: 0, offset: 0 },
    current: null,
    prompt: { name: "", dirty: false },
    pollTimer: 0,
  };

  // -- login ------------------------------------------------------------------------------
  function showLogin(message) {
    $("#app").hidden = true;
    $("#login-view").hidden = false;
    const err = $("#login-error");
    err.textContent = message || "";
    err.hidden = !message;
    $("#token").focus();
  }

  function logout(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = "";
    state.loggedIn = false;
    state.current = null;
    clearInterval(state.pollTimer);
    showLogin(message);
  }

  async function enter() {
    await loadStats(); // throws (and shows the login again) on a bad token
    state.loggedIn = true;
    sessionStorage.setItem(TOKEN_KEY, state.token);
    $("#login-view").hidden = true;
    $("#app").hidden = false;
    $("#token").value = "";
    renderCharts(); // sizes are known only once the app is visible
    loadConversations(true).catch(fail);
    loadPrompts().catch(fail);
    clearInterval(state.pollTimer);
    state.pollTimer = setInterval(poll, POLL_MS);
  }

  // -- overview: KPIs and charts ------------------------------------------------------------
  async function loadStats() {
    const stats = await api("/admin/stats");
    state.stats = stats;
    state.currency = stats.currency || state.currency;
    renderKpis(stats.totals || {});
    if (state.loggedIn) renderCharts();
  }

  function renderKpis(totals) {
    const set = (key, text, sub) => {
      const card = $(`.kpi[data-kpi="${key}"]`);
      card.querySelector(".kpi-value").textContent = text;
      const subEl = card.querySelector(".kpi-sub");
      if (subEl) subEl.textContent = sub || "";
    };
    set("revenue", fmt.money(totals.revenue));
    set("sales", fmt.num(totals.sales));
    set("conversations", fmt.num(totals.conversations));
    set("leads", fmt.num(totals.leads), t("kpiQualified", { n: fmt.num(totals.qualified_leads) }));
    set("needs_attention", fmt.num(totals.needs_attention));
  }

  function renderCharts() {
    const st = state.stats;
    if (!st) return;
    salesChart($("#chart-sales"), fillDays(st.sales_per_day || []));
    const fromMap = (map, group, order) => {
      const keys = Object.keys(map || {});
      if (order) keys.sort((a, b) => rank(order, a) - rank(order, b));
      else keys.sort((a, b) => map[b] - map[a]);
      return keys.map((k) => ({
        key: k, label: t(`${group}.${k}`), value: Number(map[k]) || 0, color: (COLORS[group] || {})[k] || COLORS.other,
      }));
    };
    barList($("#chart-channels"), fromMap(st.conversations_by_channel, "channel"));
    barList($("#chart-status"), fromMap(st.conversations_by_status, "status", ["bot", "human"]));
    barList($("#chart-leads"), (st.leads_by_score || []).map((b, i, all) => ({
      key: b.bucket, label: b.bucket, value: Number(b.count) || 0,
      color: COLORS.leads[Math.round((i * (COLORS.leads.length - 1)) / Math.max(1, all.length - 1))],
    })));
    barList($("#chart-categories"), fromMap(st.categories, "category", ["sale", "support", "complaint"]));
    barList($("#chart-sentiments"), fromMap(st.sentiments, "sentiment", ["positive", "neutral", "negative"]));
  }

  const rank = (order, key) => (order.includes(key) ? order.indexOf(key) : order.length);

  /** Days with no sales between the first and the last one become zero bars (at most 92 days). */
  function fillDays(rows) {
    const byDay = new Map(rows.map((r) => [r.day, r]));
    const days = rows.map((r) => r.day).sort();
    if (days.length < 2) return rows;
    const start = Date.parse(`${days[0]}T00:00:00Z`), end = Date.parse(`${days[days.length - 1]}T00:00:00Z`);
    if (isNaN(start) || isNaN(end) || (end - start) / 86400000 > 92) return rows;
    const out = [];
    for (let ms = start; ms <= end; ms += 86400000) {
      const day = new Date(ms).toISOString().slice(0, 10);
      out.push(byDay.get(day) || { day, count: 0, revenue: 0 });
    }
    return out;
  }

  function empty(host) {
    host.replaceChildren(h("div", { class: "empty" }, t("noData")));
  }

  /** A round tick step giving at most five ticks above zero, and how many ticks reach the maximum. */
  function niceTicks(max) {
    if (max <= 0) return { step: 1, count: 1 };
    const raw = max / 5, exp = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((f) => f * exp).find((x) => x >= raw);
    return { step, count: Math.max(1, Math.ceil(max / step - 1e-9)) };
  }

  /** Revenue per day as columns; the number of sales sits on each column. */
  function salesChart(host, rows) {
    if (!rows.length) return empty(host);
    const W = Math.max(260, host.clientWidth || 600), H = W < 500 ? 190 : 230;
    const m = { top: 22, right: 8, bottom: 26, left: W < 500 ? 46 : 60 };
    const pw = W - m.left - m.right, ph = H - m.top - m.bottom;
    const ticks = niceTicks(Math.max(...rows.map((r) => Number(r.revenue) || 0)));
    const max = ticks.step * ticks.count;
    const step = pw / rows.length, bw = Math.max(2, Math.min(56, step * 0.7));
    const every = Math.max(1, Math.ceil(rows.length / Math.max(1, Math.floor(pw / 46))));
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img", "aria-label": t("chartSales") });
    for (let i = 0; i <= ticks.count; i++) {
      const y = m.top + ph - (ph * i) / ticks.count;
      svg.append(
        s("line", { class: "grid", x1: m.left, x2: W - m.right, y1: y, y2: y }),
        s("text", { x: m.left - 6, y: y + 4, "text-anchor": "end" }, fmt.compact(ticks.step * i)),
      );
    }
    rows.forEach((r, i) => {
      const revenue = Number(r.revenue) || 0, count = Number(r.count) || 0;
      const bh = (revenue / max) * ph, x = m.left + step * i + (step - bw) / 2, y = m.top + ph - bh;
      const label = t("salesBarTitle", {
        day: fmt.longDay(r.day), count: t("salesCount", { n: count }), revenue: fmt.money(revenue),
      });
      const g = s("g", { class: "bar", "data-day": r.day, "data-revenue": revenue, "data-count": count, "aria-label": label },
        s("title", null, label),
        s("rect", { x, y, width: bw, height: Math.max(bh, revenue > 0 ? 1 : 0), rx: 3, fill: COLORS.accent }));
      if (count > 0 && bw >= 12) {
        g.append(s("text", { class: "value", x: x + bw / 2, y: y - 5, "text-anchor": "middle" }, count));
      }
      if (i % every === 0) {
        g.append(s("text", { x: x + bw / 2, y: H - 8, "text-anchor": "middle" }, fmt.day(r.day)));
      }
      svg.append(g);
    });
    host.replaceChildren(svg, h("div", { class: "muted small" }, t("salesLegend")));
  }

  /** Horizontal bars: label, bar, value; reads well on a phone. */
  function barList(host, rows) {
    const total = rows.reduce((a, r) => a + r.value, 0);
    if (!rows.length || total === 0) return empty(host);
    const W = Math.max(220, host.clientWidth || 320), rowH = 30;
    const labelW = Math.min(130, 16 + 7.5 * Math.max(...rows.map((r) => r.label.length)));
    const valueW = 62, H = rows.length * rowH + 4;
    const max = Math.max(...rows.map((r) => r.value));
    const bwMax = W - labelW - valueW;
    const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: "img" });
    rows.forEach((r, i) => {
      const y = i * rowH + 4, bw = (r.value / max) * bwMax, share = r.value / total;
      const title = `${r.label}: ${fmt.num(r.value)} (${fmt.pct(share)})`;
      svg.append(s("g", { class: "bar", "data-key": r.key, "data-value": r.value, "aria-label": title },
        s("title", null, title),
        s("text", { x: labelW - 8, y: y + 16, "text-anchor": "end" }, r.label),
        s("rect", { x: labelW, y: y + 3, width: Math.max(bw, r.value > 0 ? 2 : 0), height: rowH - 10, rx: 3, fill: r.color }),
        s("text", { class: "value", x: labelW + bw + 6, y: y + 16 }, `${fmt.num(r.value)} · ${fmt.pct(share)}`)));
    });
    host.replaceChildren(svg);
  }

  // -- conversations list -------------------------------------------------------------------
  function listQuery(offset) {
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(offset) });
    const channel = $("#filter-channel").value, status = $("#filter-status").value;
    const since = $("#filter-since").value, q = $("#filter-q").value.trim();
    if (channel) params.set("channel", channel);
    if (status) params.set("status", status);
    if (since) params.set("since", new Date(Date.now() - Number(since) * 86400000).toISOString());
    if (q) params.set("q", q);
    return params;
  }

  let listSeq = 0;
  async function loadConversations(reset) {
    const seq = ++listSeq;
    const offset = reset ? 0 : state.list.items.length;
    const data = await api(`/admin/conversations?${listQuery(offset)}`);
    if (seq !== listSeq) return; // a newer filter won
    state.list.items = reset ? data.items : state.list.items.concat(data.items);
    state.list.total = data.total ?? state.list.items.length;
    renderList();
  }

  function renderList() {
    const { items, total } = state.list;
    const list = $("#conv-list");
    if (!items.length) {
      list.replaceChildren(h("li", { class: "muted small" }, t("noConversations")));
    } else {
      list.replaceChildren(...items.map(convRow));
    }
    $("#conv-count").textContent = t("listCount", { shown: items.length, total });
    $("#conv-more").hidden = items.length >= total;
  }

  function convRow(c) {
    const cur = state.current;
    const active = cur && cur.channel === c.channel && cur.chat_id === c.chat_id;
    const last = c.last_message;
    let preview = "";
    if (last) {
      const who = last.direction === "in" ? "" : `${last.author === "human" ? t("you") : t("author.bot")}: `;
      preview = who + (last.text || "");
    }
    return h("li", null, h("button", {
      type: "button", class: `conv-row${active ? " active" : ""}`, "data-testid": "conv-row",
      "data-channel": c.channel, "data-chat-id": c.chat_id, "data-status": c.status,
      onclick: () => openConversation(c.channel, c.chat_id).catch(fail),
    },
    h("div", { class: "row1" },
      c.needs_attention ? h("span", { class: "flag", title: c.attention_reason || t("attention") }, "⚠") : null,
      h("span", { class: "name" }, c.customer_name || c.chat_id),
      h("span", { class: "badge" }, t(`channel.${c.channel}`)),
      h("span", { class: `badge ${c.status}` }, t(`status.${c.status}`)),
    ),
    h("div", { class: "row1" },
      h("span", { class: "last" }, preview),
      h("span", { class: "when", title: fmt.dateTime(c.updated_at) }, fmt.ago(c.updated_at)))));
  }

  function markActiveRow() {
    const cur = state.current;
    for (const row of $$(".conv-row")) {
      row.classList.toggle("active", !!cur && row.dataset.channel === cur.channel && row.dataset.chatId === cur.chat_id);
    }
  }

  // -- one conversation ---------------------------------------------------------------------
  async function openConversation(channel, chatId) {
    const detail = await api(convPath(channel, chatId));
    state.current = detail;
    renderDetail(detail);
    $("#conversations").classList.add("open");
    markActiveRow();
    if (window.matchMedia("(max-width: 900px)").matches) $("#conversations").scrollIntoView();
  }

  function renderDetail(d) {
    $("#conv-empty").hidden = true;
    $("#conv-body").hidden = false;
    $("#conv-title").textContent = d.customer_name || d.chat_id;
    $("#conv-title").title = d.chat_id;
    $("#conv-channel").textContent = t(`channel.${d.channel}`);
    const status = $("#conv-status");
    status.textContent = t(`status.${d.status}`);
    status.className = `badge ${d.status}`;
    status.dataset.status = d.status;
    const attention = $("#conv-attention");
    attention.hidden = !d.needs_attention;
    attention.textContent = `⚠ ${d.attention_reason || t("attention")}`;
    const human = d.status === "human";
    $("#takeover").hidden = human;
    $("#handback").hidden = !human;
    $("#reply-form").hidden = !human;
    renderTranscript(d.messages || []);
    renderInsights(d.insights);
    renderLead(d.lead);
    renderSales(d.sales || []);
    renderAppointments(d.appointments || []);
  }

  function renderTranscript(messages) {
    const box = $("#transcript");
    const channel = state.current ? state.current.channel : "";
    box.replaceChildren(...messages.map((m) => messageNode(m, channel)));
    box.scrollTop = box.scrollHeight;
  }

  /** Delivery receipts matter on Telegram/WhatsApp; the web chat answers in the same request. */
  function messageNode(m, channel) {
    const text = m.text || t("kind", { kind: m.kind || "?" });
    const meta = [t(`author.${m.author}`), fmt.time(m.created_at)];
    const receipt = m.direction === "out" && m.delivery_status;
    if (receipt && (m.delivery_status === "failed" || (channel !== "web" && m.delivery_status !== "sent"))) {
      meta.push(t(`delivery.${m.delivery_status}`));
    }
    const failed = m.delivery_status === "failed";
    return h("div", {
      class: `msg ${m.direction} ${m.author}${failed ? " failed" : ""}`, "data-id": m.id, "data-testid": "msg",
      title: fmt.dateTime(m.created_at),
    }, text, h("span", { class: "msg-meta" }, meta.filter(Boolean).join(" · ")));
  }

  function kv(pairs) {
    const dl = h("dl", { class: "kv" });
    for (const [key, value] of pairs) {
      if (value == null || value === "") continue;
      dl.append(h("dt", null, t(`field.${key}`)), h("dd", { "data-field": key }, value));
    }
    return dl;
  }

  function renderInsights(ins) {
    const box = $("#insights");
    if (!ins) return box.replaceChildren(h("p", { class: "muted small" }, t("noInsights")));
    const conf = ins.confidence != null ? ` (${fmt.pct(ins.confidence)})` : "";
    const nodes = [kv([
      ["category", t(`category.${ins.category}`) + conf],
      ["sentiment", t(`sentiment.${ins.sentiment}`)],
      ["intent", ins.intent],
      ["churn_risk", ins.churn_risk ? t(`churn.${ins.churn_risk}`) : null],
      ["summary", ins.summary],
      ["next_action", ins.next_action],
    ])];
    if (ins.suggested_reply) {
      const block = h("div", { class: "suggested" }, h("strong", null, `${t("field.suggested_reply")}: `), ins.suggested_reply);
      if (state.current && state.current.status === "human") {
        block.append(" ", h("button", {
          type: "button", onclick: () => { $("#reply-text").value = ins.suggested_reply; $("#reply-text").focus(); },
        }, t("useReply")));
      }
      nodes.push(block);
    }
    box.replaceChildren(...nodes);
  }

  function renderLead(lead) {
    const box = $("#lead");
    if (!lead) return box.replaceChildren(h("p", { class: "muted small" }, t("noLead")));
    const score = Math.max(0, Math.min(100, Number(lead.score) || 0));
    const bar = h("span");
    bar.style.width = `${score}%`;
    box.replaceChildren(
      h("div", null, h("strong", { "data-field": "score" }, `${t("field.score")}: ${score}/100`), " ",
        lead.qualified ? h("span", { class: "badge bot" }, t("qualified")) : null),
      h("div", { class: "meter" }, bar),
      kv(["name", "email", "phone", "company", "need", "budget", "timeline", "authority"].map((k) => [k, lead[k]])),
    );
  }

  function renderSales(sales) {
    const box = $("#sales");
    if (!sales.length) return box.replaceChildren(h("p", { class: "muted small" }, t("noSales")));
    const total = sales.reduce((a, x) => a + (Number(x.total) || 0), 0);
    box.replaceChildren(
      h("ul", { class: "plain" }, sales.map((x) => h("li", { "data-sku": x.sku },
        `${x.quantity} × ${x.name || x.sku} — ${fmt.money(x.total ?? x.quantity * x.unit_price)}`))),
      h("div", null, h("strong", null, `${t("total")}: ${fmt.money(total)}`)),
    );
  }

  function renderAppointments(items) {
    const box = $("#appointments");
    if (!items.length) return box.replaceChildren(h("p", { class: "muted small" }, t("noAppointments")));
    box.replaceChildren(h("ul", { class: "plain" }, items.map((a) => h("li", null,
      `${fmt.dateTime(a.start)} · ${t(`appointmentStatus.${a.status}`)}${a.topic ? ` · ${a.topic}` : ""}`))));
  }

  async function conversationAction(action, okMessage, button) {
    const cur = state.current;
    if (!cur) return;
    button.disabled = true;
    try {
      const detail = await api(`${convPath(cur.channel, cur.chat_id)}/${action}`, { method: "POST", body: {} });
      state.current = detail && detail.messages ? detail : await api(convPath(cur.channel, cur.chat_id));
      renderDetail(state.current);
      toast(okMessage);
      refreshAfterChange();
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  function refreshAfterChange() {
    loadConversations(true).catch(fail);
    loadStats().catch(fail);
  }

  async function sendReply(event) {
    event.preventDefault();
    const cur = state.current, input = $("#reply-text"), text = input.value.trim();
    if (!cur || !text) return;
    const button = $("#reply-send");
    button.disabled = true;
    try {
      const data = await api(`${convPath(cur.channel, cur.chat_id)}/reply`, { method: "POST", body: { text } });
      input.value = "";
      if (data && data.message) {
        cur.messages = (cur.messages || []).concat([data.message]);
        renderTranscript(cur.messages);
      }
      toast(t("sent"));
      loadConversations(true).catch(fail);
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  async function generateInsights() {
    const cur = state.current, button = $("#insights-btn");
    if (!cur) return;
    button.disabled = true;
    button.textContent = t("generating");
    try {
      const insights = await api(`${convPath(cur.channel, cur.chat_id)}/insights`, { method: "POST", body: {} });
      cur.insights = insights;
      renderInsights(insights);
      loadStats().catch(fail);
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
      button.textContent = t("generateInsights");
    }
  }

  /** Keep the open conversation, the list and the numbers fresh while the tab is visible. */
  async function poll() {
    if (!state.loggedIn || document.visibilityState !== "visible") return;
    const cur = state.current;
    try {
      if (cur) {
        const fresh = await api(convPath(cur.channel, cur.chat_id));
        const changed = fresh.status !== cur.status || (fresh.messages || []).length !== (cur.messages || []).length
          || JSON.stringify(fresh.insights) !== JSON.stringify(cur.insights);
        if (changed && state.current === cur) {
          state.current = fresh;
          renderDetail(fresh);
        }
      }
      if (!$("#filter-q").value && state.list.items.length <= PAGE_SIZE) await loadConversations(true);
      await loadStats();
    } catch (err) {
      if (err.status === 401) return;
    }
  }

  // -- prompts ----------------------------------------------------------------------------
  async function loadPrompts() {
    const data = await api("/admin/prompts");
    const select = $("#prompt-select");
    const names = (data.items || []).map((p) => p.name);
    select.replaceChildren(...names.map((n) => h("option", { value: n }, n)));
    const preferred = names.includes(state.prompt.name) ? state.prompt.name : (names.includes("system.es") ? "system.es" : names[0]);
    if (preferred) {
      select.value = preferred;
      await loadPrompt(preferred);
    }
  }

  async function loadPrompt(name) {
    const data = await api(`/admin/prompts/${encodeURIComponent(name)}`);
    state.prompt = { name, dirty: false };
    $("#prompt-content").value = data.content || "";
    $("#prompt-save").disabled = true;
    setPromptStatus("");
    renderVersions(data.versions || []);
  }

  function setPromptStatus(text, cls) {
    const el = $("#prompt-status");
    el.textContent = text;
    el.className = `small ${cls || ""}`;
  }

  function renderVersions(versions) {
    const list = $("#prompt-versions");
    if (!versions.length) return list.replaceChildren(h("li", { class: "muted" }, t("noVersions")));
    list.replaceChildren(...versions.map((v) => h("li", { "data-version-id": v.id },
      h("span", null, `#${v.id} · ${v.author || ""}`, h("br"), h("span", { class: "muted" }, fmt.dateTime(v.created_at))),
      h("button", { type: "button", class: "rollback", "data-version-id": v.id, onclick: () => rollback(v.id) }, t("rollback")))));
  }

  async function savePrompt() {
    const name = state.prompt.name, button = $("#prompt-save");
    if (!name) return;
    button.disabled = true;
    setPromptStatus(t("saving"), "muted");
    try {
      await api(`/admin/prompts/${encodeURIComponent(name)}`, { method: "PUT", body: { content: $("#prompt-content").value } });
      const data = await api(`/admin/prompts/${encodeURIComponent(name)}`);
      state.prompt.dirty = false;
      renderVersions(data.versions || []);
      setPromptStatus(t("saved"), "ok");
    } catch (err) {
      if (err.status === 401) return;
      button.disabled = false;
      setPromptStatus(err.status === 422 ? err.message : t("error", { msg: err.message }), "error");
    }
  }

  async function rollback(versionId) {
    const name = state.prompt.name;
    if (!name || !window.confirm(t("rollbackConfirm", { id: versionId }))) return;
    try {
      await api(`/admin/prompts/${encodeURIComponent(name)}/rollback`, { method: "POST", body: { version_id: versionId } });
      await loadPrompt(name);
      setPromptStatus(t("rolledBack"), "ok");
    } catch (err) {
      if (err.status === 401) return;
      setPromptStatus(t("error", { msg: err.message }), "error");
    }
  }

  // -- CSV exports (fetched with the header, saved through a Blob) ------------------------------
  async function exportCsv(kind, button) {
    button.disabled = true;
    try {
      const resp = await api(`/admin/${encodeURIComponent(kind)}?format=csv`, { raw: true });
      const blob = await resp.blob();
      const file = `${kind}-${new Date().toISOString().slice(0, 10)}.csv`;
      const url = URL.createObjectURL(blob);
      const link = h("a", { href: url, download: file });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 1000);
      toast(t("downloaded", { file }));
    } catch (err) {
      fail(err);
    } finally {
      button.disabled = false;
    }
  }

  // -- wiring -----------------------------------------------------------------------------
  function applyStrings() {
    for (const node of $$("[data-t]")) node.textContent = t(node.dataset.t);
    for (const node of $$("[data-t-placeholder]")) node.placeholder = t(node.dataset.tPlaceholder);
    for (const node of $$("[data-t-title]")) node.title = t(node.dataset.tTitle);
    for (const node of $$("[data-t-aria]")) node.setAttribute("aria-label", t(node.dataset.tAria));
  }

  function debounce(fn, ms) {
    let timer = 0;
    return (...args) => { clearTimeout(timer); timer = setTimeout(() => fn(...args), ms); };
  }

  function bind() {
    $("#login-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const value = $("#token").value.trim();
      if (!value) return;
      state.token = value;
      $("#login").disabled = true;
      enter().catch(fail).finally(() => { $("#login").disabled = false; });
    });
    $("#logout").addEventListener("click", () => logout(""));
    $("#reload").addEventListener("click", () => {
      loadStats().catch(fail);
      loadConversations(true).catch(fail);
      const cur = state.current;
      if (cur) openConversation(cur.channel, cur.chat_id).catch(fail);
    });
    const reloadList = () => loadConversations(true).catch(fail);
    for (const id of ["#filter-channel", "#filter-status", "#filter-since"]) $(id).addEventListener("change", reloadList);
    $("#filter-q").addEventListener("input", debounce(reloadList, 300));
    $("#conv-filters").addEventListener("submit", (e) => { e.preventDefault(); reloadList(); });
    $("#conv-more").addEventListener("click", () => loadConversations(false).catch(fail));
    $("#conv-back").addEventListener("click", () => $("#conversations").classList.remove("open"));
    $("#conv-refresh").addEventListener("click", () => {
      const cur = state.current;
      if (cur) openConversation(cur.channel, cur.chat_id).catch(fail);
    });
    $("#takeover").addEventListener("click", (e) => conversationAction("handoff", t("tookOver"), e.currentTarget));
    $("#handback").addEventListener("click", (e) => conversationAction("resume", t("handedBack"), e.currentTarget));
    $("#reply-form").addEventListener("submit", sendReply);
    $("#reply-text").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) $("#reply-form").requestSubmit();
    });
    $("#insights-btn").addEventListener("click", generateInsights);
    $("#prompt-select").addEventListener("change", (e) => {
      const name = e.target.value;
      if (state.prompt.dirty && !window.confirm(t("discardChanges"))) {
        e.target.value = state.prompt.name;
        return;
      }
      loadPrompt(name).catch(fail);
    });
    $("#prompt-content").addEventListener("input", () => {
      state.prompt.dirty = true;
      $("#prompt-save").disabled = false;
      setPromptStatus(t("unsaved"), "muted");
    });
    $("#prompt-save").addEventListener("click", savePrompt);
    for (const button of $$(".export")) button.addEventListener("click", () => exportCsv(button.dataset.kind, button));
    window.addEventListener("resize", debounce(() => { if (state.loggedIn) renderCharts(); }, 150));
    window.addEventListener("beforeunload", (e) => { if (state.prompt.dirty) e.preventDefault(); });
  }

  function start() {
    applyStrings();
    bind();
    if (state.token) {
      $("#login-view").hidden = true; // no login flash on a reload; a stale token brings it back
      enter().catch(fail);
    }
    else showLogin("");
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
