import { DEFAULT_IMAGE, type Dataset } from "@trainpod/core";
import { bytes, escapeHtml, usdOfMicros } from "./run-page-html";

/** One GPU type offered, with its list price per GPU-hour in each cloud (null: not offered there). */
export interface OfferedGpu {
  id: string;
  secureMicros: bigint | null;
  communityMicros: bigint | null;
}

export interface NewRunForm {
  datasets: Dataset[];
  gpus: OfferedGpu[];
  priceSource: string;
  maxUploadBytes: number;
}

/** Suggested base models (any hub repo id or absolute path on the pod is accepted). */
const MODELS = [
  "Qwen/Qwen2.5-0.5B-Instruct",
  "Qwen/Qwen2.5-7B-Instruct",
  "meta-llama/Llama-3.2-1B-Instruct",
  "meta-llama/Llama-3.1-8B-Instruct",
  "mistralai/Mistral-7B-Instruct-v0.3",
  "google/gemma-2-2b-it",
];

function datasetOptions(datasets: Dataset[]): string {
  if (datasets.length === 0) return '<option value="">(no dataset yet: upload one below)</option>';
  return datasets
    .map(
      (d) =>
        `<option value="${d.id}">${escapeHtml(d.name)} · ${d.rowCount} rows · ${escapeHtml(d.format.toLowerCase())} · ${bytes(Number(d.sizeBytes))}</option>`,
    )
    .join("");
}

function gpuRows(gpus: OfferedGpu[]): string {
  return gpus
    .map(
      (g, i) => `<tr>
        <td><input type="checkbox" name="gpuTypeIds" value="${escapeHtml(g.id)}" id="gpu-${i}"></td>
        <td><label for="gpu-${i}">${escapeHtml(g.id)}</label></td>
        <td>${g.secureMicros === null ? "—" : `${usdOfMicros(g.secureMicros)}/h`}</td>
        <td>${g.communityMicros === null ? "—" : `${usdOfMicros(g.communityMicros)}/h`}</td></tr>`,
    )
    .join("");
}

/**
 * The new-run form. Its script (new-run.js) uploads a dataset through POST /v1/datasets (showing the validator's
 * bad lines by number), asks POST /v1/deployments/estimate and /v1/deployments/validate as the fields change, and
 * enables the submit button only once the pre-flight checks pass; the submission is POST /v1/deployments.
 */
export function newRunBody(form: NewRunForm): string {
  return `<h1>New run</h1>
  <form id="new-run" class="new-run" novalidate>
  <fieldset><legend>1 · Dataset</legend>
    <label>Your datasets <select name="datasetId" id="datasetId">${datasetOptions(form.datasets)}</select></label>
    <details${form.datasets.length === 0 ? " open" : ""} id="upload-box"><summary>or upload a JSONL file</summary>
      <p class="muted">One JSON object a line, all in one format: <code>{"messages": [{"role": "user", …}, …]}</code>
      (chat) or <code>{"prompt": …, "completion": …}</code>. At most ${bytes(form.maxUploadBytes)}.</p>
      <label>File <input type="file" id="upload-file" accept=".jsonl,.json,.txt,application/x-ndjson"></label>
      <label>Name <input type="text" id="upload-name" maxlength="200" placeholder="my-dataset"></label>
      <button type="button" id="upload">Upload and check</button>
      <p id="upload-result" role="status"></p>
      <ol id="upload-errors" class="errors"></ol>
    </details>
  </fieldset>
  <fieldset><legend>2 · Model and training</legend>
    <label>Base model <input type="text" name="baseModel" id="baseModel" list="models" required
      placeholder="owner/name on the Hugging Face hub, or /path on the pod" autocomplete="off"></label>
    <datalist id="models">${MODELS.map((m) => `<option value="${m}">`).join("")}</datalist>
    <label>Hyperparameters (JSON) <textarea name="hyperparameters" id="hyperparameters" rows="4" spellcheck="false">{"epochs": 1, "learning_rate": 0.0002, "eval_fraction": 0.1}</textarea></label>
    <p class="muted">learning_rate, epochs or steps, lora_r, lora_alpha, batch_size, max_seq_length, eval_fraction,
    lr_scheduler, … (<a href="/docs">every key</a>). Image: <code>${escapeHtml(DEFAULT_IMAGE)}</code>.</p>
  </fieldset>
  <fieldset><legend>3 · GPU</legend>
    <div class="row">
      <label>Cloud <select name="cloudType" id="cloudType"><option value="SECURE">Secure</option><option value="COMMUNITY">Community</option></select></label>
      <label>GPUs per pod <input type="number" name="gpuCount" id="gpuCount" min="1" max="8" value="1"></label>
    </div>
    <p class="muted">Tick one or more, cheapest first in your order of preference: the run takes the first one RunPod
    has. List price per GPU-hour (${escapeHtml(form.priceSource)}).</p>
    <div class="scroll gpu-box"><table class="gpus" id="gpus"><thead><tr><th></th><th>GPU type</th><th>Secure</th><th>Community</th></tr></thead>
    <tbody>${gpuRows(form.gpus)}</tbody></table></div>
  </fieldset>
  <fieldset><legend>4 · Limits</legend>
    <div class="row">
      <label>Max cost (USD) <input type="text" name="maxCostUsd" id="maxCostUsd" value="10" inputmode="decimal"></label>
      <label>Max runtime (min) <input type="number" name="maxRuntimeMinutes" id="maxRuntimeMinutes" min="1" value="240"></label>
      <label>Setup timeout (min) <input type="number" name="setupTimeoutMinutes" id="setupTimeoutMinutes" min="1" max="240" value="20"></label>
      <label>Expected runtime (min, for the estimate) <input type="number" id="expectedRuntimeMinutes" min="1" placeholder="= max"></label>
    </div>
  </fieldset>
  <section class="check">
    <div><h2>Estimate</h2><div id="estimate" class="muted">Pick a GPU type.</div></div>
    <div><h2>Pre-flight</h2><p id="preflight-state" class="muted">Not checked yet.</p><ul id="problems" class="errors"></ul></div>
  </section>
  <p><button type="submit" id="submit" disabled>Start run</button> <span id="submit-error" class="error" role="alert"></span></p>
  </form>`;
}
