/* A run's page: the loss chart (stored history, then the live tail), the live panel and cost, cancel, retry, resume.
 * Live over the timeline's server-sent events (GET /v1/deployments/:id/events/stream, with the login's session). */
"use strict";

const data = JSON.parse(document.getElementById("run-data").textContent);
const train = new Map();
const evals = new Map();
const margins = new Map(); // DPO's reward margin (chosen minus rejected), on its own axis
const rates = new Map(); // the learning rate the trainer logged each step (the schedule as it ran), on its own axis
const rateOf = (p) => p.learningRate ?? p.learning_rate; // stored rows say learningRate, live frames the pod's name
for (const p of data.points) {
  if (p.loss != null) train.set(p.step, p.loss);
  if (p.evalLoss != null) evals.set(p.step, p.evalLoss);
  if (p.rewardMargin != null) margins.set(p.step, p.rewardMargin);
  if (rateOf(p) != null) rates.set(p.step, rateOf(p));
}

const series = (m) => [...m.entries()].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y }));
const chart = new Chart(document.getElementById("loss-chart"), {
  type: "line",
  data: {
    datasets: [
      {
        label: "train loss",
        data: series(train),
        borderColor: "#2563eb",
        backgroundColor: "#2563eb",
        pointRadius: 0,
        borderWidth: 2,
        tension: 0.2,
      },
      {
        label: "eval loss",
        data: series(evals),
        borderColor: "#f59e0b",
        backgroundColor: "#f59e0b",
        pointRadius: 3,
        borderWidth: 2,
      },
      {
        label: "reward margin (DPO)",
        data: series(margins),
        yAxisID: "margin",
        borderColor: "#16a34a",
        backgroundColor: "#16a34a",
        pointRadius: 0,
        borderWidth: 2,
        hidden: margins.size === 0,
      },
      {
        label: "learning rate",
        data: series(rates),
        yAxisID: "lr",
        borderColor: "#9ca3af",
        backgroundColor: "#9ca3af",
        borderDash: [4, 3],
        pointRadius: 0,
        borderWidth: 1,
        hidden: rates.size === 0,
      },
    ],
  },
  options: {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    interaction: { mode: "nearest", axis: "x", intersect: false },
    scales: {
      x: { type: "linear", title: { display: true, text: "step" }, min: 0, suggestedMax: data.totalSteps || undefined },
      y: { title: { display: true, text: "loss" } },
      margin: { position: "right", display: "auto", title: { display: true, text: "reward margin" } },
      lr: { position: "right", display: "auto", title: { display: true, text: "learning rate" } },
    },
  },
});

let drawQueued = false;
function redraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => {
    drawQueued = false;
    chart.data.datasets[0].data = series(train);
    chart.data.datasets[1].data = series(evals);
    chart.data.datasets[2].data = series(margins);
    chart.data.datasets[2].hidden = margins.size === 0;
    chart.data.datasets[3].data = series(rates);
    chart.data.datasets[3].hidden = rates.size === 0;
    chart.update("none");
    const last = chart.data.datasets[0].data.at(-1);
    document.getElementById("chart-note").textContent = last
      ? `step ${last.x}${data.totalSteps ? ` of ${data.totalSteps}` : ""}: loss ${last.y}${evals.size ? ` · last eval loss ${series(evals).at(-1).y}` : ""}${margins.size ? ` · reward margin ${series(margins).at(-1).y}` : ""}`
      : "No step reported yet.";
  });
}
redraw();

// the panel (status, cost, phases, files, buttons) is the server's HTML: fetched again as the timeline moves
let panelAt = performance.now();
let refreshTimer = null;
async function refreshPanel() {
  refreshTimer = null;
  const res = await fetch(`/runs/${data.id}/panel`, { credentials: "same-origin", headers: { accept: "text/html" } });
  if (res.status === 401) return window.location.assign(`/login?next=${encodeURIComponent(`/runs/${data.id}`)}`);
  if (!res.ok) return;
  const html = await res.text();
  const old = document.getElementById("panel");
  old.insertAdjacentHTML("afterend", html);
  old.remove();
  panelAt = performance.now();
  const status = document.getElementById("panel").dataset.status;
  document.getElementById("title-status").innerHTML = `<span class="status status-${status}">${status}</span>`;
}
function schedulePanel(delayMs = 700) {
  if (refreshTimer === null) refreshTimer = setTimeout(refreshPanel, delayMs);
}

// cost ticks between refreshes at the pod's price, against maxCostUsd
function tick() {
  const box = document.getElementById("cost");
  if (!box || box.dataset.ticking !== "true") return;
  const base = Number(box.dataset.costUsd);
  const rate = Number(box.dataset.rateUsdPerHr);
  const max = Number(box.dataset.maxUsd);
  const now = base + (rate * (performance.now() - panelAt)) / 3_600_000;
  document.getElementById("cost-now").textContent = `$${now >= 1 ? now.toFixed(2) : now.toFixed(4)}`;
  const bar = box.querySelector(".meter span");
  if (bar && max > 0) bar.style.width = `${Math.min(100, (100 * now) / max).toFixed(1)}%`;
}
setInterval(tick, 1000);

function onEvent(e) {
  if (e.type === "progress" && e.data && typeof e.data.step === "number") {
    if (e.data.loss != null) train.set(e.data.step, e.data.loss);
    if (e.data.evalLoss != null) evals.set(e.data.step, e.data.evalLoss);
    if (e.data.rewardMargin != null) margins.set(e.data.step, e.data.rewardMargin);
    if (rateOf(e.data) != null) rates.set(e.data.step, rateOf(e.data));
    if (e.data.totalSteps) data.totalSteps = e.data.totalSteps;
    redraw();
    return;
  }
  schedulePanel();
}

function follow() {
  const stream = new EventSource(`/v1/deployments/${data.id}/events/stream?lastEventId=${data.lastEventId}`);
  stream.onmessage = (m) => onEvent(JSON.parse(m.data));
  // every step, also those whose rows are not kept: the curve's live tail
  stream.addEventListener("live", (m) => {
    const live = JSON.parse(m.data);
    const p = live.progress || {};
    if (typeof p.step === "number" && p.loss != null) {
      train.set(p.step, Number(p.loss));
      if (p.totalSteps) data.totalSteps = p.totalSteps;
      redraw();
    }
    schedulePanel(1500);
  });
  stream.addEventListener("end", () => {
    stream.close();
    schedulePanel(0);
  });
}
if (document.getElementById("panel").dataset.closed !== "true") follow();

// cancel, retry and resume: the API's own routes, with the session (same origin), the same rules as for a script
document.addEventListener("click", async (ev) => {
  const button = ev.target.closest("button[data-action]");
  if (!button) return;
  const action = button.dataset.action;
  if (action === "cancel" && !window.confirm("Cancel this run? Its pod is terminated.")) return;
  button.disabled = true;
  const res = await fetch(`/v1/deployments/${button.dataset.id}/${action}`, {
    method: "POST",
    credentials: "same-origin",
    headers: { accept: "application/json" },
  });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    button.disabled = false;
    const problems = (body.error && body.error.details && body.error.details.problems) || [];
    document.getElementById("action-error").textContent = [
      (body.error && body.error.message) || `HTTP ${res.status}`,
      ...problems.map((p) => p.message),
    ].join(" · ");
    return;
  }
  // a retry or a resume is a new run (a resume: the next attempt, from the last checkpoint): go to its page
  if (action === "retry" || action === "resume") return window.location.assign(`/runs/${body.id}`);
  schedulePanel(0);
});
