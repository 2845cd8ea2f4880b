import type { PrismaClient } from "../db";
import type { PreflightProblem } from "../deployment/preflight";
import type { DeploymentRequest } from "../deployment/request-schema";
import { missingSecrets } from "./secret-store";

type SecretFields = Pick<DeploymentRequest, "secrets" | "hub" | "wandb">;

/** What a request's features need among its `secrets`: `hub` needs HF_TOKEN, `wandb` needs WANDB_API_KEY. Pure. */
export function secretRequirementProblems(req: SecretFields): PreflightProblem[] {
  const problems: PreflightProblem[] = [];
  const need = (feature: "hub" | "wandb", name: string, why: string) => {
    if (req[feature] !== undefined && !req.secrets.includes(name))
      problems.push({
        code: "SECRET_REQUIRED",
        field: "secrets",
        message: `${feature} needs the secret ${name} in secrets (${why}); set it with POST /v1/secrets and name it`,
      });
  };
  need("hub", "HF_TOKEN", "the push to the Hugging Face repo is made with it");
  need("wandb", "WANDB_API_KEY", "the trainer reports to Weights & Biases with it");
  return problems;
}

/** Each of the request's secrets the user has not set: a SECRET_NOT_FOUND naming it. One query; none without secrets. */
export async function unknownSecretProblems(
  prisma: PrismaClient,
  userId: string,
  req: Pick<DeploymentRequest, "secrets">,
): Promise<PreflightProblem[]> {
  const missing = new Set(await missingSecrets(prisma, userId, req.secrets));
  return req.secrets.flatMap((name, i) =>
    missing.has(name)
      ? [
          {
            code: "SECRET_NOT_FOUND" as const,
            field: `secrets.${i}`,
            message: `you have no secret named ${name}: set it first (POST /v1/secrets, trainpod secrets set ${name})`,
          },
        ]
      : [],
  );
}
