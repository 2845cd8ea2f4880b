/** The CLI's exit codes (documented in docs/api.md and `trainpod --help`). */
export const EXIT = {
  /** done; for `watch` (and `deploy --watch`): the run SUCCEEDED */
  OK: 0,
  /** an error: the API refused, could not be reached, or the answer was not confirmed */
  ERROR: 1,
  /** bad usage: unknown command or option, missing argument, unreadable file */
  USAGE: 2,
  /** the watched run FAILED */
  RUN_FAILED: 3,
  /** the watched run was CANCELLED */
  RUN_CANCELLED: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeForStatus(status: string): ExitCode {
  if (status === "SUCCEEDED") return EXIT.OK;
  if (status === "CANCELLED") return EXIT.RUN_CANCELLED;
  return EXIT.RUN_FAILED;
}

/** An error that ends the command with this exit code and message. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode = EXIT.ERROR,
  ) {
    super(message);
  }
}
