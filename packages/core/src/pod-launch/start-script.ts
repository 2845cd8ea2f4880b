import { readFileSync } from "node:fs";
import path from "node:path";
import { resultsEnv, trainerRequirements, type ResultTargets } from "./results-env";
import { withQuantization } from "./quantization-requirement";

/** Where the start script lives: beside this file in src/, found from src or dist. */
function packageFile(...parts: string[]): string {
  const candidates = [path.join(__dirname, ...parts), path.join(__dirname, "..", "..", "src", "pod-launch", ...parts)];
  for (const c of candidates) {
    try {
      return readFileSync(c, "utf8");
    } catch {
      continue;
    }
  }
  throw new Error(`trainpod: cannot find ${parts.join("/")}`);
}

/**
 * The trainer's pinned packages, which the start script installs (unless the pod has exactly these already) on
 * top of the image's own torch: trainer/requirements.txt, the one source of truth (start-script.test.ts checks
 * they agree).
 */
export const TRAINER_REQUIREMENTS = "transformers==5.24.0 peft==0.21.2 trl==1.16.0 datasets==5.2.0 accelerate==1.15.0";

export interface LaunchInput {
  deploymentId: string;
  /** the single-use dataset token URL */
  datasetUrl: string;
  datasetSha256: string;
  runToken: string;
  eventsUrl: string;
  artifactsUrl: string;
  baseModel: string;
  hyperparameters: Record<string, unknown>;
  /** GET: the agent's zipapp (the run token authenticates; podUrls().agent) */
  agentUrl: string;
  /** hex sha256 of the agent's zipapp (agentBundle().sha256): start.sh runs nothing else */
  agentSha256: string;
  /** the pod's dead-man switch (the agent's liveness, and start.sh after a setup failure); absent: off */
  selfTerminate?: SelfTerminateSettings;
  /** how often the agent heartbeats (heartbeatSeconds()); absent: the agent's default, 30 s */
  heartbeatSeconds?: number;
  /** where the results go besides trainpod (hub repo, W&B: results-env.ts), and the hub the pod pushes to */
  results?: ResultTargets;
  hubEndpoint?: string;
  /** the deployment's gpuCount: above 1 the agent runs one trainer process per GPU (torchrun); absent: 1 */
  gpuCount?: number;
  /** the user's secrets the deployment names, decrypted (name → value): env of this pod only, masked in its logs */
  secrets?: Record<string, string>;
  /** a resumed attempt (issue 27): the checkpoint's artifact path, fetched by the agent at GET /v1/runs/:id/resume */
  resumeFrom?: string | null;
}

/**
 * The agent's heartbeat interval for the monitor's HEARTBEAT_TIMEOUT_SECONDS: six beats a timeout (one lost
 * or late beat never fails a run), at most 30 s (a dead pod is seen within the timeout, not later).
 */
export function heartbeatSeconds(heartbeatTimeoutSeconds: number): number {
  return Math.min(30, Math.max(0.1, heartbeatTimeoutSeconds / 6));
}

/**
 * When the pod deletes itself (`DELETE {runpodApiUrl}/pods/$RUNPOD_POD_ID` with RunPod's pod-scoped
 * RUNPOD_API_KEY, both set by RunPod in every pod): the last line of defence when the worker cannot.
 */
export interface SelfTerminateSettings {
  /** the RunPod REST API the worker uses (v2 base URL) */
  runpodApiUrl: string;
  /** after reporting its outcome, the pod waits this long for the worker's DELETE */
  graceSeconds: number;
  /** the deployment's max runtime: the pod deletes itself at this plus the grace, whatever the trainer does */
  maxRuntimeSeconds: number;
  /** no report reached the API this long (and one more fails): the pod deletes itself */
  unreachableSeconds: number;
}

export interface PodLaunchSpec {
  env: Record<string, string>;
  /**
   * RunPod v2's `args`: "arguments passed to the container entrypoint" (GraphQL's dockerArgs,
   * which overrides the image's start command). Sent in the JSON form RunPod's templates accept,
   * `{"entrypoint": [...], "cmd": [...]}`, so the bootstrap's quotes need no shell quoting.
   */
  args: string;
}

/**
 * The start script (start.sh, the pod's bootstrap: system info, the agent fetched and checked, the pinned packages,
 * then `exec python agent.pyz`). Constant: everything run-specific (and every secret) travels in the env.
 */
export function renderStartScript(): string {
  // read once per process: a deploy never ships a file caught half-written (the bench once shipped an
  // empty one while the file was being saved, and the pod restarted 1,750 times doing nothing)
  if (startScript !== undefined) return startScript;
  const text = packageFile("start.sh");
  if (text.trim() === "") throw new Error("trainpod: start.sh is empty");
  startScript = text;
  return text;
}
let startScript: string | undefined;

const BOOTSTRAP =
  'W="${RUNPOD_VOLUME_MOUNT_PATH:-/workspace}"; mkdir -p "$W/trainpod" && ' +
  'printf "%s" "$TRAINPOD_START_SCRIPT_B64" | base64 -d > "$W/trainpod/start.sh" && exec bash "$W/trainpod/start.sh"';

/** The env variables that carry a launch's tokens (the deploy job reads them back from a pod to keep its tokens). */
export const RUN_TOKEN_ENV = "TRAINPOD_RUN_TOKEN";
export const DATASET_URL_ENV = "TRAINPOD_DATASET_URL";
/** The names of the user's secrets in the pod's env (comma-separated): the agent masks their values in every log line. */
export const SECRET_NAMES_ENV = "TRAINPOD_SECRET_NAMES";

/** What goes into RunPod's create-pod body: env (secrets here, never in the command) and the command. */
export function podLaunch(input: LaunchInput): PodLaunchSpec {
  const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64");
  const secretNames = Object.keys(input.secrets ?? {});
  return {
    env: {
      // first: none of trainpod's own names can be shadowed by a secret (the names are reserved as well)
      ...input.secrets,
      ...(secretNames.length > 0 ? { [SECRET_NAMES_ENV]: secretNames.join(",") } : {}),
      TRAINPOD_DEPLOYMENT_ID: input.deploymentId,
      [DATASET_URL_ENV]: input.datasetUrl,
      TRAINPOD_DATASET_SHA256: input.datasetSha256,
      [RUN_TOKEN_ENV]: input.runToken,
      TRAINPOD_EVENTS_URL: input.eventsUrl,
      TRAINPOD_ARTIFACTS_URL: input.artifactsUrl,
      TRAINPOD_BASE_MODEL: input.baseModel,
      TRAINPOD_HYPERPARAMETERS: JSON.stringify(input.hyperparameters),
      TRAINPOD_GPU_COUNT: String(input.gpuCount ?? 1),
      TRAINPOD_TRAINER_REQUIREMENTS: withQuantization(
        trainerRequirements(TRAINER_REQUIREMENTS, input.results),
        input.hyperparameters,
      ),
      TRAINPOD_AGENT_URL: input.agentUrl,
      TRAINPOD_AGENT_SHA256: input.agentSha256,
      TRAINPOD_START_SCRIPT_B64: b64(renderStartScript()),
      ...resultsEnv(input.results, input.hubEndpoint),
      ...(input.selfTerminate ? selfTerminateEnv(input.selfTerminate) : {}),
      ...(input.heartbeatSeconds === undefined ? {} : { TRAINPOD_HEARTBEAT_S: String(input.heartbeatSeconds) }),
      ...(input.resumeFrom ? { TRAINPOD_RESUME_FROM: input.resumeFrom } : {}),
    },
    args: startArgs(),
  };
}

function selfTerminateEnv(s: SelfTerminateSettings): Record<string, string> {
  const seconds = (n: number) => String(Math.max(0, Math.round(n)));
  return {
    TRAINPOD_RUNPOD_API_URL: s.runpodApiUrl.replace(/\/+$/, ""),
    TRAINPOD_SELF_TERMINATE_GRACE_S: seconds(s.graceSeconds),
    TRAINPOD_MAX_RUNTIME_S: seconds(s.maxRuntimeSeconds),
    TRAINPOD_UNREACHABLE_S: seconds(s.unreachableSeconds),
  };
}

/** The pod's start command as v2 `args` (constant: nothing run-specific or secret in it). */
export function startArgs(): string {
  return JSON.stringify({ entrypoint: ["bash", "-c"], cmd: [BOOTSTRAP] });
}
