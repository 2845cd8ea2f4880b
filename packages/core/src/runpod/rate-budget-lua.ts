import { createHash } from "node:crypto";
import type { Redis } from "ioredis";
import type { CallPriority } from "./http";
import type { BudgetAnswer, BudgetRules, BudgetState, Decision } from "./rate-budget-state";

/**
 * rate-budget-state.ts, step for step, as one Redis script: the read, the decision and the write
 * happen atomically, so two processes can never both take the last call of a window.
 * Keep the two in step: rate-budget-lua.int.test.ts replays random histories through both.
 *
 * KEYS[1] the account's state (a JSON string, expiring three windows after its last change)
 * ARGV[1] "acquire" | "observe" | "peek"; ARGV[2] now in epoch ms, or "" for Redis' own clock
 * (one clock for every host); ARGV[3] the rules (JSON); ARGV[4] the priority or the answer (JSON).
 */
export const RATE_BUDGET_LUA = `
local key, op = KEYS[1], ARGV[1]
local now = tonumber(ARGV[2])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local rules = cjson.decode(ARGV[3])

local function newWindow(name, q, wMs)
  return { name = name, q = q, wMs = wMs, reset = now + wMs, rem = q, anchored = false }
end
local function find(s, name)
  for _, w in ipairs(s.windows) do if w.name == name then return w end end
  return nil
end

local raw = redis.call('GET', key)
local s
if raw then
  s = cjson.decode(raw)
else
  s = { windows = {}, lastStart = 0, blockedUntil = 0 }
  for i, p in ipairs(rules.defaultPolicy) do s.windows[i] = newWindow(p.name, math.max(p.q, 1), math.ceil(p.w * 1000)) end
end
for _, w in ipairs(s.windows) do
  if now >= w.reset then
    w.reset = w.reset + (math.floor((now - w.reset) / w.wMs) + 1) * w.wMs
    w.rem = w.q
  end
end

local function shareOf(q, percent)
  if q <= 1 or percent <= 0 then return 0 end
  return math.min(q - 1, math.max(1, math.ceil(q * percent / 100)))
end
local function reserveOf(q) return shareOf(q, rules.reservePercent) end
local function heldFor(priority, q)
  if priority == 'urgent' then return 0 end
  if priority == 'high' then return math.min(reserveOf(q), shareOf(q, rules.terminationReservePercent)) end
  return reserveOf(q)
end

local function save()
  local longest = 0
  for _, w in ipairs(s.windows) do longest = math.max(longest, w.wMs) end
  local ttl = math.max(1000, 3 * longest + math.max(0, s.blockedUntil - now))
  redis.call('SET', key, cjson.encode(s), 'PX', ttl)
end

if op == 'peek' then
  if raw then return cjson.encode(s) end
  return false
end

if op == 'acquire' then
  local priority = ARGV[4]
  if priority ~= 'urgent' and priority ~= 'high' then priority = 'normal' end
  local wait = math.max(0, s.blockedUntil - now)
  for _, w in ipairs(s.windows) do
    local usable = w.rem - heldFor(priority, w.q)
    if usable < 1 then
      wait = math.max(wait, w.reset - now)
    elseif priority == 'normal' and usable <= math.ceil((w.q - reserveOf(w.q)) * rules.spreadPercent / 100) then
      wait = math.max(wait, s.lastStart + math.ceil((w.reset - s.lastStart) / (usable + 1)) - now)
    end
  end
  if wait > 0 then return { 0, wait, cjson.encode(s) } end
  for _, w in ipairs(s.windows) do w.rem = w.rem - 1 end
  s.lastStart = now
  save()
  return { 1, 0, cjson.encode(s) }
end

-- observe
local answer = cjson.decode(ARGV[4])
if answer.policy and #answer.policy > 0 then
  local counted = 0
  for _, w in ipairs(s.windows) do counted = math.max(counted, w.q - w.rem) end
  local windows = {}
  for _, p in ipairs(answer.policy) do
    local seen = false
    for _, w in ipairs(windows) do if w.name == p.name then seen = true end end
    if not seen then
      local q, wMs = math.max(p.q, 1), math.ceil(p.w * 1000)
      local old = find(s, p.name)
      if old then
        old.rem = math.max(0, math.min(q, old.rem + (q - old.q)))
        old.q = q
        old.wMs = wMs
        old.reset = math.min(old.reset, now + wMs)
        windows[#windows + 1] = old
      else
        local w = newWindow(p.name, q, wMs)
        w.rem = math.max(0, q - counted)
        windows[#windows + 1] = w
      end
    end
  end
  s.windows = windows
end
for _, l in ipairs(answer.limits or {}) do
  local tMs = -1
  if l.t ~= nil then tMs = math.ceil(l.t * 1000) end
  local w = find(s, l.name)
  if w == nil and tMs > 0 then
    w = newWindow(l.name, math.max(l.r, 1), tMs)
    s.windows[#s.windows + 1] = w
  end
  if w ~= nil then
    if tMs < 0 then w.rem = math.min(w.rem, l.r) end
    if tMs > 0 then
      local reset = now + tMs + rules.resetPadMs
      local slack = math.min(rules.resetSlackMs, math.floor(w.wMs / 2))
      if not w.anchored then
        w.rem = math.min(w.rem, l.r)
        w.reset = reset
        w.anchored = true
      elseif reset > w.reset + slack then
        w.rem = l.r
        w.reset = reset
      else
        w.rem = math.min(w.rem, l.r)
        w.reset = math.max(w.reset, reset)
      end
    end
  end
end
if answer.status == 429 then
  local hold = answer.retryAfterMs
  if hold == nil then hold = rules.defaultRetryAfterMs end
  s.blockedUntil = math.max(s.blockedUntil, now + math.ceil(math.max(0, hold)))
end
save()
return cjson.encode(s)
`;

const SHA = createHash("sha1").update(RATE_BUDGET_LUA).digest("hex");

/** cjson writes an empty array as `{}`. */
function parseState(json: string): BudgetState {
  const s = JSON.parse(json) as BudgetState;
  return Array.isArray(s.windows) ? s : { ...s, windows: [] };
}

/** EVALSHA, falling back to EVAL once when Redis does not have the script yet (a restart, a failover). */
async function run(redis: Redis, key: string, args: string[]): Promise<unknown> {
  try {
    return await redis.evalsha(SHA, 1, key, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith("NOSCRIPT")) throw err;
    return redis.eval(RATE_BUDGET_LUA, 1, key, ...args);
  }
}

const clockArg = (now: number | undefined): string => (now === undefined ? "" : String(now));

/** Runs `decide` in Redis; `now` undefined: Redis' clock. */
export async function decideInRedis(
  redis: Redis,
  key: string,
  now: number | undefined,
  priority: CallPriority,
  rules: BudgetRules,
): Promise<{ decision: Decision; state: BudgetState }> {
  const [granted, waitMs, state] = (await run(redis, key, [
    "acquire",
    clockArg(now),
    JSON.stringify(rules),
    priority,
  ])) as [number, number, string];
  return { decision: { granted: granted === 1, waitMs }, state: parseState(state) };
}

/** Runs `learn` in Redis. */
export async function learnInRedis(
  redis: Redis,
  key: string,
  now: number | undefined,
  answer: BudgetAnswer,
  rules: BudgetRules,
): Promise<BudgetState> {
  return parseState(
    (await run(redis, key, ["observe", clockArg(now), JSON.stringify(rules), JSON.stringify(answer)])) as string,
  );
}

/** The account's state as stored (windows rolled to now), or null when there is none. */
export async function peekInRedis(
  redis: Redis,
  key: string,
  now: number | undefined,
  rules: BudgetRules,
): Promise<BudgetState | null> {
  const json = (await run(redis, key, ["peek", clockArg(now), JSON.stringify(rules), ""])) as string | null;
  return json === null ? null : parseState(json);
}
