import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CliError } from "./exit-codes";

export interface CliConfig {
  apiUrl: string;
  apiKey: string;
}

export const DEFAULT_API_URL = "http://127.0.0.1:8080";

/** $TRAINPOD_CONFIG_DIR, else $XDG_CONFIG_HOME/trainpod, else ~/.config/trainpod. */
export function configDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TRAINPOD_CONFIG_DIR) return env.TRAINPOD_CONFIG_DIR;
  return path.join(env.XDG_CONFIG_HOME || path.join(os.homedir(), ".config"), "trainpod");
}

export const configFile = (env: NodeJS.ProcessEnv = process.env): string => path.join(configDir(env), "config.json");

function readStored(env: NodeJS.ProcessEnv): Partial<CliConfig> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(configFile(env), "utf8"));
    return typeof parsed === "object" && parsed !== null ? (parsed as Partial<CliConfig>) : {};
  } catch {
    return {};
  }
}

/** The API URL and key: TRAINPOD_API_URL / TRAINPOD_API_KEY override what `login` stored. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): CliConfig {
  const stored = readStored(env);
  const apiUrl = (env.TRAINPOD_API_URL || stored.apiUrl || DEFAULT_API_URL).replace(/\/+$/, "");
  const apiKey = env.TRAINPOD_API_KEY || stored.apiKey;
  if (!apiKey) throw new CliError("not logged in: run `trainpod login` or set TRAINPOD_API_KEY");
  return { apiUrl, apiKey };
}

/** Writes the config readable by its owner only (directory 0700, file 0600). */
export function saveConfig(config: CliConfig, env: NodeJS.ProcessEnv = process.env): string {
  const dir = configDir(env);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = configFile(env);
  writeFileSync(file, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return file;
}
