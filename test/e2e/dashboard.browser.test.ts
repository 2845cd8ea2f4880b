import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import type { FailureReason } from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../factories";
import { loginThroughPage } from "./support/browser";

/*
 * The dashboard in a real browser: Debian's chromium, driven by playwright-core. Skipped (with the
 * reason printed) only where chromium is not installed; .ci/run installs it.
 * UPDATE_SCREENSHOT=1 also writes docs/dashboard.png.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium)
  process.stdout.write(`dashboard.browser.test: SKIPPED, no chromium at ${CHROMIUM} (apt-get install chromium)\n`);
const describeBrowser = haveChromium ? describe : describe.skip;
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let h: ApiHarness;
let adminKey: string;
let failedId: string;
let profile: string;
let browser: Browser;
let context: BrowserContext;

async function seed(): Promise<void> {
  const p = h.db.prisma;
  adminKey = (await makeUser(p, { email: "ops@example.com", role: "ADMIN" })).key;
  const { user } = await makeUser(p, { email: "ml@example.com" });
  await p.userLimits.create({ data: { userId: user.id, monthlyBudgetMicros: 1_000_000_000n } });
  const owner = { userId: user.id, datasetId: (await makeDataset(p, user.id)).id };
  const day = 24 * 3600_000;
  const now = Date.now();
  const reasons: FailureReason[] = [
    "TRAINING_FAILED",
    "DATASET_DOWNLOAD_FAILED",
    "SETUP_TIMEOUT",
    "NO_CAPACITY",
    "HEARTBEAT_TIMEOUT",
  ];
  for (let i = 0; i < 24; i += 1) {
    const createdAt = new Date(now - ((i * 5) % 20) * day - i * 3600_000);
    const failed = i % 3 === 0;
    const at = (s: number) => new Date(createdAt.getTime() + s * 1000);
    await makeDeployment(p, owner, {
      createdAt,
      status: failed ? "FAILED" : "SUCCEEDED",
      failureReason: failed ? reasons[i % reasons.length] : null,
      failureMessage: failed
        ? `train failed with exit code 1\nstep ${i} loss nan\nTraceback: RuntimeError: CUDA out of memory`
        : null,
      exitCode: failed ? 1 : 0,
      podId: `pod-seed-${i}`,
      gpuTypeId: "NVIDIA A40",
      costPerHrMicros: 790_000n,
      runningAt: at(30 + i * 3),
      trainingStartedAt: at(60 + i * 4),
      finishedAt: at(600 + i * 90),
      podTerminatedAt: at(601 + i * 90),
      runtimeSeconds: 600 + i * 90,
      costMicros: BigInt(130_000 + i * 20_000),
      attempts: 1 + (i % 4 === 0 ? 2 : 0),
      terminateAttempts: 1,
    });
  }
  await makeDeployment(p, owner, {
    status: "RUNNING",
    podId: "pod-live-1",
    gpuTypeId: "NVIDIA A40",
    phase: "model_download",
    phaseState: "progress",
    phaseStartedAt: new Date(now - 200_000),
    phaseDone: 3_200_000_000n,
    phaseTotal: 16_000_000_000n,
    phaseUnit: "bytes",
    costPerHrMicros: 790_000n,
    podCreatedAt: new Date(now - 300_000),
  });
  const newest = await makeDeployment(p, owner, {
    status: "FAILED",
    failureReason: "TRAINING_FAILED",
    failureMessage: "train failed with exit code 137\nKilled: out of memory at step 12",
    exitCode: 137,
    costMicros: 42_000n,
    finishedAt: new Date(now - 60_000),
    podTerminatedAt: new Date(now - 59_000),
  });
  failedId = newest.id;
  // RunPod refused for money once, and billed one run $0.05 more than trainpod counted
  await makeDeployment(p, owner, {
    status: "FAILED",
    failureReason: "INSUFFICIENT_BALANCE",
    failureMessage: "RunPod POST /pods answered 402: Insufficient balance",
    finishedAt: new Date(now - 30_000),
    podTerminatedAt: new Date(now - 30_000),
  });
  await makeDeployment(p, owner, {
    status: "SUCCEEDED",
    podId: "pod-billed-1",
    costPerHrMicros: 790_000n,
    costMicros: 100_000n,
    podCreatedAt: new Date(now - 600_000),
    podTerminatedAt: new Date(now - 120_000),
    runpodBilledMicros: 150_000n,
    runpodGpuMicros: 150_000n,
    runpodCpuMicros: 0n,
    runpodDiskMicros: 0n,
    runpodBilledAt: new Date(now - 60_000),
  });
}

beforeAll(async () => {
  if (!haveChromium) return;
  h = await startTestApi();
  await seed();
  profile = mkdtempSync(path.join(os.tmpdir(), "trainpod-chromium-"));
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  context = await browser.newContext({ viewport: { width: 1400, height: 1500 } });
}, 60_000);
afterAll(async () => {
  await context?.close();
  await browser?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await h?.close();
});

/** How many canvases of the page have at least one drawn (non-transparent) pixel, of how many (runs in the page). */
const DRAWN_CANVASES = `(() => {
  const canvases = Array.from(document.querySelectorAll("canvas"));
  const drawn = canvases.filter((c) => {
    const ctx = c.getContext("2d");
    if (!ctx || c.width === 0 || c.height === 0) return false;
    const px = ctx.getImageData(0, 0, c.width, c.height).data;
    for (let i = 3; i < px.length; i += 4) if (px[i] !== 0) return true;
    return false;
  });
  return { total: canvases.length, drawn: drawn.length };
})()`;

const drawnCanvases = (page: Page) => page.evaluate<{ total: number; drawn: number }>(DRAWN_CANVASES);

describeBrowser("the dashboard in headless Chromium", () => {
  it("without a session: no Basic prompt (401 with a Bearer challenge); a browser is sent to the login page", async () => {
    const res = await fetch(`${h.url}/dashboard/`);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="trainpod admin"');
    const page = await context.newPage();
    const opened = await page.goto(`${h.url}/dashboard/`);
    expect(opened?.url()).toBe(`${h.url}/admin/login?next=%2Fdashboard%2F`);
    expect(await page.locator("form input[name=key][type=password]").count()).toBe(1);
    await page.close();
  });

  it("logs in through the login page, draws the charts, lists the failed deployment; retry makes a new deployment appear", async () => {
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await loginThroughPage(page, h.url, adminKey);
    await page.waitForSelector("body[data-loaded=true]", { timeout: 15_000 });
    await page.waitForFunction('document.querySelectorAll("canvas").length === 5');
    expect(await drawnCanvases(page)).toEqual({ total: 5, drawn: 5 });
    const row = page.locator(`#failed tr[data-id="${failedId}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("TRAINING_FAILED");
    expect(await row.textContent()).toContain("137");
    expect(await row.textContent()).toContain("Killed: out of memory at step 12");
    // each row links to the deployment's artifact list (the admin route, which this session may read)
    const files = row.locator("a.artifacts");
    expect(await files.getAttribute("href")).toBe(`/v1/admin/deployments/${failedId}/artifacts`);
    const list = await page.evaluate(
      async (href) => (await fetch(href)).status,
      `/v1/admin/deployments/${failedId}/artifacts`,
    );
    expect(list).toBe(200);
    expect(await page.locator("#live tbody tr").count()).toBe(1);
    // the pod's phase and how far it is (issue 23: a 16 GB model downloading is not a dead pod)
    expect(await page.locator("#live tbody tr td.phase").textContent()).toBe("model_download 3.2/16.0 GB");
    // said loudly: RunPod's 402, and a bill that disagrees with ours
    expect(await page.locator("#alerts .alert-balance").textContent()).toContain(
      "1 deployment(s) failed with INSUFFICIENT_BALANCE",
    );
    expect(await page.locator("#alerts .alert-billing").textContent()).toContain(
      "differs from trainpod's cost on 1 deployment(s)",
    );
    expect(await page.locator("#billing").textContent()).toContain("$0.1500");
    // spend against limit per user (ml@example.com has a budget of its own: see beforeAll)
    const spendRow = page.locator('#spend tr[data-user="ml@example.com"]');
    expect(await spendRow.locator("td").nth(3).textContent()).toBe("$1000.0000");
    expect(await spendRow.locator("td").nth(4).textContent()).toMatch(/^\d+ %$/);
    if (process.env.UPDATE_SCREENSHOT === "1")
      await page.screenshot({ path: path.resolve(__dirname, "../../docs/dashboard.png"), fullPage: true });
    await page.screenshot({ path: path.join(profile, "dashboard.png"), fullPage: true });

    await row.locator("button[data-action=retry]").click();
    const retry = page.locator(`#recent tr[data-retry-of="${failedId}"]`);
    await retry.waitFor({ timeout: 10_000 });
    expect(await retry.textContent()).toContain("QUEUED");
    const created = await h.db.prisma.deployment.findMany({ where: { retryOfId: failedId } });
    expect(created).toHaveLength(1);
    expect(await retry.getAttribute("data-id")).toBe(created[0]?.id);
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);

  it("an operator sees the same lists without Retry or Cancel buttons", async () => {
    const operator = await makeUser(h.db.prisma, { email: "operator@example.com", role: "OPERATOR" });
    const own = await browser.newContext();
    const page = await own.newPage();
    await loginThroughPage(page, h.url, operator.key);
    await page.waitForSelector("body[data-loaded=true][data-role=OPERATOR]", { timeout: 15_000 });
    await page.locator(`#failed tr[data-id="${failedId}"]`).waitFor();
    expect(await page.locator("#failed tr").count()).toBeGreaterThan(0);
    expect(await page.locator("button[data-action]").count()).toBe(0);
    await own.close();
  }, 60_000);

  it("opens Bull Board and sees every queue", async () => {
    const page = await context.newPage();
    const res = await page.goto(`${h.url}/admin/queues/`);
    expect(res?.status()).toBe(200);
    for (const q of ["deploy", "terminate", "monitor", "reconcile", "maintenance"]) {
      await page.getByText(q, { exact: true }).first().waitFor({ timeout: 15_000 });
    }
    await page.close();
  }, 60_000);
});
