/* trainpod dashboard: polls the admin JSON endpoints and draws them (Chart.js, served locally). */
"use strict";

const POLL_MS = 3000;
const charts = {};
const COLORS = [
  "#2563eb",
  "#16a34a",
  "#dc2626",
  "#f59e0b",
  "#7c3aed",
  "#0891b2",
  "#db2777",
  "#65a30d",
  "#9ca3af",
  "#ea580c",
];
const STATUS_COLORS = {
  QUEUED: "#9ca3af",
  PROVISIONING: "#f59e0b",
  RUNNING: "#2563eb",
  SUCCEEDED: "#16a34a",
  FAILED: "#dc2626",
  CANCELLED: "#6b7280",
};

// the login's session cookie (HttpOnly, SameSite=Strict) goes with every same-origin request
async function getJson(url, init) {
  const res = await fetch(url, { credentials: "same-origin", headers: { accept: "application/json" }, ...init });
  // the session is over (idle, expired, logged out elsewhere, key revoked): back to the login page
  if (res.status === 401) window.location.assign("/admin/login?next=%2Fdashboard%2F");
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error((body.error && body.error.message) || `${url}: HTTP ${res.status}`);
  return body;
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(c == null ? "—" : String(c)));
  return node;
}

const usd = (v) => (v == null ? "—" : `$${Number(v).toFixed(4)}`);
const secs = (v) => (v == null ? "—" : `${v.toFixed(1)} s`);
const when = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
const shortId = (id) => el("code", { title: id }, id.slice(0, 8));
const UNIT_SCALE = { bytes: [1e9, "GB"] };
/** The pod's current phase and how far it is: "model_download 3.2/16.0 GB", "tokenize 40,000/200,000 rows". */
function phaseText(p) {
  if (!p || !p.name) return "—";
  if (p.done == null) return p.name;
  const [scale, unit] = UNIT_SCALE[p.unit] || [1, p.unit || ""];
  const n = (v) => (scale === 1 ? Number(v).toLocaleString("en-US") : (Number(v) / scale).toFixed(1));
  return `${p.name} ${n(p.done)}${p.total != null ? `/${n(p.total)}` : ""} ${unit}`.trim();
}

function drawChart(id, type, labels, datasets, options) {
  const existing = charts[id];
  if (existing) {
    existing.data.labels = labels;
    existing.data.datasets = datasets;
    existing.update("none");
    return;
  }
  charts[id] = new Chart(document.getElementById(id), {
    type,
    data: { labels, datasets },
    options: {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      plugins: { legend: { display: type === "doughnut" || datasets.length > 1 } },
      ...options,
    },
  });
}

function renderCards(s) {
  const cards = [
    ["Deployments", s.deployments.total],
    ["Success rate", s.deployments.successRate == null ? "—" : `${(s.deployments.successRate * 100).toFixed(1)} %`],
    ["Failed", s.deployments.byStatus.FAILED || 0],
    ["Wasted on failures", usd(s.failedCost.totalUsd)],
    ["Failed run cost p50 / p95", `${usd(s.failedCost.p50Usd)} / ${usd(s.failedCost.p95Usd)}`],
    ["Setup p50 (→ running)", secs(s.setupSeconds.createdToRunning.p50)],
    ["Setup p95 (→ training)", secs(s.setupSeconds.createdToTrainingStarted.p95)],
  ];
  document
    .getElementById("cards")
    .replaceChildren(...cards.map(([k, v]) => el("div", { class: "card" }, k, el("b", {}, v))));
}

function renderCharts(s) {
  const statuses = Object.keys(s.deployments.byStatus);
  drawChart("chart-status", "doughnut", statuses, [
    { data: statuses.map((k) => s.deployments.byStatus[k]), backgroundColor: statuses.map((k) => STATUS_COLORS[k]) },
  ]);
  drawChart(
    "chart-reasons",
    "bar",
    s.failureReasons.map((r) => r.reason),
    [{ label: "failures", data: s.failureReasons.map((r) => r.count), backgroundColor: COLORS[2] }],
    { indexAxis: "y" },
  );
  drawChart(
    "chart-waste",
    "bar",
    s.failedCost.byPeriod.map((p) => p.period.slice(0, 10)),
    [{ label: "USD", data: s.failedCost.byPeriod.map((p) => Number(p.totalUsd)), backgroundColor: COLORS[3] }],
  );
  const pct = ["p50", "p90", "p95", "p99"];
  drawChart("chart-setup", "bar", pct, [
    {
      label: "created → running",
      data: pct.map((p) => s.setupSeconds.createdToRunning[p]),
      backgroundColor: COLORS[0],
    },
    {
      label: "created → training",
      data: pct.map((p) => s.setupSeconds.createdToTrainingStarted[p]),
      backgroundColor: COLORS[4],
    },
  ]);
  drawChart(
    "chart-runtime",
    "bar",
    s.runtimeByStatus.map((r) => r.status),
    [
      {
        label: "seconds",
        data: s.runtimeByStatus.map((r) => r.avgSeconds),
        backgroundColor: s.runtimeByStatus.map((r) => STATUS_COLORS[r.status]),
      },
    ],
  );
}

function kvRows(id, pairs) {
  document
    .querySelector(`#${id} tbody`)
    .replaceChildren(...pairs.map(([k, v]) => el("tr", {}, el("th", {}, k), el("td", {}, v))));
}

// an operator (read-only) sees the lists without the Retry and Cancel buttons
let canAct = false;

function actionButton(label, cls, url, d) {
  if (!canAct) return "—";
  return el(
    "button",
    {
      class: cls,
      "data-action": label.toLowerCase(),
      "data-id": d.id,
      onclick: async (ev) => {
        ev.target.disabled = true;
        try {
          await getJson(url, { method: "POST" });
        } catch (err) {
          showError(err);
        }
        await refresh();
      },
    },
    label,
  );
}

function renderTables(failed, live, recent) {
  document
    .querySelector("#failed tbody")
    .replaceChildren(
      ...failed.map((d) =>
        el(
          "tr",
          { "data-id": d.id },
          el("td", {}, shortId(d.id)),
          el("td", {}, d.failureReason),
          el("td", {}, usd(d.costUsd)),
          el("td", {}, d.exitCode),
          el("td", { class: "log" }, d.lastLogLines.join("\n") || "—"),
          el("td", {}, when(d.timestamps.finishedAt)),
          el("td", {}, actionButton("Retry", "retry", `/v1/admin/deployments/${d.id}/retry`, d)),
          el("td", {}, artifactsLink(d)),
        ),
      ),
    );
  document
    .querySelector("#live tbody")
    .replaceChildren(
      ...live.map((d) =>
        el(
          "tr",
          { "data-id": d.id },
          el("td", {}, shortId(d.id)),
          el("td", { class: `status-${d.status}` }, d.status),
          el("td", { class: "phase" }, phaseText(d.phase)),
          el("td", {}, d.pod.gpuTypeId),
          el("td", {}, usd(d.costUsd)),
          el("td", {}, when(d.timestamps.createdAt)),
          el("td", {}, actionButton("Cancel", "cancel", `/v1/admin/deployments/${d.id}/cancel`, d)),
        ),
      ),
    );
  document
    .querySelector("#recent tbody")
    .replaceChildren(
      ...recent.map((d) =>
        el(
          "tr",
          { "data-id": d.id, "data-retry-of": d.retryOfId || "" },
          el("td", {}, shortId(d.id)),
          el("td", { class: `status-${d.status}` }, d.status),
          el("td", {}, d.retryOfId ? shortId(d.retryOfId) : "—"),
          el("td", {}, usd(d.costUsd)),
          el("td", {}, when(d.timestamps.createdAt)),
          el("td", {}, artifactsLink(d)),
        ),
      ),
    );
}

/** The deployment's artifact list (JSON, the admin route: admins and operators read any deployment's files). */
function artifactsLink(d) {
  return el(
    "a",
    { href: `/v1/admin/deployments/${d.id}/artifacts`, class: "artifacts", target: "_blank", rel: "noopener" },
    "files",
  );
}

/** What needs an operator now: RunPod refusing for money, RunPod's bill disagreeing with ours. */
function renderAlerts(s) {
  const alerts = [];
  const balance = s.failureReasons.find((r) => r.reason === "INSUFFICIENT_BALANCE");
  if (balance && balance.count > 0) {
    alerts.push(
      el(
        "p",
        { class: "alert alert-balance" },
        `RunPod account balance too low: ${balance.count} deployment(s) failed with INSUFFICIENT_BALANCE (RunPod answered 402). No run can start until the account is topped up.`,
      ),
    );
  }
  if (s.runpodBilling.overThreshold > 0) {
    alerts.push(
      el(
        "p",
        { class: "alert alert-billing" },
        `RunPod's bill differs from trainpod's cost on ${s.runpodBilling.overThreshold} deployment(s) (difference in this window: ${usd(s.runpodBilling.differenceUsd)}).`,
      ),
    );
  }
  document.getElementById("alerts").replaceChildren(...alerts);
}

function showError(err) {
  const p = document.getElementById("error");
  p.textContent = err ? String(err.message || err) : "";
  p.hidden = !err;
}

/** Spend against limit per user: the share of the budget spent (live deployments at their worst case beside it). */
function renderSpend(users) {
  const limit = (n) => (n === 0 ? "∞" : String(n));
  document.querySelector("#spend tbody").replaceChildren(
    ...users.map((u) => {
      const budget = Number(u.limits.monthlyBudgetUsd);
      const share = budget > 0 ? Number(u.spentUsd) / budget : null;
      return el(
        "tr",
        { "data-user": u.email, class: share !== null && share >= 1 ? "over-budget" : "" },
        el("td", {}, u.email),
        el("td", {}, usd(u.spentUsd)),
        el("td", {}, usd(u.liveRemainingUsd)),
        el("td", {}, budget > 0 ? usd(u.limits.monthlyBudgetUsd) : "none"),
        el("td", {}, share === null ? "—" : `${Math.round(share * 100)} %`),
        el("td", {}, u.limits.onExceed),
        el("td", {}, `${u.liveDeployments}/${limit(u.limits.maxLiveDeployments)}`),
        el("td", {}, `${u.gpusInUse}/${limit(u.limits.maxGpus)}`),
        el("td", {}, u.waiting),
      );
    }),
  );
}

async function refresh() {
  const days = Number(document.getElementById("window").value);
  const groupBy = document.getElementById("groupBy").value;
  const to = new Date(Date.now() + 60_000);
  const from = new Date(to.getTime() - days * 86_400_000);
  try {
    const [stats, failed, live, recent, spend] = await Promise.all([
      getJson(`/v1/stats?from=${from.toISOString()}&to=${to.toISOString()}&groupBy=${groupBy}`),
      getJson("/v1/admin/deployments?status=FAILED&limit=25"),
      getJson("/v1/admin/deployments?status=LIVE&limit=25"),
      getJson("/v1/admin/deployments?limit=15"),
      getJson("/v1/admin/spend"),
    ]);
    canAct = failed.viewer.canAct;
    document.body.dataset.role = failed.viewer.role;
    renderCards(stats);
    renderCharts(stats);
    renderTables(failed.items, live.items, recent.items);
    renderSpend(spend.items);
    kvRows("retries", Object.entries(stats.retries));
    kvRows("tokens", Object.entries(stats.tokens));
    const b = stats.runpodBilling;
    kvRows("billing", [
      ["deployments whose bill was read", b.deploymentsRead],
      ["trainpod's cost", usd(b.ourCostUsd)],
      ["RunPod billed", usd(b.runpodBilledUsd)],
      ["difference", usd(b.differenceUsd)],
      ["over the threshold", b.overThreshold],
      ["not read yet (billing lags)", b.notReadYet],
    ]);
    renderAlerts(stats);
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
    document.body.dataset.loaded = "true";
    showError(null);
  } catch (err) {
    showError(err);
  }
}

document.getElementById("window").addEventListener("change", refresh);
document.getElementById("groupBy").addEventListener("change", refresh);
refresh();
setInterval(refresh, POLL_MS);
