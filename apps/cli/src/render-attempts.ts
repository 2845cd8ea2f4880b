import type { Json } from "./api-client";

/** The lines of a deployment's attempts (the detail view's resume.attempts), empty for a run never resumed. */
export function renderAttempts(d: Json): string[] {
  const r = d.resume as Json | undefined;
  const attempts = (r?.attempts as Json[] | undefined) ?? [];
  if (!r || (attempts.length <= 1 && (r.attempt ?? 1) === 1)) {
    return r?.autoResumeMaxAttempts ? [`  autoResume up to ${r.autoResumeMaxAttempts} attempts`] : [];
  }
  const lines = [
    `  attempt ${r.attempt}${r.resumedFromStep != null ? `, resumed from step ${r.resumedFromStep}` : ""}; ` +
      `${attempts.length} attempts cost $${r.totalCostUsd ?? "-"}, resuming saved $${r.savedUsd ?? "0"} vs starting over`,
  ];
  for (const a of attempts)
    lines.push(
      `    #${a.attempt} ${a.id} ${a.status}${a.failureReason ? ` (${a.failureReason})` : ""}` +
        `${a.resumedFromStep != null ? ` from step ${a.resumedFromStep}` : ""} to step ${a.step ?? "-"}, ` +
        `$${a.costUsd ?? "-"}${a.savedUsd !== "0" && a.savedUsd !== "0.000000" ? ` (saved $${a.savedUsd})` : ""}`,
    );
  return lines;
}
