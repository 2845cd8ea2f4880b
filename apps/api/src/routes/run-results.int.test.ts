/**
 * Where a run's results went besides trainpod (issue 25), over HTTP: the pod's `hub_push` and `wandb` reports
 * (POST /v1/runs/:id/events) become the deployment's hub {url | error} and wandb {url} in GET /v1/deployments/:id,
 * one row each; a repeat changes nothing, a bad URL is 400 and writes nothing.
 */
import { useRunEventsApi } from "../../../../test/support/run-events-api";
import { deploymentWithEventsSchema } from "../openapi/response-schemas";

const api = useRunEventsApi();
const { post, get } = api;

const runningDeployment = () =>
  api.runningDeployment({ hubRepo: "alice/tiny-lora", hubMerged: true, wandbProject: "runs", wandbName: "try 1" });

const WANDB = "https://wandb.ai/alice/runs/runs/abc123";
const COMMIT = "https://huggingface.co/alice/tiny-lora/commit/0123abcd";

describe("results over HTTP (hub push, W&B)", () => {
  it("the W&B run's URL and the hub commit land on the deployment, with a row each; a repeat changes nothing", async () => {
    const d = await runningDeployment();
    const before = await get(d.id);
    expect(before.hub).toEqual({ repo: "alice/tiny-lora", merged: true, url: null, error: null });
    expect(before.wandb).toEqual({ project: "runs", name: "try 1", url: null });

    expect(await post(d, { type: "wandb", seq: 1, url: WANDB })).toEqual({ status: 202, body: { ok: true } });
    expect(await post(d, { type: "hub_push", seq: 2, url: COMMIT })).toEqual({ status: 202, body: { ok: true } });
    const repeat = await post(d, { type: "hub_push", seq: 2, error: "late" });
    expect(repeat).toEqual({ status: 202, body: { ok: true, applied: false } });

    const view = await get(d.id);
    expect(deploymentWithEventsSchema.safeParse(view).error).toBeUndefined();
    expect(view.hub).toEqual({ repo: "alice/tiny-lora", merged: true, url: COMMIT, error: null });
    expect(view.wandb).toEqual({ project: "runs", name: "try 1", url: WANDB });
    const rows = (view.events as Array<{ type: string; data: unknown }>).map((e) => [e.type, e.data]);
    expect(rows).toEqual([
      ["wandb", { url: WANDB }],
      ["hub_push", { url: COMMIT }],
    ]);
  });

  it("a failed push is the deployment's hub error (the run goes on: it still completes)", async () => {
    const d = await runningDeployment();
    const error = "hub push to alice/tiny-lora failed: HTTP 401: the token lacks write access to alice/tiny-lora";
    expect(await post(d, { type: "hub_push", seq: 1, error })).toMatchObject({ status: 202 });
    expect(await post(d, { type: "completed", seq: 2 })).toMatchObject({ status: 202 });
    const view = await get(d.id);
    expect(view.status).toBe("SUCCEEDED");
    expect(view.hub).toMatchObject({ url: null, error });
  });

  it("refuses a URL that is not http(s), or both url and error, with 400 and writes nothing", async () => {
    const d = await runningDeployment();
    for (const body of [
      { type: "wandb", seq: 1, url: "javascript:alert(1)" },
      { type: "hub_push", seq: 1, url: COMMIT, error: "both" },
      { type: "hub_push", seq: 1 },
    ])
      expect(await post(d, body)).toMatchObject({ status: 400, body: { error: { code: "VALIDATION_FAILED" } } });
    const row = await api.h.db.prisma.deployment.findUniqueOrThrow({ where: { id: d.id } });
    expect([row.hubPushedUrl, row.hubPushError, row.wandbUrl, row.lastEventSeq]).toEqual([null, null, null, null]);
    expect(await api.h.db.prisma.deploymentEvent.count({ where: { deploymentId: d.id } })).toBe(0);
  });
});
