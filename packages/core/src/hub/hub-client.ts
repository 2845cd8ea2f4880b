import { classifyHubAnswer, HubError } from "./hub-error";

/** The public Hugging Face hub: HF_ENDPOINT's default (huggingface_hub's own default endpoint). */
export const DEFAULT_HF_ENDPOINT = "https://huggingface.co";

/** What GET /api/models/{repo} answers that trainpod reads (the hub sends much more). */
export interface HubModelInfo {
  id: string;
  /** the commit the revision resolved to */
  sha?: string;
  private: boolean;
  /** false, or how access is granted ("auto" or "manual") */
  gated: false | "auto" | "manual";
  /** the parameter count of the safetensors weights, per dtype, and in all */
  safetensors?: { parameters: Record<string, number>; total: number };
  siblings: Array<{ rfilename: string }>;
}

export interface HubClientOptions {
  /** HF_ENDPOINT, without a trailing slash */
  endpoint: string;
  /** each request's whole time (HUB_TIMEOUT_MS) */
  timeoutMs: number;
  /** the largest file fetchFile reads (HUB_FILE_MAX_BYTES) */
  maxFileBytes: number;
  /** for tests: another fetch */
  fetch?: typeof fetch;
}

/**
 * Weights are never fetched by the API (the pod downloads them): a file with one of these endings is refused.
 * Only small files (config.json, tokenizer files, a chat template) come through fetchFile.
 */
const WEIGHT_FILE = /\.(safetensors|bin|pt|pth|ckpt|gguf|ggml|h5|msgpack|onnx|pb|tflite|npz|nemo)$/i;

/** One hub repo id's path part, each segment encoded (ids are checked by base-model.ts before they get here). */
const repoPath = (repo: string): string => repo.split("/").map(encodeURIComponent).join("/");
const filePath = (file: string): string => file.split("/").map(encodeURIComponent).join("/");

/**
 * The Hugging Face hub's HTTP API, the parts trainpod uses: a model's info and one small file of a repo at a
 * revision, each with the user's token (or none) and a time limit. Failures are HubErrors whose `kind` says what the
 * hub meant (hub-error.ts). No caching here (hub-cache.ts), no logging: the token never leaves the request header.
 */
export class HubClient {
  readonly endpoint: string;
  private readonly fetch: typeof fetch;

  constructor(private readonly o: HubClientOptions) {
    this.endpoint = o.endpoint.replace(/\/+$/, "");
    this.fetch = o.fetch ?? fetch;
  }

  /** GET /api/models/{repo}[/revision/{rev}] */
  async modelInfo(repo: string, token?: string, revision?: string): Promise<HubModelInfo> {
    const rev = revision === undefined ? "" : `/revision/${encodeURIComponent(revision)}`;
    const res = await this.request("GET", `/api/models/${repoPath(repo)}${rev}`, token);
    const body = await this.readCapped(res, 4 * 1024 * 1024).catch((err: unknown) => {
      throw unavailable(`the hub's model info could not be read: ${errorText(err)}`);
    });
    return parseModelInfo(body.toString("utf8"));
  }

  /** GET /{repo}/resolve/{rev}/{file}: the file's bytes, at most maxFileBytes; never a weights file. */
  async fetchFile(repo: string, revision: string, file: string, token?: string): Promise<Buffer> {
    if (WEIGHT_FILE.test(file)) throw new Error(`the API does not fetch weights (${file})`);
    const res = await this.request(
      "GET",
      `/${repoPath(repo)}/resolve/${encodeURIComponent(revision)}/${filePath(file)}`,
      token,
    );
    return this.readCapped(res, this.o.maxFileBytes);
  }

  private async request(method: string, path: string, token: string | undefined): Promise<Response> {
    const headers: Record<string, string> = { accept: "application/json", "user-agent": "trainpod" };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    let res: Response;
    try {
      res = await this.fetch(`${this.endpoint}${path}`, {
        method,
        headers,
        redirect: "follow",
        signal: AbortSignal.timeout(this.o.timeoutMs),
      });
    } catch (err) {
      throw unavailable(`the hub (${this.endpoint}) did not answer: ${errorText(err)}`);
    }
    if (res.ok) return res;
    const code = res.headers.get("x-error-code");
    const serverMessage = res.headers.get("x-error-message") ?? (await res.text().catch(() => "")).slice(0, 300);
    await res.body?.cancel().catch(() => undefined);
    const kind = classifyHubAnswer(res.status, code, token !== undefined);
    throw new HubError(kind, `the hub answered ${res.status}${code ? ` ${code}` : ""}: ${serverMessage}`, res.status);
  }

  /** The body, refused past `max` bytes (by Content-Length first, then as it streams). */
  private async readCapped(res: Response, max: number): Promise<Buffer> {
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > max) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`the file is ${declared} bytes, over the ${max}-byte limit`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    if (res.body === null) return Buffer.alloc(0);
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > max) throw new Error(`the file is over the ${max}-byte limit`);
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  }
}

function unavailable(message: string): HubError {
  return new HubError("unavailable", message);
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.name === "TimeoutError" ? "timed out" : err.message;
  return String(err);
}

/** The fields of a model info answer trainpod reads, checked; anything else about it is unavailable. */
export function parseModelInfo(text: string): HubModelInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw unavailable("the hub's model info is not JSON");
  }
  if (typeof raw !== "object" || raw === null || typeof (raw as { id?: unknown }).id !== "string")
    throw unavailable("the hub's model info has no id");
  const r = raw as Record<string, unknown>;
  const st = r.safetensors as { parameters?: unknown; total?: unknown } | undefined;
  const safetensors =
    st && typeof st.total === "number" && typeof st.parameters === "object" && st.parameters !== null
      ? { parameters: st.parameters as Record<string, number>, total: st.total }
      : undefined;
  const siblings = Array.isArray(r.siblings)
    ? r.siblings.filter((s): s is { rfilename: string } => typeof s?.rfilename === "string")
    : [];
  return {
    id: r.id as string,
    sha: typeof r.sha === "string" ? r.sha : undefined,
    private: r.private === true,
    gated: r.gated === "auto" || r.gated === "manual" ? r.gated : r.gated === true ? "auto" : false,
    safetensors,
    siblings,
  };
}
