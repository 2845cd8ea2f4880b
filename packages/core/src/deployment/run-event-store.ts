import { Prisma, type PrismaClient } from "../db";
import { LIVE_STATUSES } from "./state-machine";

/**
 * The SQL of the pod's reports (lifecycle/record-run-event.ts). Each report is ONE conditional UPDATE of its
 * deployment (the heartbeat, the columns it changes, the highest `seq` applied) and, only when that UPDATE
 * matched, its event row, in one statement: a repeated report (its `seq` at or below the highest applied)
 * matches nothing and writes nothing.
 */

type Db = Pick<PrismaClient, "$queryRaw" | "$executeRaw"> | Prisma.TransactionClient;

export interface ReportRow {
  type: string;
  message?: string | null;
  data: Prisma.InputJsonValue;
}

/** The deployment's condition for a report with this seq: none for old pods, else newer than the last applied. */
function seqNewer(seq: number | undefined): Prisma.Sql {
  return seq === undefined ? Prisma.sql`TRUE` : Prisma.sql`("lastEventSeq" IS NULL OR "lastEventSeq" < ${seq}::int)`;
}
function seqSet(seq: number | undefined): Prisma.Sql {
  return seq === undefined ? Prisma.empty : Prisma.sql`, "lastEventSeq" = ${seq}::int`;
}

/** ONE statement: the UPDATE (`set` and the WHERE on seq), and the row when it matched and `row` is given. */
async function updateWithRow(
  db: Db,
  deploymentId: string,
  seq: number | undefined,
  set: Prisma.Sql,
  row: ReportRow | null,
  rowData: Prisma.Sql = Prisma.sql`${JSON.stringify(row?.data ?? null)}::jsonb`,
): Promise<boolean> {
  const insert =
    row === null
      ? Prisma.empty
      : Prisma.sql`, e AS (
          INSERT INTO "DeploymentEvent" ("deploymentId", "type", "message", "data")
          SELECT d."id", ${row.type}, ${row.message ?? null}, ${rowData} FROM d
        )`;
  const rows = await db.$queryRaw<Array<{ n: number }>>`
    WITH d AS (
      UPDATE "Deployment" SET ${set} ${seqSet(seq)}
      WHERE "id" = ${deploymentId}::uuid AND ${seqNewer(seq)}
      RETURNING "id", "phase", "phaseStartedAt", "phaseDone", "phaseTotal", "phaseUnit", "costPerHrMicros"
    ) ${insert}
    SELECT count(*)::int AS n FROM d`;
  return (rows[0]?.n ?? 0) > 0;
}

/** A report that only proves the pod alive (and, given, its row): false when it is a repeat. */
export function recordReport(
  db: Db,
  deploymentId: string,
  r: { now: Date; seq?: number; row?: ReportRow },
): Promise<boolean> {
  return updateWithRow(db, deploymentId, r.seq, Prisma.sql`"lastHeartbeatAt" = ${r.now}`, r.row ?? null);
}

/**
 * A training step: step, total and loss, a heartbeat, the training's start (the first step), and a row when kept
 * (with the eval loss when the step was evaluated, and DPO's reward margin).
 */
export function recordProgressStep(
  db: Db,
  deploymentId: string,
  p: {
    now: Date;
    seq?: number;
    step: number;
    totalSteps?: number;
    loss?: number;
    evalLoss?: number;
    rewardMargin?: number;
    learningRate?: number;
    gradNorm?: number;
    keepRow: boolean;
  },
): Promise<boolean> {
  const set = Prisma.sql`"progressStep" = ${p.step}::int,
    "progressTotalSteps" = COALESCE(${p.totalSteps ?? null}::int, "progressTotalSteps"),
    "progressLoss" = ${p.loss ?? null}::numeric, "lastHeartbeatAt" = ${p.now}, "lastProgressAt" = ${p.now},
    "trainingStartedAt" = COALESCE("trainingStartedAt", ${p.now})`;
  const row = p.keepRow
    ? {
        type: "progress",
        data: {
          step: p.step,
          totalSteps: p.totalSteps ?? null,
          loss: p.loss ?? null,
          ...(p.evalLoss !== undefined ? { evalLoss: p.evalLoss } : {}),
          ...(p.rewardMargin !== undefined ? { rewardMargin: p.rewardMargin } : {}),
          ...(p.learningRate !== undefined ? { learningRate: p.learningRate } : {}),
          ...(p.gradNorm !== undefined ? { gradNorm: p.gradNorm } : {}),
        },
      }
    : null;
  return updateWithRow(db, deploymentId, p.seq, set, row);
}

export interface PhaseReport {
  now: Date;
  seq?: number;
  phase: string;
  state: "started" | "progress" | "ended";
  done?: number;
  total?: number;
  unit?: string;
  /** the ended phase's duration as the pod measured it; else the time since the phase's recorded start */
  seconds?: number;
  /** the row (`phase_started`, `phase_ended`), none for progress; its data: the phase's done/total/unit, `facts`, and
   * for an end its seconds */
  row: { type: string; message: string; facts: Record<string, unknown> } | null;
}

/**
 * An early-stopped run's `seconds_saved` (the pod's estimate of the steps it did not run) as money at the pod's
 * price: `usd_saved`, a decimal USD string like every amount (issue 26); nothing without both.
 */
function usdSaved(facts: Record<string, unknown>): Prisma.Sql {
  const seconds = facts.seconds_saved;
  if (typeof seconds !== "number" || !Number.isFinite(seconds) || seconds < 0) return Prisma.sql`'{}'::jsonb`;
  return Prisma.sql`jsonb_strip_nulls(jsonb_build_object('usd_saved',
    to_char(round(${seconds}::numeric * d."costPerHrMicros" / 3600000000.0, 6), 'FM999999999990.000000')))`;
}

/**
 * A phase report: the current phase, its state, its start (kept while the phase goes on, set when it starts or
 * when another phase's report arrives) and its done/total/unit (reset with a new phase), and a heartbeat.
 */
export function recordPhase(db: Db, deploymentId: string, p: PhaseReport): Promise<boolean> {
  // a report of another phase than the current one starts that phase (its `started` was lost)
  const fresh = Prisma.sql`(${p.state === "started"}::boolean OR "phase" IS DISTINCT FROM ${p.phase}::text)`;
  const keepOr = (column: string, value: Prisma.Sql) =>
    Prisma.sql`CASE WHEN ${fresh} THEN ${value} ELSE COALESCE(${value}, ${Prisma.raw(`"${column}"`)}) END`;
  // train-phase progress counts as a step for the stall rule (monitor-tick.ts)
  const stepped = p.phase === "train" && p.state === "progress";
  const set = Prisma.sql`"lastHeartbeatAt" = ${p.now}, "phase" = ${p.phase}, "phaseState" = ${p.state},
    "lastProgressAt" = CASE WHEN ${stepped}::boolean THEN ${p.now} ELSE "lastProgressAt" END,
    "phaseStartedAt" = CASE WHEN ${fresh} OR "phaseStartedAt" IS NULL THEN ${p.now} ELSE "phaseStartedAt" END,
    "phaseDone" = ${keepOr("phaseDone", Prisma.sql`${p.done ?? null}::bigint`)},
    "phaseTotal" = ${keepOr("phaseTotal", Prisma.sql`${p.total ?? null}::bigint`)},
    "phaseUnit" = ${keepOr("phaseUnit", Prisma.sql`${p.unit ?? null}::text`)}`;
  if (p.row === null) return updateWithRow(db, deploymentId, p.seq, set, null);
  const seconds =
    p.state !== "ended"
      ? Prisma.sql`'{}'::jsonb`
      : Prisma.sql`jsonb_build_object('seconds', COALESCE(${p.seconds ?? null}::float8,
          round(extract(epoch FROM (${p.now}::timestamptz - d."phaseStartedAt"))::numeric, 3)::float8))`;
  const rowData = Prisma.sql`jsonb_strip_nulls(jsonb_build_object('phase', d."phase", 'done', d."phaseDone",
      'total', d."phaseTotal", 'unit', d."phaseUnit")) || ${JSON.stringify(p.row.facts)}::jsonb || ${seconds}
      || ${usdSaved(p.row.facts)}`;
  return updateWithRow(db, deploymentId, p.seq, set, { ...p.row, data: {} }, rowData);
}

/**
 * Where the run's results went besides trainpod (issue 25): the hub push's commit URL or its error (a new report
 * replaces both), the W&B run's URL; a heartbeat, and a `hub_push` / `wandb` row.
 */
export function recordResult(
  db: Db,
  deploymentId: string,
  r: { now: Date; seq?: number } & (
    { type: "hub_push"; url?: string; error?: string } | { type: "wandb"; url: string }
  ),
): Promise<boolean> {
  if (r.type === "wandb") {
    const set = Prisma.sql`"lastHeartbeatAt" = ${r.now}, "wandbUrl" = ${r.url}`;
    return updateWithRow(db, deploymentId, r.seq, set, { type: "wandb", message: "W&B run", data: { url: r.url } });
  }
  const set = Prisma.sql`"lastHeartbeatAt" = ${r.now}, "hubPushedUrl" = ${r.url ?? null},
    "hubPushError" = ${r.error ?? null}`;
  const row =
    r.url !== undefined
      ? { type: "hub_push", message: "pushed to the hub", data: { url: r.url } }
      : { type: "hub_push", message: r.error ?? "hub push failed", data: { error: r.error ?? null } };
  return updateWithRow(db, deploymentId, r.seq, set, row);
}

/**
 * The live deployment's last reported step as a `progress` row when its row was not kept (downsampled): written
 * before the outcome, so the timeline ends on the step the run reached. Nothing when that step's row exists.
 */
export async function keepLastProgressRow(db: Db, deploymentId: string): Promise<void> {
  await db.$executeRaw`
    INSERT INTO "DeploymentEvent" ("deploymentId", "type", "data")
    SELECT d."id", 'progress', jsonb_build_object('step', d."progressStep", 'totalSteps', d."progressTotalSteps",
      'loss', d."progressLoss")
    FROM "Deployment" d
    WHERE d."id" = ${deploymentId}::uuid AND d."progressStep" IS NOT NULL
      AND d."status"::text = ANY(${[...LIVE_STATUSES]}::text[])
      AND NOT EXISTS (
        SELECT 1 FROM "DeploymentEvent" e WHERE e."deploymentId" = d."id" AND e."type" = 'progress'
          AND e."data"->>'step' = d."progressStep"::text
      )`;
}
