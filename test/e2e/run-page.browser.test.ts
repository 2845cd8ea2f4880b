import { mkdirSync } from "node:fs";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { createUserWithKey } from "@trainpod/core";
import { startSystem, type System } from "../support/system";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium } from "./support/browser";
import { CHAT_DATASET, TestClient, until, type Json } from "./support/client";

/*
 * The run pages in a real browser (Debian's chromium, playwright-core) on the whole system (API, worker, the RunPod
 * simulator): a user logs in with their key, uploads a dataset through the form (a bad one first: the validator's
 * line numbers), submits a run, watches it to SUCCEEDED (the chart has points, the timeline every phase), cancels a
 * second one, resumes a failed third from its checkpoint (the new attempt's page shows the chain); another user's run
 * is 404. Skipped (saying so) only where chromium is not installed.
 * UPDATE_SCREENSHOT=1 also writes docs/screens/{runs,new-run,run}.png.
 */
if (!haveChromium) process.stdout.write(`run-page.browser.test: SKIPPED, no chromium at ${CHROMIUM}\n`);
const describeBrowser = haveChromium ? describe : describe.skip;
const SCREENS = path.resolve(__dirname, "../../docs/screens");
const GPU = "NVIDIA GeForce RTX 4090";

let sys: System;
let key: string;
let browser: Browser;
let context: BrowserContext;
let page: Page;

async function screenshot(name: string): Promise<void> {
  if (process.env.UPDATE_SCREENSHOT !== "1") return;
  mkdirSync(SCREENS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENS, `${name}.png`), fullPage: true });
}

async function api(method: string, url: string): Promise<Json> {
  const res = await fetch(`${sys.apiUrl}${url}`, { method, headers: { authorization: `Bearer ${key}` } });
  return (await res.json()) as Json;
}

/** Fills the new-run form (the uploaded dataset is selected already) and submits once the checks pass. */
async function submitThroughForm(hyperparameters: Json): Promise<string> {
  await page.goto(`${sys.apiUrl}/runs/new`);
  await page.fill("#baseModel", "tiny-llama");
  await page.fill("#hyperparameters", JSON.stringify(hyperparameters));
  await page.check(`input[name=gpuTypeIds][value="${GPU}"]`);
  await page.fill("#maxCostUsd", "2");
  await page.waitForSelector("#submit:not([disabled])", { timeout: 15_000 });
  await page.waitForSelector("#estimate table");
  await page.click("#submit");
  await page.waitForURL(/\/runs\/[0-9a-f-]{36}$/, { waitUntil: "domcontentloaded" }).catch(async (err: Error) => {
    throw new Error(
      `${err.message}; at ${page.url()}, the form said: ${await page.locator("#submit-error").textContent()}`,
    );
  });
  return page.url().split("/").at(-1) ?? "";
}

beforeAll(async () => {
  if (!haveChromium) return;
  sys = await startSystem();
  key = (await createUserWithKey(sys.db.prisma, { email: "ml@example.com", role: "USER" })).key;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
  page.on("dialog", (d) => void d.accept());
  // the page's own errors, said in the test's output
  page.on("pageerror", (err) => process.stdout.write(`page error: ${err.message}\n`));
  page.on("console", (m) => {
    if (m.type() === "error") process.stdout.write(`page console: ${m.text()}\n`);
  });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  await sys?.stop();
});

describeBrowser("the run pages in a browser", () => {
  it("logs in with the user's own key and lands on My runs", async () => {
    await page.goto(`${sys.apiUrl}/runs`);
    await page.waitForURL(`${sys.apiUrl}/login?next=%2Fruns`);
    await page.fill("input[name=key]", key);
    await Promise.all([page.waitForURL(`${sys.apiUrl}/runs`), page.click("button[type=submit]")]);
    await page.getByText("No runs yet").waitFor();
  });

  it("uploads a dataset through the form: a bad file shows the validator's line numbers, a good one is selected", async () => {
    await page.goto(`${sys.apiUrl}/runs/new`);
    expect(await page.locator("#upload-box").getAttribute("open")).toBe(""); // no dataset yet: the upload is open
    const bad = `${CHAT_DATASET}\n{"messages": "not a list"}\nnot json\n`;
    await page.setInputFiles("#upload-file", {
      name: "bad.jsonl",
      mimeType: "application/x-ndjson",
      buffer: Buffer.from(bad),
    });
    await page.click("#upload");
    await page.locator("#upload-errors li").first().waitFor();
    const errors = await page.locator("#upload-errors li").allTextContents();
    expect(errors.map((e) => e.split(":")[0])).toEqual(["line 3", "line 4"]);
    await page.setInputFiles("#upload-file", {
      name: "chat.jsonl",
      mimeType: "application/x-ndjson",
      buffer: Buffer.from(CHAT_DATASET),
    });
    await page.fill("#upload-name", "chat");
    await page.click("#upload");
    await page.getByText("Checked and stored: 2 rows").waitFor();
    expect(await page.locator("#datasetId option:checked").textContent()).toMatch(/^chat · 2 rows/);
  });

  it("shows every pre-flight problem and keeps submit off until they are fixed", async () => {
    await page.fill("#baseModel", "tiny llama; rm -rf /");
    await page.check(`input[name=gpuTypeIds][value="${GPU}"]`);
    await page.locator("#problems li", { hasText: "baseModel" }).waitFor({ timeout: 15_000 });
    expect(await page.locator("#submit").isDisabled()).toBe(true);
    await page.fill("#baseModel", "tiny-llama");
    await page.waitForSelector("#submit:not([disabled])", { timeout: 15_000 });
    await page.waitForSelector("#estimate table");
    await screenshot("new-run");
  });

  it("submits a run through the form and watches it live until SUCCEEDED: chart points, every phase", async () => {
    const id = await submitThroughForm({ steps: 30, sim_step_ms: 120, eval_fraction: 0.2 });
    await page.waitForSelector('#panel[data-status="SUCCEEDED"][data-closed="true"]', { timeout: 60_000 });
    const d = await api("GET", `/v1/deployments/${id}`);
    expect(d.status).toBe("SUCCEEDED");
    // points per dataset of the page's chart (train loss, eval loss): run in the page
    const points = (await page.evaluate(
      'Chart.getChart(document.getElementById("loss-chart")).data.datasets.map((s) => s.data.length)',
    )) as number[];
    expect(points[0]).toBe(30); // every train step (the first 100 are all kept)
    expect(points[1]).toBeGreaterThanOrEqual(3); // the eval losses
    const phases = (d.phases as Array<{ name: string }>).map((p) => p.name);
    expect(phases).toEqual(
      expect.arrayContaining(["dataset_download", "model_download", "load", "tokenize", "train", "save", "upload"]),
    );
    const shown = await page
      .locator('#timeline tr[data-state="ended"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-phase")));
    expect(shown).toEqual(phases);
    await page.locator("#artifacts a", { hasText: "adapter_model.safetensors" }).waitFor();
    expect(await page.locator("#cost-now").textContent()).toMatch(/^\$0\.\d{4}$/);
    await screenshot("run");
  });

  it("cancels a second run from its page", async () => {
    const id = await submitThroughForm({ steps: 400, sim_step_ms: 100 });
    await page.waitForSelector('#panel[data-status="RUNNING"] button[data-action="cancel"]', { timeout: 30_000 });
    await page.locator("#card-phase", { hasText: "train" }).waitFor({ timeout: 30_000 });
    await page.click('button[data-action="cancel"]');
    await page.waitForSelector('#panel[data-status="CANCELLED"]', { timeout: 15_000 });
    await until(
      "the pod terminated",
      async () => (await api("GET", `/v1/deployments/${id}`)).timestamps.podTerminatedAt,
    );
    expect((await api("GET", `/v1/deployments/${id}`)).status).toBe("CANCELLED");
    await page.goto(`${sys.apiUrl}/runs`);
    expect(await page.locator("#runs tbody tr").count()).toBe(2);
    await screenshot("runs");
  });

  it("resumes a failed run from its page: the new attempt's page shows the chain and the step it resumed from", async () => {
    const id = await submitThroughForm({
      steps: 30,
      sim_step_ms: 150,
      checkpoint_every_steps: 5,
      sim_fail_at_step: 18,
    });
    await page.waitForSelector('#panel[data-status="FAILED"][data-closed="true"]', { timeout: 60_000 });
    const checkpoints = (await api("GET", `/v1/deployments/${id}/checkpoints`)).items as Array<{ step: number }>;
    const step = checkpoints.at(-1)?.step ?? -1;
    expect(step).toBeGreaterThanOrEqual(5);
    const resume = page.locator('button[data-action="resume"]');
    await resume.waitFor({ timeout: 15_000 });
    expect(await resume.textContent()).toBe(`Resume from step ${step}`);
    await Promise.all([
      page.waitForURL((u) => !u.pathname.endsWith(id), { waitUntil: "domcontentloaded" }),
      resume.click(),
    ]);
    const next = page.url().split("/").at(-1) ?? "";
    expect((await api("GET", `/v1/deployments/${next}`)).resume).toMatchObject({
      attempt: 2,
      resumeOfId: id,
      resumedFromStep: step,
    });
    const rows = await page
      .locator("#resume-chain tbody tr")
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll("td")].slice(0, 3).map((td) => td.textContent?.trim())),
      );
    expect(rows).toEqual([
      ["1", id.slice(0, 8), "—"],
      ["2 (this run)", next.slice(0, 8), String(step)],
    ]);
    await page
      .locator("#card-status, .card", { hasText: `resumed from step ${step}` })
      .first()
      .waitFor();
  });

  it("another user's run id answers 404, on the page and in the API", async () => {
    const bob = await TestClient.create(sys, "bob@example.com");
    const theirs = await bob.submit({ steps: 1, sim_step_ms: 10 });
    const res = await page.goto(`${sys.apiUrl}/runs/${theirs.body.id}`);
    expect(res?.status()).toBe(404);
    await page.getByText("Run not found").waitFor();
    const fromPage = await page.evaluate(
      async (id) => (await fetch(`/v1/deployments/${id}`, { credentials: "same-origin" })).status,
      theirs.body.id as string,
    );
    expect(fromPage).toBe(404);
  });
});
