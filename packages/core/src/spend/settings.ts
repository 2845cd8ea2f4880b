import { Minimatch } from "minimatch";
import type { Env } from "../config";
import { usdToMicros } from "../pricing/money";

export type OnExceed = "block" | "stop";

/** The spend rules of the configuration: per-user defaults and the hard ceilings of one request. */
export interface SpendSettings {
  /** micro-dollars a calendar month (UTC); 0n: no limit */
  monthlyBudgetMicros: bigint;
  onExceed: OnExceed;
  /** 0: no limit */
  maxLiveDeployments: number;
  /** 0: no limit */
  maxGpus: number;
  allowedImages: string[];
  caps: { maxGpuCount: number; maxRuntimeMinutes: number; maxCostMicros: bigint };
}

export function spendSettingsFromEnv(env: Env): SpendSettings {
  return {
    monthlyBudgetMicros: usdToMicros(env.USER_MONTHLY_BUDGET_USD),
    onExceed: env.BUDGET_ON_EXCEED,
    maxLiveDeployments: env.USER_MAX_LIVE_DEPLOYMENTS,
    maxGpus: env.USER_MAX_GPUS,
    allowedImages: env.ALLOWED_IMAGES.split(",")
      .map((p) => p.trim())
      .filter((p) => p !== ""),
    caps: {
      maxGpuCount: env.MAX_GPU_COUNT,
      maxRuntimeMinutes: env.MAX_RUNTIME_MINUTES,
      maxCostMicros: usdToMicros(env.MAX_COST_USD_PER_DEPLOYMENT),
    },
  };
}

/** A user's limits: the admin's overrides over the defaults. */
export interface EffectiveLimits {
  monthlyBudgetMicros: bigint;
  onExceed: OnExceed;
  maxLiveDeployments: number;
  maxGpus: number;
  /** ALLOWED_IMAGES and this user's extra patterns */
  allowedImages: string[];
}

/** compiled patterns: a submission checks its image against them, and compiling one costs more than the match */
const compiled = new Map<string, Minimatch>();

/** Does `image` match one of the glob patterns (`runpod/*`: any image of RunPod's, any tag)? */
export function imageAllowed(image: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => {
    let m = compiled.get(p);
    if (!m) {
      if (compiled.size >= 10_000) compiled.clear(); // users' own patterns: bounded
      m = new Minimatch(p, { dot: true });
      compiled.set(p, m);
    }
    return m.match(image);
  });
}
