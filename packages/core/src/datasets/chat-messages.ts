/**
 * A chat row's messages and tools in OpenAI's format (issue 26 item 6): roles system, user, assistant and tool; an
 * assistant message may carry `tool_calls` (`[{id, type: "function", function: {name, arguments}}]`, its content
 * then a string, null or absent), each tool message answers a call of the assistant message before it
 * (`tool_call_id`), and the row may list its `tools` (`[{type: "function", function: {name, …}}]`). The pod agent
 * checks the same rules with the same reasons (pod-agent/trainpod_agent/ml/messages.py); pod-agent/tests/fixtures/
 * datasets* holds the files both sides must decide alike. Other keys are ignored. Returns the reason, or null.
 */
export const ROLES = new Set(["system", "user", "assistant", "tool"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A call's arguments: an object, or a string of one (OpenAI's way). */
function argumentsOk(value: unknown): boolean {
  if (typeof value !== "string") return isObject(value);
  try {
    return isObject(JSON.parse(value));
  } catch {
    return false;
  }
}

/** The ids of an assistant message's tool calls (null for a call without one), or the reason they are bad. */
function toolCallIds(where: string, calls: unknown): Array<string | null> | string {
  if (calls === undefined || calls === null) return [];
  if (!Array.isArray(calls)) return `${where}.tool_calls must be an array`;
  const ids: Array<string | null> = [];
  for (let j = 0; j < calls.length; j++) {
    const at = `${where}.tool_calls[${j}]`;
    const call: unknown = calls[j];
    if (!isObject(call)) return `${at} must be an object`;
    if ("id" in call && typeof call.id !== "string") return `${at}.id must be a string`;
    if ("type" in call && call.type !== "function") return `${at}.type must be "function"`;
    const fn = call.function;
    if (!isObject(fn) || typeof fn.name !== "string" || fn.name === "")
      return `${at}.function.name must be a non-empty string`;
    if (!argumentsOk(fn.arguments)) return `${at}.function.arguments must be a JSON object or a string of one`;
    ids.push(typeof call.id === "string" ? call.id : null);
  }
  return ids;
}

/** The reason one message is bad, or null; `calls` is what a tool message may answer (null: none now). */
function messageReason(i: number, m: unknown, calls: Array<string | null> | null): string | Array<string | null> {
  const where = `messages[${i}]`;
  if (!isObject(m)) return `${where} must be an object`;
  if (typeof m.role !== "string" || !ROLES.has(m.role))
    return `${where}.role must be one of system, user, assistant, tool`;
  const ids = m.role === "assistant" ? toolCallIds(where, m.tool_calls) : [];
  if (typeof ids === "string") return ids;
  const contentOptional = m.role === "assistant" && ids.length > 0;
  const content = m.content;
  if (typeof content !== "string" && !(contentOptional && (content === null || content === undefined)))
    return `${where}.content must be a string`;
  if (m.role !== "tool") return ids;
  if (calls === null) return `${where}: a tool message must follow an assistant message with tool_calls`;
  const answered = m.tool_call_id;
  if (answered !== undefined && answered !== null && typeof answered !== "string")
    return `${where}.tool_call_id must be a string`;
  if (typeof answered === "string" && calls.some((c) => c !== null) && !calls.includes(answered))
    return `${where}.tool_call_id matches no tool call of the assistant message before it`;
  return calls;
}

/** Why a chat row's messages are bad, or null. */
export function messagesReason(messages: unknown): string | null {
  if (!Array.isArray(messages) || messages.length === 0) return "messages must be a non-empty array";
  let calls: Array<string | null> | null = null;
  let assistant = false;
  for (let i = 0; i < messages.length; i++) {
    const got = messageReason(i, messages[i], calls);
    if (typeof got === "string") return got;
    const role = (messages[i] as { role: string }).role;
    if (role !== "tool") calls = got.length > 0 ? got : null;
    if (role === "assistant") assistant = true;
  }
  return assistant ? null : "messages must include an assistant message";
}

/** Why a chat row's `tools` are bad, or null: absent, null, or an array of functions. */
export function toolsReason(tools: unknown): string | null {
  if (tools === undefined || tools === null) return null;
  if (!Array.isArray(tools)) return "tools must be an array";
  for (let k = 0; k < tools.length; k++) {
    const tool: unknown = tools[k];
    const fn = isObject(tool) ? tool.function : undefined;
    if (!isObject(fn) || typeof fn.name !== "string" || fn.name === "")
      return `tools[${k}].function.name must be a non-empty string`;
    if (isObject(tool) && "type" in tool && tool.type !== "function") return `tools[${k}].type must be "function"`;
  }
  return null;
}
