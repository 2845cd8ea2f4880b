import http from "node:http";
import type { AddressInfo } from "node:net";
import { chromium, type Browser, type BrowserContext } from "playwright-core";
import { closeQueues, createQueues, createRedis, type Queues, type Redis } from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../factories";
import { TEST_REDIS_URL } from "../support/test-redis";
import { until } from "../support/until";
import { CHROMIUM, CHROMIUM_ARGS, haveChromium, loginThroughPage } from "./support/browser";

/*
 * CSRF on the admin screens, in headless Chromium: a page of ANOTHER origin (a second local server)
 * auto-submits a form POST to cancel a deployment and to add a job through Bull Board, in a browser
 * that holds the admin's credentials, cached Basic (the review's finding) or the login's session.
 * Both are refused, nothing changes; the same actions from trainpod's own pages still work.
 * The HTTP-level rules: apps/api/src/http/admin-session.int.test.ts.
 */
if (!haveChromium)
  process.stdout.write(`csrf.browser.test: SKIPPED, no chromium at ${CHROMIUM} (apt-get install chromium)\n`);
const describeBrowser = haveChromium ? describe : describe.skip;

let h: ApiHarness;
let adminKey: string;
let owner: { userId: string; datasetId: string };
let redis: Redis;
let queues: Queues;
let browser: Browser;
let evil: http.Server;
let evilPort: number;

const attr = (s: string) => s.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");

/** The attacker's page: a form to `?target=` that submits itself on load (Bull Board's add reads name and data). */
function attackerPage(req: http.IncomingMessage, res: http.ServerResponse): void {
  const target = new URL(req.url ?? "/", "http://attacker").searchParams.get("target") ?? "";
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><title>win a GPU</title>
<form method="post" action="${attr(target)}"><input name="name" value="csrf"><input name="data" value="{}"></form>
<script>document.forms[0].submit()</script>`);
}

beforeAll(async () => {
  if (!haveChromium) return;
  h = await startTestApi();
  adminKey = (await makeUser(h.db.prisma, { email: "ops@example.com", role: "ADMIN" })).key;
  const { user } = await makeUser(h.db.prisma, { email: "ml@example.com" });
  owner = { userId: user.id, datasetId: (await makeDataset(h.db.prisma, user.id)).id };
  redis = createRedis(TEST_REDIS_URL, { failFast: true });
  queues = createQueues(redis, h.config.env.QUEUE_PREFIX);
  evil = http.createServer(attackerPage);
  await new Promise<void>((r) => evil.listen(0, "127.0.0.1", r));
  evilPort = (evil.address() as AddressInfo).port;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  if (evil) {
    evil.closeAllConnections();
    await new Promise((r) => evil.close(r));
  }
  if (queues) await closeQueues(queues);
  redis?.disconnect();
  await h?.close();
});

const liveDeployment = async () =>
  (
    await makeDeployment(h.db.prisma, owner, {
      status: "RUNNING",
      podId: `pod-csrf-${Math.random().toString(36).slice(2)}`,
    })
  ).id;
const statusOf = async (id: string) => (await h.db.prisma.deployment.findUniqueOrThrow({ where: { id } })).status;
const maintenanceJobs = async () => Object.values(await queues.maintenance.getJobCounts()).reduce((a, b) => a + b, 0);

/** The attacker's origins: the same host on another port (same site: a SameSite cookie still goes), and another site. */
const attackers = () => ({ otherOrigin: `http://127.0.0.1:${evilPort}`, otherSite: `http://localhost:${evilPort}` });

/** Opens the attacker's page in `context`; answers the status of the POST its form made to `target`. */
async function attack(context: BrowserContext, attacker: string, target: string): Promise<number> {
  const page = await context.newPage();
  try {
    const answered = page.waitForResponse((r) => r.url() === target && r.request().method() === "POST", {
      timeout: 15_000,
    });
    await page.goto(`${attacker}/?target=${encodeURIComponent(target)}`);
    return (await answered).status();
  } finally {
    await page.close();
  }
}

/** Every attacker origin against both actions: the statuses, and whether anything changed. */
async function attackAll(
  context: BrowserContext,
): Promise<{ statuses: Record<string, number>; status: string; jobsAdded: number }> {
  const id = await liveDeployment();
  const jobs = await maintenanceJobs();
  const statuses: Record<string, number> = {};
  for (const [name, origin] of Object.entries(attackers())) {
    statuses[`${name} cancel`] = await attack(context, origin, `${h.url}/v1/admin/deployments/${id}/cancel`);
    statuses[`${name} bull board add`] = await attack(
      context,
      origin,
      `${h.url}/admin/queues/api/queues/maintenance/add`,
    );
  }
  return { statuses, status: await statusOf(id), jobsAdded: (await maintenanceJobs()) - jobs };
}

describeBrowser("CSRF on the admin screens, in headless Chromium", () => {
  it("a browser holding the admin's cached Basic credentials: another origin's form POSTs are refused, nothing cancelled, no job added", async () => {
    const context = await browser.newContext({
      httpCredentials: { username: "ops@example.com", password: adminKey, origin: h.url, send: "always" },
    });
    try {
      const got = await attackAll(context);
      // Basic is never accepted on a request that changes something
      expect(got).toEqual({
        statuses: {
          "otherOrigin cancel": 401,
          "otherOrigin bull board add": 401,
          "otherSite cancel": 401,
          "otherSite bull board add": 401,
        },
        status: "RUNNING",
        jobsAdded: 0,
      });
    } finally {
      await context.close();
    }
  }, 60_000);

  it("an admin logged in on the dashboard: another origin's form POSTs are refused; the same actions from trainpod's own pages work", async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      await loginThroughPage(page, h.url, adminKey);
      const cookie = (await context.cookies(h.url)).find((c) => c.name === "tp_admin");
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });

      const got = await attackAll(context);
      // same site, other port: the Strict cookie goes along, the same-origin check refuses (403);
      // another site: the browser withholds the cookie (401)
      expect(got).toEqual({
        statuses: {
          "otherOrigin cancel": 403,
          "otherOrigin bull board add": 403,
          "otherSite cancel": 401,
          "otherSite bull board add": 401,
        },
        status: "RUNNING",
        jobsAdded: 0,
      });

      // from the dashboard itself: Cancel works
      const id = await liveDeployment();
      await page.reload();
      await page.locator(`#live tr[data-id="${id}"] button[data-action=cancel]`).click();
      await until("the dashboard's cancel", async () => (await statusOf(id)) === "CANCELLED");
      // from Bull Board's own page: its API adds a job (what its Add job dialog sends)
      await page.goto(`${h.url}/admin/queues/`);
      const jobs = await maintenanceJobs();
      const added = await page.evaluate(async () => {
        const res = await fetch("/admin/queues/api/queues/maintenance/add", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ name: "from-the-board", data: {} }),
        });
        return res.status;
      });
      expect(added).toBe(200);
      expect(await maintenanceJobs()).toBe(jobs + 1);

      // logging out from the dashboard ends the session: the cookie's requests are 401 afterwards
      await page.goto(`${h.url}/dashboard/`);
      await Promise.all([page.waitForURL(`${h.url}/admin/login`), page.click("#logout button")]);
      expect(await page.evaluate(async () => (await fetch("/v1/admin/deployments")).status)).toBe(401);
    } finally {
      await context.close();
    }
  }, 90_000);
});
