import express, { type Express } from "express";
import type { Redis } from "ioredis";
import { podLogRoutes } from "./routes/pod-logs";
import {
  estimateDepsFor,
  spendSettingsFromEnv,
  secretsKeyring,
  webhookPolicyFromConfig,
  createJobEnqueuer,
  type ArtifactDeps,
  type CloudType,
  type GpuPriceList,
  type ModelPreflightDeps,
  type RunPodClient,
  StreamSlots,
  UserLimitsCache,
  type TimelineHub,
  type BlobStorage,
  type CacheDeps,
  type Clock,
  type Config,
  type Logger,
  type Metrics,
  type PrismaClient,
  type Queues,
} from "@trainpod/core";
import { adminScreens, browserSessions } from "./admin-screens";
import { userScreens } from "./user-screens";
import { userAuth } from "./user-screens-auth";
import { accessLog } from "./http/access-log";
import { artifactRoutes } from "./routes/artifacts";
import { spendRoutes } from "./routes/admin-limits";
import { errorHandler, notFoundHandler } from "./http/error-handler";
import { requestId } from "./http/request-id";
import { serveDirect } from "./http/direct-route";
import { jsonBody } from "./http/json-body";
import { rateLimits, runRateLimit, securityHeaders } from "./http/security";
import { datasetDownloadRoutes } from "./routes/dataset-download";
import { datasetRoutes } from "./routes/datasets";
import { deploymentStreamRoutes } from "./routes/deployment-stream";
import { deploymentRoutes, submissionHandler } from "./routes/deployments";
import { healthRoutes } from "./routes/health";
import { openApiRoutes } from "./routes/openapi";
import { runRoutes } from "./routes/runs";
import { secretRoutes } from "./routes/secrets";
import { OPENAI_PREFIX, openAiRoutes } from "./openai/router";

/** Everything the HTTP layer needs, built by the container (container.ts, the API's one composition root). */
export interface ApiDeps {
  config: Config;
  logger: Logger;
  prisma: PrismaClient;
  redis: Redis;
  queues: Queues;
  clock: Clock;
  /** where datasets live (STORAGE: DATASET_DIR or the bucket's datasets/) */
  datasetStorage: BlobStorage;
  /** where artifacts live, each key inside its deployment's folder (STORAGE: ARTIFACT_DIR or the bucket's artifacts/) */
  artifactStorage: BlobStorage;
  /** the process's metrics registry */
  metrics: Metrics;
  /** reads the open SSE streams' timelines (closed at shutdown to end the streams) */
  timelineHub: TimelineHub;
  /** RunPod (the pods' own logs) */
  runpod: RunPodClient;
  /** GPU list prices for estimates and pre-flight: RunPod's catalog, or the offline table when it cannot be read */
  prices(cloud: CloudType, count: number): Promise<GpuPriceList>;
  /** the model pre-flight's hub and users' HF_TOKEN (null: HUB_PREFLIGHT off, or the simulator without HF_ENDPOINT) */
  models?: ModelPreflightDeps | null;
  /** the operators' cache volumes (issue 28; absent with a test's in-memory RunPod) */
  cache?: CacheDeps;
}

/** The JSON bodies the API reads: 256 KiB. */
const BODY_LIMIT_BYTES = 256 * 1024;

/** Builds the Express app. It does not listen: main.ts (or a test) does. */
export function createApp(deps: ApiDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  // no weak ETag on JSON answers: Express hashes each one (SHA-1 of the body, some 50 µs: a twentieth of a
  // submission's CPU) for a validator no client of ours sends back; downloads set their own (sha256)
  app.set("etag", false);
  app.set("trust proxy", deps.config.env.TRUST_PROXY);
  const headers = securityHeaders();
  const log = accessLog(deps.logger);
  const limits = rateLimits(deps);
  app.use(requestId);
  app.use(headers);
  app.use(log);
  app.use(healthRoutes(deps));
  app.use(openApiRoutes());
  app.use(limits);
  // the user's routes take an API key (Bearer) or the browser session of /login (the run pages' scripts)
  const browser = browserSessions(deps);
  const auth = userAuth({
    ...deps,
    sessions: browser.sessions,
    publicUrl: deps.config.publicUrl,
    apiKeyCacheTtlMs: deps.config.env.API_KEY_CACHE_TTL_MS,
  });
  const env = deps.config.env;
  const jobs = createJobEnqueuer(deps.queues, {
    delayMs: deps.config.env.BILLING_DELAY_MS,
    retryDelayMs: deps.config.env.BILLING_RETRY_DELAY_MS,
  });
  const runpod = deps.runpod;
  const artifacts: ArtifactDeps = {
    prisma: deps.prisma,
    clock: deps.clock,
    storage: deps.artifactStorage,
    limits: {
      maxFileBytes: env.ARTIFACT_MAX_BYTES,
      maxTotalBytes: env.ARTIFACT_MAX_TOTAL_BYTES,
      partSizeBytes: env.S3_MULTIPART_PART_BYTES,
      presignSeconds: env.S3_PRESIGN_SECONDS,
    },
  };
  const spend = spendSettingsFromEnv(env);
  // one per process: submissions read users' limits through it, the admin limits route drops a user's entry
  const limitsCache = new UserLimitsCache(deps.prisma, spend, deps.clock, { ttlMs: env.USER_LIMITS_CACHE_TTL_MS });
  const preflight = {
    publicUrl: deps.config.publicUrl,
    simulated: deps.config.runpod.local,
    spend,
    limitsCache,
    models: deps.models ?? undefined,
    cacheMountPath: env.CACHE_VOLUME_MOUNT_PATH,
  };
  const estimate = estimateDepsFor(deps.config, deps.prisma, deps.datasetStorage, deps.models);
  const deployments = { prisma: deps.prisma, clock: deps.clock, jobs, preflight, prices: deps.prices, estimate };
  const json = express.json({ limit: BODY_LIMIT_BYTES });
  const submit = submissionHandler(deployments);
  app.post("/v1/deployments", auth, json, submit);
  app.use("/v1/deployments", auth, json);
  app.use(deploymentRoutes(deployments));
  // the pod's routes check the run token before any body is read: mounted ahead of the JSON parser
  app.use(
    runRoutes({
      prisma: deps.prisma,
      clock: deps.clock,
      jobs,
      artifacts,
      runpod,
      podNamePrefix: env.POD_NAME_PREFIX,
      rateLimit: runRateLimit(deps),
      dataset: { storage: deps.datasetStorage, presignSeconds: env.S3_DATASET_PRESIGN_SECONDS },
    }),
  );
  const datasetStorage = deps.datasetStorage;
  app.use(datasetDownloadRoutes({ ...deps, storage: datasetStorage, presignSeconds: env.S3_DATASET_PRESIGN_SECONDS }));
  app.use(
    datasetRoutes({
      prisma: deps.prisma,
      clock: deps.clock,
      storage: datasetStorage,
      maxBytes: env.DATASET_MAX_BYTES,
      auth,
    }),
  );
  // the OpenAI-compatible API (issue 33): mounted ahead of the JSON parser (its own parses, its errors are OpenAI's)
  const openai = express.Router();
  app.use(OPENAI_PREFIX, openai);
  app.use(express.json({ limit: BODY_LIMIT_BYTES }));
  app.use(adminScreens({ ...deps, jobs, limitsCache, browser }));
  app.use(userScreens({ ...deps, browser, auth }));
  app.use("/v1/spend", auth);
  app.use(spendRoutes({ prisma: deps.prisma, clock: deps.clock, spend }));
  openai.use(
    openAiRoutes({
      logger: deps.logger,
      auth,
      files: { prisma: deps.prisma, clock: deps.clock, storage: datasetStorage, maxBytes: env.DATASET_MAX_BYTES },
      jobs: {
        prisma: deps.prisma,
        clock: deps.clock,
        jobs,
        preflight,
        prices: deps.prices,
        estimate,
        defaultGpuTypes: env.OPENAI_DEFAULT_GPU_TYPES.split(",").map((g) => g.trim()),
      },
      webhooks: {
        prisma: deps.prisma,
        clock: deps.clock,
        keyring: secretsKeyring(deps.config),
        policy: webhookPolicyFromConfig(deps.config),
      },
    }),
  );
  app.use("/v1/secrets", auth);
  app.use(secretRoutes({ prisma: deps.prisma, clock: deps.clock, keyring: secretsKeyring(deps.config) }));
  const streamLimits = { perUser: deps.config.env.SSE_MAX_STREAMS_PER_USER, total: deps.config.env.SSE_MAX_STREAMS };
  const hub = deps.timelineHub;
  const slots = new StreamSlots(streamLimits);
  app.use(deploymentStreamRoutes({ prisma: deps.prisma, clock: deps.clock, slots, hub }));
  app.use(podLogRoutes({ prisma: deps.prisma, runpod, slots }));
  app.use(artifactRoutes({ prisma: deps.prisma, artifacts, logger: deps.logger }));
  app.use(notFoundHandler);
  const onError = errorHandler(deps.logger);
  app.use(onError);
  // the submission's hot path: the same middlewares as above, in their order, without the router's matching (keep the
  // two in step: direct-route.int.test.ts compares its answers with the router's, headers included)
  const handlers = [requestId, headers, log, limits, auth, jsonBody(BODY_LIMIT_BYTES, json), submit];
  serveDirect(app, { method: "POST", path: "/v1/deployments", handlers, onError });
  return app;
}
