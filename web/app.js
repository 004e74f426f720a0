// yumna-dns dashboard: plain JavaScript over the controller's JSON API.
// The token lives in sessionStorage (this tab only) and goes out as
// "Authorization: Bearer"; the page polls every POLL_MS so that a node
// going down shows within a few seconds. Everything from the API is put
// into the page as text (textContent), never as HTML.
"use strict";

(function () {
  const POLL_MS = 2000;
  const ZONES_SHOWN = 500;
  const EVENTS_KEPT = 100;
  const TOKEN_KEY = "yumna-token";

  const $ = (id) => document.getElementById(id);
  let timer = null;
  let selectedZone = null; // zone id
  let events = [];
  let eventsBoot = null;
  let eventsLast = 0;
  let zonesCache = [];

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class HttpError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  async function api(path) {
    const r = await fetch(path, {
      headers: { Authorization: "Bearer " + token(), Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
    });
    let body = null;
    try {
      body = await r.json();
    } catch (e) {
      body = null;
    }
    if (!r.ok) {
      throw new HttpError(r.status, (body && body.error) || r.statusText);
    }
    return body;
  }

  function el(tag, opts, children) {
    const e = document.createElement(tag);
    if (opts) {
      if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
      if (opts.cls) e.className = opts.cls;
      if (opts.title) e.title = opts.title;
      if (opts.data) for (const k in opts.data) e.dataset[k] = opts.data[k];
    }
    for (const c of children || []) e.appendChild(c);
    return e;
  }

  function fmtMs(ms) {
    if (typeof ms !== "number" || ms < 0) return "–";
    return ms < 10 ? ms.toFixed(1) + " ms" : Math.round(ms) + " ms";
  }

  function fmtTime(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  // The DNSSEC state of a zone, whatever shape the controller gives it.
  function dnssecState(z) {
    const d = z.dnssec;
    if (d && typeof d === "object") return String(d.state || d.status || (d.signed ? "signed" : "unsigned"));
    if (typeof d === "string" && d) return d;
    if (typeof z.dnssec_state === "string" && z.dnssec_state) return z.dnssec_state;
    if (z.dnssec_enabled === true || d === true) return "signed";
    return "unsigned";
  }

  // --- sign in and out -----------------------------------------------------

  function showSignIn(message) {
    stop();
    $("app").hidden = true;
    $("signout").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("refreshed").textContent = "";
    $("token").focus();
  }

  function showApp() {
    $("signin").hidden = true;
    $("app").hidden = false;
    $("signout").hidden = false;
    events = [];
    eventsBoot = null;
    eventsLast = 0;
    refresh();
  }

  async function signIn(ev) {
    ev.preventDefault();
    const t = $("token").value.trim();
    if (!t) return;
    sessionStorage.setItem(TOKEN_KEY, t);
    $("token").value = "";
    try {
      await api("/api/dns/cluster/status");
    } catch (e) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn(e.status === 401 ? "That token was refused." : "Cannot reach the controller: " + e.message);
      return;
    }
    showApp();
  }

  function signOut() {
    sessionStorage.removeItem(TOKEN_KEY);
    selectedZone = null;
    showSignIn("");
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  // --- rendering -------------------------------------------------------------

  function renderNodes(status) {
    const tbody = $("nodes").tBodies[0];
    const rows = [];
    let behind = 0;
    let failing = 0;
    for (const n of status.nodes || []) {
      const z = n.zones || {};
      behind += z.behind || 0;
      failing += z.failing || 0;
      const dns = n.dnsStatus || {};
      const cell = (label, opts, children) => {
        const td = el("td", opts, children);
        td.dataset.label = label;
        return td;
      };
      const tr = el("tr", { cls: "state-" + n.status, data: { node: n.hostname, state: n.status } }, [
        cell("Node", {}, [el("strong", { text: n.hostname }), el("span", { cls: "muted ip", text: n.ip })]),
        cell("State", {}, [el("span", { cls: "badge", text: n.status })]),
        cell("PowerDNS", { text: dns.version || "–" }),
        cell("Response", { cls: "num", text: n.status === "offline" ? "–" : fmtMs(n.responseTime) }),
        cell("In sync", { cls: "num", text: z.in_sync }),
        cell("Behind", { cls: "num", text: z.behind }),
        cell("Failing", { cls: "num", text: z.failing }),
        cell("Drift", { cls: "num", text: z.drift || 0 }),
        cell("Last error", { cls: "wrap", text: n.lastError || "" }),
      ]);
      rows.push(tr);
    }
    tbody.replaceChildren(...rows);
    $("t-nodes").textContent = (status.onlineNodes || 0) + " / " + (status.totalNodes || 0);
    $("t-nodes").parentElement.classList.toggle("bad", (status.offlineNodes || 0) > 0);
    $("t-behind").textContent = behind;
    $("t-failing").textContent = failing;
    $("t-failing").parentElement.classList.toggle("bad", failing > 0);
  }

  // An international name as people write it (the controller's
  // domain_unicode), or the name itself.
  function unicodeName(z) {
    return typeof z.domain_unicode === "string" ? z.domain_unicode : z.domain;
  }

  // A name cell: the U-labels first when they differ, the A-labels (what
  // DNS serves) beside them in grey.
  function nameCell(ascii, unicode) {
    if (!unicode || unicode === ascii) return el("td", { cls: "wrap", text: ascii });
    return el("td", { cls: "wrap", title: ascii }, [
      el("span", { text: unicode }),
      el("span", { cls: "muted idn", text: " " + ascii }),
    ]);
  }

  function renderZones() {
    const filter = $("zone-filter").value.trim().toLowerCase();
    const tbody = $("zones").tBodies[0];
    const shown = [];
    let matching = 0;
    for (const z of zonesCache) {
      if (filter && z.domain.toLowerCase().indexOf(filter) < 0 &&
          unicodeName(z).toLowerCase().indexOf(filter) < 0) continue;
      matching++;
      if (shown.length >= ZONES_SHOWN) continue;
      const state = dnssecState(z);
      const tr = el("tr", { cls: "clickable" + (z.id === selectedZone ? " selected" : ""), data: { zone: z.domain, zoneId: String(z.id) } }, [
        nameCell(z.domain, unicodeName(z)),
        el("td", { cls: "num", text: z.serial }),
        el("td", { cls: "num", text: z.records }),
        el("td", { cls: state === "unsigned" ? "dnssec-unsigned" : "dnssec-signed", text: state }),
      ]);
      tr.addEventListener("click", () => selectZone(z.id));
      shown.push(tr);
    }
    tbody.replaceChildren(...shown);
    $("zones-more").textContent = matching > shown.length ? "Showing " + shown.length + " of " + matching + " zones; filter to narrow." : "";
  }

  function renderZoneTotals() {
    let records = 0;
    for (const z of zonesCache) records += z.records || 0;
    $("t-zones").textContent = zonesCache.length;
    $("t-records").textContent = records;
  }

  function renderEvents() {
    const list = $("events");
    const items = [];
    for (let i = events.length - 1; i >= 0; i--) {
      const e = events[i];
      const what = [e.node, e.zone].filter(Boolean).join(" · ");
      items.push(el("li", { data: { kind: e.kind } }, [
        el("span", { cls: "when", text: fmtTime(e.time) }),
        el("span", { cls: "kind kind-" + e.kind.replace(".", "-"), text: e.kind }),
        el("span", { text: what ? what + ": " : "" }),
        el("span", { cls: "muted", text: e.message }),
      ]));
    }
    if (items.length === 0) items.push(el("li", { cls: "muted", text: "No events yet." }));
    list.replaceChildren(...items);
  }

  async function renderRecords() {
    if (selectedZone === null) {
      $("zone-detail").hidden = true;
      return;
    }
    const zone = zonesCache.find((z) => z.id === selectedZone);
    if (!zone) {
      selectedZone = null;
      $("zone-detail").hidden = true;
      return;
    }
    const records = await api("/api/dns/" + encodeURIComponent(selectedZone) + "/records");
    $("zone-name").textContent = unicodeName(zone) === zone.domain ? zone.domain : unicodeName(zone) + " (" + zone.domain + ")";
    $("zone-meta").textContent = "serial " + zone.serial + " · version " + zone.version + " · DNSSEC " + dnssecState(zone);
    const rows = records.map((r) => el("tr", { data: { record: r.name + " " + r.type + " " + r.content } }, [
      nameCell(r.name, r.name_unicode),
      el("td", { text: r.type }),
      el("td", { cls: "num", text: r.ttl }),
      el("td", { cls: "wrap", text: (r.type === "MX" || r.type === "SRV" ? r.priority + " " : "") + r.content }),
    ]));
    $("records").tBodies[0].replaceChildren(...rows);
    $("zone-detail").hidden = false;
  }

  function selectZone(id) {
    selectedZone = id;
    renderZones();
    renderRecords()
      .then(() => $("zone-detail").scrollIntoView({ block: "nearest" }))
      .catch(showError);
  }

  // --- polling -----------------------------------------------------------------

  function showError(e) {
    if (e && e.status === 401) {
      sessionStorage.removeItem(TOKEN_KEY);
      showSignIn("The controller refused the token; sign in again.");
      return true;
    }
    $("banner").textContent = "Cannot refresh: " + (e && e.message ? e.message : e);
    $("banner").hidden = false;
    return false;
  }

  async function pollEvents() {
    const since = eventsBoot === null ? "limit=50" : "since=" + eventsLast;
    const j = await api("/api/dns/cluster/events?" + since);
    if (eventsBoot !== null && j.boot !== eventsBoot) {
      // The controller restarted: its ring starts again.
      events = [];
      eventsBoot = null;
      return pollEvents();
    }
    eventsBoot = j.boot;
    eventsLast = j.last;
    events = events.concat(j.events || []).slice(-EVENTS_KEPT);
    renderEvents();
  }

  let inflight = false;

  async function refresh() {
    stop();
    if (inflight) return;
    if (!token()) {
      showSignIn("");
      return;
    }
    inflight = true;
    try {
      const [status, zones] = await Promise.all([api("/api/dns/cluster/status"), api("/api/dns")]);
      renderNodes(status);
      zonesCache = zones.slice().sort((a, b) => a.domain.localeCompare(b.domain));
      renderZoneTotals();
      renderZones();
      await pollEvents();
      await renderRecords();
      $("banner").hidden = true;
      $("refreshed").textContent = "updated " + fmtTime(Date.now());
    } catch (e) {
      if (showError(e)) {
        inflight = false;
        return;
      }
    }
    inflight = false;
    stop();
    if (token()) timer = setTimeout(refresh, POLL_MS);
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("signin-form").addEventListener("submit", signIn);
    $("signout").addEventListener("click", signOut);
    $("zone-filter").addEventListener("input", renderZones);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && token()) refresh();
    });
    if (token()) showApp();
    else showSignIn("");
  });
})();
