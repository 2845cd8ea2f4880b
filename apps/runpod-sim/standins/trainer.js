#!/usr/bin/env node
// runpod-sim trainer stand-in, run by bin/python (a shell script, so that `python --version` and
// friends cost no node start-up) as: python SCRIPT --dataset P --output-dir D [--base-model M]
// [--hyperparameters JSON] [--events-url URL]; the same arguments as the real trainer. See README.md.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const args = process.argv.slice(2);
const fail = (code, text) => {
  process.stderr.write(text.endsWith("\n") ? text : `${text}\n`);
  process.exit(code);
};

// ---- the trainer stand-in ----
const script = args[0];
if (!fs.existsSync(script))
  fail(2, `python: can't open file '${path.resolve(script)}': [Errno 2] No such file or directory`);
const opts = {};
for (let i = 1; i < args.length; i++) {
  const a = args[i];
  if (!a.startsWith("--"))
    fail(
      2,
      `usage: ${path.basename(script)} [-h] --dataset DATASET --output-dir OUTPUT_DIR\n${path.basename(script)}: error: unrecognized arguments: ${a}`,
    );
  const eq = a.indexOf("=");
  if (eq > 0) opts[a.slice(2, eq)] = a.slice(eq + 1);
  else opts[a.slice(2)] = args[++i] ?? "";
}
const usage = `usage: ${path.basename(script)} [-h] --dataset DATASET --output-dir OUTPUT_DIR [--base-model BASE_MODEL] [--hyperparameters HYPERPARAMETERS] [--events-url EVENTS_URL]`;
const missing = ["dataset", "output-dir"].filter((k) => !opts[k]).map((k) => `--${k}`);
if (missing.length > 0)
  fail(2, `${usage}\n${path.basename(script)}: error: the following arguments are required: ${missing.join(", ")}`);

let hp = {};
try {
  hp = opts.hyperparameters ? JSON.parse(opts.hyperparameters) : {};
  if (typeof hp !== "object" || hp === null || Array.isArray(hp)) throw new Error("not an object");
} catch (err) {
  fail(
    2,
    `${usage}\n${path.basename(script)}: error: argument --hyperparameters: invalid JSON object (${err.message})`,
  );
}
let examples = 0;
try {
  const lines = fs
    .readFileSync(opts.dataset, "utf8")
    .split("\n")
    .filter((l) => l.trim() !== "");
  lines.forEach((l, n) => {
    try {
      JSON.parse(l);
    } catch {
      throw new Error(`json.decoder.JSONDecodeError: line ${n + 1} of ${opts.dataset} is not valid JSON`);
    }
  });
  examples = lines.length;
  if (examples === 0) throw new Error(`ValueError: dataset ${opts.dataset} has no examples`);
} catch (err) {
  const text =
    err.code === "ENOENT"
      ? `FileNotFoundError: [Errno 2] No such file or directory: '${opts.dataset}'`
      : err.code
        ? `OSError: cannot read dataset '${opts.dataset}': ${err.code}`
        : err.message;
  fail(2, `error: could not load dataset: ${text}`);
}

const num = (v, d) => (typeof v === "number" && Number.isFinite(v) ? v : d);
const steps = Math.max(1, Math.floor(num(hp.steps, 5)));
const stepMs = Math.max(0, num(hp.sim_step_ms, 100));
const failAt = num(hp.sim_fail_at_step, 0);
const exitCode = Math.floor(num(hp.sim_exit_code, 1));
const baseModel = opts["base-model"] || "meta-llama/Llama-3.2-1B";
const token = process.env.TRAINPOD_RUN_TOKEN || "";
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function post(event) {
  if (!opts["events-url"]) return;
  try {
    const res = await fetch(opts["events-url"], {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(event),
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) process.stderr.write(`warning: progress event for step ${event.step} answered HTTP ${res.status}\n`);
  } catch (err) {
    process.stderr.write(
      `warning: could not post progress event for step ${event.step}: ${err.cause?.code ?? err.message}\n`,
    );
  }
}

async function main() {
  console.log(`Loading base model ${baseModel} (sim) on ${process.env.SIM_GPU_NAME || "cpu"}`);
  console.log(`Loaded ${examples} examples from ${opts.dataset}; training for ${steps} steps`);
  const history = [];
  for (let step = 1; step <= steps; step++) {
    await sleep(stepMs);
    if (failAt > 0 && step === failAt) {
      const msg =
        typeof hp.sim_error === "string"
          ? hp.sim_error
          : "torch.cuda.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 23.65 GiB total capacity; 21.87 GiB already allocated)";
      fail(
        exitCode,
        [
          "Traceback (most recent call last):",
          `  File "${path.resolve(script)}", line 214, in <module>`,
          "    main()",
          `  File "${path.resolve(script)}", line 198, in main`,
          "    trainer.train()",
          '  File "/usr/local/lib/python3.10/dist-packages/transformers/trainer.py", line 1938, in train',
          "    return inner_training_loop(",
          msg,
        ].join("\n"),
      );
    }
    const loss = Math.round((0.4 + 2.1 * Math.exp((-3 * step) / steps)) * 10000) / 10000;
    history.push({ step, loss });
    console.log(`step ${step}/${steps} loss ${loss}`);
    await post({ type: "progress", step, totalSteps: steps, loss });
  }
  const out = opts["output-dir"];
  fs.mkdirSync(out, { recursive: true });
  const adapterConfig = {
    base_model_name_or_path: baseModel,
    peft_type: "LORA",
    task_type: "CAUSAL_LM",
    r: num(hp.lora_r, 16),
    lora_alpha: num(hp.lora_alpha, 32),
    lora_dropout: 0.05,
    target_modules: ["q_proj", "v_proj"],
  };
  fs.writeFileSync(path.join(out, "adapter_config.json"), `${JSON.stringify(adapterConfig, null, 2)}\n`);
  // a small, well-formed safetensors file: u64 header length, JSON header, tensor bytes
  const data = Buffer.alloc(4096);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + steps) & 0xff;
  const header = Buffer.from(
    JSON.stringify({
      __metadata__: { format: "pt", sim: "runpod-sim" },
      "base_model.model.lora_A.weight": { dtype: "F32", shape: [16, 64], data_offsets: [0, 4096] },
    }),
  );
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(header.length));
  fs.writeFileSync(path.join(out, "adapter_model.safetensors"), Buffer.concat([len, header, data]));
  const state = {
    global_step: steps,
    max_steps: steps,
    num_train_examples: examples,
    log_history: history,
    best_metric: history.at(-1)?.loss ?? null,
  };
  fs.writeFileSync(path.join(out, "trainer_state.json"), `${JSON.stringify(state, null, 2)}\n`);
  const extra = Math.floor(num(hp.sim_extra_artifact_bytes, 0));
  if (extra > 0) {
    // a big file (a merged model's stand-in), written in 1 MiB chunks of a byte pattern that varies per chunk
    fs.mkdirSync(path.join(out, "merged"), { recursive: true });
    const fd = fs.openSync(path.join(out, "merged", "model.safetensors"), "w");
    const chunk = Buffer.alloc(1024 * 1024);
    for (let written = 0, n = 0; written < extra; n++) {
      for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 7 + n * 13) & 0xff;
      const size = Math.min(chunk.length, extra - written);
      fs.writeSync(fd, chunk, 0, size);
      written += size;
    }
    fs.closeSync(fd);
  }
  console.log(`Training complete. Adapter saved to ${path.resolve(out)}`);
}

main().then(
  () => process.exit(0),
  (err) => fail(1, `Traceback (most recent call last):\n${err && err.stack ? err.stack : String(err)}`),
);
