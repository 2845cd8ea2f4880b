import {
  isTerminal,
  lastLines,
  LIVE_STATUSES,
  RUN_PHASES,
  type ArtifactListView,
  type Deployment,
  type PhaseTime,
  type deploymentView,
} from "@trainpod/core";
import { bytes, duration, escapeHtml, phaseCell, statusBadge, usd, when } from "./run-page-html";
import { resumeButton, resumeChainHtml, resumedFromNote, type ResumePanel } from "./run-page-resume";

type View = ReturnType<typeof deploymentView>;

export interface RunPanel {
  d: Deployment;
  v: View;
  phases: PhaseTime[];
  artifacts: ArtifactListView;
  now: Date;
  /** its chain of resumed attempts and what a Resume would start from (run-page-resume.ts) */
  resume: ResumePanel;
}

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/** What a phase moved: bytes for downloads and uploads, else its count and unit. */
function amount(p: Record<string, unknown>): string {
  const b = num(p.bytes) ?? (p.unit === "bytes" ? num(p.done) : null);
  const parts: string[] = [];
  if (b !== null) parts.push(bytes(b));
  const done = num(p.done);
  if (p.unit !== "bytes" && done !== null)
    parts.push(`${done}${num(p.total) ? `/${num(p.total)}` : ""} ${escapeHtml(p.unit ?? "")}`);
  const files = num(p.files);
  if (files !== null && p.unit !== "files") parts.push(`${files} files`);
  return parts.join(" · ") || '<span class="muted">—</span>';
}

/** The phase timeline: each phase the run went through with its duration and what it moved, the current one live. */
function timeline({ d, v, phases, now }: RunPanel): string {
  const longest = Math.max(1, ...phases.map((p) => p.seconds ?? 0));
  const ended = new Set(phases.map((p) => p.name));
  const rows = phases.map((p) => {
    const width = Math.max(1, Math.round((100 * (p.seconds ?? 0)) / longest));
    const failed = p.ok === false ? ' class="failed"' : "";
    return `<tr data-phase="${escapeHtml(p.name)}" data-state="ended"${failed}>
      <td>${escapeHtml(p.name)}</td><td>${duration(p.seconds)}</td><td>${amount(p)}</td>
      <td class="bar-cell"><span class="bar" style="width:${width}%"></span></td></tr>`;
  });
  const live = LIVE_STATUSES.includes(d.status);
  if (v.phase && v.phase.state !== "ended" && !ended.has(v.phase.name)) {
    const since = v.phase.startedAt ? (now.getTime() - new Date(v.phase.startedAt).getTime()) / 1000 : null;
    rows.push(`<tr data-phase="${escapeHtml(v.phase.name)}" data-state="${live ? "running" : "stopped"}">
      <td>${escapeHtml(v.phase.name)}</td><td>${live ? "running " : ""}${duration(since)}</td><td>${phaseCell(v)}</td>
      <td class="bar-cell"><span class="bar running"></span></td></tr>`);
  }
  if (live) {
    const seen = new Set([...ended, v.phase?.name]);
    const at = Math.max(...[...seen].map((n) => RUN_PHASES.indexOf(n as (typeof RUN_PHASES)[number])));
    for (const name of RUN_PHASES.slice(at + 1))
      rows.push(
        `<tr data-phase="${name}" data-state="pending" class="muted"><td>${name}</td><td>—</td><td></td><td></td></tr>`,
      );
  }
  const total = phases.reduce((s, p) => s + (p.seconds ?? 0), 0);
  return `<section class="panel"><h2>Phases</h2>
    <table id="timeline"><thead><tr><th>phase</th><th>took</th><th>moved</th><th class="bar-cell"></th></tr></thead>
    <tbody>${rows.join("") || '<tr><td colspan="4" class="muted">No phase reported yet.</td></tr>'}</tbody>
    <tfoot><tr><td>ended phases</td><td>${duration(total)}</td><td colspan="2"></td></tr></tfoot></table></section>`;
}

/** What the view carries beside the run once the estimates land (issue 35) and results go elsewhere (issue 25). */
interface Later {
  estimate?: {
    estimated: { tokens: number | null; runtimeSeconds: number | null; costUsd: string | null };
    actual: { tokens: number | null; runtimeSeconds: number | null; costUsd: string | null };
    error: { tokens: number | null; runtime: number | null; cost: number | null };
  } | null;
  hub?: { repo: string; url: string | null; error: string | null } | null;
  wandb?: { project: string; url: string | null } | null;
}

const pct = (e: number | null) =>
  e === null ? "" : ` <span class="muted">(${e >= 0 ? "+" : ""}${Math.round(e * 100)}%)</span>`;
const count = (n: number | null) => (n === null ? "—" : n.toLocaleString("en-US"));

/** The submission's estimate beside what the run measured, when the view has one. */
function estimateTable(v: View): string {
  const e = (v as Later).estimate;
  if (!e) return "";
  const row = (label: string, est: string, act: string, err: number | null) =>
    `<tr><td>${label}</td><td>${est}</td><td>${act}${pct(err)}</td></tr>`;
  return `<table id="estimate"><thead><tr><th></th><th>estimate</th><th>actual</th></tr></thead><tbody>
    ${row("tokens", count(e.estimated.tokens), count(e.actual.tokens), e.error.tokens)}
    ${row("runtime", duration(e.estimated.runtimeSeconds), duration(e.actual.runtimeSeconds), e.error.runtime)}
    ${row("cost", usd(e.estimated.costUsd), usd(e.actual.costUsd), e.error.cost)}</tbody></table>`;
}

/** Where the results went besides trainpod: the hub repo and the W&B run, when asked. */
function elsewhere(v: View): string {
  const { hub, wandb } = v as Later;
  const link = (url: string | null, text: string) =>
    url && /^https:\/\//.test(url)
      ? `<a href="${escapeHtml(url)}" rel="noopener noreferrer">${escapeHtml(text)}</a>`
      : escapeHtml(text);
  const parts = [
    hub
      ? `Hugging Face: ${link(hub.url, hub.repo)}${hub.error ? ` <span class="error">${escapeHtml(hub.error)}</span>` : ""}`
      : "",
    wandb ? `W&amp;B: ${link(wandb.url, wandb.project)}` : "",
  ].filter(Boolean);
  return parts.length ? `<p id="elsewhere">${parts.join(" · ")}</p>` : "";
}

/** Cost against maxCostUsd; the page's script ticks it at the pod's price while the pod lives. */
function costMeter({ d, v }: RunPanel): string {
  const max = Number(v.limits.maxCostUsd);
  const cost = Number(v.costUsd ?? 0);
  const pct = max > 0 ? Math.min(100, (100 * cost) / max) : 0;
  const ticking = d.podCreatedAt !== null && d.podTerminatedAt === null && v.pod.costPerHrUsd !== null;
  const estimate = estimateTable(v);
  return `<div id="cost" data-cost-usd="${escapeHtml(v.costUsd ?? "0")}" data-max-usd="${escapeHtml(v.limits.maxCostUsd)}"
      data-rate-usd-per-hr="${escapeHtml(v.pod.costPerHrUsd ?? "0")}" data-ticking="${ticking}">
    <div class="meter"><span style="width:${pct.toFixed(1)}%"></span></div>
    <p><b id="cost-now">${usd(v.costUsd)}</b> of ${usd(v.limits.maxCostUsd)} max
      ${ticking ? `<span class="muted">at ${usd(v.pod.costPerHrUsd)}/h, ticking</span>` : d.podTerminatedAt ? '<span class="muted">final</span>' : ""}</p>
    ${estimate}</div>`;
}

function facts({ d, v }: RunPanel): string {
  const hp = (d.hyperparameters ?? {}) as Record<string, unknown>;
  const lr = `${escapeHtml(hp.learning_rate ?? 0.0002)} <span class="muted">${escapeHtml(hp.lr_scheduler ?? "linear")}${hp.warmup_ratio ? `, warmup ${escapeHtml(hp.warmup_ratio)}` : ""}</span>`;
  const step =
    v.progress.step === null ? "—" : `${v.progress.step}${v.progress.totalSteps ? ` / ${v.progress.totalSteps}` : ""}`;
  const tps = d.trainTokensPerSecond === null ? "—" : `${Math.round(d.trainTokensPerSecond).toLocaleString("en-US")}`;
  const tokens =
    d.trainTokens === null
      ? ""
      : `<br><span class="muted">${Number(d.trainTokens).toLocaleString("en-US")} tokens</span>`;
  const gpu = v.pod.gpuTypeId ? `${escapeHtml(v.pod.gpuTypeId)} × ${v.gpuCount}` : escapeHtml(v.gpuTypeIds.join(", "));
  const retryOf = d.retryOfId
    ? `<br><span class="muted">retry of <a href="/runs/${d.retryOfId}">${d.retryOfId.slice(0, 8)}</a></span>`
    : "";
  const card = (label: string, value: string, id?: string) =>
    `<div class="card"${id ? ` id="${id}"` : ""}><span class="muted">${label}</span><b>${value}</b></div>`;
  return `<section class="cards">
    ${card("status", `${statusBadge(d.status)}${d.failureReason ? `<br><small>${escapeHtml(d.failureReason)}</small>` : ""}`, "card-status")}
    ${card("phase", phaseCell(v), "card-phase")}
    ${card("step", step, "card-step")}
    ${card("loss", escapeHtml(v.progress.loss ?? "—"), "card-loss")}
    ${card("learning rate", lr)}
    ${card("tokens/s", `${tps}${tokens}`)}
    ${card("GPU", gpu)}
    ${card("runtime", duration(v.runtimeSeconds))}
    ${card("attempts", `${d.attempts}${retryOf}${resumedFromNote(d)}`)}
  </section>`;
}

function failure({ d }: RunPanel): string {
  if (d.status !== "FAILED") return "";
  const lines = lastLines(d.failureMessage, 20);
  return `<section class="panel failure" id="failure"><h2>Why it failed</h2>
    <p><b>${escapeHtml(d.failureReason ?? "FAILED")}</b>${d.exitCode !== null ? ` · exit code ${d.exitCode}` : ""}</p>
    ${lines.length ? `<pre class="log">${escapeHtml(lines.join("\n"))}</pre>` : ""}</section>`;
}

function artifactList({ d, artifacts }: RunPanel): string {
  if (artifacts.deletedAt)
    return `<section class="panel"><h2>Files</h2><p class="muted">Deleted ${when(artifacts.deletedAt)} (${escapeHtml(artifacts.deletedReason)}).</p></section>`;
  const rows = artifacts.items.map((a) => {
    const href = `/v1/deployments/${d.id}/artifacts/${a.path.split("/").map(encodeURIComponent).join("/")}`;
    return `<tr><td><a href="${href}" download>${escapeHtml(a.path)}</a></td><td>${bytes(a.sizeBytes)}</td><td><code title="${escapeHtml(a.sha256)}">${escapeHtml(a.sha256.slice(0, 12))}</code></td></tr>`;
  });
  const pull = rows.length ? `<p class="muted">All of them: <code>npx trainpod pull ${d.id} ./model</code></p>` : "";
  return `<section class="panel"><h2>Files</h2>
    <table id="artifacts"><thead><tr><th>file</th><th>size</th><th>sha256</th></tr></thead>
    <tbody>${rows.join("") || '<tr><td colspan="3" class="muted">None yet: they come at the end of the run.</td></tr>'}</tbody></table>${pull}</section>`;
}

function actions({ d, resume }: RunPanel): string {
  const buttons: string[] = [];
  if (LIVE_STATUSES.includes(d.status))
    buttons.push(`<button type="button" class="cancel" data-action="cancel" data-id="${d.id}">Cancel run</button>`);
  buttons.push(resumeButton(d, resume));
  if (d.status === "FAILED") buttons.push(`<button type="button" data-action="retry" data-id="${d.id}">Retry</button>`);
  return `<div class="actions">${buttons.filter(Boolean).join(" ")}<span id="action-error" class="error" role="alert"></span></div>`;
}

function request({ d, v }: RunPanel): string {
  return `<details class="panel"><summary>Request</summary>
    <p>dataset <code>${escapeHtml(d.datasetId)}</code> · ${escapeHtml(v.cloudType)} · image <code>${escapeHtml(v.image)}</code>
    · max ${v.limits.maxRuntimeMinutes} min, setup ${v.limits.setupTimeoutMinutes} min · created ${when(d.createdAt)}</p>
    <pre class="log">${escapeHtml(JSON.stringify(d.hyperparameters ?? {}, null, 2))}</pre></details>`;
}

/** The run page's live part (GET /runs/:id/panel, swapped in by the page's script as the timeline moves). */
export function runPanelHtml(panel: RunPanel): string {
  const { d } = panel;
  const closed = d.podTerminatedAt !== null || (isTerminal(d.status) && d.podId === null);
  return `<div id="panel" data-status="${d.status}" data-closed="${closed}">
  ${actions(panel)}
  ${costMeter(panel)}
  ${facts(panel)}
  ${failure(panel)}
  ${resumeChainHtml(d, panel.resume)}
  ${timeline(panel)}
  ${artifactList(panel)}
  ${elsewhere(panel.v)}
  ${request(panel)}
</div>`;
}
