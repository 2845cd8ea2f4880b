import type { ModelChat } from "./model-files";

/**
 * A dataset row rendered exactly as the trainer renders it (pod-agent/trainpod_agent/ml/data.py format_row and
 * messages.py to_template, with transformers' apply_chat_template around the template): the messages in the
 * template's form, the text ending with EOS, and the spans of the assistant turns (what completion-only loss
 * trains on). scripts/estimate-golden.py and estimate-golden.test.ts hold the two sides to the same bytes.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type Row = Record<string, Json>;
type Message = Record<string, Json>;

export interface RenderedRow {
  text: string;
  /** [start, end) of each assistant turn in `text` (UTF-16 indices); null when the template's renders of the
   * conversation's beginnings are not prefixes of the whole (then the whole text is trained on) */
  spans: Array<[number, number]> | null;
}

/** The template failed on the row: its own message (raise_exception's, or the engine's). */
export class TemplateError extends Error {}

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A call's arguments as an object: given as one, or as a string of one (OpenAI's way). */
function callArguments(value: Json | undefined): Json {
  if (typeof value === "string") {
    try {
      return JSON.parse(value) as Json;
    } catch {
      return null;
    }
  }
  return value ?? null;
}

/** messages.py to_template: role and content ("" for none), an assistant's calls with object arguments, a tool's id/name. */
function toTemplate(m: Message): Message {
  const out: Message = { role: m.role ?? null, content: typeof m.content === "string" ? m.content : "" };
  const calls = m.tool_calls;
  if (m.role === "assistant" && Array.isArray(calls) && calls.length > 0) {
    out.tool_calls = calls.filter(isObject).map((c) => {
      const fn = isObject(c.function) ? c.function : {};
      return {
        ...(typeof c.id === "string" ? { id: c.id } : {}),
        type: "function",
        function: { name: fn.name ?? null, arguments: callArguments(fn.arguments) },
      };
    });
  }
  if (m.role === "tool") for (const k of ["tool_call_id", "name"]) if (typeof m[k] === "string") out[k] = m[k];
  return out;
}

/** data.py to_messages: a chat row's messages in the template's form; prompt/completion as a user/assistant pair. */
export function toMessages(row: Row): Message[] {
  if ("messages" in row && Array.isArray(row.messages)) return row.messages.filter(isObject).map(toTemplate);
  return [
    { role: "user", content: row.prompt ?? "" },
    { role: "assistant", content: row.completion ?? "" },
  ];
}

function rowTools(row: Row): Json[] | null {
  return "messages" in row && Array.isArray(row.tools) && row.tools.length > 0 ? row.tools : null;
}

function render(chat: ModelChat, messages: Message[], tools: Json[] | null, generationPrompt: boolean): string {
  const template = tools === null ? chat.template : chat.toolTemplate;
  try {
    return template.render({
      ...chat.specialTokens,
      messages,
      tools,
      documents: null,
      add_generation_prompt: generationPrompt,
    });
  } catch (err) {
    throw new TemplateError(err instanceof Error ? err.message : String(err));
  }
}

/** Python's str.rstrip(): trailing whitespace as str.isspace says (not JavaScript's \s: it has \ufeff, lacks \x1c-\x1f). */
const PY_SPACE = new Set(
  "\t\n\v\f\r\u001c\u001d\u001e\u001f \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);
export function rstrip(s: string): string {
  let end = s.length;
  while (end > 0 && PY_SPACE.has(s.charAt(end - 1))) end--;
  return s.slice(0, end);
}

/** data.py format_row: the row's text, ending with EOS, and the spans of its assistant turns. */
export function renderRow(chat: ModelChat, row: Row): RenderedRow {
  const messages = toMessages(row);
  const tools = rowTools(row);
  let text = render(chat, messages, tools, false);
  if (!rstrip(text).endsWith(chat.eosToken)) text += chat.eosToken;
  const spans: Array<[number, number]> = [];
  for (let i = 0; i < messages.length; i++) {
    if (messages[i]?.role !== "assistant") continue;
    const before = i > 0 ? render(chat, messages.slice(0, i), tools, true) : "";
    const through = rstrip(i === messages.length - 1 ? text : render(chat, messages.slice(0, i + 1), tools, false));
    if (!text.startsWith(before) || !text.startsWith(through)) return { text, spans: null };
    spans.push([before.length, through.length]);
  }
  return { text, spans };
}

/**
 * data.py check_template's tool rule: each tool call's function name must be in an assistant turn of the text (a
 * template without tools drops them, and the model would learn to answer a call with nothing). The reason, or null.
 */
export function droppedToolCall(row: Row, rendered: RenderedRow): string | null {
  const turns = rendered.spans === null ? [rendered.text] : rendered.spans.map(([a, b]) => rendered.text.slice(a, b));
  for (const m of toMessages(row)) {
    const calls = Array.isArray(m.tool_calls) ? m.tool_calls : [];
    for (const c of calls) {
      const name = isObject(c) && isObject(c.function) ? c.function.name : null;
      if (typeof name === "string" && !turns.some((t) => t.includes(name)))
        return (
          `the base model's chat template does not render tool calls (function ${name} is not in the text it ` +
          "makes of the row): choose a model whose template supports tools"
        );
    }
  }
  return null;
}
