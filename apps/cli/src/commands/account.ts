import { ApiClient } from "../api-client";
import { DEFAULT_API_URL, loadConfig, saveConfig } from "../config";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { readSecret } from "../prompt";

/** `login`: checks the key against the API, then stores URL and key (file mode 0600). */
export async function login(opts: { apiUrl?: string; key?: string }): Promise<ExitCode> {
  let stored: { apiUrl?: string } = {};
  try {
    stored = loadConfig({ ...process.env, TRAINPOD_API_KEY: "x" });
  } catch {
    // nothing stored yet
  }
  const apiUrl = (opts.apiUrl ?? process.env.TRAINPOD_API_URL ?? stored.apiUrl ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const apiKey = opts.key ?? process.env.TRAINPOD_API_KEY ?? (await readSecret("API key: "));
  if (!apiKey) throw new CliError("no API key given", EXIT.USAGE);
  const api = new ApiClient({ apiUrl, apiKey });
  await api.request("GET", "/v1/datasets?limit=1");
  const file = saveConfig({ apiUrl, apiKey });
  process.stdout.write(`logged in to ${apiUrl}; saved to ${file}\n`);
  return EXIT.OK;
}
