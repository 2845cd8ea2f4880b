import type { Hub } from "./hub-cache";
import type { HubModelInfo } from "./hub-client";
import { HubError, type HubFailureKind } from "./hub-error";
import { modelShape, type ModelShape } from "./model-shape";

/** One problem of the model pre-flight, in the shape of a PreflightProblem (deployment/preflight.ts). */
export interface ModelProblem {
  code: "MODEL_ACCESS" | "GPU_MEMORY_TOO_SMALL";
  field?: string;
  message: string;
  details?: Record<string, string | number>;
}

/** What the hub said of a model the user may read: its info and, when it has one, its config.json's shape. */
export interface ModelFacts {
  info: HubModelInfo;
  /** null: no config.json, or one without the fields the estimate needs */
  shape: ModelShape | null;
}

export type AccessAnswer =
  | { ok: true; facts: ModelFacts }
  | { ok: false; problem: ModelProblem }
  /** the hub could not be asked (down, timed out, 5xx): nothing is known, the submission goes on with a warning */
  | { ok: false; unavailable: string };

/**
 * Can this token (or none) read this hub model's files? Asks the model's info (a private or missing repo is refused
 * here) and its config.json (a gated repo's files are refused here: its info is public). The config's shape and
 * the info's parameter count feed the memory estimate; both answers come through the hub's cache.
 */
export async function checkModelAccess(hub: Hub, repo: string, token: string | undefined): Promise<AccessAnswer> {
  try {
    const info = await hub.modelInfo(repo, token);
    const shape = await configShape(hub, repo, token);
    return { ok: true, facts: { info, shape } };
  } catch (err) {
    if (!(err instanceof HubError)) throw err;
    if (err.kind === "unavailable") return { ok: false, unavailable: err.message };
    return { ok: false, problem: accessProblem(hub.endpoint, repo, err.kind, token !== undefined) };
  }
}

async function configShape(hub: Hub, repo: string, token: string | undefined): Promise<ModelShape | null> {
  let text: Buffer;
  try {
    text = await hub.fetchFile(repo, "main", "config.json", token);
  } catch (err) {
    if (err instanceof HubError && err.kind === "entry_not_found") return null;
    throw err;
  }
  try {
    return modelShape(JSON.parse(text.toString("utf8")));
  } catch {
    return null;
  }
}

const SET_TOKEN = 'add your Hugging Face token as the secret HF_TOKEN (POST /v1/secrets) and name it in "secrets"';

/** The MODEL_ACCESS problem a hub refusal means, with what to do about it. */
export function accessProblem(endpoint: string, repo: string, kind: HubFailureKind, withToken: boolean): ModelProblem {
  const page = `${endpoint}/${repo}`;
  const problem = (reason: string, message: string, field = "baseModel"): ModelProblem => ({
    code: "MODEL_ACCESS",
    field,
    message,
    details: { reason, model: repo, page },
  });
  switch (kind) {
    case "gated_no_token":
      return problem(
        "GATED_NO_TOKEN",
        `model ${repo} is gated: accept its conditions on ${page}, then ${SET_TOKEN}: ["HF_TOKEN"]`,
        "secrets",
      );
    case "no_access":
      return problem(
        "TOKEN_LACKS_ACCESS",
        `your HF_TOKEN has no access to model ${repo}: request access on ${page} (the authors may approve it by hand) and submit again once granted`,
        "secrets",
      );
    case "bad_token":
      return problem(
        "TOKEN_REFUSED",
        "the hub refused your HF_TOKEN (unknown, revoked or expired): set a valid token with POST /v1/secrets",
        "secrets",
      );
    default:
      return problem(
        "NOT_FOUND",
        withToken
          ? `model ${repo} was not found on the hub (${endpoint}), or your HF_TOKEN cannot see it: check the name and the token's access`
          : `model ${repo} was not found on the hub (${endpoint}): check the name; if it is private, ${SET_TOKEN}`,
      );
  }
}
