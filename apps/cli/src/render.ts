import type { Json } from "./api-client";
import { renderAttempts } from "./render-attempts";

const time = (iso: unknown): string => (typeof iso === "string" ? iso.slice(11, 19) : "--:--:--");
/** "0.690000" → "$0.69", "0.001342" → "$0.001342": exact, trailing zeros past the cents dropped. */
export const usd = (v: unknown): string =>
  typeof v === "string" && /^-?\d+\.\d+$/.test(v) ? `$${v.replace(/(\.\d\d\d*?)0+$/, "$1")}` : "-";

/** The estimate as a few lines a person reads before saying yes. */
export function renderEstimate(e: Json): string {
  const types = (e.gpuTypes as Json[]).map(
    (t) => `    ${t.gpuTypeId}: ${t.known ? `${usd(t.podHourUsd)}/h for ${e.gpuCount} GPU(s)` : "unknown price"}`,
  );
  return [
    `Cost estimate (${e.cloudType} cloud, ${e.gpuCount} GPU(s); prices: ${e.priceSource})`,
    ...types,
    `  expected:   ${usd(e.expected.costUsd)}  (${e.expected.runtimeMinutes} min on ${e.expected.gpuTypeId})`,
    `  worst case: ${usd(e.worstCase.costUsd)}  (${e.worstCase.runtimeMinutes} min on ${e.worstCase.gpuTypeId}, uncapped ${usd(e.worstCase.uncappedCostUsd)})`,
    `  cost cap:   ${usd(e.costCap.maxCostUsd)} enforced, max runtime ${e.costCap.maxRuntimeMinutes} min; ${e.costCap.bindingLimit} binds first` +
      (e.costCap.budgetLastsMinutes === null ? "" : ` (budget lasts ${e.costCap.budgetLastsMinutes} min at worst)`),
    `  setup:      up to ${e.setup.timeoutMinutes} min, at most ${usd(e.setup.worstCaseCostUsd)}`,
    ...renderTokens(e),
  ].join("\n");
}

const n = (v: unknown): string => (typeof v === "number" ? v.toLocaleString("en-US") : "-");

/** The dataset through the model's template and tokenizer, and the time it makes (issue 35); nothing without it. */
function renderTokens(e: Json): string[] {
  const t = e.tokens;
  const time = e.time;
  if (!t || !time) return [];
  const over = t.overMaxSeqLength;
  const sample = t.sampled
    ? ` (a sample of ${n(t.rowsCounted)} rows; 95%: ${n(t.confidence?.tokensPerEpoch?.[0])}-${n(t.confidence?.tokensPerEpoch?.[1])})`
    : "";
  return [
    `  dataset:    ${n(t.tokens)} tokens an epoch in ${n(t.trainedRows)} rows${sample}, ${Math.round(t.lossShare * 100)}% carry loss (${t.template} template)`,
    ...(over.rows > 0
      ? [
          `  too long:   ${n(over.rows)} rows over max_seq_length (longest ${n(over.longestTokens)} tokens, line ${over.longestLine}); ${n(over.tokensCut)} tokens cut`,
        ]
      : []),
    ...(t.skippedRows > 0 ? [`  skipped:    ${n(t.skippedRows)} rows with nothing to train on after the cut`] : []),
    ...(t.packedSequences !== null ? [`  packing:    ${n(t.packedSequences)} sequences`] : []),
    `  training:   ${n(time.steps)} steps, ${n(time.trainedTokens)} tokens at ${n(Math.round(time.throughput.tokensPerSecond))} tokens/s (${time.throughput.source}) = ${n(time.trainSeconds)} s, + ${n(time.overhead.seconds)} s setup (${time.overhead.source})` +
      (time.stoppedBy ? `; stopped by ${time.stoppedBy} first` : ""),
  ];
}

/** One deployment in a few lines. */
export function renderDeployment(d: Json): string {
  const lines = [
    `${d.id}  ${d.status}${d.failureReason ? ` (${d.failureReason})` : ""}`,
    `  model ${d.baseModel} on ${d.gpuCount} × ${d.pod?.gpuTypeId ?? d.gpuTypeIds.join(" | ")}${d.pod?.costPerHrUsd ? ` at ${usd(d.pod.costPerHrUsd)}/h` : ""}`,
    `  progress ${d.progress?.step ?? "-"}/${d.progress?.totalSteps ?? "-"}${d.progress?.loss ? ` loss ${d.progress.loss}` : ""}`,
    `  cost ${usd(d.costUsd)} of ${usd(d.limits?.maxCostUsd)}, runtime ${d.runtimeSeconds ?? "-"} s of ${d.limits?.maxRuntimeMinutes} min`,
  ];
  if (d.phase) lines.push(`  phase ${renderPhase(d.phase)} (since ${time(d.phase.startedAt)})`);
  if (d.estimate)
    lines.push(
      `  estimate ${d.estimate.estimated.runtimeSeconds} s ${usd(d.estimate.estimated.costUsd)}` +
        (d.estimate.actual.runtimeSeconds !== null
          ? `, actual ${d.estimate.actual.runtimeSeconds} s ${usd(d.estimate.actual.costUsd)}`
          : ""),
    );
  if (d.failureMessage) lines.push(`  failure: ${String(d.failureMessage).split("\n")[0]}`);
  lines.push(...renderAttempts(d));
  if (d.hub)
    lines.push(
      `  hub ${d.hub.repo}${d.hub.merged ? " (merged too)" : ""}: ${d.hub.url ?? d.hub.error ?? "not pushed yet"}`,
    );
  if (d.wandb)
    lines.push(`  W&B ${d.wandb.project}${d.wandb.name ? `/${d.wandb.name}` : ""}: ${d.wandb.url ?? "no run URL yet"}`);
  return lines.join("\n");
}

const SI = ["B", "kB", "MB", "GB", "TB", "PB"];
/** `done/total unit` in one scale: 3.2e9 of 16e9 bytes → "3.2/16.0 GB", 40000 of 200000 rows → "40,000/200,000 rows". */
export function formatAmount(done: number | null, total: number | null, unit: string | null): string {
  if (unit === "bytes") {
    const ref = total ?? done ?? 0;
    const scale = ref < 1000 ? 0 : Math.min(SI.length - 1, Math.floor(Math.log10(ref) / 3));
    const f = (n: number) => (scale === 0 ? String(n) : (n / 1000 ** scale).toFixed(1));
    return `${total === null ? f(done ?? 0) : `${f(done ?? 0)}/${f(total)}`} ${SI[scale]}`;
  }
  const f = (n: number) => n.toLocaleString("en-US");
  const amount = total === null ? f(done ?? 0) : `${f(done ?? 0)}/${f(total)}`;
  return unit === null ? amount : `${amount} ${unit}`;
}

/** The pod's current phase (the deployment's `phase`) as the --watch line: "tokenize 40,000/200,000 rows". */
export function renderPhase(p: Json): string {
  const done = typeof p.done === "number" ? p.done : null;
  const total = typeof p.total === "number" ? p.total : null;
  if (done === null && total === null) return `${p.name} ${p.state}`;
  return `${p.name} ${formatAmount(done, total, typeof p.unit === "string" ? p.unit : null)}`;
}

/** A phase's row: its start with its size, its end with its time (and its size). */
function renderPhaseRow(at: string, type: string, d: Json): string {
  const size =
    typeof d.total === "number" || typeof d.done === "number"
      ? ` (${formatAmount(d.total ?? d.done, null, d.unit ?? null)})`
      : "";
  if (type === "phase_started") return `${at} ▸ ${d.phase} started${size}`;
  const mark = d.ok === false ? "✗" : "▸";
  return `${at} ${mark} ${d.phase} ${d.ok === false ? "failed" : "ended"} after ${d.seconds} s${size}${trainFacts(d)}`;
}

/** The train phase's end: the eval loss of the adapter saved, DPO's last reward margin, and what early stopping
 * saved (issue 26). */
function trainFacts(d: Json): string {
  const margin = typeof d.reward_margin === "number" ? `, reward margin ${d.reward_margin}` : "";
  const evalLoss = `${typeof d.eval_loss === "number" ? `, eval loss ${d.eval_loss}` : ""}${margin}`;
  if (d.stopped_early !== 1) return evalLoss;
  const money = typeof d.usd_saved === "string" ? `, $${d.usd_saved}` : "";
  return `${evalLoss}, stopped early: ${d.steps_saved} steps (~${Math.round(Number(d.seconds_saved))} s${money}) saved`;
}

/** A timeline event as one line (log events: one line per log line), or null for progress (the bar shows it). */
export function renderEvent(e: Json): string[] {
  const at = time(e.at);
  const data = (e.data ?? {}) as Json;
  switch (e.type) {
    case "log":
      // the pod's lines carry their own timestamps
      return ((data.lines as string[] | undefined) ?? []).map((l) => `         │ ${l}`);
    case "phase_started":
    case "phase_ended":
      return [renderPhaseRow(at, e.type, data)];
    case "dataset_downloaded":
      return [`${at} ● dataset downloaded${typeof data.bytes === "number" ? ` (${data.bytes} bytes)` : ""}`];
    case "progress":
      return [
        `${at} step ${data.step}${data.totalSteps ? `/${data.totalSteps}` : ""}${data.loss !== null && data.loss !== undefined ? ` loss ${data.loss}` : ""}${typeof data.evalLoss === "number" ? ` eval loss ${data.evalLoss}` : ""}${typeof data.rewardMargin === "number" ? ` reward margin ${data.rewardMargin}` : ""}`,
      ];
    case "pod_created":
      return [
        `${at} ● pod ${data.podId} created (${data.gpu ?? "GPU"}${data.costPerHr !== undefined ? `, $${data.costPerHr}/h` : ""})`,
      ];
    case "failed":
      // the message ends with the pod's last log lines, already shown as log events
      return [`${at} ✗ failed: ${String(e.message ?? "").split("\n")[0]}`];
    case "succeeded":
      return [`${at} ✓ ${e.message ?? "succeeded"}`];
    case "hub_push":
      return [typeof data.url === "string" ? `${at} ● pushed to the hub: ${data.url}` : `${at} ✗ ${e.message}`];
    case "wandb":
      return [`${at} ● W&B run: ${data.url}`];
    default:
      return [`${at} ● ${e.type}${e.message ? `: ${e.message}` : ""}`];
  }
}

export function renderTable(rows: string[][]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

const UNITS = ["KiB", "MiB", "GiB", "TiB"];
/** 512 → "512 B", 1536 → "1.5 KiB", 5_368_709_120 → "5.0 GiB" (binary units, one decimal). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1024) return `${n} B`;
  let value = n;
  let unit = -1;
  // 1023.95 and up shows as the next unit (never "1024.0 KiB")
  while (value >= 1023.95 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
