import { Router, type RequestHandler } from "express";
import {
  AppError,
  HF_TOKEN_SECRET,
  assertPreflight,
  cancelDeployment,
  deploymentEvents,
  assertHyperparameters,
  deploymentView,
  estimateCost,
  estimateDeployment,
  storeEstimate,
  type DeploymentEstimate,
  type DeploymentRequest,
  type EstimateDeps,
  estimateRequestSchema,
  eventView,
  getOwnDeployment,
  listDeployments,
  phaseTimes,
  preflight,
  retryDeployment,
  attemptsView,
  listCheckpoints,
  resumeDeployment,
  parseDeploymentRequest,
  submitDeployment,
  type Clock,
  type JobEnqueuer,
  type PreflightContext,
  type PrismaClient,
  type CloudType,
  type GpuPriceList,
} from "@trainpod/core";
import { currentUserId } from "../http/auth";
import { sendDeployment } from "../http/send-json";

export interface DeploymentRouteDeps {
  prisma: PrismaClient;
  jobs: JobEnqueuer;
  clock: Clock;
  preflight: PreflightContext;
  /** GPU list prices (RunPod's catalog, or the offline table) for a cloud and GPU count */
  prices: (cloud: CloudType, count: number) => Promise<GpuPriceList>;
  /** the estimate from the dataset's tokens (issue 35); absent: no model files to read (prices the stated runtime) */
  estimate?: EstimateDeps;
}

/**
 * The submission's (and /validate's) estimate, before anything is written: a template that cannot render a row is
 * the 422 it throws; anything else (a body the submission refuses anyway, a hub that does not answer) leaves the run
 * without one.
 */
async function submissionEstimate(
  deps: DeploymentRouteDeps,
  userId: string,
  body: DeploymentRequest,
  known?: GpuPriceList,
): Promise<DeploymentEstimate | null> {
  if (deps.estimate === undefined) return null;
  const prices = known ?? (await deps.prices(body.cloudType, body.gpuCount));
  try {
    return await estimateDeployment(deps.estimate, userId, body, prices);
  } catch (err) {
    if (err instanceof AppError && err.code === "UNPROCESSABLE" && /^dataset line \d+: /.test(err.message)) throw err;
    return null;
  }
}

const IDEMPOTENCY_KEY = /^[A-Za-z0-9._:-]{1,200}$/;

/**
 * The deps of one submission: when it names HF_TOKEN, the estimate and the model pre-flight share one read of it
 * (each read and decrypted it).
 */
function oneTokenRead(deps: DeploymentRouteDeps, request: DeploymentRequest): DeploymentRouteDeps {
  const models = deps.preflight.models;
  if (!models || !request.secrets.includes(HF_TOKEN_SECRET)) return deps;
  const answers = new Map<string, Promise<string | undefined>>();
  const hubTokenFor = (userId: string, names: readonly string[]) => {
    const key = `${userId} ${names.join(",")}`;
    let answer = answers.get(key);
    if (answer === undefined) {
      answer = models.hubTokenFor(userId, names);
      answers.set(key, answer);
    }
    return answer;
  };
  return {
    ...deps,
    preflight: { ...deps.preflight, models: { ...models, hubTokenFor } },
    ...(deps.estimate?.hubTokenFor ? { estimate: { ...deps.estimate, hubTokenFor } } : {}),
  };
}

/** A submission as POST /v1/deployments makes it (prices, estimate, submitDeployment); also the OpenAI job's. */
export async function submitWithEstimate(shared: DeploymentRouteDeps, userId: string, body: unknown, key?: string) {
  // the body is checked once, here (a bad one is its 4xx before anything is read), and the parsed request shared
  const request = parseDeploymentRequest(body);
  const deps = oneTokenRead(shared, request);
  const prices = await deps.prices(request.cloudType, request.gpuCount);
  const withPrices = { ...deps, preflight: { ...deps.preflight, prices } };
  const estimate = (await submissionEstimate(deps, userId, request, prices))?.record ?? null;
  const { deployment, created } = await submitDeployment(withPrices, { userId, body, request, idempotencyKey: key });
  if (created && estimate !== null) {
    await storeEstimate(deps.prisma, deployment.id, estimate);
    Object.assign(deployment, {
      estimatedTokens: BigInt(Math.round(estimate.tokens)),
      estimatedSeconds: Math.round(estimate.seconds),
      estimatedCostMicros: estimate.costMicros,
    });
  }
  return { deployment, created };
}

/**
 * POST /v1/deployments, after the API key and the JSON body: 202 with the stored deployment (200 with the earlier
 * one for a repeated Idempotency-Key). The app routes it itself, ahead of every router (app.ts).
 */
export function submissionHandler(deps: DeploymentRouteDeps): RequestHandler {
  return async (req, res) => {
    const key = req.get("idempotency-key");
    if (key !== undefined && !IDEMPOTENCY_KEY.test(key)) {
      throw new AppError("VALIDATION_FAILED", "Idempotency-Key must be 1-200 characters of A-Z a-z 0-9 . _ : -");
    }
    const { deployment, created } = await submitWithEstimate(deps, currentUserId(req), req.body, key);
    sendDeployment(res, deployment, created, deps.clock.now());
  };
}

/** Estimate, validate, list, read and cancel deployments. A user sees only their own (others' ids answer 404). */
export function deploymentRoutes(deps: DeploymentRouteDeps): Router {
  const router = Router();

  router.post("/v1/deployments/estimate", async (req, res) => {
    assertHyperparameters(req.body);
    const body = estimateRequestSchema.parse(req.body);
    const prices = await deps.prices(body.cloudType, body.gpuCount);
    if (deps.estimate === undefined) return void res.json(estimateCost(body, prices));
    const { record: _stored, ...view }: DeploymentEstimate = await estimateDeployment(
      deps.estimate,
      currentUserId(req),
      body,
      prices,
    );
    res.json(view);
  });

  router.post("/v1/deployments/validate", async (req, res) => {
    const body = parseDeploymentRequest(req.body);
    const one = oneTokenRead(deps, body);
    // the dataset through the model's files, as the submission puts it (a template error is its 422), then the checks
    const estimate = await submissionEstimate(one, currentUserId(req), body);
    const ctx = { ...one.preflight, prices: await one.prices(body.cloudType, body.gpuCount) };
    assertPreflight(await preflight(one.prisma, ctx, currentUserId(req), body));
    // the dataset's tokens when the model's files could be read (as the estimate's `tokens`)
    res.json({ ok: true, problems: [], ...(estimate?.tokens ? { tokens: estimate.tokens } : {}) });
  });

  router.get("/v1/deployments", async (req, res) => {
    const page = await listDeployments(deps.prisma, currentUserId(req), req.query);
    const now = deps.clock.now();
    res.json({ items: page.items.map((d) => deploymentView(d, now)), nextCursor: page.nextCursor });
  });

  router.get("/v1/deployments/:id", async (req, res) => {
    const d = await getOwnDeployment(deps.prisma, currentUserId(req), req.params.id);
    const [events, phases] = await Promise.all([deploymentEvents(deps.prisma, d.id), phaseTimes(deps.prisma, d.id)]);
    const view = deploymentView(d, deps.clock.now());
    const attempts = await attemptsView(deps.prisma, d, deps.clock.now());
    res.json({ ...view, resume: { ...view.resume, ...attempts }, phases, events: events.map(eventView) });
  });

  // the run's complete checkpoints, oldest first (issue 27): what a resume starts from
  router.get("/v1/deployments/:id/checkpoints", async (req, res) => {
    const d = await getOwnDeployment(deps.prisma, currentUserId(req), req.params.id);
    res.json({ items: await listCheckpoints(deps.prisma, d.id) });
  });

  // an interrupted run of the caller's, again from its last checkpoint: a new linked attempt (resume-deployment.ts)
  router.post("/v1/deployments/:id/resume", async (req, res) => {
    const uid = currentUserId(req);
    const d = await getOwnDeployment(deps.prisma, uid, req.params.id);
    const { deployment, created } = await resumeDeployment(
      { ...deps, spend: deps.preflight.spend },
      d.id,
      `user ${uid}`,
    );
    sendDeployment(res, deployment, created, deps.clock.now());
  });

  router.post("/v1/deployments/:id/cancel", async (req, res) => {
    const uid = currentUserId(req);
    const d = await getOwnDeployment(deps.prisma, uid, req.params.id);
    await cancelDeployment(deps, d.id, `user ${uid}`);
    const fresh = await getOwnDeployment(deps.prisma, uid, d.id);
    res.status(202).json(deploymentView(fresh, deps.clock.now()));
  });

  // a FAILED run of the caller's, again: a new submission of theirs through every rule as it stands (retry-deployment.ts)
  router.post("/v1/deployments/:id/retry", async (req, res) => {
    const uid = currentUserId(req);
    const d = await getOwnDeployment(deps.prisma, uid, req.params.id);
    const { deployment, created } = await retryDeployment(deps, d.id, `user ${uid}`);
    sendDeployment(res, deployment, created, deps.clock.now());
  });

  return router;
}
