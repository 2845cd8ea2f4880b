/**
 * Which training steps keep a `progress` row in the timeline (issue 23 item 6): every step for the first
 * PROGRESS_ROWS_FULL, then one per N steps so that a run keeps about PROGRESS_ROWS_TARGET more, and the last step.
 * The deployment's progress columns and the live stream get every step; only the stored rows are thinned.
 */
export const PROGRESS_ROWS_FULL = 100;
export const PROGRESS_ROWS_TARGET = 900;

/**
 * N, the steps between two kept rows past the first ones: from the run's total (ceil(total / 900)), or, when
 * the pod does not say its total, tenfold by tenfold (1 up to step 999, 10 up to 9,999, …: ~900 rows each).
 */
export function progressStride(step: number, totalSteps: number | undefined): number {
  if (totalSteps !== undefined && totalSteps > 0) return Math.max(1, Math.ceil(totalSteps / PROGRESS_ROWS_TARGET));
  return 10 ** Math.max(0, Math.floor(Math.log10(Math.max(1, step))) - 2);
}

/** Does this step's report keep a row? */
export function keepProgressRow(step: number, totalSteps: number | undefined): boolean {
  if (step <= PROGRESS_ROWS_FULL) return true;
  if (totalSteps !== undefined && step >= totalSteps) return true;
  return step % progressStride(step, totalSteps) === 0;
}
