import { AppError } from "../errors";
import type { Deployment } from "../db";
import { costPerHrToMicros, ForbiddenError, NoCapacityError, RunPodUnavailableError, type Pod } from "../runpod";
import { isTerminal, transition } from "../deployment/state-machine";
import { podName, type LifecycleDeps } from "./lifecycle-deps";
import { failDeployment } from "./fail-deployment";
import { orderCandidates } from "./gpu-candidates";
import { claimStart } from "../spend/start-slot";
import { launchTokensOf } from "../pod-launch/pod-launcher";
import { chargeStrayPod } from "./late-pod";
import { terminateLatePod } from "./terminate-late-pod";
import { placementsFor, recordCacheUse } from "../cache-volumes/deploy-cache";
import { podCreateBody } from "./pod-create-body";

export type DeployOutcome =
  "provisioned" | "adopted" | "already-provisioned" | "skipped-closed" | "lost-race" | "waiting" | "budget-spent";

/** A candidate RunPod would not place (400), may not place (403), or trainpod skipped (price). */
export interface RefusedCandidate {
  gpuTypeId: string;
  status: 400 | 403 | "skipped";
  detail: string;
}

/**
 * The deploy job. Idempotent: a deployment with a pod, or whose named pod already exists
 * (a crash, or an answer lost between create and record), adopts it; a second pod is never created.
 * v2 places one GPU type per create, so the candidates (the user's order, sold-out types last,
 * too-expensive types skipped) are tried one create each until one answers 201.
 */
export async function deployDeployment(
  deps: LifecycleDeps,
  deploymentId: string,
  attempt: number,
): Promise<DeployOutcome> {
  const d = await deps.prisma.deployment.findUnique({ where: { id: deploymentId } });
  if (!d) throw new AppError("NOT_FOUND", `deployment ${deploymentId} does not exist`);
  if (isTerminal(d.status)) return "skipped-closed";
  if (d.podId !== null) return "already-provisioned";
  const name = podName(deps.podNamePrefix, d.id);
  // a pod can exist only if an earlier run got as far as a create (its answer lost, or the worker killed):
  // only then is RunPod asked for it by name, so a first deploy costs no listing
  if (d.podRequestedAt !== null) {
    const existing = (await deps.runpod.listPods({ name }))[0];
    if (existing)
      return (await recordPod(deps, d, existing, {
        attempt,
        adopted: true,
        createdAt: new Date(existing.createdAt),
        refused: [],
      }))
        ? "adopted"
        : "lost-race";
  }
  // the user's budget and slots decide whether it may take a pod now (and claim one: podRequestedAt)
  let claimed = false;
  if (d.podRequestedAt === null && deps.spend) {
    const decision = await claimStart({ prisma: deps.prisma, clock: deps.clock, spend: deps.spend }, d);
    if (!decision.start && decision.reason === "budget") {
      await failDeployment(deps, d.id, "BUDGET_EXCEEDED", decision.message);
      return "budget-spent";
    }
    if (!decision.start) return "waiting";
    claimed = true;
  }
  const catalog = await deps.gpuCatalog({ cloud: d.cloudType, count: d.gpuCount });
  const { candidates, skipped } = orderCandidates(d, catalog);
  const refused: RefusedCandidate[] = skipped.map((s) => ({
    gpuTypeId: s.gpuTypeId,
    status: "skipped",
    detail: s.reason,
  }));
  // the creates to try: on a cache volume first when there is one (cache-volumes/placement.ts)
  const plan = await placementsFor(deps, d, candidates, catalog);
  if (plan.placements.length === 0 && candidates.length > 0)
    refused.push({
      gpuTypeId: candidates.map((c) => c.gpuTypeId).join(", "),
      status: "skipped",
      detail: `cache: require, but ${plan.why}`,
    });
  const launch = plan.placements.length > 0 ? await deps.buildLaunch(d) : undefined;
  if (launch !== undefined && d.podRequestedAt === null && !claimed) {
    const marked = await deps.prisma.deployment.updateMany({
      where: { id: d.id, status: "QUEUED", podId: null, podRequestedAt: null },
      data: { podRequestedAt: deps.clock.now() },
    });
    // another run of this job marked it first and may be creating now: let it, and look again later
    if (marked.count === 0)
      throw new AppError("CONFLICT", `deployment ${d.id} is being deployed by another run`, { retryable: true });
  }
  for (const candidate of plan.placements) {
    if (launch === undefined) break;
    // closed meanwhile (a cancel): no create goes out for it (issue 34)
    if ((await deps.prisma.deployment.count({ where: { id: d.id, status: "QUEUED", podId: null } })) === 0)
      return "skipped-closed";
    // the moment before the create: the pod cannot bill from earlier (RunPod's createdAt is kept at or after it)
    const requestedAt = deps.clock.now();
    let pod: Pod;
    try {
      pod = await deps.runpod.createPod(podCreateBody(d, name, candidate, launch, deps.cache?.mount));
    } catch (err) {
      if (err instanceof NoCapacityError || err instanceof ForbiddenError) {
        refused.push({
          gpuTypeId: candidate.gpuTypeId,
          status: err instanceof ForbiddenError ? 403 : 400,
          detail: runpodDetail(err),
        });
        continue;
      }
      // a 5xx, a timeout or a dropped connection: the pod may exist and be booting already. Looked for at
      // once, not after the job's backoff: its reports are lost while the deployment does not know it
      if (err instanceof RunPodUnavailableError) {
        const found = await findByName(deps, name);
        if (found)
          return (await recordPod(deps, d, found, {
            attempt,
            adopted: true,
            createdAt: new Date(found.createdAt),
            refused,
          }))
            ? "adopted"
            : "lost-race";
      }
      throw err; // 402, 422: final (the processor fails the deployment); 429, 5xx, timeouts: the job retries and adopts by name
    }
    const recorded = await recordPod(deps, d, pod, {
      attempt,
      adopted: false,
      createdAt: createdWithin(pod, requestedAt, deps.clock.now()),
      refused,
      env: launch.env,
    });
    if (recorded) await recordCacheUse(deps.prisma, d, candidate, plan);
    return recorded ? "provisioned" : "lost-race";
  }
  return noCapacity(deps, d, attempt, refused);
}

/**
 * When a pod we created started billing: RunPod's own `createdAt`, kept inside the window we know the
 * create happened in (from just before the call to its answer), so a skewed clock cannot move it out.
 * The call's own waits (the rate budget, a 429's Retry-After, a slow answer) are not billed: RunPod's
 * bill starts at its createdAt, and ours must match it (the chaos run found 2-3 s of difference).
 */
function createdWithin(pod: Pod, requestedAt: Date, answeredAt: Date): Date {
  const at = Date.parse(pod.createdAt);
  if (Number.isNaN(at)) return requestedAt;
  return new Date(Math.min(Math.max(at, requestedAt.getTime()), answeredAt.getTime()));
}

/** The deployment's pod by its unique name, asked a few times (a listing can lag behind a create); undefined when not there. */
async function findByName(deps: LifecycleDeps, name: string): Promise<Pod | undefined> {
  for (let i = 0; i < 3; i++) {
    if (i > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    const pod = (await deps.runpod.listPods({ name }).catch(() => []))[0];
    if (pod) return pod;
  }
  return undefined;
}

function warnKept(deps: LifecycleDeps, deploymentId: string, err: unknown): void {
  deps.logger.warn("other launches' tokens not revoked now: they end with the pod's termination", {
    deploymentId,
    error: err instanceof Error ? err.message : String(err),
  });
}

function runpodDetail(err: AppError): string {
  const message = (err.details as { runpodMessage?: unknown } | undefined)?.runpodMessage;
  return typeof message === "string" && message !== "" ? message : err.message;
}

interface Placement {
  attempt: number;
  adopted: boolean;
  /** when the pod started billing: RunPod's createdAt (for a pod we created, clamped between the call and its answer) */
  createdAt: Date;
  refused: RefusedCandidate[];
  /** the env the pod was created with, when this run created it (RunPod's answer may leave it out) */
  env?: Record<string, string>;
}

async function recordPod(deps: LifecycleDeps, d: Deployment, pod: Pod, placed: Placement): Promise<boolean> {
  const now = deps.clock.now();
  const createdAt = Number.isNaN(placed.createdAt.getTime()) ? now : placed.createdAt;
  const gpu = pod.gpu?.id ?? null;
  const ok = await transition(deps.prisma, {
    deploymentId: d.id,
    from: ["QUEUED"],
    to: "PROVISIONING",
    set: {
      podId: pod.id,
      gpuTypeId: gpu,
      dataCenterId: pod.dataCenterId ?? null,
      costPerHrMicros: costPerHrToMicros(pod.cost),
      provisioningAt: now,
      podCreatedAt: createdAt,
      attempts: placed.attempt,
    },
    event: {
      type: placed.adopted ? "pod_adopted" : "pod_created",
      message: `pod ${pod.id}${gpu ? ` on ${gpu}` : ""}${pod.dataCenterId ? ` in ${pod.dataCenterId}` : ""}`,
      data: {
        podId: pod.id,
        gpu,
        dataCenterId: pod.dataCenterId ?? null,
        costPerHr: pod.cost,
        refused: placed.refused.map((r) => ({ ...r })),
      },
    },
  });
  if (!ok) await terminateUnrecorded(deps, d.id, pod, createdAt);
  // the deployment's pod is known now: the tokens of every other launch (a refused create's, a duplicate pod's,
  // which reconcile deletes) are revoked; this pod's stay valid until it is gone (terminate revokes them)
  const keep = ok ? launchTokensOf(pod.env ?? placed.env) : undefined;
  // (a failure here changes nothing recorded: those tokens end at the termination instead)
  if (keep) await deps.revokeTokens(d.id, { keep }).catch((err: unknown) => warnKept(deps, d.id, err));
  return ok;
}

/**
 * The deployment closed (cancelled, failed) while its pod was being created: the pod must not keep billing. It is
 * recorded on the deployment, which holds its slot and its worst case until the pod is gone (late-pod.ts), and
 * terminated at once by the terminate use case; when that fails, the terminate job retries it until RunPod confirms.
 */
async function terminateUnrecorded(
  deps: LifecycleDeps,
  deploymentId: string,
  pod: Pod,
  createdAt: Date,
): Promise<void> {
  const current = await deps.prisma.deployment.findUnique({ where: { id: deploymentId }, select: { podId: true } });
  if (current?.podId === pod.id) return; // a second deploy run adopted the pod the first one recorded
  if (await terminateLatePod(deps, deploymentId, pod, createdAt, "answered", "created after the deployment closed"))
    return;
  // another worker recorded its own pod (or the termination is recorded): this one is terminated all the same, and
  // billed to the deployment when it recorded none (closed without a pod while this create was out)
  await deps.runpod.terminatePod(pod.id);
  await chargeStrayPod(deps, { id: deploymentId, podId: current?.podId ?? null }, pod, "duplicate_pod_terminated");
}

/**
 * Every candidate refused. Past the configured wait this is final: FAILED / NO_CAPACITY listing what
 * was tried (and RunPod's last word, which the spec says to read as a problem with the request when
 * every candidate answered 400). Before it, the job retries later. The wait runs from the first create
 * attempt (podRequestedAt), not from submission: time spent waiting for one of the user's slots is not
 * time spent waiting for capacity. No create tried yet (no candidate at all): the wait starts now.
 */
async function noCapacity(
  deps: LifecycleDeps,
  d: Deployment,
  attempt: number,
  refused: RefusedCandidate[],
): Promise<never> {
  const now = deps.clock.now();
  const { podRequestedAt } = await deps.prisma.deployment.update({
    where: { id: d.id },
    data: { attempts: attempt, capacityWaits: { increment: 1 } },
    select: { podRequestedAt: true },
  });
  const waited = now.getTime() - (podRequestedAt ?? now).getTime();
  const tried = refused
    .map((r) => `${r.gpuTypeId} (${r.status === "skipped" ? "skipped" : r.status}: ${r.detail})`)
    .join("; ");
  const summary = refused.length === 0 ? "no GPU type to try" : `tried ${tried}`;
  if (waited < deps.noCapacityMaxWaitMs) {
    throw new NoCapacityError(`no candidate could be placed: ${summary}`, {
      details: { refused: refused.map((r) => ({ ...r })) },
    });
  }
  await failDeployment(deps, d.id, "NO_CAPACITY", `no capacity after ${Math.round(waited / 1000)} s: ${summary}`, {
    data: { reason: "NO_CAPACITY", refused: refused.map((r) => ({ ...r })) },
  });
  throw new AppError("RUNPOD_NO_CAPACITY", "no capacity; gave up", { retryable: false });
}
