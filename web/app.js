// yumna-dns dashboard: plain JavaScript over the controller's JSON API
// (docs/whm-api.md, nothing else). The token lives in sessionStorage (this
// tab only) and goes out as "Authorization: Bearer". Every POLL_MS the page
// reads two small answers whose size does not grow with the zone count: the
// cluster status (node health and lag) and the events after the last
// sequence it saw, with the controller's change counter. Only when that
// counter moved does it read again the page of zones on screen, the open
// zone and the totals; the server list only when nodes come or go. It never
// downloads the whole zone list. A request has a time limit; when no status
// came back for 2 x POLL_MS, the page says since when it shows old data and
// nothing stays green. Sign-out loads the page again, so nothing drawn for
// one token is left for the next. Everything from the API is put into the
// page as text (textContent), never as HTML.
"use strict";

(function () {
  const POLL_MS = 2000;
  const ZONES_PAGE = 100;
  const SEARCH_PAUSE_MS = 60;
  const EVENTS_KEPT = 100;
  const TOKEN_KEY = "yumna-token";
  const TTL_MAX = 2147483647; // the API's TTLs: 0 to 2^31-1 (RFC 2181 section 8)
  const READ_WAIT_MS = 10000; // a read not answered by then fails
  const WRITE_WAIT_MS = 60000; // a change: a large zone's commit takes a while
  const TRANSFER_WAIT_MS = 300000; // an import or an export of a large zone
  const STALE_MS = 2 * POLL_MS; // no refresh worked for this long: shown as old
  const RETRY_MS = 3000; // the first read at load failed: tried again after this
  const MESSAGE_KEY = "yumna-signin-message"; // shown after the reload that signs out

  const $ = (id) => document.getElementById(id);
  let timer = null;
  let admin = false;
  let view = "overview";
  let selectedZone = null; // zone id
  let zoneSub = "records";
  let events = [];
  let eventsBoot = null;
  let eventsLast = 0;
  let changesSeen = null; // the change counter the lists on screen reflect
  let serversStale = true; // read the server list on the next refresh
  let nodesSeen = null; // the node ids of the last status, to see them change
  let zonesPage = []; // the page on screen
  let pageAfter = [0]; // "after" of each page seen, for Previous
  let pageIndex = 0;
  let zoneShownVersion = null; // version of the selected zone last rendered
  let editing = null; // record id being edited
  let editingPolicy = null; // the routing_policy of the record being edited: saved with it
  let editingDisabled = false; // the record being edited is disabled: saved so
  let syncWatch = {}; // serverId -> true while a full sync is watched
  let auditNext = null;
  let dnssecWatch = false; // a rollover waits for the nodes: re-read its state
  let lastAnswer = 0; // when the status last came back (ms): the node states are from then
  let lastFull = 0; // when a whole refresh last worked (ms)
  let lastFailure = ""; // why the last refresh failed, "" after one that worked
  let stale = false; // shown as old: no status for longer than STALE_MS
  let watchdogTimer = null;

  function token() {
    return sessionStorage.getItem(TOKEN_KEY);
  }

  class HttpError extends Error {
    constructor(status, message, body) {
      super(message);
      this.status = status;
      this.body = body;
    }
  }

  function errorText(e) {
    return (e && e.status ? "HTTP " + e.status + ": " : "") + (e && e.message ? e.message : String(e));
  }

  // A request the controller does not answer ends after 'wait' ms (by
  // default READ_WAIT_MS for a read, WRITE_WAIT_MS for a change), so a hung
  // controller cannot hold the page: its refresh fails and says so. A
  // change that timed out may still have been made: the message says that.
  async function api(path, method, body, wait) {
    method = method || "GET";
    const ms = wait || (method === "GET" ? READ_WAIT_MS : WRITE_WAIT_MS);
    const opts = {
      method: method,
      headers: { Authorization: "Bearer " + token(), Accept: "application/json" },
      cache: "no-store",
      credentials: "omit",
      signal: AbortSignal.timeout(ms),
    };
    if (body !== undefined) {
      opts.headers["Content-Type"] = "application/json";
      opts.body = JSON.stringify(body);
    }
    let r, text;
    try {
      r = await fetch(path, opts);
      text = await r.text();
    } catch (e) {
      if (e && e.name === "TimeoutError") {
        throw new Error("the controller did not answer within " + ms / 1000 + " s" +
          (method === "GET" ? "" : "; the change may have been made all the same"));
      }
      throw e;
    }
    let parsed = null;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      parsed = null;
    }
    if (!r.ok) throw new HttpError(r.status, (parsed && parsed.error) || r.statusText, parsed);
    return parsed === null ? text : parsed;
  }

  function el(tag, opts, children) {
    const e = document.createElement(tag);
    if (opts) {
      if (opts.text !== undefined && opts.text !== null) e.textContent = String(opts.text);
      if (opts.cls) e.className = opts.cls;
      if (opts.title) e.title = opts.title;
      if (opts.id) e.id = opts.id;
      if (opts.type) e.type = opts.type;
      if (opts.label) e.setAttribute("aria-label", opts.label);
      if (opts.data) for (const k in opts.data) e.dataset[k] = opts.data[k];
      if (opts.onclick) e.addEventListener("click", opts.onclick);
    }
    for (const c of children || []) e.appendChild(c);
    return e;
  }

  function button(text, onclick, cls, label) {
    return el("button", { text: text, type: "button", cls: cls || "secondary", onclick: onclick, label: label });
  }

  // A DNS name that wraps only after a dot, never inside a label (not even
  // at a hyphen, as in "xn--"): each label is a nowrap span, with a <wbr>
  // between them.
  function dname(text, cls) {
    const s = el("span", { cls: (cls ? cls + " " : "") + "dname" });
    const parts = String(text).split(".");
    parts.forEach((p, i) => {
      s.appendChild(el("span", { cls: "lbl", text: p + (i < parts.length - 1 ? "." : "") }));
      if (i < parts.length - 1) s.appendChild(document.createElement("wbr"));
    });
    return s;
  }

  function fmtMs(ms) {
    if (typeof ms !== "number" || ms < 0) return "–";
    return ms < 10 ? ms.toFixed(1) + " ms" : Math.round(ms) + " ms";
  }

  function fmtTime(ms) {
    const d = new Date(ms);
    return d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function fmtDate(sec) {
    if (typeof sec !== "number") return "–";
    return new Date(sec * 1000).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
  }

  function dnssecState(z) {
    if (z.presigned === true) return "presigned by its primary";
    if (z.dnssec_enabled === true || z.dnssec === true) return "signed";
    return "unsigned";
  }

  function notice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  async function copyText(text, btn) {
    try {
      await navigator.clipboard.writeText(text);
    } catch (e) {
      const t = el("textarea", { text: text });
      document.body.appendChild(t);
      t.select();
      document.execCommand("copy");
      t.remove();
    }
    btn.textContent = "Copied";
    setTimeout(() => { btn.textContent = "Copy"; }, 1500);
  }

  // Show an API error beside the field it is about (by the words it
  // uses), or under the form when it names none.
  function fieldError(prefix, fields, e, fallback) {
    for (const f of fields) $(prefix + f + "-err").textContent = "";
    if (!e) return;
    const msg = e.message || String(e);
    const low = msg.toLowerCase();
    let target = fallback;
    for (const f of fields) {
      if (low.indexOf(f) >= 0) { target = f; break; }
    }
    $(prefix + target + "-err").textContent = msg;
  }

  // --- sign in and out -----------------------------------------------------

  // Shown by a page just loaded (with no token): the page is never reused
  // for another token, see dropSession().
  function showSignIn(message) {
    stop();
    $("app").hidden = true;
    $("nav").hidden = true;
    $("role").hidden = true;
    $("signout").hidden = true;
    $("signin").hidden = false;
    $("signin-error").textContent = message || "";
    $("refreshed").textContent = "";
    $("token").focus();
  }

  // The only way to know the role is to ask for something only admin
  // tokens may read: the token list (a read token gets 403).
  async function probeRole() {
    try {
      await api("/api/dns/tokens");
      return true;
    } catch (e) {
      if (e.status === 403) return false;
      throw e;
    }
  }

  // Sign-out, and a token the controller refused: everything the page drew
  // for that token (zones, records, a token just made and shown once, the
  // view chosen) goes with it. The page is loaded again rather than emptied
  // piece by piece, so nothing can be forgotten; the sign-in form's message
  // is carried over the reload in sessionStorage.
  function dropSession(message) {
    stop();
    clearInterval(watchdogTimer);
    clearTimeout(loadRetry);
    sessionStorage.removeItem(TOKEN_KEY);
    if (message) sessionStorage.setItem(MESSAGE_KEY, message);
    else sessionStorage.removeItem(MESSAGE_KEY);
    for (const id of ["app", "nav", "role", "signout", "load-error"]) $(id).hidden = true;
    location.reload();
  }

  let loadRetry = null;

  // The first read decides what the page shows. When it fails for another
  // reason than the token (the network, a 5xx), nothing is shown yet: the
  // error goes above the page, and the read is tried again until it works.
  async function showApp() {
    clearTimeout(loadRetry);
    loadRetry = null;
    try {
      admin = await probeRole();
    } catch (e) {
      if (e && e.status === 401) {
        showError(e);
        return;
      }
      $("load-error").textContent = "Cannot reach the controller (" + errorText(e) +
        "); trying again every " + RETRY_MS / 1000 + " s.";
      $("load-error").hidden = false;
      loadRetry = setTimeout(showApp, RETRY_MS);
      return;
    }
    $("load-error").hidden = true;
    document.body.classList.toggle("readonly", !admin);
    $("role").textContent = admin ? "admin" : "read only";
    $("role").hidden = false;
    $("signin").hidden = true;
    $("app").hidden = false;
    $("nav").hidden = false;
    $("signout").hidden = false;
    events = [];
    eventsBoot = null;
    eventsLast = 0;
    changesSeen = null;
    serversStale = true;
    lastAnswer = Date.now();
    lastFailure = "";
    clearInterval(watchdogTimer);
    watchdogTimer = setInterval(watchdog, 1000);
    showView(view);
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
    dropSession("");
  }

  function stop() {
    if (timer !== null) clearTimeout(timer);
    timer = null;
  }

  function showView(name) {
    if (name === "tokens" && !admin) name = "overview";
    if (name !== "tokens") {
      // a new token is shown once, while its view is open
      $("token-once").hidden = true;
      $("token-value").value = "";
    }
    view = name;
    for (const v of document.querySelectorAll(".view")) v.hidden = v.id !== "view-" + name;
    for (const b of document.querySelectorAll("#nav .tab")) {
      if (b.dataset.view === name) b.setAttribute("aria-current", "page");
      else b.removeAttribute("aria-current");
    }
    if (name === "audit") loadAudit(false).catch(showError);
    if (name === "tokens") loadTokens().catch(showError);
  }

  // --- nodes and servers -----------------------------------------------------

  // One row per node, kept from refresh to refresh and updated in place: a
  // refresh every POLL_MS must neither take the keyboard focus off a row's
  // button nor swallow a click that lands while it redraws the table.
  const nodeRows = new Map(); // nodeId + " " + hostname -> { tr, cells }

  function nodeRow(n) {
    const key = n.nodeId + " " + n.hostname;
    let row = nodeRows.get(key);
    if (row) return row;
    const cell = (label, cls) => {
      const td = el("td", { cls: cls });
      td.dataset.label = label;
      return td;
    };
    const cells = {
      node: cell("Node"), state: cell("State"), pdns: cell("PowerDNS"), response: cell("Response", "num"),
      inSync: cell("In sync", "num"), behind: cell("Behind", "num"), failing: cell("Failing", "num"),
      deleting: cell("Deleting", "num"), drift: cell("Drift", "num"), lag: cell("Lag", "num"),
      error: cell("Last error", "wrap"),
    };
    cells.node.append(el("strong", { text: n.hostname }), el("span", { cls: "muted ip" }));
    cells.state.append(el("span", { cls: "badge" }));
    const actions = cell("Actions", "write");
    actions.append(
      button("Full sync", () => fullSync(n.nodeId, n.hostname), "secondary", "Full sync of " + n.hostname),
      button("Remove", () => removeNode(n.nodeId, n.hostname), "danger", "Remove " + n.hostname + " from the cluster"));
    row = { tr: el("tr", { data: { node: n.hostname } }, [...Object.values(cells), actions]), cells: cells };
    nodeRows.set(key, row);
    return row;
  }

  // Written only when it changed: an unchanged text is left alone.
  function setText(e, value) {
    const text = value === undefined || value === null ? "" : String(value);
    if (e.textContent !== text) e.textContent = text;
  }

  function renderNodes(status) {
    const tbody = $("nodes").tBodies[0];
    const rows = [];
    const shown = new Set();
    let behind = 0;
    let failing = 0;
    for (const n of status.nodes || []) {
      const z = n.zones || {};
      behind += z.behind || 0;
      failing += z.failing || 0;
      const dns = n.dnsStatus || {};
      const row = nodeRow(n);
      const c = row.cells;
      row.tr.className = "state-" + n.status;
      row.tr.dataset.state = n.status;
      setText(c.node.lastChild, n.ip);
      setText(c.state.firstChild, n.status);
      setText(c.pdns, dns.version || "–");
      setText(c.response, n.status === "offline" ? "–" : fmtMs(n.responseTime));
      setText(c.inSync, z.in_sync);
      setText(c.behind, z.behind);
      setText(c.failing, z.failing);
      setText(c.deleting, z.deleting || 0);
      setText(c.drift, z.drift || 0);
      setText(c.lag, typeof n.lag_seconds === "number" ? n.lag_seconds + " s" : "–");
      setText(c.error, n.lastError || "");
      shown.add(n.nodeId + " " + n.hostname);
      rows.push(row.tr);
    }
    for (const key of [...nodeRows.keys()]) if (!shown.has(key)) nodeRows.delete(key);
    // Rows moved or changed only when the set or its order did: taking a
    // row out of the table, even to put it back, drops the focus in it.
    const kids = tbody.children;
    if (rows.length !== kids.length || rows.some((r, i) => kids[i] !== r)) tbody.replaceChildren(...rows);
    $("t-nodes").textContent = (status.onlineNodes || 0) + " / " + (status.totalNodes || 0);
    $("t-nodes").parentElement.classList.toggle("bad", (status.offlineNodes || 0) > 0);
    $("t-behind").textContent = behind;
    $("t-failing").textContent = failing;
    $("t-failing").parentElement.classList.toggle("bad", failing > 0);
  }

  // The catalog zone and the secondary zones, as the status reports them
  // (docs/whm-api.md): a catalog that is not "ok", or a secondary zone
  // retrying, expired, or not yet transferred with an error, is marked bad
  // and listed with its error. A zone only waiting for its first transfer
  // is listed, not marked bad.
  function renderZoneHealth(status) {
    const cat = status.catalog || null;
    const sec = status.secondaryZones || {};
    const n = (k) => (typeof sec[k] === "number" ? sec[k] : 0);
    const total = n("pending") + n("ok") + n("retrying") + n("expired");
    const attention = Array.isArray(sec.attention) ? sec.attention : [];

    const catTile = $("t-catalog").parentElement;
    catTile.hidden = !cat;
    if (cat) {
      $("t-catalog").textContent = cat.state;
      catTile.classList.toggle("bad", cat.state !== "ok");
      catTile.classList.toggle("ok", cat.state === "ok");
      $("catalog-status").textContent = "Catalog zone " + cat.zone + ": " + (cat.state === "ok"
        ? "up to date, " + (cat.members || 0) + " member zones."
        : cat.state + (cat.since ? " since " + fmtDate(cat.since) : "") +
          (cat.lastError ? ": " + cat.lastError : "") + ". The catalog's secondaries see the members of its last good pass.");
      $("catalog-status").className = cat.state === "ok" ? "ok" : "error";
    }
    $("catalog-status").hidden = !cat;

    const secBad = n("retrying") > 0 || n("expired") > 0 ||
      attention.some((a) => a.state !== "pending" || a.last_error);
    const secTile = $("t-secondary").parentElement;
    secTile.hidden = total === 0;
    $("t-secondary").textContent = n("ok") + " / " + total;
    secTile.classList.toggle("bad", secBad);
    const counts = ["ok", "pending", "retrying", "expired"].filter((k) => n(k) > 0).map((k) => n(k) + " " + k);
    $("secondary-status").textContent = total === 0 ? "" : "Secondary zones: " + counts.join(", ") + "." +
      (attention.length < total - n("ok") ? " The first " + attention.length + " are listed." : "");
    $("secondary-status").className = secBad ? "error" : "";
    $("secondary-status").hidden = total === 0;
    $("secondary-attention").replaceChildren(...attention.map((a) => el("li", {
      cls: a.state === "pending" && !a.last_error ? "" : "error", data: { zone: a.zone, state: a.state },
    }, [dname(a.zone), el("span", { text: " " + a.state + (a.last_error ? ": " + a.last_error : "") })])));
    $("zone-health").hidden = !cat && total === 0;
  }

  function renderServers(servers) {
    const rows = servers.map((s) => el("tr", { data: { server: s.name } }, [
      el("td", {}, [dname(s.name)]),
      el("td", { cls: "wrap", text: s.ip + ":" + s.agent_port }),
      el("td", { text: s.in_cluster ? "yes" : "no" }),
      el("td", { cls: "write" }, s.in_cluster ? [] : [
        button("Join", () => joinNode(s.id, s.name), "secondary", "Join " + s.name),
      ]),
    ]));
    $("servers").tBodies[0].replaceChildren(...rows);
  }

  async function removeNode(id, name) {
    if (!confirm("Remove node " + name + " from the cluster? It stops receiving changes.")) return;
    try {
      await api("/api/dns/cluster/nodes/" + id, "DELETE");
      notice("Node " + name + " left the cluster.");
      serversStale = true;
    } catch (e) {
      showError(e);
    }
    refresh();
  }

  async function joinNode(id, name) {
    try {
      await api("/api/dns/cluster/nodes/" + id, "POST");
      notice("Server " + name + " joined the cluster; it receives every zone.");
      serversStale = true;
    } catch (e) {
      showError(e);
    }
    refresh();
  }

  async function fullSync(id, name) {
    try {
      await api("/api/dns/cluster/sync-all/" + id, "POST");
      syncWatch[id] = name;
    } catch (e) {
      showError(e);
    }
    refresh();
  }

  async function pollSyncs() {
    const parts = [];
    for (const id in syncWatch) {
      let p;
      try {
        p = await api("/api/dns/cluster/sync-all/" + id);
      } catch (e) {
        // 404: the server was removed; 409: it left the cluster. Either
        // way there is nothing more to follow.
        if (!(e instanceof HttpError) || (e.status !== 404 && e.status !== 409)) throw e;
        parts.push("Full sync of " + syncWatch[id] + " stopped: " + e.message);
        delete syncWatch[id];
        continue;
      }
      parts.push("Full sync of " + syncWatch[id] + ": " + p.inSync + " / " + p.totalZones + " zones in sync" +
        (p.failing ? ", " + p.failing + " failing" : "") + (p.done ? " — done" : "") +
        (p.lastError ? " (" + p.lastError + ")" : ""));
      if (p.done) delete syncWatch[id];
    }
    if (parts.length) $("sync-progress").textContent = parts.join("; ");
  }

  async function addServer(ev) {
    ev.preventDefault();
    const fields = ["name", "ip", "port", "secret"];
    fieldError("srv-", fields, null);
    $("srv-error").textContent = "";
    const body = {
      name: $("srv-name").value.trim(),
      ip: $("srv-ip").value.trim(),
      agent_port: Number($("srv-port").value),
      agent_secret: $("srv-secret").value,
    };
    try {
      const s = await api("/api/dns/servers", "POST", body);
      serversStale = true;
      if ($("srv-join").checked) await api("/api/dns/cluster/nodes/" + s.id, "POST");
      $("server-form").reset();
      notice("Server " + s.name + " added" + ($("srv-join").checked ? " and joined." : "."));
    } catch (e) {
      // The controller names the field first ("body.agent_secret: ...");
      // the words of the message are the fallback.
      const named = { "body.name": "name", "body.ip": "ip", "body.agent_port": "port", "body.agent_secret": "secret" };
      const field = Object.keys(named).find((k) => (e.message || "").startsWith(k + ":"));
      const low = (e.message || "").toLowerCase();
      if (field) $("srv-" + named[field] + "-err").textContent = e.message;
      else if (low.indexOf("port") >= 0) $("srv-port-err").textContent = e.message;
      else if (low.indexOf("secret") >= 0) $("srv-secret-err").textContent = e.message;
      else if (low.indexOf("ip") >= 0 || low.indexOf("address") >= 0) $("srv-ip-err").textContent = e.message;
      else if (low.indexOf("name") >= 0) $("srv-name-err").textContent = e.message;
      else $("srv-error").textContent = e.message;
    }
    refresh();
  }

  // --- zones -----------------------------------------------------------------

  function unicodeName(z) {
    return typeof z.domain_unicode === "string" ? z.domain_unicode : z.domain;
  }

  // A name cell: the U-labels first when they differ, the A-labels (what
  // DNS serves) beside them in grey.
  function nameCell(ascii, unicode) {
    if (!unicode || unicode === ascii) return el("td", {}, [dname(ascii)]);
    return el("td", { title: ascii }, [dname(unicode), document.createTextNode(" "), dname(ascii, "muted idn")]);
  }

  let zonesShown = null; // what the zone table shows, to skip same renders

  // Re-rendered only when the page, the filter or the selection changed: a
  // refresh then neither moves the keyboard focus nor replaces the rows.
  function renderZones() {
    const filter = serverSearch() ? "" : $("zone-filter").value.trim().toLowerCase();
    const sig = JSON.stringify([zonesPage, filter, selectedZone, pageIndex]);
    if (sig === zonesShown) return;
    zonesShown = sig;
    const shown = [];
    for (const z of zonesPage) {
      if (filter && z.domain.toLowerCase().indexOf(filter) < 0 &&
          unicodeName(z).toLowerCase().indexOf(filter) < 0) continue;
      const state = dnssecState(z);
      const first = nameCell(z.domain, unicodeName(z));
      // The name is a real button, so the keyboard can open the zone.
      const open = el("button", { type: "button", cls: "link", label: "Open zone " + unicodeName(z) });
      open.append(...first.childNodes);
      first.replaceChildren(open);
      const tr = el("tr", { cls: "clickable" + (z.id === selectedZone ? " selected" : ""), data: { zone: z.domain, zoneId: String(z.id) } }, [
        first,
        el("td", { cls: "num", text: z.serial }),
        el("td", { cls: "num", text: z.records }),
        el("td", { cls: state === "unsigned" ? "dnssec-unsigned" : "dnssec-signed", text: state }),
      ]);
      tr.addEventListener("click", () => selectZone(z.id));
      shown.push(tr);
    }
    // Keep the keyboard focus on the zone it was on.
    const a = document.activeElement;
    const focused = a && $("zones").contains(a) ? a.closest("tr").dataset.zoneId : null;
    $("zones").tBodies[0].replaceChildren(...shown);
    if (focused !== null) {
      const b = $("zones").querySelector('tr[data-zone-id="' + focused + '"] button.link');
      if (b) b.focus();
    }
    const from = pageIndex * ZONES_PAGE + 1;
    $("zones-more").textContent = zonesPage.length ? "zones " + from + "–" + (from + zonesPage.length - 1) : "no zones";
    $("zones-prev").disabled = pageIndex === 0;
    $("zones-next").disabled = zonesPage.length < ZONES_PAGE;
  }

  // The search the controller runs: the start of a zone name in ASCII
  // (GET /api/dns?q=). A name typed with U-labels filters the page shown.
  function serverSearch() {
    const f = $("zone-filter").value.trim().toLowerCase();
    return /^[!-}]+$/.test(f) ? f : "";
  }

  let searchTimer = null;
  let pageAsked = 0; // the newest page request: older answers are dropped
  let pageQuery = ""; // the search the page on screen answers

  // A short pause lets a typed word go out as one request; the answer of
  // an older request that comes back late is not shown.
  function searchChanged() {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      pageIndex = 0;
      pageAfter = [0];
      loadZonesPage().catch(showError);
    }, SEARCH_PAUSE_MS);
  }

  async function loadZonesPage() {
    const after = pageAfter[pageIndex];
    const q = serverSearch();
    const asked = ++pageAsked;
    const page = await api("/api/dns?limit=" + ZONES_PAGE + "&after=" + after +
      (q ? "&q=" + encodeURIComponent(q) : ""));
    if (asked !== pageAsked) return;
    zonesPage = page;
    pageQuery = q;
    if (zonesPage.length === 0 && pageIndex > 0) {
      pageIndex--;
      return loadZonesPage();
    }
    pageAfter[pageIndex + 1] = zonesPage.length ? zonesPage[zonesPage.length - 1].id : after;
    renderZones();
  }

  async function createZone(ev) {
    ev.preventDefault();
    $("new-zone-err").textContent = "";
    const domain = $("new-zone").value.trim();
    try {
      const r = await api("/api/dns", "POST", { domain: domain });
      $("new-zone").value = "";
      notice("Zone " + domain + " created.");
      selectedZone = r.zoneId;
      await loadZonesPage();
      await selectZone(r.zoneId);
    } catch (e) {
      $("new-zone-err").textContent = e.message;
    }
  }

  async function deleteZone() {
    const z = await api("/api/dns/" + selectedZone);
    if (!confirm("Delete zone " + z.domain + " and every record in it? Every node stops serving it.")) return;
    try {
      await api("/api/dns/" + selectedZone, "DELETE");
      notice("Zone " + z.domain + " deleted.");
      selectedZone = null;
      $("zone-detail").hidden = true;
      await loadZonesPage();
    } catch (e) {
      showError(e);
    }
  }

  async function selectZone(id) {
    if (selectedZone !== id) {
      zoneShownVersion = null;
      $("records-error").textContent = "";
      cancelEdit();
    }
    selectedZone = id;
    renderZones();
    try {
      await renderZone(true);
      $("zone-detail").scrollIntoView({ block: "nearest" });
    } catch (e) {
      showError(e);
    }
  }

  function showSub(name) {
    zoneSub = name;
    for (const s of document.querySelectorAll(".sub")) s.hidden = s.id !== "sub-" + name;
    for (const b of document.querySelectorAll(".subtab")) b.setAttribute("aria-pressed", String(b.dataset.sub === name));
    zoneShownVersion = null;
    renderZone(true).catch(showError);
  }

  // A read of the selected zone's 'path' (after /api/dns/<id>), or null
  // when another zone was opened while it was on its way: a late answer
  // about the zone left must not be drawn over the one open now.
  async function zoneRead(path, wait) {
    const id = selectedZone;
    const r = await api("/api/dns/" + id + path, "GET", undefined, wait);
    return selectedZone === id ? r : null;
  }

  // The selected zone: its header every time, the open sub-view only when
  // the zone's version moved (or 'force').
  async function renderZone(force) {
    if (selectedZone === null) {
      $("zone-detail").hidden = true;
      return;
    }
    const id = selectedZone;
    let zone;
    try {
      zone = await zoneRead("");
    } catch (e) {
      if (e.status === 404 && selectedZone === id) {
        selectedZone = null;
        $("zone-detail").hidden = true;
        return;
      }
      throw e;
    }
    if (zone === null) return;
    $("zone-name").textContent = unicodeName(zone) === zone.domain ? zone.domain : unicodeName(zone) + " (" + zone.domain + ")";
    const sec = zone.secondary;
    $("zone-meta").textContent = "serial " + zone.serial + " · version " + zone.version + " · DNSSEC " + dnssecState(zone) +
      (sec ? " · secondary of " + sec.primaries.join(", ") + " (" + sec.state + (sec.last_error ? ": " + sec.last_error : "") + ")" : "");
    $("zone-detail").hidden = false;
    if (!force && zoneShownVersion === zone.version) return;
    zoneShownVersion = zone.version;
    const exp = await zoneRead("/export", TRANSFER_WAIT_MS);
    if (exp === null) return;
    const soa = String(exp).split("\n").find((l) => /\sSOA\s/.test(l));
    $("zone-soa").textContent = soa ? "SOA " + soa.replace(/\s+/g, " ").replace(/^.*?SOA /, "") : "";
    if (zoneSub === "records") await renderRecords(zone.version);
    else if (zoneSub === "dnssec") await renderDnssec();
    else if (zoneSub === "history") await renderHistory();
    else if (zoneSub === "policies") await renderPolicies();
  }

  // --- records ---------------------------------------------------------------

  function rrsetKey(r) {
    return r.name + " " + r.type;
  }

  // The records of the zone, read at 'version' or later (an action that
  // sends 'version' as ifVersion then gets a 409 if it was later).
  async function renderRecords(version) {
    const records = await zoneRead("/records", TRANSFER_WAIT_MS);
    if (records === null) return;
    const sets = new Map();
    for (const r of records) {
      const k = rrsetKey(r);
      if (!sets.has(k)) sets.set(k, []);
      sets.get(k).push(r);
    }
    const bodies = [];
    for (const [k, rs] of sets) {
      const tb = el("tbody", { cls: "rrset", data: { rrset: k } });
      rs.forEach((r, i) => {
        const content = (r.type === "MX" || r.type === "SRV" ? r.priority + " " : "") + r.content;
        const cells = [];
        if (i === 0) {
          const n = nameCell(r.name, r.name_unicode);
          const t = el("td", { text: r.type });
          const ttl = el("td", { cls: "num" }, [el("span", { text: rs[0].ttl })]);
          if (admin) ttl.appendChild(button("TTL", () => editTtl(rs, records, version), "secondary small write", "Change the TTL of " + k));
          for (const c of [n, t, ttl]) {
            c.rowSpan = rs.length;
            cells.push(c);
          }
        }
        // A disabled record (PowerDNS's API keeps them) is listed, not served.
        const shown = el("td", { cls: "wrap mono", text: content });
        if (r.disabled) shown.append(" ", el("span", { cls: "badge off", text: "disabled" }));
        cells.push(shown);
        cells.push(el("td", { cls: "write" }, [
          button("Edit", () => startEdit(r), "secondary small", "Edit " + k + " " + content),
          button("Delete", () => deleteRecord(r, content), "danger small", "Delete " + k + " " + content),
        ]));
        tb.appendChild(el("tr", { data: { record: r.name + " " + r.type + " " + r.content, recordId: String(r.id) } }, cells));
      });
      bodies.push(tb);
    }
    const table = $("records");
    for (const tb of Array.from(table.tBodies)) tb.remove();
    table.append(...bodies);
  }

  // One TTL per RRset ('rs', from the listing 'list' the table was drawn
  // from at zone version 'version'): only that RRset changes, in one
  // version, and only if the zone is still at 'version' (ifVersion). A
  // zone changed meanwhile (409) changes nothing: the page says so and
  // reads the zone again. PATCH .../rrsets writes the RRset it names
  // without routing policies, so an RRset whose records carry one goes
  // back through the replace route instead: the listing as it was read,
  // every record's routing_policy with it, only this RRset's TTL changed.
  async function editTtl(rs, list, version) {
    const key = rrsetKey(rs[0]);
    $("records-error").textContent = "";
    const v = prompt("New TTL of " + key + " (seconds, 0 to " + TTL_MAX + ")", String(rs[0].ttl));
    if (v === null) return;
    const t = v.trim();
    if (!/^[0-9]+$/.test(t) || Number(t) > TTL_MAX) {
      $("records-error").textContent = "TTL of " + key + ": a whole number of seconds from 0 to " + TTL_MAX +
        ", not \"" + v + "\"; nothing was changed.";
      return;
    }
    const ttl = Number(t);
    try {
      if (rs.some((r) => r.routing_policy)) {
        const all = list.map((r) => (rrsetKey(r) === key ? Object.assign({}, r, { ttl: ttl }) : r));
        await api("/api/dns/" + selectedZone + "/records", "PUT", { records: all, ifVersion: version },
          TRANSFER_WAIT_MS);
      } else {
        const recs = rs.map((r) => {
          const o = { content: r.content, disabled: r.disabled === true };
          if (r.type === "MX" || r.type === "SRV") o.priority = r.priority;
          return o;
        });
        await api("/api/dns/" + selectedZone + "/rrsets", "PATCH", {
          rrsets: [{ name: rs[0].name, type: rs[0].type, ttl: ttl, changetype: "REPLACE", records: recs }],
          ifVersion: version,
        });
      }
      notice("TTL of " + key + " is now " + ttl + ".");
    } catch (e) {
      if (e.status === 401) return showError(e);
      $("records-error").textContent = e.status === 409
        ? "The zone changed since this page read it, so the TTL of " + key + " was not changed (" + e.message +
          "). The records shown are the zone as it is now; change the TTL again if it is still needed."
        : "TTL of " + key + ": " + e.message;
    }
    await renderZone(true);
  }

  function startEdit(r) {
    editing = r.id;
    editingDisabled = r.disabled === true;
    editingPolicy = r.routing_policy || null;
    $("rec-name").value = r.name;
    $("rec-type").value = r.type;
    $("rec-ttl").value = r.ttl;
    $("rec-priority").value = r.type === "MX" || r.type === "SRV" ? r.priority : "";
    $("rec-content").value = r.content;
    $("record-form-title").textContent = "Edit " + r.name + " " + r.type;
    $("rec-save").textContent = "Save record";
    $("rec-cancel").hidden = false;
    $("rec-content").focus();
  }

  function cancelEdit() {
    editing = null;
    editingPolicy = null;
    $("record-form").reset();
    $("record-form-title").textContent = "Add a record";
    $("rec-save").textContent = "Add record";
    $("rec-cancel").hidden = true;
    fieldError("rec-", ["name", "type", "ttl", "priority", "content"], null);
  }

  async function saveRecord(ev) {
    ev.preventDefault();
    const fields = ["name", "type", "ttl", "priority", "content"];
    fieldError("rec-", fields, null);
    const body = {
      type: $("rec-type").value,
      name: $("rec-name").value.trim(),
      content: $("rec-content").value.trim(),
    };
    if ($("rec-ttl").value !== "") body.ttl = Number($("rec-ttl").value);
    if ($("rec-priority").value !== "") body.priority = Number($("rec-priority").value);
    if (editing !== null && editingDisabled) body.disabled = true; // an edit keeps it disabled
    // and its routing policy (its RRset's others carry one of the same type)
    if (editing !== null && editingPolicy) body.routing_policy = editingPolicy;
    try {
      if (editing !== null) await api("/api/dns/records/" + editing, "PUT", body);
      else await api("/api/dns/" + selectedZone + "/records", "POST", body);
      notice((editing !== null ? "Record saved: " : "Record added: ") + body.name + " " + body.type + " " + body.content);
      cancelEdit();
      await renderZone(true);
    } catch (e) {
      fieldError("rec-", fields, e, "content");
    }
  }

  async function deleteRecord(r, content) {
    if (!confirm("Delete " + r.name + " " + r.type + " " + content + "?")) return;
    try {
      await api("/api/dns/records/" + r.id, "DELETE");
    } catch (e) {
      showError(e);
    }
    await renderZone(true);
  }

  // --- DNSSEC ----------------------------------------------------------------

  // --- routing policies -------------------------------------------------------

  function targetList(ts) {
    return (ts || []).join(", ");
  }

  function checkSummary(c) {
    if (!c) return "";
    let t = c.tcp_port !== undefined ? "TCP port " + c.tcp_port : "URL " + c.url;
    if (c.interval) t += " every " + c.interval + " s";
    return "checked by " + t;
  }

  // A policy in words: its kind, its targets and how they are checked.
  function policySummary(p) {
    if (!p || !p.type) return "";
    const parts = [];
    if (p.type === "weighted") {
      parts.push((p.sticky ? "weighted, sticky: " : "weighted: ") +
        (p.targets || []).map((t) => t.target + " ×" + t.weight).join(", "));
    } else if (p.type === "failover") {
      parts.push("failover (" + (p.order || "equal") + "): " + targetList(p.targets));
      parts.push(checkSummary(p.check));
      parts.push(p.when_all_down === "backup" ? "all down: " + p.backup : "all down: every target");
    } else if (p.type === "geo") {
      parts.push("geo: " + (p.regions || []).map((r) => (r.country || r.continent) + " → " + targetList(r.targets)).join("; ") +
        "; elsewhere → " + targetList(p.default));
      if (p.check) parts.push(checkSummary(p.check));
    } else if (p.type === "closest") {
      parts.push("closest: " + targetList(p.targets));
    } else {
      parts.push(p.type);
    }
    if (p.ttl !== undefined) parts.push("TTL " + p.ttl);
    return parts.join(" · ");
  }

  // Per node, what its PowerDNS considers up: one line per node, a badge
  // per target. A node that did not answer is "unknown" with its reason.
  function healthCell(rr) {
    const td = el("td", { cls: "health" });
    if (!rr || !rr.checked) {
      td.appendChild(el("span", { cls: "muted", text: rr ? "no health check" : "…" }));
      return td;
    }
    for (const node of Object.keys(rr.health || {}).sort()) {
      const v = rr.health[node];
      const line = el("div", { cls: "health-node", data: { node: node, state: v.state } }, [el("span", { cls: "node", text: node + ": " })]);
      for (const t of rr.targets) {
        const st = (v.targets && v.targets[t]) || "unknown";
        line.appendChild(el("span", { cls: "target h-" + st, text: t + " " + st, data: { target: t, state: st } }));
      }
      if (v.error) line.title = v.error;
      if (v.error) line.appendChild(el("span", { cls: "muted small", text: " (" + v.error + ")" }));
      td.appendChild(line);
    }
    if (Object.keys(rr.health || {}).length === 0) td.appendChild(el("span", { cls: "muted", text: "no node answered" }));
    return td;
  }

  let policies = [];

  async function renderPolicies() {
    const read = await zoneRead("/policies");
    if (read === null) return;
    policies = read;
    const rows = policies.map((p) => {
      const k = p.name + " " + p.type;
      const actions = p.per_record ? [el("span", { cls: "muted small", text: "per record (record routes)" })] : [
        button("Edit", () => editPolicy(p), "secondary small", "Edit the policy of " + k),
        button("Delete", () => deletePolicy(p), "danger small", "Delete the policy of " + k),
      ];
      return el("tr", { data: { policy: k } }, [
        el("td", {}, [dname(p.name)]),
        el("td", { text: p.type }),
        el("td", { cls: "wrap", text: policySummary(p.policy) }),
        healthCell(null),
        el("td", { cls: "write" }, actions),
      ]);
    });
    $("policies").tBodies[0].replaceChildren(...rows);
    $("policies-empty").hidden = rows.length > 0;
    if (rows.length > 0) await renderPolicyHealth();
  }

  async function renderPolicyHealth() {
    const h = await zoneRead("/policies/health");
    if (h === null) return;
    for (const rr of h.rrsets || []) {
      const row = document.querySelector('#policies tr[data-policy="' + CSS.escape(rr.name + " " + rr.type) + '"]');
      if (row) row.cells[3].replaceWith(healthCell(rr));
    }
    const unknown = (h.nodes || []).filter((n) => !n.reachable).map((n) => n.name + ": " + n.error);
    $("policies-nodes").textContent = unknown.length ? "Not read from " + unknown.join("; ") : "";
  }

  function editPolicy(p) {
    $("pol-name").value = p.name;
    $("pol-type").value = p.type;
    $("pol-json").value = JSON.stringify(p.policy, null, 2);
    fieldError("pol-", ["json", "name", "type"], null, "json");
    $("pol-json").focus();
  }

  async function putPolicy(name, type, policy) {
    await api("/api/dns/" + selectedZone + "/policies", "PUT", { name: name, type: type, policy: policy });
    zoneShownVersion = null;
    await renderZone(true);
  }

  async function deletePolicy(p) {
    if (!confirm("Remove the routing policy of " + p.name + " " + p.type + "? Its name stops answering on every node.")) return;
    await putPolicy(p.name, p.type, null);
  }

  // The API's messages name "policy" (the JSON), "name" or "type": each
  // shows beside its field.
  async function savePolicy(ev) {
    ev.preventDefault();
    fieldError("pol-", ["json", "name", "type"], null, "json");
    let policy;
    try {
      policy = JSON.parse($("pol-json").value);
    } catch (e) {
      $("pol-json-err").textContent = "policy: not JSON: " + e.message;
      return;
    }
    try {
      await putPolicy($("pol-name").value.trim(), $("pol-type").value, policy);
    } catch (e) {
      const msg = e.message || String(e);
      const low = msg.toLowerCase();
      const f = low.indexOf("policy") >= 0 ? "json" : low.indexOf("type") >= 0 ? "type" : low.indexOf("name") >= 0 ? "name" : "json";
      $("pol-" + f + "-err").textContent = msg;
      return;
    }
    notice("Routing policy of " + $("pol-name").value.trim() + " " + $("pol-type").value + " set.");
  }

  function keyList(id, items) {
    $(id).replaceChildren(...items.map((t) => {
      const b = button("Copy", null, "secondary small", "Copy " + t);
      b.addEventListener("click", () => copyText(t, b));
      return el("li", {}, [el("code", { cls: "wrap", text: t }), b]);
    }));
  }

  async function renderDnssec() {
    const s = await zoneRead("/dnssec");
    if (s === null) return;
    $("dnssec-error").textContent = "";
    $("dnssec-sign").hidden = s.enabled || !admin;
    $("dnssec-signed").hidden = !s.enabled;
    // The nodes' acknowledgements commit nothing, so the change counter
    // does not move for them: while a rollover waits for the nodes, its
    // state is read again at every refresh.
    dnssecWatch = !!(s.enabled && s.rollover && s.rollover.waiting_for === "nodes");
    if (!s.enabled) {
      $("dnssec-summary").textContent = "The zone is not signed.";
      return;
    }
    $("dnssec-summary").textContent = "Signed with " + s.algorithmName + " (" + s.scheme + ", " + s.denial + ")" +
      (s.signedAt ? " since " + fmtDate(s.signedAt) : "") + ". " + (s.instructions || "");
    keyList("dnssec-ds", s.ds || []);
    keyList("dnssec-dnskey", s.dnskey || []);
    const ro = s.rollover || {};
    let text = "State: " + (ro.state || "idle");
    if (ro.kind) text += " · " + ro.kind + " rollover, step " + ro.step;
    if (ro.next_step) text += " · next: " + ro.next_step;
    if (ro.not_before) text += " · not before " + fmtDate(ro.not_before);
    if (ro.waiting_for) text += " · waiting for " + ro.waiting_for;
    if (ro.message) text += " · " + ro.message;
    $("dnssec-rollover").textContent = text;
    $("roll-ds").hidden = ro.waiting_for !== "ds";
    const idle = !ro.state || ro.state === "idle";
    $("roll-zsk").hidden = !idle || s.scheme !== "ksk-zsk";
    $("roll-ksk").hidden = !idle || s.scheme !== "ksk-zsk";
    $("roll-csk").hidden = !idle || s.scheme !== "csk";
  }

  async function dnssecAction(fn) {
    $("dnssec-error").textContent = "";
    try {
      await fn();
    } catch (e) {
      $("dnssec-error").textContent = e.message;
      return;
    }
    await renderZone(true);
  }

  function signZone(ev) {
    ev.preventDefault();
    const body = { algorithm: Number($("dnssec-alg").value), scheme: $("dnssec-scheme").value };
    if ($("dnssec-nsec3").checked) body.nsec3 = true;
    return dnssecAction(() => api("/api/dns/" + selectedZone + "/dnssec", "POST", body));
  }

  async function unsignZone() {
    if (!confirm("Unsign this zone? Remove the DS at the registrar first, or validating resolvers will reject every answer.")) return;
    $("dnssec-error").textContent = "";
    try {
      await api("/api/dns/" + selectedZone + "/dnssec", "DELETE");
    } catch (e) {
      if (e.status !== 409) {
        $("dnssec-error").textContent = e.message;
        return;
      }
      if (!confirm(e.message + "\n\nUnsign anyway (the DS is gone from the parent and its TTL has passed)?")) {
        $("dnssec-error").textContent = e.message;
        return;
      }
      return dnssecAction(() => api("/api/dns/" + selectedZone + "/dnssec?force=1", "DELETE"));
    }
    await renderZone(true);
  }

  function roll(body) {
    return dnssecAction(() => api("/api/dns/" + selectedZone + "/dnssec/rollover", "POST", body));
  }

  // --- history ---------------------------------------------------------------

  async function renderHistory() {
    const h = await zoneRead("/versions?limit=100");
    if (h === null) return;
    $("history-error").textContent = "";
    const rows = h.versions.map((v) => el("tr", { data: { version: String(v.version) } }, [
      el("td", { cls: "num", text: v.version + (v.version === h.current ? " (current)" : "") }),
      el("td", { text: v.time || fmtDate(v.timestamp) }),
      el("td", { cls: "wrap", text: v.actor }),
      el("td", { text: v.action }),
      el("td", { cls: "wrap", text: v.summary }),
      el("td", { cls: "num", text: v.records }),
      el("td", {}, [
        button("Diff", () => showDiff(v.version, null), "secondary small", "Diff version " + v.version + " with the current one"),
        v.version === h.current || v.deleted ? el("span") :
          button("Roll back", () => rollback(v.version), "danger small write", "Roll back to version " + v.version),
      ]),
    ]));
    $("versions").tBodies[0].replaceChildren(...rows);
  }

  function diffRRsets(title, list, cls) {
    if (!list.length) return [];
    return [el("h4", { text: title + " (" + list.length + ")" }), el("ul", { cls: cls }, list.map((s) => {
      const fmt = (rs) => rs.map((r) => r.ttl + " " + (r.priority ? r.priority + " " : "") + r.content +
        (r.disabled ? " (disabled)" : "")).join(", ");
      const text = s.before ? fmt(s.before) + " → " + fmt(s.after) : fmt(s.records);
      return el("li", {}, [el("strong", { text: s.name + " " + s.type + " " }), el("span", { cls: "mono wrap", text: text })]);
    }))];
  }

  async function showDiff(from, to) {
    $("history-error").textContent = "";
    try {
      const d = await api("/api/dns/" + selectedZone + "/diff?from=" + from + (to ? "&to=" + to : ""),
        "GET", undefined, TRANSFER_WAIT_MS);
      const parts = [el("p", { text: "From version " + d.from + " to " + d.to + ": " + d.counts.added + " added, " +
        d.counts.removed + " removed, " + d.counts.changed + " changed." })];
      parts.push(...diffRRsets("Added", d.added, "added"));
      parts.push(...diffRRsets("Removed", d.removed, "removed"));
      parts.push(...diffRRsets("Changed", d.changed, "changed"));
      $("diff").replaceChildren(...parts);
    } catch (e) {
      $("history-error").textContent = e.message;
    }
  }

  async function rollback(v) {
    if (!confirm("Roll the zone back to version " + v + "? Its records become a new version, pushed to every node.")) return;
    try {
      const r = await api("/api/dns/" + selectedZone + "/rollback", "POST", { version: v }, TRANSFER_WAIT_MS);
      notice(r.changed ? "Rolled back to version " + v + " (now version " + r.version + ")." : r.message);
    } catch (e) {
      $("history-error").textContent = e.message;
    }
    await renderZone(true);
  }

  // --- import and export -----------------------------------------------------

  async function exportZone() {
    const text = await api("/api/dns/" + selectedZone + "/export", "GET", undefined, TRANSFER_WAIT_MS);
    $("export-text").value = String(text);
    $("export-text").hidden = false;
    const a = $("export-download");
    if (a.href) URL.revokeObjectURL(a.href);
    a.href = URL.createObjectURL(new Blob([String(text)], { type: "text/plain" }));
    a.download = $("zone-name").textContent.split(" ")[0] + "zone";
    a.hidden = false;
  }

  async function importZone(ev) {
    ev.preventDefault();
    $("import-errors").replaceChildren();
    const body = { content: $("import-text").value, format: $("import-format").value, mode: $("import-mode").value };
    try {
      const r = await api("/api/dns/" + selectedZone + "/import", "POST", body, TRANSFER_WAIT_MS);
      notice("Imported " + r.imported + " records (" + r.mode + ").");
      $("import-text").value = "";
      await renderZone(true);
    } catch (e) {
      const items = [el("li", { text: e.message })];
      for (const x of (e.body && e.body.errors) || []) {
        items.push(el("li", { text: (x.line ? "line " + x.line + ": " : x.path ? x.path + ": " : "") + x.message }));
      }
      $("import-errors").replaceChildren(...items);
    }
  }

  // --- audit log and tokens ----------------------------------------------------

  async function loadAudit(more) {
    const q = new URLSearchParams();
    for (const f of ["zone", "actor", "action", "since", "until"]) {
      const v = $("audit-" + f).value.trim();
      if (v) q.set(f, v);
    }
    q.set("limit", "100");
    if (more && auditNext !== null) q.set("before", auditNext);
    $("audit-error").textContent = "";
    let j;
    try {
      j = await api("/api/dns/audit?" + q.toString());
    } catch (e) {
      $("audit-error").textContent = e.message;
      return;
    }
    auditNext = j.next;
    const rows = j.entries.map((a) => el("tr", { data: { action: a.action } }, [
      el("td", { text: a.time || fmtDate(a.timestamp) }),
      el("td", { cls: "wrap", text: a.actor }),
      el("td", { text: a.action }),
      el("td", {}, a.zone ? [dname(a.zone)] : []),
      el("td", { cls: "num", text: a.version === null || a.version === undefined ? "" : a.version }),
      el("td", { cls: "wrap", text: a.summary }),
    ]));
    const tbody = $("audit").tBodies[0];
    if (more) tbody.append(...rows);
    else tbody.replaceChildren(...rows);
    $("audit-more").hidden = auditNext === null || auditNext === undefined;
  }

  async function loadTokens() {
    if (!admin) {
      $("tokens").tBodies[0].replaceChildren();
      return;
    }
    const list = await api("/api/dns/tokens");
    $("tokens").tBodies[0].replaceChildren(...list.map((t) => el("tr", { data: { token: t.name } }, [
      el("td", { cls: "num", text: t.id }),
      el("td", { cls: "wrap", text: t.name }),
      el("td", { text: t.role }),
      el("td", { text: typeof t.created_at === "number" ? fmtDate(t.created_at) : t.created_at }),
      el("td", { text: t.revoked ? "revoked" : "active" }),
      el("td", {}, t.revoked ? [] : [button("Revoke", () => revokeToken(t), "danger small", "Revoke token " + t.name)]),
    ])));
  }

  async function createToken(ev) {
    ev.preventDefault();
    $("tok-name-err").textContent = "";
    try {
      const t = await api("/api/dns/tokens", "POST", { name: $("tok-name").value.trim(), role: $("tok-role").value });
      $("token-value").value = t.token;
      $("token-once").hidden = false;
      $("token-form").reset();
      $("token-value").focus();
      $("token-value").select();
    } catch (e) {
      $("tok-name-err").textContent = e.message;
    }
    await loadTokens();
  }

  async function revokeToken(t) {
    if (!confirm("Revoke token " + t.name + "? It stops working at once.")) return;
    try {
      await api("/api/dns/tokens/" + t.id, "DELETE");
    } catch (e) {
      showError(e);
    }
    await loadTokens();
  }

  // --- polling -----------------------------------------------------------------

  function showError(e) {
    if (e && e.status === 401) {
      dropSession("The controller refused the token; sign in again.");
      return true;
    }
    $("banner").textContent = (e && e.status ? "" : "Cannot reach the controller: ") + (e && e.message ? e.message : e);
    $("banner").hidden = false;
    return false;
  }

  // A refresh that failed, whatever the cause (no answer, a 5xx, a timeout):
  // what the page shows is older than it looks, and the banner says since when.
  function refreshFailed(e) {
    if (e && e.status === 401) return showError(e);
    lastFailure = errorText(e);
    $("banner").textContent = "Cannot refresh (" + lastFailure + "); what is shown is from " +
      fmtTime(lastFull || lastAnswer) + ".";
    $("banner").hidden = false;
    watchdog();
    return false;
  }

  // Every second: a status older than STALE_MS (the controller hung, the
  // network is down, each refresh fails) is shown as old. No node, tile or
  // health badge stays green: the node rows say "unknown", the style greys
  // the rest, until a status comes back.
  // The status came back in the refresh that is still out, and its other
  // reads (a large zone's records or export) are what it waits for: the
  // controller answers, and only a wait past SLOW_MS is shown as old.
  const SLOW_MS = 30000;
  function watchdog() {
    if ($("app").hidden || !lastAnswer) return;
    const limit = inflight && lastAnswer >= refreshStarted ? SLOW_MS : STALE_MS;
    if (Date.now() - lastAnswer <= limit) return;
    if (!stale) {
      stale = true;
      document.body.classList.add("stale");
      for (const tr of $("nodes").tBodies[0].rows) {
        const was = tr.dataset.state;
        tr.className = "state-unknown";
        tr.dataset.state = "unknown";
        const badge = tr.querySelector(".badge");
        if (badge) {
          badge.textContent = "unknown";
          badge.title = was + " at " + fmtTime(lastAnswer) + ", the last answer";
        }
      }
    }
    $("banner").textContent = "The controller has not answered since " + fmtTime(lastAnswer) +
      "; what is shown is from then." + (lastFailure ? " Last error: " + lastFailure + "." : "");
    $("banner").hidden = false;
    $("refreshed").textContent = "updated " + fmtTime(lastFull || lastAnswer) + " (old)";
  }

  function fresh() {
    lastAnswer = Date.now();
    if (!stale) return;
    stale = false;
    document.body.classList.remove("stale");
  }

  function renderEvents() {
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
    $("events").replaceChildren(...items);
  }

  // The events after the last one seen, and the controller's change
  // counter: its value, or null when it cannot be trusted (a controller
  // restarted, or one without the counter), so the lists are read again.
  async function pollEvents() {
    const since = eventsBoot === null ? "limit=50" : "since=" + eventsLast;
    const j = await api("/api/dns/cluster/events?" + since);
    if (eventsBoot !== null && j.boot !== eventsBoot) {
      // The controller restarted: its ring and its counter start again.
      events = [];
      eventsBoot = null;
      changesSeen = null;
      serversStale = true;
      return pollEvents();
    }
    const fresh = eventsBoot === null || (j.events || []).length > 0;
    eventsBoot = j.boot;
    eventsLast = j.last;
    if ((j.events || []).length) {
      events = events.concat(j.events).slice(-EVENTS_KEPT);
      if (j.events.some((e) => e.kind.startsWith("node."))) serversStale = true;
    }
    if (fresh) renderEvents();
    return typeof j.changes === "number" ? j.boot + ":" + j.changes : null;
  }

  // The page of zones and the open zone, then the totals: the statistics
  // count every record and ask every agent (150 ms at 100,000 zones), and
  // the page on screen should not wait behind them.
  async function loadLists() {
    await Promise.all([loadZonesPage(), renderZone(false)]);
    const stats = await api("/api/dns/cluster/statistics");
    $("t-zones").textContent = stats.totalZones;
    $("t-records").textContent = stats.totalRecords;
  }

  let inflight = false;
  let refreshStarted = 0; // when the refresh that is out began (ms)

  async function refresh() {
    stop();
    if (inflight) return;
    if (!token()) {
      dropSession("");
      return;
    }
    inflight = true;
    refreshStarted = Date.now();
    try {
      const [status, changes] = await Promise.all([api("/api/dns/cluster/status"), pollEvents()]);
      fresh();
      renderNodes(status);
      renderZoneHealth(status);
      const ids = (status.nodes || []).map((n) => n.nodeId).join(",");
      if (ids !== nodesSeen) serversStale = true;
      nodesSeen = ids;
      const reads = [pollSyncs()];
      if (serversStale) {
        serversStale = false;
        reads.push(api("/api/dns/servers").then(renderServers, (e) => {
          serversStale = true;
          throw e;
        }));
      }
      if (changes === null || changes !== changesSeen) {
        reads.push(loadLists().then(() => { changesSeen = changes; }));
      } else if (serverSearch() !== pageQuery) {
        pageIndex = 0;
        pageAfter = [0];
        reads.push(loadZonesPage());
      }
      if (dnssecWatch && zoneSub === "dnssec" && selectedZone !== null) reads.push(renderDnssec());
      // target health moves without a commit: read again while shown
      if (zoneSub === "policies" && selectedZone !== null && policies.length > 0) reads.push(renderPolicyHealth());
      await Promise.all(reads);
      lastFull = Date.now();
      lastFailure = "";
      $("banner").hidden = true;
      $("refreshed").textContent = "updated " + fmtTime(lastFull);
    } catch (e) {
      if (refreshFailed(e)) {
        inflight = false;
        return;
      }
    }
    inflight = false;
    stop();
    if (token()) timer = setTimeout(refresh, POLL_MS);
  }

  function on(id, ev, fn) {
    $(id).addEventListener(ev, (e) => {
      const r = fn(e);
      if (r && r.catch) r.catch(showError);
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    on("signin-form", "submit", signIn);
    on("signout", "click", signOut);
    // "change" too: a field emptied by a script or an autofill fires no
    // "input", and the refresh no longer reads the page when nothing moved.
    for (const ev of ["input", "change"]) on("zone-filter", ev, () => { renderZones(); searchChanged(); });
    for (const b of document.querySelectorAll("#nav .tab")) b.addEventListener("click", () => showView(b.dataset.view));
    for (const b of document.querySelectorAll(".subtab")) b.addEventListener("click", () => showSub(b.dataset.sub));
    on("zones-prev", "click", () => { pageIndex = Math.max(0, pageIndex - 1); return loadZonesPage(); });
    on("zones-next", "click", () => { pageIndex++; return loadZonesPage(); });
    on("zone-create", "submit", createZone);
    on("zone-delete", "click", deleteZone);
    on("record-form", "submit", saveRecord);
    on("policy-form", "submit", savePolicy);
    on("rec-cancel", "click", cancelEdit);
    on("dnssec-sign", "submit", signZone);
    on("dnssec-unsign", "click", unsignZone);
    on("roll-ds", "click", () => roll({ ds_published: true }));
    on("roll-zsk", "click", () => roll({ keytype: "zsk" }));
    on("roll-ksk", "click", () => roll({ keytype: "ksk" }));
    on("roll-csk", "click", () => roll({ keytype: "csk" }));
    on("diff-form", "submit", (e) => { e.preventDefault(); return showDiff($("diff-from").value, $("diff-to").value); });
    on("export-button", "click", exportZone);
    on("import-form", "submit", importZone);
    on("audit-form", "submit", (e) => { e.preventDefault(); return loadAudit(false); });
    on("audit-more", "click", () => loadAudit(true));
    on("token-form", "submit", createToken);
    on("token-copy", "click", () => copyText($("token-value").value, $("token-copy")));
    on("server-form", "submit", addServer);
    document.addEventListener("visibilitychange", () => {
      if (!document.hidden && token()) refresh();
    });
    const message = sessionStorage.getItem(MESSAGE_KEY);
    sessionStorage.removeItem(MESSAGE_KEY);
    if (token()) showApp();
    else showSignIn(message || "");
  });
})();
