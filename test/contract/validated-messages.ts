import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { ContractRecorder, ContractViolation } from "./spec/contract-recorder";
import { SPEC_PATH } from "./spec/openapi-validator";

/**
 * The one documented inconsistency of openapi-v2.json that the contract suites tolerate:
 * getPodLogs types the `Last-Event-ID` request header as `format: date-time`, while the same
 * operation's events carry ids shaped `<ISO ts>/<12-digit seq>` (its own example, and what
 * `LogLastEventID` describes as the id to send back). A client that resumes a stream resends the
 * id it received, so that one request-header check cannot pass. Exactly that violation on exactly
 * that operation is set aside; anything else about the header (or any other message) still fails.
 */
export const LAST_EVENT_ID_FORMAT_VIOLATION = `header parameter 'Last-Event-ID' must match format "date-time"`;

export function isDocumentedSpecInconsistency(v: ContractViolation): boolean {
  return v.kind === "request" && v.operationId === "getPodLogs" && v.violation === LAST_EVENT_ID_FORMAT_VIOLATION;
}

/** The recorder's violations minus the documented inconsistency. */
export function unexplainedViolations(recorder: ContractRecorder): ContractViolation[] {
  return recorder.violations.filter((v) => !isDocumentedSpecInconsistency(v));
}

/** One line per violation, for a failure message. */
export function describeViolations(violations: ContractViolation[]): string {
  return violations
    .map((v) => `${v.kind} ${v.method} ${v.url}${v.status === undefined ? "" : ` -> ${v.status}`}: ${v.violation}`)
    .join("\n");
}

export interface ValidatedTotals {
  /** messages (requests + responses) this suite validated */
  validated: number;
  violations: number;
  /** messages validated by every contract suite of this jest run that has reported so far, this one included */
  runTotal: number;
  suites: number;
}

const tallyDir = (): string =>
  path.join(os.tmpdir(), `trainpod-contract-${process.env.TRAINPOD_TEST_RUN_ID ?? `pid${process.ppid}`}`);

/**
 * Records this suite's count where the other contract suites of the same jest run (same
 * TRAINPOD_TEST_RUN_ID, set by test/global-setup.ts) find it, and prints
 * `contract: N messages validated against openapi-v2.json, V violations (...)`.
 */
export function reportValidated(suite: string, validated: number, violations: number): ValidatedTotals {
  const dir = tallyDir();
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    path.join(dir, `${suite.replace(/[^a-z0-9-]+/gi, "_")}.json`),
    JSON.stringify({ suite, validated, violations }),
  );
  let runTotal = 0;
  let suites = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".json"))) {
    const entry = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as { validated: number };
    runTotal += entry.validated;
    suites += 1;
  }
  process.stdout.write(
    `contract: ${validated} messages validated against ${path.basename(SPEC_PATH)}, ${violations} violations (${suite}; ` +
      `this run so far: ${runTotal} messages across ${suites} contract suite${suites === 1 ? "" : "s"})\n`,
  );
  return { validated, violations, runTotal, suites };
}
