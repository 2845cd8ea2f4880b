/**
 * GET /v1/runs/:id/agent: the pod agent's zipapp, to the deployment's run token only; the bytes and the sha256 the
 * worker pins in the pod's env (TRAINPOD_AGENT_SHA256) are the same.
 */
import { createHash } from "node:crypto";
import {
  agentBundle,
  createUserWithKey,
  mintRunToken,
  podUrls,
  revokeDeploymentTokens,
  type PodLauncherDeps,
} from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { insertDeployment, leakedSecrets, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let owner: { id: string; key: string; dataset: string };
const secrets: string[] = [];

beforeAll(async () => {
  h = await startTestApi();
  const u = await createUserWithKey(h.db.prisma, { email: "agent@example.com" });
  owner = { id: u.user.id, key: u.key, dataset: (await makeDataset(h.db.prisma, u.user.id)).id };
  secrets.push(u.key);
});
afterAll(async () => {
  await h?.close();
});

async function run(): Promise<{ id: string; token: string }> {
  const id = await insertDeployment(h, owner.id, owner.dataset);
  const deps: Pick<PodLauncherDeps, "prisma" | "clock" | "config"> = {
    prisma: h.db.prisma,
    clock: h.clock,
    config: h.config,
  };
  const { token } = await mintRunToken(deps, { deploymentId: id });
  secrets.push(token);
  return { id, token };
}

const get = (id: string, auth?: string) =>
  fetch(`${h.url}/v1/runs/${id}/agent`, { headers: auth === undefined ? {} : { authorization: auth } });

describe("GET /v1/runs/:id/agent", () => {
  it("answers the zipapp to the run token: application/zip, X-Content-SHA256 = the pinned sha256, no-store", async () => {
    const r = await run();
    // the URL the worker puts in the pod's env (TRAINPOD_AGENT_URL), under the API's public URL
    expect(podUrls(h.url, r.id).agent).toBe(`${h.url}/v1/runs/${r.id}/agent`);
    const res = await get(r.id, `Bearer ${r.token}`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/zip");
    expect(res.headers.get("cache-control")).toBe("no-store");
    const bytes = Buffer.from(await res.arrayBuffer());
    const sha = createHash("sha256").update(bytes).digest("hex");
    expect(res.headers.get("x-content-sha256")).toBe(sha);
    expect(sha).toBe(agentBundle().sha256);
    expect(bytes.equals(agentBundle().bytes)).toBe(true);
    expect(Number(res.headers.get("content-length"))).toBe(bytes.length);
    expect(bytes.subarray(0, 4).toString("latin1")).toBe("PK\x03\x04"); // a zip (its entries: agent-bundle.test.ts)
    expect(bytes.includes("trainpod_agent/__main__.py")).toBe(true);
  });

  it("no token, a made-up one, another deployment's, or one revoked at termination: 401 and no bytes", async () => {
    const mine = await run();
    const theirs = await run();
    const codeOf = async (res: Response) => {
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      return [res.status, ((await res.json()) as { error: { code: string } }).error.code];
    };
    expect(await codeOf(await get(mine.id))).toEqual([401, "UNAUTHORIZED"]);
    expect(await codeOf(await get(mine.id, "Bearer tp_run_madeup"))).toEqual([401, "TOKEN_INVALID"]);
    expect(await codeOf(await get(mine.id, `Bearer ${theirs.token}`))).toEqual([401, "TOKEN_INVALID"]);
    expect(await codeOf(await get(mine.id, `Bearer ${owner.key}`))).toEqual([401, "TOKEN_INVALID"]);
    await revokeDeploymentTokens(h.db.prisma, h.clock, mine.id);
    expect(await codeOf(await get(mine.id, `Bearer ${mine.token}`))).toEqual([401, "TOKEN_REVOKED"]);
  });

  it("no token appears in any log line", () => {
    expect(secrets.length).toBeGreaterThan(3);
    expect(leakedSecrets(h.logs, secrets)).toEqual([]);
  });
});
