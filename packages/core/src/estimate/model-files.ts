import { readFile } from "node:fs/promises";
import path from "node:path";
import { Template } from "@huggingface/jinja";
import { Tokenizer } from "@huggingface/tokenizers";
import { AppError } from "../errors";

/**
 * A model's small files, what the estimate needs of it (never the weights): config.json, tokenizer.json,
 * tokenizer_config.json and, where the model has one, chat_template.jinja (transformers' newer place for the
 * template). Fetched from the hub with the user's token (packages/core/src/hub) or read from a local folder.
 */
export interface ModelFiles {
  config: Record<string, unknown>;
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  chatTemplate?: string;
}

/**
 * The template the trainer uses for a base model without one (pod-agent/trainpod_agent/ml/data.py
 * DEFAULT_CHAT_TEMPLATE, character for character): each message, an assistant's tool calls as JSON, the tools first.
 */
export const DEFAULT_CHAT_TEMPLATE =
  "{% if tools %}<|tools|>\n{{ tools | tojson }}{{ eos_token }}\n{% endif %}" +
  "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}" +
  "{% if m['tool_calls'] is defined %}{% for c in m['tool_calls'] %}<tool_call>{{ c['function'] | tojson }}" +
  "</tool_call>{% endfor %}{% endif %}{{ eos_token }}\n{% endfor %}" +
  "{% if add_generation_prompt %}<|assistant|>\n{% endif %}";

/** transformers' special token attributes, passed to the chat template by name (tokenizer.special_tokens_map) */
const SPECIAL_TOKEN_KEYS = [
  "bos_token",
  "eos_token",
  "unk_token",
  "sep_token",
  "pad_token",
  "cls_token",
  "mask_token",
] as const;

/** The model's tokenizer and chat template, ready to render and count rows as the trainer does. */
export interface ModelChat {
  tokenizer: Tokenizer;
  /** the compiled template: the model's default one, and its tool_use one for rows with tools where it has one */
  template: Template;
  toolTemplate: Template;
  /** what the template sees besides messages and tools: bos_token, eos_token, … (the pad token as the trainer sets it) */
  specialTokens: Record<string, string>;
  eosToken: string;
  /** whether the model brought a template (false: the trainer's DEFAULT_CHAT_TEMPLATE) */
  ownTemplate: boolean;
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "object" && v !== null && typeof (v as { content?: unknown }).content === "string")
    return (v as { content: string }).content;
  return undefined;
}

/** tokenizer_config's chat_template: a string, or a list of named ones ({name, template}), as transformers reads it. */
function templates(files: ModelFiles): { plain?: string; tools?: string } {
  if (files.chatTemplate !== undefined) return { plain: files.chatTemplate, tools: files.chatTemplate };
  const t = files.tokenizerConfig.chat_template;
  if (typeof t === "string") return { plain: t, tools: t };
  if (Array.isArray(t)) {
    const named = new Map<string, string>();
    for (const e of t as Array<{ name?: unknown; template?: unknown }>)
      if (typeof e?.name === "string" && typeof e.template === "string") named.set(e.name, e.template);
    const plain = named.get("default");
    return { plain, tools: named.get("tool_use") ?? plain };
  }
  return {};
}

function compile(source: string, which: string): Template {
  try {
    return new Template(source);
  } catch (err) {
    throw new AppError("UNPROCESSABLE", `the base model's ${which} cannot be read: ${(err as Error).message}`);
  }
}

/**
 * The tokenizer (tokenizers.js on tokenizer.json) and the chat template (@huggingface/jinja) of a model's files,
 * set up as the trainer sets up its tokenizer (ml/data.py prepare_tokenizer): the default template when the model
 * has none, and the pad token it picks (a pad equal to EOS becomes the unknown token, else `<|trainpod_pad|>`).
 */
export function modelChat(files: ModelFiles): ModelChat {
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
  } catch (err) {
    throw new AppError("UNPROCESSABLE", `the base model's tokenizer.json cannot be read: ${(err as Error).message}`);
  }
  const specialTokens: Record<string, string> = {};
  for (const key of SPECIAL_TOKEN_KEYS) {
    const v = tokenText(files.tokenizerConfig[key]);
    if (v !== undefined) specialTokens[key] = v;
  }
  const eosId = files.config.eos_token_id;
  if (specialTokens.eos_token === undefined && typeof eosId === "number") {
    const eos = tokenizer.id_to_token(eosId);
    if (eos !== undefined) specialTokens.eos_token = eos;
  }
  const eosToken = specialTokens.eos_token;
  if (eosToken === undefined) throw new AppError("UNPROCESSABLE", "the base model's tokenizer has no EOS token");
  const pad = specialTokens.pad_token;
  if (pad === undefined || pad === eosToken) {
    const unk = specialTokens.unk_token;
    specialTokens.pad_token = unk !== undefined && unk !== eosToken ? unk : "<|trainpod_pad|>";
  }
  const t = templates(files);
  const template = compile(t.plain ?? DEFAULT_CHAT_TEMPLATE, "chat template");
  const toolTemplate = t.tools === t.plain ? template : compile(t.tools ?? DEFAULT_CHAT_TEMPLATE, "tool_use template");
  return { tokenizer, template, toolTemplate, specialTokens, eosToken, ownTemplate: t.plain !== undefined };
}

async function readJson(file: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
}

/** A model's small files from a local folder (a test fixture, or a folder of cached models). */
export async function readModelFiles(dir: string): Promise<ModelFiles> {
  const [config, tokenizerJson, tokenizerConfig] = await Promise.all(
    ["config.json", "tokenizer.json", "tokenizer_config.json"].map((name) =>
      readJson(path.join(dir, name)).catch((err: NodeJS.ErrnoException) => {
        if (name === "config.json" && err.code === "ENOENT") return {};
        throw err;
      }),
    ),
  );
  const chatTemplate = await readFile(path.join(dir, "chat_template.jinja"), "utf8").catch(() => undefined);
  return {
    config: config ?? {},
    tokenizerJson: tokenizerJson ?? {},
    tokenizerConfig: tokenizerConfig ?? {},
    ...(chatTemplate !== undefined ? { chatTemplate } : {}),
  };
}
