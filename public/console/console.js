// The operator console: polls Sluice's console API (/console/api) and renders orgs, configs, live sends per
// second against each deployed config's limit (uPlot), queues and recent failures. Every tenant-supplied string
// goes through textContent, never innerHTML.
"use strict";

const API = "/console/api";
const ORGS_EVERY_MS = 5000;
const LIVE_EVERY_MS = 1000;
const CHART_HEIGHT = 180;

/** `replayed`: call id → what its replay answered, kept across refreshes of the failures table. */
const state = { orgs: [], orgId: undefined, charts: new Map(), replayed: new Map() };

/** An element with attributes (`text` sets its text) and children. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null) continue;
    if (name === "text") node.textContent = String(value);
    else if (name === "onclick") node.addEventListener("click", value);
    else node.setAttribute(name, String(value));
  }
  node.append(...children);
  return node;
}

async function api(path, init) {
  const response = await fetch(API + path, { credentials: "same-origin", ...init });
  const body = await response.json();
  if (!response.ok) throw new Error(body.message ?? `HTTP ${response.status}`);
  return body;
}

function showStatus(text, isError = false) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = isError ? "error" : "";
}

const ageText = (ms) => (ms < 1000 ? `${ms} ms` : ms < 120_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`);
const timeText = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "");
const badge = (text) => el("span", { class: `state ${text}`, text });
const selectedOrg = () => state.orgs.find((org) => org.id === state.orgId);
/** Configs with a runtime version: the ones whose sends can be charted. */
const liveConfigs = (org) => (org ? org.configs.filter((config) => config.runtime) : []);

async function refreshOrgs() {
  const { orgs } = await api("/orgs");
  state.orgs = orgs;
  if (!selectedOrg()) state.orgId = (orgs.find((org) => org.configs.length > 0) ?? orgs[0])?.id;
  renderOrgList();
  renderOrg();
  showStatus(`updated ${new Date().toLocaleTimeString()}`);
}

function renderOrgList() {
  const list = document.getElementById("orgs");
  list.replaceChildren(
    ...state.orgs.map((org) =>
      el(
        "li",
        {},
        el(
          "button",
          { "aria-current": String(org.id === state.orgId), "data-org": org.id, onclick: () => selectOrg(org.id) },
          el("strong", { text: org.name }),
          el("small", { text: `${org.id} · plan ${org.plan} · ${org.configs.length} config(s)` }),
        ),
      ),
    ),
  );
}

function selectOrg(orgId) {
  state.orgId = orgId;
  renderOrgList();
  renderOrg();
  void refreshFailures();
}

function renderOrg() {
  const org = selectedOrg();
  document.getElementById("org").hidden = !org;
  if (!org) return;
  document.getElementById("org-title").textContent = `${org.name} (${org.id})`;
  const rows = org.configs.map((config) =>
    el(
      "tr",
      { "data-config": config.uid },
      el("td", { text: config.name ?? config.uid }),
      el("td", { text: config.sandboxName }),
      el("td", {}, badge(config.state)),
      el("td", {}, el("code", { text: config.urlPattern })),
      el("td", { text: config.methods.join(", ") }),
      el("td", { text: config.maxThroughput }),
      el("td", {}, config.runtime ? badge(`v${config.runtime.version} ${config.runtime.status}`) : "not deployed"),
    ),
  );
  const empty = el("tr", {}, el("td", { colspan: 7, class: "empty", text: "no throttling config" }));
  document.querySelector("#configs tbody").replaceChildren(...(rows.length ? rows : [empty]));
  renderLiveCards(org);
}

/** One card per config with a runtime version; cards of other configs (or orgs) are removed with their charts. */
function renderLiveCards(org) {
  const container = document.getElementById("live");
  const wanted = new Set(liveConfigs(org).map((config) => config.uid));
  for (const [uid, chart] of state.charts) {
    if (wanted.has(uid)) continue;
    chart.plot.destroy();
    chart.card.remove();
    state.charts.delete(uid);
  }
  for (const config of liveConfigs(org)) {
    if (state.charts.has(config.uid)) continue;
    const figure = (name, label) => el("div", {}, el("span", { text: label }), el("span", { "data-field": name, text: "…" }));
    const plotHolder = el("div", { class: "chart" });
    const card = el(
      "article",
      { class: "card", "data-live": config.uid },
      el("h4", { text: `${config.name ?? config.uid}: sends per second, last 5 minutes` }),
      el(
        "div",
        { class: "figures" },
        figure("queued", "Queued"),
        figure("oldest", "Oldest queued"),
        figure("inFlight", "In flight"),
        figure("paused", "Paused until"),
        figure("status", "Runtime"),
      ),
      plotHolder,
    );
    container.append(card);
    const plot = new uPlot(
      {
        width: Math.max(480, card.clientWidth - 24),
        height: CHART_HEIGHT,
        scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max) * 1.1] } },
        series: [
          {},
          { label: "sent/s", stroke: "#2f7d4a", fill: "rgba(47,125,74,0.12)", width: 1.5 },
          { label: "limit/s", stroke: "#c0392b", dash: [6, 4], width: 1.5 },
        ],
      },
      [[], [], []],
      plotHolder,
    );
    state.charts.set(config.uid, { card, plot, plotHolder });
  }
}

async function refreshLive() {
  await Promise.all([...state.charts.keys()].map(async (uid) => {
    const live = await api(`/configs/${encodeURIComponent(uid)}/live`);
    const chart = state.charts.get(uid);
    if (!chart) return;
    const first = live.endSecond - live.sentPerSecond.length;
    const seconds = live.sentPerSecond.map((_, i) => first + i);
    chart.plot.setData([seconds, live.sentPerSecond, live.sentPerSecond.map(() => live.limitPerSecond)]);
    chart.plotHolder.dataset.sentTotal = String(live.sentPerSecond.reduce((sum, n) => sum + n, 0));
    const set = (name, text) => (chart.card.querySelector(`[data-field="${name}"]`).textContent = text);
    set("queued", live.queued);
    set("oldest", live.queued ? ageText(live.oldestQueuedAgeMs) : "—");
    set("inFlight", live.inFlight);
    set("paused", live.pausedUntil ? timeText(live.pausedUntil) : "not paused");
    set("status", `v${live.version} ${live.status}${live.drainUntil ? ` until ${timeText(live.drainUntil)}` : ""}`);
  }));
}

async function refreshFailures() {
  const orgId = state.orgId;
  if (!orgId) return;
  const { calls } = await api(`/orgs/${encodeURIComponent(orgId)}/failures`);
  if (orgId !== state.orgId) return;
  const rows = calls.map((call) => {
    const message = el("span", { text: state.replayed.get(call.callId) ?? "" });
    const replay = el("button", {
      text: "Replay",
      "data-replay": call.callId,
      disabled: state.replayed.has(call.callId) ? "" : undefined,
      onclick: async () => {
        replay.disabled = true;
        try {
          const accepted = await api(`/orgs/${encodeURIComponent(orgId)}/calls/${encodeURIComponent(call.callId)}/replay`, { method: "POST" });
          state.replayed.set(call.callId, ` replayed as ${accepted.callId}`);
        } catch (error) {
          replay.disabled = false;
          message.textContent = ` ${error.message}`;
          return;
        }
        message.textContent = state.replayed.get(call.callId);
      },
    });
    const outcome = el("td", {}, replay, message);
    return el(
      "tr",
      { "data-call": call.callId },
      el("td", { text: timeText(call.completedAt ?? call.acceptedAt) }),
      el("td", {}, badge(call.state)),
      el("td", {}, el("code", { text: `${call.method} ${call.target}` })),
      el("td", { text: call.status ?? "" }),
      el("td", { text: call.error ?? "" }),
      el("td", { text: call.attempts }),
      outcome,
    );
  });
  const empty = el("tr", {}, el("td", { colspan: 7, class: "empty", text: "none in the last calls" }));
  document.querySelector("#failures tbody").replaceChildren(...(rows.length ? rows : [empty]));
}

/** Runs `task` now and every `ms`, reporting failures in the header instead of stopping. */
function every(ms, task) {
  const run = () => task().catch((error) => showStatus(`could not refresh: ${error.message}`, true));
  void run();
  setInterval(run, ms);
}

every(ORGS_EVERY_MS, async () => {
  await refreshOrgs();
  await refreshFailures();
});
every(LIVE_EVERY_MS, refreshLive);
