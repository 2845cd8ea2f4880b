import { HubError } from "../hub/hub-error";
import type { Hub } from "../hub";
import { modelChat, readModelFiles, type ModelChat, type ModelFiles } from "./model-files";

/**
 * Where the estimate finds a base model's small files: the hub (with the user's HF_TOKEN, cached by model and
 * revision in the hub client), or a local folder of models (MODEL_FILES_DIR: `<dir>/<owner>/<name>/`, the tests'
 * and an offline install's). null: the model's files cannot be had here (a path on the pod, no hub): the estimate
 * then prices the runtime the request states, as before.
 */
export type ModelFilesSource = (baseModel: string, token: string | undefined) => Promise<ModelFiles | null>;

function parse(data: Buffer, name: string): Record<string, unknown> {
  try {
    return JSON.parse(data.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw new Error(`${name} is not JSON`);
  }
}

/** The files from the hub at `revision`; chat_template.jinja and config.json only where the repo has them. */
export function hubModelFiles(hub: Hub, revision = "main"): ModelFilesSource {
  return async (repo, token) => {
    if (repo.startsWith("/")) return null;
    const get = (file: string) => hub.fetchFile(repo, revision, file, token);
    // a file the repo lacks (EntryNotFound) is absent; the hub failing on it is a failure (not a silent other template)
    const optional = (file: string) =>
      get(file).catch((err: unknown) => {
        if (err instanceof HubError && err.kind === "entry_not_found") return undefined;
        throw err;
      });
    const [tokenizerJson, tokenizerConfig, config, template] = await Promise.all([
      get("tokenizer.json"),
      get("tokenizer_config.json"),
      optional("config.json"),
      optional("chat_template.jinja"),
    ]);
    // the hub cache answers the same Buffers while they are cached: the same files object, compiled once (chatFor)
    const known = parsed.get(tokenizerJson);
    if (known && known.from[0] === tokenizerConfig && known.from[1] === config && known.from[2] === template)
      return known.files;
    const files: ModelFiles = {
      tokenizerJson: parse(tokenizerJson, "tokenizer.json"),
      tokenizerConfig: parse(tokenizerConfig, "tokenizer_config.json"),
      config: config === undefined ? {} : parse(config, "config.json"),
      ...(template !== undefined ? { chatTemplate: template.toString("utf8") } : {}),
    };
    parsed.set(tokenizerJson, { files, from: [tokenizerConfig, config, template] });
    return files;
  };
}

const parsed = new WeakMap<Buffer, { files: ModelFiles; from: Array<Buffer | undefined> }>();

/** The files from `<dir>/<baseModel>/` (a hub id's owner/name as folders); null when the folder has no tokenizer. */
export function localModelFiles(dir: string): ModelFilesSource {
  const read = new Map<string, Promise<ModelFiles | null>>();
  return async (baseModel) => {
    if (baseModel.startsWith("/") || baseModel.includes("..")) return null;
    let files = read.get(baseModel);
    if (files === undefined) {
      files = readModelFiles(`${dir}/${baseModel}`).catch(() => null);
      read.set(baseModel, files);
    }
    return files;
  };
}

/** The first source that has the model. */
export function firstOf(...sources: Array<ModelFilesSource | undefined>): ModelFilesSource {
  return async (model, token) => {
    for (const s of sources) {
      const files = s === undefined ? null : await s(model, token);
      if (files !== null) return files;
    }
    return null;
  };
}

/** A compiled tokenizer and template per model files object: tokenizer.json of a big vocabulary takes a while. */
const compiled = new WeakMap<ModelFiles, ModelChat>();
export function chatFor(files: ModelFiles): ModelChat {
  let chat = compiled.get(files);
  if (chat === undefined) {
    chat = modelChat(files);
    compiled.set(files, chat);
  }
  return chat;
}
