import type { Deployment, PrismaClient } from "../db";
import { podCost } from "../deployment/cost";
import { microsToUsd } from "../pricing/money";
import { savedMicros, type AttemptCost } from "./resume-rules";

/** A deployment's own place in its chain of attempts (issue 27): every view of it shows this. */
export function resumeView(
  d: Pick<Deployment, "attempt" | "resumeOfId" | "resumedFromStep" | "resumedFromPath" | "autoResumeMaxAttempts">,
) {
  return {
    /** 1 for a first run, n for the n-th attempt */
    attempt: d.attempt,
    /** the interrupted attempt this one resumes */
    resumeOfId: d.resumeOfId,
    /** the checkpoint it started from: its step and its folder among the artifacts of an earlier attempt */
    resumedFromStep: d.resumedFromStep,
    resumedFromPath: d.resumedFromPath,
    /** autoResume.maxAttempts (0: off) */
    autoResumeMaxAttempts: d.autoResumeMaxAttempts,
  };
}

export interface AttemptView {
  id: string;
  attempt: number;
  status: string;
  failureReason: string | null;
  resumedFromStep: number | null;
  /** the last step it reported */
  step: number | null;
  costUsd: string | null;
  /** the steps it did not train again, priced at the attempt whose checkpoint it took (resume-rules.ts) */
  savedUsd: string;
}

export interface AttemptsView {
  attempts: AttemptView[];
  /** every attempt's cost together */
  totalCostUsd: string;
  /** what resuming saved against starting each resumed attempt over from step 0 */
  savedUsd: string;
}

const CHAIN_LIMIT = 100;

/** The whole chain a deployment belongs to (the first attempt, and each one that resumed the one before), in order. */
export async function attemptChain(prisma: PrismaClient, d: Deployment): Promise<Deployment[]> {
  const before: Deployment[] = [];
  let id = d.resumeOfId;
  for (let hops = 0; id !== null && hops < CHAIN_LIMIT; hops++) {
    const a = await prisma.deployment.findUnique({ where: { id } });
    if (!a) break;
    before.unshift(a);
    id = a.resumeOfId;
  }
  const after: Deployment[] = [];
  let current = d.id;
  for (let hops = 0; hops < CHAIN_LIMIT; hops++) {
    const next = await prisma.deployment.findFirst({ where: { resumeOfId: current }, orderBy: { createdAt: "asc" } });
    if (!next) break;
    after.push(next);
    current = next.id;
  }
  return [...before, d, ...after];
}

/**
 * The attempts of a deployment's chain, each with its own cost (recorded apart: its own pod) and what resuming
 * saved, and the sums. A first run alone is a chain of one.
 */
export async function attemptsView(prisma: PrismaClient, d: Deployment, now: Date): Promise<AttemptsView> {
  const chain = d.resumeOfId === null && d.attempt === 1 ? await withResumes(prisma, d) : await attemptChain(prisma, d);
  const costs: AttemptCost[] = chain.map((a) => ({
    ...a,
    cost: a.podTerminatedAt !== null && a.costMicros !== null ? a.costMicros : podCost(a, a.podTerminatedAt ?? now),
  }));
  let total = 0n;
  let saved = 0n;
  const attempts = costs.map((a, i) => {
    const s = savedMicros(a, sourceOf(costs, i));
    total += a.cost ?? 0n;
    saved += s;
    return {
      id: a.id,
      attempt: a.attempt,
      status: a.status,
      failureReason: chain[i]!.failureReason,
      resumedFromStep: a.resumedFromStep,
      step: a.progressStep,
      costUsd: a.cost === null ? null : microsToUsd(a.cost),
      savedUsd: microsToUsd(s),
    };
  });
  return { attempts, totalCostUsd: microsToUsd(total), savedUsd: microsToUsd(saved) };
}

/** A first run: the chain is itself and the attempts that resumed it (none, for most runs: one query). */
async function withResumes(prisma: PrismaClient, d: Deployment): Promise<Deployment[]> {
  const first = await prisma.deployment.findFirst({ where: { resumeOfId: d.id } });
  return first === null ? [d] : attemptChain(prisma, d);
}

/** The attempt whose checkpoint attempt i started from: the latest before it that trained past that step. */
function sourceOf(chain: AttemptCost[], i: number): AttemptCost | undefined {
  const from = chain[i]!.resumedFromStep;
  if (from === null) return undefined;
  for (let j = i - 1; j >= 0; j--) if ((chain[j]!.progressStep ?? 0) >= from) return chain[j];
  return undefined;
}
