/* The new-run form: dataset upload (the validator's bad lines by number), the estimate and the pre-flight checks as
 * the fields change (POST /v1/deployments/estimate and /validate), submit enabled only once they pass. */
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("new-run");
const submit = $("submit");
const idempotencyKey = `form-${crypto.randomUUID()}`;

async function api(method, url, body, headers = {}) {
  const res = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: { accept: "application/json", "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Blob ? body : JSON.stringify(body),
  });
  if (res.status === 401) window.location.assign("/login?next=%2Fruns%2Fnew");
  return { status: res.status, ok: res.ok, body: await res.json().catch(() => ({})) };
}

function list(el, items) {
  el.replaceChildren(
    ...items.map((text) => {
      const li = document.createElement("li");
      li.textContent = text;
      return li;
    }),
  );
}

/** Every problem an error answer lists: pre-flight problems, schema issues, hyperparameter problems. */
function problemsOf(error) {
  if (!error) return ["no answer"];
  const d = error.details;
  const items = Array.isArray(d) ? d : (d && d.problems) || [];
  if (items.length === 0) return [error.message];
  return items.map((p) => `${p.field || p.path || ""}${p.field || p.path ? ": " : ""}${p.message}`);
}

function request() {
  const gpuTypeIds = [...form.querySelectorAll("input[name=gpuTypeIds]:checked")].map((i) => i.value);
  let hyperparameters;
  try {
    hyperparameters = JSON.parse($("hyperparameters").value || "{}");
  } catch {
    return { error: "hyperparameters: not valid JSON" };
  }
  return {
    body: {
      datasetId: $("datasetId").value,
      baseModel: $("baseModel").value.trim(),
      hyperparameters,
      gpuTypeIds,
      gpuCount: Number($("gpuCount").value),
      cloudType: $("cloudType").value,
      maxCostUsd: $("maxCostUsd").value.trim(),
      maxRuntimeMinutes: Number($("maxRuntimeMinutes").value),
      setupTimeoutMinutes: Number($("setupTimeoutMinutes").value),
    },
  };
}

const usd = (v) => (v == null ? "—" : `$${Number(v) >= 1 ? Number(v).toFixed(2) : Number(v).toFixed(4)}`);

function showEstimate(e) {
  const rows = [
    ["expected", `${usd(e.expected.costUsd)} (${e.expected.gpuTypeId}, ${e.expected.runtimeMinutes} min)`],
    ["worst case", `${usd(e.worstCase.costUsd)} (${e.worstCase.gpuTypeId}, ${e.worstCase.runtimeMinutes} min)`],
    [
      "stops at",
      `${e.costCap.bindingLimit}${e.costCap.budgetLastsMinutes != null ? `: the budget lasts ${e.costCap.budgetLastsMinutes} min` : ""}`,
    ],
    ["setup timeout costs at most", usd(e.setup.worstCaseCostUsd)],
  ];
  const table = document.createElement("table");
  for (const [k, v] of rows)
    table.insertRow().append(...[k, v].map((t) => Object.assign(document.createElement("td"), { textContent: t })));
  $("estimate").className = "";
  $("estimate").replaceChildren(table);
}

let seq = 0;
let timer = null;
async function check() {
  const mine = ++seq;
  submit.disabled = true;
  const r = request();
  const state = $("preflight-state");
  if (r.error) {
    state.textContent = "Fix these first:";
    state.className = "error";
    return list($("problems"), [r.error]);
  }
  if (r.body.gpuTypeIds.length === 0) {
    $("estimate").textContent = "Pick a GPU type.";
    state.textContent = "Pick a GPU type.";
    state.className = "muted";
    return list($("problems"), []);
  }
  const expected = Number($("expectedRuntimeMinutes").value);
  const { datasetId: _d, baseModel: _m, hyperparameters: _h, ...priced } = r.body;
  const [est, val] = await Promise.all([
    api("POST", "/v1/deployments/estimate", {
      ...priced,
      ...(expected > 0 ? { expectedRuntimeMinutes: expected } : {}),
    }),
    api("POST", "/v1/deployments/validate", r.body),
  ]);
  if (mine !== seq) return; // a newer check is on its way
  if (est.ok) showEstimate(est.body);
  else $("estimate").textContent = problemsOf(est.body.error).join("; ");
  if (val.ok) {
    state.textContent = "Every pre-flight check passes.";
    state.className = "ok";
    list($("problems"), []);
    submit.disabled = false;
  } else {
    state.textContent = "Fix these first:";
    state.className = "error";
    list($("problems"), problemsOf(val.body.error));
  }
}
// a field's `change` also fires when it loses focus, e.g. to the submit button: nothing new, nothing to check again
let checkedKey = null;
function scheduleCheck() {
  const key = JSON.stringify([request(), $("expectedRuntimeMinutes").value]);
  if (key === checkedKey) return;
  checkedKey = key;
  submit.disabled = true;
  clearTimeout(timer);
  timer = setTimeout(check, 350);
}
form.addEventListener("input", scheduleCheck);
form.addEventListener("change", scheduleCheck);

$("upload").addEventListener("click", async () => {
  const file = $("upload-file").files[0];
  const result = $("upload-result");
  list($("upload-errors"), []);
  if (!file) {
    result.textContent = "Choose a file first.";
    return;
  }
  const name = ($("upload-name").value.trim() || file.name.replace(/\.[^.]*$/, "")).slice(0, 200);
  result.textContent = `Uploading ${file.name}…`;
  result.className = "muted";
  const res = await api("POST", `/v1/datasets?name=${encodeURIComponent(name)}`, file, {
    "content-type": "application/x-ndjson",
  });
  if (res.status === 201) {
    const d = res.body;
    const option = new Option(`${d.name} · ${d.rowCount} rows · ${d.format.toLowerCase()}`, d.id, true, true);
    const select = $("datasetId");
    if (select.options.length === 1 && !select.options[0].value) select.options[0].remove();
    select.prepend(option);
    select.value = d.id;
    result.textContent = `Checked and stored: ${d.rowCount} rows, ${d.format.toLowerCase()}.`;
    result.className = "ok";
    scheduleCheck();
    return;
  }
  const error = res.body.error || {};
  const bad = (error.details && error.details.badLines) || [];
  result.textContent = bad.length
    ? `Not stored: ${bad.length}${error.details.truncated ? "+" : ""} bad line${bad.length === 1 ? "" : "s"}.`
    : `Not stored: ${error.message || `HTTP ${res.status}`}`;
  result.className = "error";
  list(
    $("upload-errors"),
    bad.map((b) => `line ${b.line}: ${b.reason}`),
  );
});

form.addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const r = request();
  if (r.error) return;
  submit.disabled = true;
  const res = await api("POST", "/v1/deployments", r.body, { "idempotency-key": idempotencyKey });
  if (res.ok) return window.location.assign(`/runs/${res.body.id}`);
  $("submit-error").textContent = problemsOf(res.body.error).join("; ");
  submit.disabled = false;
});

scheduleCheck();
