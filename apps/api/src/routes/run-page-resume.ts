import {
  attemptsView,
  latestCheckpointOfChain,
  RESUMABLE_STATUSES,
  type AttemptsView,
  type Deployment,
  type PrismaClient,
} from "@trainpod/core";
import { escapeHtml, statusBadge, usd } from "./run-page-html";

/** A run's place in its chain of resumed attempts (issue 27), and the checkpoint a Resume would start from. */
export interface ResumePanel {
  chain: AttemptsView;
  /** the step of the checkpoint a Resume starts from; null when the run cannot be resumed from the page */
  resumeFromStep: number | null;
}

/**
 * The chain (one query for a run never resumed) and, for an ended run whose pod is gone and that no attempt resumed
 * yet, the newest checkpoint of its chain: what POST /v1/deployments/:id/resume would start from.
 */
export async function resumePanel(prisma: PrismaClient, d: Deployment, now: Date): Promise<ResumePanel> {
  const chain = await attemptsView(prisma, d, now);
  const resumedAlready = chain.attempts.at(-1)?.id !== d.id;
  if (!RESUMABLE_STATUSES.includes(d.status) || d.podTerminatedAt === null || resumedAlready)
    return { chain, resumeFromStep: null };
  const found = await latestCheckpointOfChain(prisma, d);
  return { chain, resumeFromStep: found?.checkpoint.step ?? null };
}

/** The Resume button of a FAILED or CANCELLED run with a checkpoint (the page's script posts it with the session). */
export function resumeButton(d: Deployment, r: ResumePanel): string {
  if (r.resumeFromStep === null) return "";
  return `<button type="button" data-action="resume" data-id="${d.id}" title="a new attempt from the last checkpoint: the steps before it are not trained again">Resume from step ${r.resumeFromStep}</button>`;
}

/** "attempt 2, resumed from step 30" under the facts, for an attempt that resumed another. */
export function resumedFromNote(d: Deployment): string {
  if (d.resumeOfId === null) return "";
  const from = d.resumedFromStep === null ? "" : ` from step ${d.resumedFromStep}`;
  return `<br><span class="muted">attempt ${d.attempt}, resumed${from} of <a href="/runs/${d.resumeOfId}">${d.resumeOfId.slice(0, 8)}</a></span>`;
}

/** The attempts of a resumed run, each linked, with the step it resumed from, what it reached, its cost and status. */
export function resumeChainHtml(d: Deployment, { chain }: ResumePanel): string {
  if (chain.attempts.length < 2) return "";
  const rows = chain.attempts.map((a) => {
    const self = a.id === d.id;
    const run = self
      ? `<code>${a.id.slice(0, 8)}</code>`
      : `<a href="/runs/${a.id}"><code>${a.id.slice(0, 8)}</code></a>`;
    const why = a.failureReason ? `<br><span class="muted">${escapeHtml(a.failureReason)}</span>` : "";
    return `<tr data-attempt="${a.attempt}"${self ? ' class="current"' : ""}>
      <td>${a.attempt}${self ? ' <span class="muted">(this run)</span>' : ""}</td><td>${run}</td>
      <td>${a.resumedFromStep ?? "—"}</td><td>${a.step ?? "—"}</td><td>${usd(a.costUsd)}</td>
      <td>${statusBadge(a.status as Deployment["status"])}${why}</td></tr>`;
  });
  return `<section class="panel"><h2>Attempts resumed from checkpoints</h2>
    <table id="resume-chain"><thead><tr><th>attempt</th><th>run</th><th>resumed from step</th><th>reached</th><th>cost</th><th>status</th></tr></thead>
    <tbody>${rows.join("")}</tbody>
    <tfoot><tr><td colspan="4">all attempts</td><td>${usd(chain.totalCostUsd)}</td><td></td></tr></tfoot></table>
    <p id="resume-saved" class="muted">Resuming saved <b>${usd(chain.savedUsd)}</b> against starting over from step 0 (the steps not trained again, at what a step cost the attempt whose checkpoint was taken).</p></section>`;
}
