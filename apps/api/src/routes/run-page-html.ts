import {
  DEPLOYMENT_STATUSES,
  deploymentView,
  microsToUsd,
  type Deployment,
  type DeploymentStatus,
} from "@trainpod/core";

/** The run pages' own files (CSS, JS), outside src so src and dist both find them. */
export const RUN_ASSETS = "/runs/assets";

const HTML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text for HTML, element content and quoted attributes alike. Every value of the user's or the pod's goes through it. */
export function escapeHtml(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** A JSON data block for the page's script (`<script type="application/json">`: never run, so the CSP allows it). */
export function jsonBlock(id: string, value: unknown): string {
  const json = JSON.stringify(value, (_k, v: unknown) => (typeof v === "bigint" ? v.toString() : v)).replace(
    /</g,
    "\\u003c",
  );
  return `<script type="application/json" id="${id}">${json}</script>`;
}

/** USD as people read it: cents for a dollar or more, else four decimals ("$0.0047"). Display only. */
export function usd(amount: string | null | undefined): string {
  if (amount === null || amount === undefined) return "—";
  const n = Number(amount);
  return `$${n >= 1 ? n.toFixed(2) : n.toFixed(4)}`;
}

export const usdOfMicros = (micros: bigint | null): string => (micros === null ? "—" : usd(microsToUsd(micros)));

export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = String(s % 60).padStart(2, "0");
  return h > 0 ? `${h} h ${String(m).padStart(2, "0")} min` : `${m} min ${rest} s`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return "—";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** A time as `2026-12-07 14:03:05 UTC`, in a <time> element the page's script may show in local time. */
export function when(at: Date | string | null | undefined): string {
  if (at === null || at === undefined) return "—";
  const iso = new Date(at).toISOString();
  return `<time datetime="${iso}">${iso.slice(0, 19).replace("T", " ")} UTC</time>`;
}

export const statusBadge = (status: DeploymentStatus): string =>
  `<span class="status status-${status}">${escapeHtml(status)}</span>`;

/** The page around every run screen: header with the user's links and logout; no inline script (CSP). */
export function layout(page: { title: string; email: string; body: string; scripts?: string[] }): string {
  const scripts = (page.scripts ?? []).map((s) => `<script src="${s}" defer></script>`).join("\n  ");
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>${escapeHtml(page.title)} · trainpod</title>
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <link rel="stylesheet" href="${RUN_ASSETS}/runs.css">
  ${scripts}
</head>
<body>
  <header>
    <a class="brand" href="/runs">trainpod</a>
    <nav><a href="/runs">My runs</a> <a href="/runs/new">New run</a></nav>
    <span class="muted who">${escapeHtml(page.email)}</span>
    <form method="post" action="/logout"><button type="submit" class="quiet">Log out</button></form>
  </header>
  <main>
${page.body}
  </main>
</body>
</html>
`;
}

/** The current phase, with how far it is: "train 40/100 steps (40%)". */
export function phaseCell(v: ReturnType<typeof deploymentView>): string {
  const p = v.phase;
  if (p === null) return '<span class="muted">—</span>';
  if (p.state === "ended") return `${escapeHtml(p.name)} ✓`;
  const pct = p.done !== null && p.total ? ` (${Math.floor((100 * p.done) / p.total)}%)` : "";
  const amount =
    p.done === null
      ? ""
      : p.unit === "bytes"
        ? ` ${bytes(p.done)}${p.total ? ` / ${bytes(p.total)}` : ""}`
        : ` ${p.done}${p.total ? `/${p.total}` : ""} ${escapeHtml(p.unit ?? "")}`;
  return `${escapeHtml(p.name)}<span class="muted">${amount}${pct}</span>`;
}

export interface RunListPage {
  items: Deployment[];
  nextCursor: string | null;
  status?: string;
  now: Date;
}

/** The estimate beside the actual, once the deployment carries one ("Know the run before renting"). */
export function estimateCell(d: Deployment, costUsd: string | null): string {
  if (d.estimatedCostMicros === null && d.estimatedSeconds === null) return '<span class="muted">—</span>';
  const est = d.estimatedCostMicros === null ? "" : `est. ${usdOfMicros(BigInt(d.estimatedCostMicros))}`;
  const time = d.estimatedSeconds === null ? "" : ` · ${duration(d.estimatedSeconds)}`;
  const actual = costUsd === null ? "" : `<br><span class="muted">actual ${usd(costUsd)}</span>`;
  return `${est}${time}${actual}`;
}

/** "My runs": the user's deployments, newest first, filter by status, keyset paging. */
export function runListBody(page: RunListPage): string {
  const options = ["", ...DEPLOYMENT_STATUSES]
    .map((s) => `<option value="${s}"${s === (page.status ?? "") ? " selected" : ""}>${s || "any status"}</option>`)
    .join("");
  const rows = page.items.map((d) => {
    const v = deploymentView(d, page.now);
    const cost = `${usd(v.costUsd)}${d.podTerminatedAt ? "" : ' <span class="muted">so far</span>'}`;
    const step =
      v.progress.step === null ? "—" : `${v.progress.step}${v.progress.totalSteps ? `/${v.progress.totalSteps}` : ""}`;
    return `<tr data-live="${d.podTerminatedAt === null && d.status !== "FAILED" && d.status !== "CANCELLED"}">
      <td><a href="/runs/${d.id}"><code>${d.id.slice(0, 8)}</code></a></td>
      <td>${escapeHtml(d.baseModel)}</td>
      <td>${statusBadge(d.status)}${d.failureReason ? `<br><span class="muted">${escapeHtml(d.failureReason)}</span>` : ""}</td>
      <td>${phaseCell(v)}</td>
      <td>${step}${v.progress.loss !== null ? `<br><span class="muted">loss ${escapeHtml(v.progress.loss)}</span>` : ""}</td>
      <td>${cost}<br><span class="muted">of ${usd(v.limits.maxCostUsd)}</span></td>
      <td>${estimateCell(d, v.costUsd)}</td>
      <td>${when(d.createdAt)}</td>
    </tr>`;
  });
  const filter = page.status ? `&status=${encodeURIComponent(page.status)}` : "";
  const next = page.nextCursor
    ? `<a class="next" href="/runs?cursor=${page.nextCursor}${filter}">Older runs →</a>`
    : "";
  return `<h1>My runs</h1>
  <form class="filters" method="get" action="/runs">
    <label>Status <select name="status" id="status-filter">${options}</select></label>
    <button type="submit">Filter</button>
    <a href="/runs/new" class="button">New run</a>
  </form>
  <div class="scroll"><table id="runs">
    <thead><tr><th>run</th><th>model</th><th>status</th><th>phase</th><th>step</th><th>cost</th><th>estimate</th><th>created</th></tr></thead>
    <tbody>${rows.join("") || '<tr><td colspan="8" class="muted">No runs yet: <a href="/runs/new">start one</a>.</td></tr>'}</tbody>
  </table></div>
  <p class="paging">${page.items.length > 0 && (page.nextCursor || filter || page.status) ? `<a href="/runs${page.status ? `?status=${encodeURIComponent(page.status)}` : ""}">Newest</a> ` : ""}${next}</p>`;
}
