import { createUserWithKey, jobIds } from "@trainpod/core";
import type { System } from "../../support/system";
import { until } from "../../support/until";

export { until };

export const CHAT_DATASET = [
  {
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: "hello" },
    ],
  },
  {
    messages: [
      { role: "user", content: "2+2?" },
      { role: "assistant", content: "4" },
    ],
  },
]
  .map((r) => JSON.stringify(r))
  .join("\n");

/** Uploads a JSONL dataset with the user's key (POST /v1/datasets); answers its id, throws unless 201. */
export async function uploadDataset(sys: System, key: string, name: string, body: string): Promise<string> {
  const up = await fetch(`${sys.apiUrl}/v1/datasets?name=${encodeURIComponent(name)}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/x-ndjson" },
    body,
  });
  if (up.status !== 201) throw new Error(`dataset upload failed: ${up.status} ${await up.text()}`);
  return ((await up.json()) as { id: string }).id;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

/** A user of the running system: their key, their dataset, and calls to the API with them. */
export class TestClient {
  constructor(
    private readonly sys: System,
    readonly key: string,
    readonly datasetId: string,
  ) {}

  static async create(sys: System, email: string): Promise<TestClient> {
    const { key } = await createUserWithKey(sys.db.prisma, { email, role: "USER" });
    return new TestClient(sys, key, await uploadDataset(sys, key, "chat", CHAT_DATASET));
  }

  async api(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: Json }> {
    const res = await fetch(`${this.sys.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, "content-type": "application/json", ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Json };
  }

  submit(hyperparameters: Json, extra: Json = {}, headers: Record<string, string> = {}) {
    return this.api(
      "POST",
      "/v1/deployments",
      {
        datasetId: this.datasetId,
        baseModel: "tiny-llama",
        gpuTypeIds: ["NVIDIA GeForce RTX 4090"],
        hyperparameters,
        ...extra,
      },
      headers,
    );
  }

  async get(id: string): Promise<Json> {
    return (await this.api("GET", `/v1/deployments/${id}`)).body;
  }

  /**
   * Waits until every one of `ids` has its pod termination confirmed, however long a busy machine takes, as long as
   * they progress: it fails (saying what happened to the first still open) only when none closed for `stallMs`.
   * For many deployments behind a slot limit, where a slow CI machine and a lost wake-up differ only in that.
   */
  async settledAll(ids: string[], stallMs: number): Promise<Json[]> {
    let closed = 0;
    let progressAt = Date.now();
    for (;;) {
      const rows = await this.sys.db.prisma.deployment.findMany({
        where: { id: { in: ids } },
        select: { id: true, podTerminatedAt: true },
      });
      const open = rows.filter((r) => r.podTerminatedAt === null).map((r) => r.id);
      if (open.length === 0) return Promise.all(ids.map((id) => this.get(id)));
      if (ids.length - open.length > closed) [closed, progressAt] = [ids.length - open.length, Date.now()];
      // stalled: throws, saying where the first open one is (unless it closed just now: progress after all)
      if (Date.now() - progressAt > stallMs)
        await this.settled(open[0] as string, 1).catch((err: Error) => {
          const stalled = `none of ${ids.length} deployments closed for ${stallMs} ms (${open.length} open); the first open one:`;
          throw new Error(`${stalled}\n${err.message}`, { cause: err });
        });
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** Waits until the deployment's pod termination is confirmed; on timeout says what happened. */
  async settled(id: string, timeoutMs = 20_000): Promise<Json> {
    try {
      return await until(
        `deployment ${id} closed`,
        async () => {
          const d = await this.get(id);
          return d.timestamps?.podTerminatedAt ? d : null;
        },
        timeoutMs,
      );
    } catch (err) {
      const d = await this.get(id);
      const pod = d.pod?.id ? await (await this.sys.sim.admin(`/admin/pods/${d.pod.id}/logs`)).text() : "(no pod)";
      const problems = this.sys.logs.filter((l) => /"level":"(warn|error)"/.test(l)).slice(-20);
      // a deployment left QUEUED: where its deploy job is (waiting, active, delayed for a retry, completed, gone)
      const deployJob = await this.deployJobState(id).catch((e: Error) => `not read (${e.message})`);
      throw new Error(
        `${(err as Error).message}\ndeploy job: ${deployJob}\n${JSON.stringify(d, null, 1).slice(0, 4000)}\npod log:\n${pod.slice(-3000)}\nlogs:\n${problems.join("\n")}`,
        { cause: err },
      );
    }
  }

  /** Where the deployment's deploy job is: its state, attempts, last error and delay; "none" when there is none. */
  private async deployJobState(id: string): Promise<string> {
    const job = await this.sys.worker.queues.deploy.getJob(jobIds.deploy(id));
    if (!job) return "none";
    return `${await job.getState()}, attempts ${job.attemptsMade}, ${job.failedReason ?? "no error"}, delay ${job.delay} ms`;
  }

  async simPod(
    podId: string,
  ): Promise<{ status: string; accruedCostMicros: number; terminatedAt: string | null; restarts: number }> {
    return (await (await this.sys.sim.admin(`/admin/pods/${podId}`)).json()) as never;
  }
}
