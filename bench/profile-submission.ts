/**
 * `npx tsx --conditions=development --cpu-prof --cpu-prof-dir=DIR bench/profile-submission.ts`
 * Loads POST /v1/deployments for PROFILE_SECONDS (default 10) with autocannon, to profile the API.
 */
import { execFile } from "node:child_process";
import { deploymentBody, main, startBenchSystem } from "./support";

main(async () => {
  const sys = await startBenchSystem({ worker: false });
  try {
    const body = deploymentBody(sys, { steps: 1 });
    const seconds = process.env.PROFILE_SECONDS ?? "10";
    const args = [
      require.resolve("autocannon/autocannon.js"),
      "-c",
      "50",
      "-d",
      seconds,
      "-m",
      "POST",
      "-b",
      body,
      "-H",
      `authorization=Bearer ${sys.user.key}`,
      "-H",
      "content-type=application/json",
      `${sys.apiUrl}/v1/deployments`,
    ];
    const out = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, args, (err, _stdout, stderr) => (err ? reject(err) : resolve(stderr))),
    );
    console.log(
      out
        .split("\n")
        .filter((l) => /Req\/Sec|requests in|2xx/.test(l))
        .join("\n"),
    );
  } finally {
    await sys.stop();
  }
});
