import { quoteIdent, withAdminClient } from "./support/pg-admin";
import { stopSharedS3Server } from "./support/s3-server";
import { TRAINER_VENV_NOTE_ENV } from "./support/trainer-venv";

/** Drops databases this run's test files left behind (a file that crashed before its afterAll). */
export default async function globalTeardown(): Promise<void> {
  // after jest's summary: the last lines of the run say what it could not test
  const note = process.env[TRAINER_VENV_NOTE_ENV];
  if (note) process.stderr.write(`\nNOT TESTED: ${note}\n`);
  await stopSharedS3Server();
  const runId = process.env.TRAINPOD_TEST_RUN_ID;
  if (!runId) return;
  await withAdminClient(async (c) => {
    const r = await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE datname LIKE $1", [
      `tp_t_${runId}_%`,
    ]);
    for (const { datname } of r.rows) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(datname)} WITH (FORCE)`);
  });
}
