import type { ApiClient, Json } from "../api-client";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { renderTable } from "../render";

const budget = (usd: string) => (Number(usd) === 0 ? "none" : `$${Number(usd).toFixed(2)}`);
const limit = (n: number) => (n === 0 ? "∞" : String(n));

/** `trainpod spend`: your limits and this month's spend. */
export async function ownSpend(
  api: ApiClient,
  opts: { json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const s = await api.request<Json>("GET", "/v1/spend");
  if (opts.json) {
    out.write(`${JSON.stringify(s, null, 2)}\n`);
    return EXIT.OK;
  }
  out.write(
    [
      `month ${s.month}: spent $${Number(s.spentUsd).toFixed(2)}, live deployments may still cost $${Number(s.liveRemainingUsd).toFixed(2)}`,
      `budget ${budget(s.limits.monthlyBudgetUsd)} (${s.limits.onExceed})${s.availableUsd === null ? "" : `, available for a new run: $${Number(s.availableUsd).toFixed(2)}`}`,
      `pods ${s.podsInUse}/${limit(s.limits.maxLiveDeployments)}, GPUs ${s.gpusInUse}/${limit(s.limits.maxGpus)}, images: ${(s.limits.allowedImages as string[]).join(", ")}`,
    ].join("\n") + "\n",
  );
  return EXIT.OK;
}

/** `trainpod admin spend`: spend against limit per user this month (admins and operators). */
export async function adminSpend(
  api: ApiClient,
  opts: { json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const { items } = await api.request<{ items: Json[] }>("GET", "/v1/admin/spend");
  if (opts.json) {
    out.write(`${JSON.stringify(items, null, 2)}\n`);
    return EXIT.OK;
  }
  const rows = [["user", "spent", "live worst case", "budget", "on exceed", "pods", "GPUs", "waiting", "own limits"]];
  for (const u of items) {
    rows.push([
      u.email,
      `$${Number(u.spentUsd).toFixed(2)}`,
      `$${Number(u.liveRemainingUsd).toFixed(2)}`,
      budget(u.limits.monthlyBudgetUsd),
      u.limits.onExceed,
      `${u.liveDeployments}/${limit(u.limits.maxLiveDeployments)}`,
      `${u.gpusInUse}/${limit(u.limits.maxGpus)}`,
      String(u.waiting),
      (u.overrides as string[]).join(", ") || "—",
    ]);
  }
  out.write(`${items.length === 0 ? "no user has spent anything this month" : renderTable(rows)}\n`);
  return EXIT.OK;
}

export interface LimitOptions {
  budgetUsd?: string;
  onExceed?: string;
  maxLive?: string;
  maxGpus?: string;
  allowImage?: string[];
  reset?: boolean;
  json?: boolean;
}

/** The body of PUT /v1/admin/users/:id/limits from the flags; `default` clears a field. Pure. */
export function limitsBody(opts: LimitOptions): Json {
  const num = (v: string, name: string) => {
    if (v === "default") return null;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0)
      throw new CliError(`${name} must be a whole number (0 = no limit) or "default"`, EXIT.USAGE);
    return n;
  };
  const body: Json = {};
  if (opts.reset)
    Object.assign(body, {
      monthlyBudgetUsd: null,
      onExceed: null,
      maxLiveDeployments: null,
      maxGpus: null,
      extraImages: [],
    });
  if (opts.budgetUsd !== undefined) body.monthlyBudgetUsd = opts.budgetUsd === "default" ? null : opts.budgetUsd;
  if (opts.onExceed !== undefined) {
    if (!["block", "stop", "default"].includes(opts.onExceed))
      throw new CliError("--on-exceed must be block, stop or default", EXIT.USAGE);
    body.onExceed = opts.onExceed === "default" ? null : opts.onExceed;
  }
  if (opts.maxLive !== undefined) body.maxLiveDeployments = num(opts.maxLive, "--max-live");
  if (opts.maxGpus !== undefined) body.maxGpus = num(opts.maxGpus, "--max-gpus");
  if (opts.allowImage !== undefined) body.extraImages = opts.allowImage;
  if (Object.keys(body).length === 0)
    throw new CliError(
      "nothing to set: give --budget-usd, --on-exceed, --max-live, --max-gpus, --allow-image or --reset",
      EXIT.USAGE,
    );
  return body;
}

/** `trainpod admin limits USER ...`: set one user's limits (admins). USER is an id or an email. */
export async function setLimits(
  api: ApiClient,
  user: string,
  opts: LimitOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const view = await api.request<Json>("PUT", `/v1/admin/users/${encodeURIComponent(user)}/limits`, limitsBody(opts));
  if (opts.json) out.write(`${JSON.stringify(view, null, 2)}\n`);
  else
    out.write(
      `${view.email}: budget ${budget(view.limits.monthlyBudgetUsd)} (${view.limits.onExceed}), pods ${limit(view.limits.maxLiveDeployments)}, GPUs ${limit(view.limits.maxGpus)}, images ${(view.limits.allowedImages as string[]).join(", ")}; spent this month $${Number(view.spentUsd).toFixed(2)}\n`,
    );
  return EXIT.OK;
}
