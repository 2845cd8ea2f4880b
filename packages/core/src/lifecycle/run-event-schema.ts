import { z } from "zod";

/** The phases of a run, in their order (a run may skip some); the pod agent's `vocabulary.py` holds the same list. */
export const RUN_PHASES = [
  "setup",
  "install",
  "dataset_download",
  "model_download",
  "load",
  "tokenize",
  "train",
  "save",
  "upload",
] as const;
export type RunPhase = (typeof RUN_PHASES)[number];
export const PHASE_STATES = ["started", "progress", "ended"] as const;
export const PHASE_UNITS = ["bytes", "rows", "steps", "files"] as const;
/** Why a run failed, as the pod tells it (`failed.cause`): the user's, the infrastructure's, or the setup's. */
export const FAILURE_CAUSES = [
  "bad_input",
  "out_of_memory",
  "trainer_error",
  "dataset_download",
  "model_access",
  "upload",
  "api_unreachable",
  "pod",
  "setup",
] as const;
/** `failed.phase`: the phases, and the start script's "training" (old pods). */
const FAILED_PHASES = [...RUN_PHASES, "training"] as const;

/** Extra numeric facts a phase event may carry (`bytes`, `files`, `shards`, …): at most this many. */
export const MAX_PHASE_EXTRAS = 16;
const EXTRA_KEY = /^[a-z][A-Za-z0-9_]{0,39}$/;

/**
 * The pod's text (log lines, a failure's message, system facts) is kept as it came, tabs, carriage returns and
 * escapes included, but for NUL, which Postgres cannot store: it becomes U+FFFD, so a stray byte in a trainer's
 * output never costs a run its outcome (issue 34).
 */
const podText = (max: number) =>
  z
    .string()
    .max(max)
    .transform((s) => s.replaceAll("\u0000", "\ufffd"));
const line = podText(4000);
const lines = z.array(line).max(200);
/** the pod's sequence number, increasing through its life: a repeat (≤ the highest applied) is dropped */
const seq = z.number().int().nonnegative().max(2_147_483_647).optional();
const count = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

const PHASE_KEYS = new Set(["type", "seq", "phase", "state", "done", "total", "unit", "seconds", "ok"]);

/** The extra numeric facts of a phase event (its keys outside the named ones). */
export function phaseExtras(ev: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(ev)) if (!PHASE_KEYS.has(k) && typeof v === "number") out[k] = v;
  return out;
}

const phaseEvent = z
  .looseObject({
    type: z.literal("phase"),
    seq,
    phase: z.enum(RUN_PHASES),
    state: z.enum(PHASE_STATES),
    done: count.optional(),
    total: count.optional(),
    unit: z.enum(PHASE_UNITS).optional(),
    seconds: z.number().nonnegative().max(1e9).optional(),
    ok: z.boolean().optional(),
  })
  .superRefine((ev, ctx) => {
    const extras = Object.keys(ev).filter((k) => !PHASE_KEYS.has(k));
    if (extras.length > MAX_PHASE_EXTRAS)
      ctx.addIssue({ code: "custom", message: `at most ${MAX_PHASE_EXTRAS} extra facts`, path: [] });
    for (const k of extras) {
      const v = (ev as Record<string, unknown>)[k];
      if (!EXTRA_KEY.test(k) || typeof v !== "number" || !Number.isFinite(v))
        ctx.addIssue({
          code: "custom",
          message: "an extra fact is a finite number named [a-z][A-Za-z0-9_]*",
          path: [k],
        });
    }
  });

/** A result's address the pod reports (the hub commit, the W&B run): http(s) only, for it is shown as a link. */
const resultUrl = z
  .string()
  .max(2000)
  .regex(/^https?:\/\/[^\s]+$/, "an http(s) URL");

/** Where the hub push went (issue 25): the commit's URL, or why it failed (the run succeeds either way). */
const hubPushEvent = z
  .object({ type: z.literal("hub_push"), seq, url: resultUrl.optional(), error: podText(2000).optional() })
  .refine((ev) => (ev.url === undefined) !== (ev.error === undefined), "either url or error");

/** What a pod may report to POST /v1/runs/:id/events (the agent, the start script and the trainer). */
export const runEventSchema = z.discriminatedUnion("type", [
  z.object({ type: z.literal("heartbeat"), seq }),
  z.object({
    type: z.literal("started"),
    seq,
    system: z
      .record(z.string().max(100), podText(2000))
      .transform((facts) =>
        Object.fromEntries(Object.entries(facts).map(([k, v]) => [k.replaceAll("\u0000", "\ufffd"), v])),
      )
      .optional(),
  }),
  z.object({
    type: z.literal("dataset_downloaded"),
    seq,
    bytes: z.number().int().nonnegative().optional(),
    seconds: z.number().nonnegative().optional(),
  }),
  phaseEvent,
  z.object({
    type: z.literal("progress"),
    seq,
    step: z.number().int().nonnegative(),
    totalSteps: z.number().int().positive().optional(),
    loss: z.number().finite().optional(),
    /** the eval loss, on a step that was evaluated (issue 26: eval_fraction) */
    evalLoss: z.number().finite().optional(),
    /** DPO's reward margin (trl's rewards/margins: the chosen answers' implicit reward minus the rejected ones') */
    rewardMargin: z.number().finite().optional(),
    /** the step's learning rate and gradient norm, under transformers' own log names (the pod sends them so) */
    learning_rate: z.number().finite().nonnegative().optional(),
    grad_norm: z.number().finite().nonnegative().optional(),
  }),
  z.object({ type: z.literal("log"), seq, lines }),
  hubPushEvent,
  /** the W&B run's URL, once the trainer started reporting there (issue 25) */
  z.object({ type: z.literal("wandb"), seq, url: resultUrl }),
  z.object({ type: z.literal("completed"), seq, lines: lines.optional() }),
  z.object({
    type: z.literal("failed"),
    seq,
    exitCode: z.number().int().optional(),
    phase: z.enum(FAILED_PHASES).default("training"),
    cause: z.enum(FAILURE_CAUSES).optional(),
    message: podText(2000).optional(),
    lines: lines.default([]),
  }),
]);
export type RunEvent = z.infer<typeof runEventSchema>;
export type PhaseEvent = Extract<RunEvent, { type: "phase" }>;
export type ProgressEvent = Extract<RunEvent, { type: "progress" }>;
