/**
 * The run pages at the HTTP level: the users' login (the admin login's session, for any role), that session on the
 * user API with the same cookie and origin rules, the pages showing only the caller's runs, HTML escaping, the
 * progress history on the run page, and the user's retry. The browser's view: test/e2e/run-page.browser.test.ts.
 */
import request from "supertest";
import { recordEvent } from "@trainpod/core";
import { startTestApi, type ApiHarness } from "../../../../test/support/api-harness";
import { makeDataset, makeDeployment, makeUser } from "../../../../test/factories";

let h: ApiHarness;
let alice: { id: string; key: string; datasetId: string };
let bob: { id: string; key: string; datasetId: string };

const SAME = { "sec-fetch-site": "same-origin", "sec-fetch-mode": "cors" };
const NAVIGATE = { "sec-fetch-site": "none", "sec-fetch-mode": "navigate", accept: "text/html" };
const api = () => request(h.url);

async function person(email: string) {
  const { user, key } = await makeUser(h.db.prisma, { email });
  return { id: user.id, key, datasetId: (await makeDataset(h.db.prisma, user.id)).id };
}
const owner = (p: { id: string; datasetId: string }) => ({ userId: p.id, datasetId: p.datasetId });

/** Logs in at /login (JSON, our own origin); answers the `tp_admin=<id>` cookie pair. */
async function login(key: string): Promise<string> {
  const res = await api().post("/login").set(SAME).send({ key }).expect(204);
  const cookie = ([] as string[]).concat(res.headers["set-cookie"] ?? []).find((c) => c.startsWith("tp_admin="));
  expect(cookie).toMatch(/HttpOnly/);
  expect(cookie).toMatch(/SameSite=Strict/);
  return (cookie ?? "").split(";")[0] ?? "";
}

beforeAll(async () => {
  h = await startTestApi();
  alice = await person("alice@example.com");
  bob = await person("bob@example.com");
});
afterAll(async () => {
  await h?.close();
});

describe("the users' login", () => {
  it("any user's key logs in from our own origin; another origin, no origin, or a bad key: refused, no cookie", async () => {
    expect(await login(alice.key)).toMatch(/^tp_admin=/);
    for (const headers of [{ "sec-fetch-site": "cross-site" }, {}, { origin: "https://evil.example" }]) {
      const res = await api().post("/login").set(headers).send({ key: alice.key });
      expect([res.status, res.body.error?.code, res.headers["set-cookie"]]).toEqual([403, "FORBIDDEN", undefined]);
    }
    const bad = await api().post("/login").set(SAME).send({ key: "tp_live_nope" });
    expect([bad.status, bad.headers["set-cookie"]]).toEqual([401, undefined]);
  });

  it("a form login goes back to the run page it came from, never elsewhere", async () => {
    const form = (next: string) =>
      api()
        .post("/login")
        .set({ ...NAVIGATE, "sec-fetch-site": "same-origin" })
        .type("form")
        .send({ key: alice.key, next });
    const id = "0b8e3f0e-1d2c-4c4b-9a57-1f0e5a2b3c4d";
    expect((await form(`/runs/${id}`)).headers.location).toBe(`/runs/${id}`);
    for (const evil of ["https://evil.example/", "//evil.example", "/dashboard/", "/runs/../admin"])
      expect((await form(evil)).headers.location).toBe("/runs");
  });

  it("a browser opening a run page without a session is sent to the login, then back; a script gets 401", async () => {
    const d = await makeDeployment(h.db.prisma, owner(alice));
    const nav = await api().get(`/runs/${d.id}`).set(NAVIGATE).expect(303);
    expect(nav.headers.location).toBe(`/login?next=${encodeURIComponent(`/runs/${d.id}`)}`);
    const script = await api().get(`/runs/${d.id}`).expect(401);
    expect(script.body.error.code).toBe("UNAUTHORIZED");
  });
});

describe("the session on the user API and the pages", () => {
  it("reads and acts on the user's own runs only; another user's run is 404 everywhere", async () => {
    const cookie = await login(alice.key);
    const mine = await makeDeployment(h.db.prisma, owner(alice), { status: "RUNNING", podId: "pod-a" });
    const theirs = await makeDeployment(h.db.prisma, owner(bob), { status: "RUNNING", podId: "pod-b" });
    const list = await api().get("/v1/deployments").set({ cookie }).expect(200);
    const ids = (list.body.items as Array<{ id: string }>).map((d) => d.id);
    expect(ids).toContain(mine.id);
    expect(ids).not.toContain(theirs.id);
    const page = await api()
      .get("/runs")
      .set({ cookie, ...NAVIGATE })
      .expect(200);
    expect(page.text).toContain(`/runs/${mine.id}`);
    expect(page.text).not.toContain(theirs.id);
    for (const path of [`/runs/${theirs.id}`, `/runs/${theirs.id}/panel`, `/v1/deployments/${theirs.id}`])
      expect([path, (await api().get(path).set({ cookie })).status]).toEqual([path, 404]);
    const html404 = await api()
      .get(`/runs/${theirs.id}`)
      .set({ cookie, ...NAVIGATE });
    expect([html404.status, html404.type]).toEqual([404, "text/html"]);
    expect(html404.text).not.toContain("pod-b");
    const cancelTheirs = await api()
      .post(`/v1/deployments/${theirs.id}/cancel`)
      .set({ cookie, ...SAME });
    expect(cancelTheirs.status).toBe(404);
    expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: theirs.id } })).status).toBe("RUNNING");
  });

  it("a change from another origin with the cookie is 403 and changes nothing; from our own, it goes through", async () => {
    const cookie = await login(alice.key);
    const d = await makeDeployment(h.db.prisma, owner(alice), { status: "RUNNING", podId: "pod-c" });
    for (const headers of [{ "sec-fetch-site": "cross-site" }, { "sec-fetch-site": "same-site" }, {}]) {
      const res = await api()
        .post(`/v1/deployments/${d.id}/cancel`)
        .set({ cookie, ...headers });
      expect([res.status, res.body.error?.code]).toEqual([403, "FORBIDDEN"]);
    }
    expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).status).toBe("RUNNING");
    await api()
      .post(`/v1/deployments/${d.id}/cancel`)
      .set({ cookie, ...SAME })
      .expect(202);
    expect((await h.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } })).status).toBe("CANCELLED");
  });

  it("a USER's session does not open the operators' screens; after logout it opens nothing", async () => {
    const cookie = await login(alice.key);
    for (const path of ["/v1/stats", "/v1/admin/deployments", "/dashboard/"])
      expect([path, (await api().get(path).set({ cookie })).status]).toEqual([path, 403]);
    await api()
      .post("/logout")
      .set({ cookie, ...SAME })
      .expect(204);
    await api().get("/v1/deployments").set({ cookie }).expect(401);
  });
});

describe("the run page", () => {
  it("shows the stored loss curve in step order, the phases, and escapes what the pod wrote", async () => {
    const cookie = await login(alice.key);
    const d = await makeDeployment(h.db.prisma, owner(alice), {
      status: "FAILED",
      failureReason: "TRAINING_FAILED",
      failureMessage: "step 3\n<script>alert(1)</script> Traceback",
      exitCode: 1,
    });
    for (const [step, loss, evalLoss] of [
      [2, 1.5, null],
      [1, 2.0, null],
      [3, 1.2, 1.4],
    ] as const)
      await recordEvent(h.db.prisma, d.id, {
        type: "progress",
        data: { step, loss, ...(evalLoss ? { evalLoss } : {}) },
      });
    await recordEvent(h.db.prisma, d.id, {
      type: "phase_ended",
      data: { phase: "model_download", seconds: 12.5, bytes: 2_000_000_000, unit: "bytes" },
    });
    const page = await api().get(`/runs/${d.id}`).set({ cookie }).expect(200);
    expect(page.text).not.toContain("<script>alert(1)</script>");
    expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    const data = JSON.parse(
      /<script type="application\/json" id="run-data">(.*?)<\/script>/s.exec(page.text)?.[1] ?? "",
    );
    expect(data.points).toEqual([
      { step: 1, loss: 2, evalLoss: null },
      { step: 2, loss: 1.5, evalLoss: null },
      { step: 3, loss: 1.2, evalLoss: 1.4 },
    ]);
    expect(page.text).toMatch(/data-phase="model_download"[\s\S]*?12\.5 s[\s\S]*?2\.0 GB/);
    expect(page.text).toContain('data-action="retry"');
    expect(page.text).not.toContain('data-action="cancel"');
  });
});

describe("estimate beside actual", () => {
  it("My runs and the run page show the submission's estimate next to what the run cost", async () => {
    const cookie = await login(alice.key);
    const at = new Date();
    const d = await makeDeployment(h.db.prisma, owner(alice), {
      status: "SUCCEEDED",
      estimatedSeconds: 600,
      estimatedCostMicros: 100_000n,
      estimatedTokens: 1_000_000n,
      trainTokens: 1_200_000n,
      runtimeSeconds: 900,
      costMicros: 150_000n,
      podCreatedAt: new Date(at.getTime() - 900_000),
      podTerminatedAt: at,
    });
    const list = await api().get("/runs").set({ cookie }).expect(200);
    expect(list.text).toMatch(
      new RegExp(`/runs/${d.id}[\\s\\S]*?est\\. \\$0\\.1000 · 10 min 00 s[\\s\\S]*?actual \\$0\\.1500`),
    );
    const page = await api().get(`/runs/${d.id}`).set({ cookie }).expect(200);
    const table = /<table id="estimate">([\s\S]*?)<\/table>/.exec(page.text)?.[1] ?? "";
    expect(
      table
        .replace(/<[^>]+>/g, " ")
        .replace(/\s+/g, " ")
        .trim(),
    ).toBe(
      "estimate actual tokens 1,000,000 1,200,000 (+20%) runtime 10 min 00 s 15 min 00 s (+50%) cost $0.1000 $0.1500 (+50%)",
    );
  });
});

describe("POST /v1/deployments/:id/retry", () => {
  it("the owner's FAILED run: a new one linked to it (once); a live one 409; someone else's 404", async () => {
    const failed = await makeDeployment(h.db.prisma, owner(alice), {
      status: "FAILED",
      failureReason: "TRAINING_FAILED",
      imageName: "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
    });
    const auth = { authorization: `Bearer ${alice.key}` };
    const first = await api().post(`/v1/deployments/${failed.id}/retry`).set(auth);
    expect([first.status, first.body.status, first.body.retryOfId]).toEqual([202, "QUEUED", failed.id]);
    const again = await api().post(`/v1/deployments/${failed.id}/retry`).set(auth);
    expect([again.status, again.body.id]).toEqual([200, first.body.id]);
    const live = await makeDeployment(h.db.prisma, owner(alice), { status: "RUNNING" });
    expect((await api().post(`/v1/deployments/${live.id}/retry`).set(auth)).status).toBe(409);
    const other = await api()
      .post(`/v1/deployments/${failed.id}/retry`)
      .set({ authorization: `Bearer ${bob.key}` });
    expect([other.status, other.body.error.code]).toEqual([404, "NOT_FOUND"]);
  });
});

describe("the resume chain on the run page", () => {
  /** The table's text, cell by cell ("|" between cells, one line a row). */
  const tableText = (html: string, id: string) =>
    (new RegExp(`<table id="${id}">([\\s\\S]*?)</table>`).exec(html)?.[1] ?? "")
      .split(/<\/tr>/)
      .map((row) =>
        row
          .split(/<\/t[dh]>/)
          .map((cell) =>
            cell
              .replace(/<[^>]+>/g, " ")
              .replace(/\s+/g, " ")
              .trim(),
          )
          .filter(Boolean)
          .join("|"),
      )
      .filter(Boolean);

  it("a FAILED run with a checkpoint offers Resume; the resumed attempt's page shows the chain and the step it resumed from", async () => {
    const cookie = await login(alice.key);
    const at = Date.now();
    const lost = await makeDeployment(h.db.prisma, owner(alice), {
      status: "FAILED",
      failureReason: "POD_VANISHED",
      imageName: "runpod/pytorch:1.0.2-cu1281-torch280-ubuntu2204",
      podId: "pod-lost",
      costPerHrMicros: 690_000n,
      podCreatedAt: new Date(at - 600_000),
      podTerminatedAt: new Date(at),
      costMicros: 115_000n,
      runtimeSeconds: 600,
      progressStep: 35,
    });
    const noCheckpoint = await makeDeployment(h.db.prisma, owner(alice), {
      status: "FAILED",
      failureReason: "POD_VANISHED",
      podTerminatedAt: new Date(at),
    });
    for (const file of ["adapter_model.safetensors", "trainpod-checkpoint.json"])
      await h.db.prisma.artifact.create({
        data: {
          deploymentId: lost.id,
          path: `checkpoints/step-000030/${file}`,
          storageKey: `${lost.id}/checkpoints/step-000030/${file}`,
          sizeBytes: 10n,
          sha256: "0".repeat(64),
          status: "STORED",
          uploadedAt: new Date(at - 60_000),
        },
      });

    const before = await api().get(`/runs/${lost.id}`).set({ cookie }).expect(200);
    expect(before.text).toMatch(
      new RegExp(`<button[^>]*data-action="resume" data-id="${lost.id}"[^>]*>Resume from step 30<`),
    );
    expect(before.text).toContain('data-action="retry"');
    expect(before.text).not.toContain('id="resume-chain"');
    const none = await api().get(`/runs/${noCheckpoint.id}/panel`).set({ cookie }).expect(200);
    expect(none.text).not.toContain('data-action="resume"');

    // the page's button: the session, from our own origin (as the page's script sends it); another origin is 403
    const cross = await api().post(`/v1/deployments/${lost.id}/resume`).set({ cookie, "sec-fetch-site": "cross-site" });
    expect([cross.status, await h.db.prisma.deployment.count({ where: { resumeOfId: lost.id } })]).toEqual([403, 0]);
    const resumed = await api()
      .post(`/v1/deployments/${lost.id}/resume`)
      .set({ cookie, ...SAME })
      .expect(202);
    const next = resumed.body.id as string;
    expect(resumed.body.resume).toMatchObject({ attempt: 2, resumeOfId: lost.id, resumedFromStep: 30 });

    const panel = await api().get(`/runs/${next}/panel`).set({ cookie }).expect(200);
    expect(tableText(panel.text, "resume-chain")).toEqual([
      "attempt|run|resumed from step|reached|cost|status",
      `1|${lost.id.slice(0, 8)}|—|35|$0.1150|FAILED POD_VANISHED`,
      `2 (this run)|${next.slice(0, 8)}|30|—|—|QUEUED`,
      "all attempts|$0.1150",
    ]);
    expect(panel.text).toContain(`href="/runs/${lost.id}"`);
    // 30 of the 35 steps the lost attempt trained for $0.115 were not trained again: $0.098571
    expect(panel.text).toMatch(
      /id="resume-saved"[^>]*>Resuming saved <b>\$0\.0986<\/b> against starting over from step 0/,
    );
    expect(panel.text).toContain("resumed from step 30");

    // the interrupted run's page: the same chain, no second Resume (it was resumed), a link to the attempt that did
    const after = await api().get(`/runs/${lost.id}/panel`).set({ cookie }).expect(200);
    expect(after.text).not.toContain('data-action="resume"');
    expect(tableText(after.text, "resume-chain")[2]).toBe(`2|${next.slice(0, 8)}|30|—|—|QUEUED`);
    expect(after.text).toContain(`href="/runs/${next}"`);
  });
});
