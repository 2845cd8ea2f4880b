import type { Logger } from "../logging/logger";
import { BadResponseError } from "./errors";
import { PodSchema, type Pod } from "./schemas";

/** A pod of a listing trainpod could not read: left out of the listing (logged, counted), never its body. */
export interface SkippedPod {
  podId: string | null;
  name: string | null;
  /** what did not fit, as `path: problem` (never a value: a pod's env carries tokens) */
  issues: string[];
}

/** One answer of GET /v2/pods: its pods as RunPod sent them, and the cursor of the next page if it pages. */
export interface PodListPage {
  pods: unknown[];
  nextCursor?: string | null;
}

export interface PodListHooks {
  logger?: Logger;
  onPodSkipped?: (skipped: SkippedPod) => void;
}

/** Pages followed at most in one listing (a RunPod that pages would need over 100 pages of pods to reach it). */
export const MAX_POD_PAGES = 100;

const text = (v: unknown): string | null => (typeof v === "string" && v !== "" ? v : null);

/** The pods of one page, each read on its own: one that does not fit PodSchema is skipped, not the whole page. */
export function readPodPage(page: PodListPage, hooks: PodListHooks = {}): Pod[] {
  const pods: Pod[] = [];
  for (const raw of page.pods) {
    const parsed = PodSchema.safeParse(raw);
    if (parsed.success) {
      pods.push(parsed.data);
      continue;
    }
    const body = typeof raw === "object" && raw !== null ? (raw as Record<string, unknown>) : {};
    const skipped: SkippedPod = {
      podId: text(body.id),
      name: text(body.name),
      issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`),
    };
    hooks.logger?.warn("RunPod listed a pod trainpod cannot read: skipped from this listing", { ...skipped });
    hooks.onPodSkipped?.(skipped);
  }
  return pods;
}

/**
 * Every pod of a listing: the first page, then each `nextCursor` the answers carry (our spec copy has no paging;
 * later RunPod lists are cursor-paged). A cursor given twice, or more than MAX_POD_PAGES pages, is a listing that
 * cannot be trusted: BadResponseError (retried like any failed read), not a listing that silently lacks pods.
 */
export async function readAllPods(
  readPage: (cursor: string | undefined) => Promise<PodListPage>,
  hooks: PodListHooks = {},
): Promise<Pod[]> {
  const pods: Pod[] = [];
  const seen = new Set<string>();
  let cursor: string | undefined;
  for (let page = 1; ; page++) {
    const answer = await readPage(cursor);
    pods.push(...readPodPage(answer, hooks));
    const next = answer.nextCursor ?? undefined;
    if (next === undefined || next === "") return pods;
    if (seen.has(next)) throw new BadResponseError(`RunPod GET /pods gave the cursor ${next} again: a paging loop`);
    if (page >= MAX_POD_PAGES) throw new BadResponseError(`RunPod GET /pods paged past ${MAX_POD_PAGES} pages`);
    seen.add(next);
    cursor = next;
  }
}
