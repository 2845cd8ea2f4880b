import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

// A local Hugging Face hub for tests: the parts of its HTTP protocol trainpod and huggingface_hub use, with its
// access rules as huggingface_hub's hf_raise_for_status reads them (X-Error-Code / X-Error-Message headers):
// - GET /api/models/{repo}[/revision/{rev}]: the model's info (gated, private, safetensors parameters, siblings).
//   A gated repo's info is public; a private or missing one is 401 RepoNotFound without a token, 404 with one.
// - GET|HEAD /{repo}/resolve/{rev}/{file}: the file, with ETag, X-Repo-Commit, Content-Length. A gated repo's files
//   are 401 GatedRepo without a token, 403 GatedRepo with a token not on its list; a missing file 404 EntryNotFound,
//   a missing revision 404 RevisionNotFound.
// - a token the hub does not know is 401 "Invalid credentials in Authorization header", on any route.
// Repos live in memory; `faults` makes it slow or failing (5xx) to test the hub being unreachable.

export interface FakeHubRepo {
  /** owner/name */
  id: string;
  gated?: false | "auto" | "manual";
  private?: boolean;
  /** tokens that may read the repo's files (gated: approved users; private: members) */
  allowed?: string[];
  /** the files at "main" (and at the repo's sha) */
  files: Record<string, string | Buffer>;
  /** safetensors parameters per dtype, e.g. {BF16: 8030261248} (absent: no safetensors entry) */
  parameters?: Record<string, number>;
}

export interface FakeHubRequest {
  method: string;
  path: string;
  /** the bearer token sent, if any */
  token?: string;
}

const sha1 = (data: string | Buffer) => createHash("sha1").update(data).digest("hex");

/** A Llama-3-shaped config.json (hidden size, layers, heads, kv heads, intermediate size, vocabulary). */
export function llamaConfig(o: {
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  intermediate: number;
  vocab?: number;
  tied?: boolean;
}): string {
  return JSON.stringify({
    architectures: ["LlamaForCausalLM"],
    model_type: "llama",
    hidden_size: o.hidden,
    intermediate_size: o.intermediate,
    num_hidden_layers: o.layers,
    num_attention_heads: o.heads,
    num_key_value_heads: o.kvHeads,
    vocab_size: o.vocab ?? 128256,
    tie_word_embeddings: o.tied ?? false,
    torch_dtype: "bfloat16",
  });
}

export class FakeHub {
  readonly repos = new Map<string, FakeHubRepo>();
  /** tokens the hub knows (any other bearer token is refused) */
  readonly tokens = new Set<string>();
  readonly requests: FakeHubRequest[] = [];
  /** every answer delayed this long, or failing with this status (e.g. 503), while set */
  faults: { delayMs?: number; status?: number } = {};
  base = "";
  private readonly server: Server = createServer((req, res) => void this.handle(req, res));

  addRepo(repo: FakeHubRepo): this {
    this.repos.set(repo.id, repo);
    return this;
  }

  addToken(token: string): this {
    this.tokens.add(token);
    return this;
  }

  /** Grants (or revokes) a token's access to a gated or private repo. */
  setAccess(repoId: string, token: string, allowed: boolean): void {
    const repo = this.repos.get(repoId);
    if (!repo) throw new Error(`no repo ${repoId}`);
    const list = new Set(repo.allowed ?? []);
    if (allowed) list.add(token);
    else list.delete(token);
    repo.allowed = [...list];
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The commit sha of a repo (stable: derived from its id and files). */
  sha(repo: FakeHubRepo): string {
    return sha1(`${repo.id}\0${Object.keys(repo.files).sort().join("\0")}`);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://hub").pathname);
    const auth = req.headers.authorization;
    const token = auth?.startsWith("Bearer ") ? auth.slice(7) : undefined;
    this.requests.push({ method: req.method ?? "GET", path, token });
    if (this.faults.delayMs) await new Promise((r) => setTimeout(r, this.faults.delayMs));
    if (res.destroyed) return;
    if (this.faults.status) return error(res, this.faults.status, null, "the hub is having a bad day");
    if (token !== undefined && !this.tokens.has(token))
      return error(res, 401, null, "Invalid credentials in Authorization header");
    const api = /^\/api\/models\/([^/]+\/[^/]+)(?:\/revision\/([^/]+))?$/.exec(path);
    if (api && req.method === "GET") return this.modelInfo(res, api[1] as string, api[2] ?? "main", token);
    const resolve = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (resolve && (req.method === "GET" || req.method === "HEAD"))
      return this.file(req, res, resolve[1] as string, resolve[2] as string, resolve[3] as string, token);
    error(res, 404, null, "Sorry, we can't find the page you are looking for.");
  }

  /** The repo when this caller may see it at all (gated repos are visible), else the hub's refusal is sent. */
  private visible(res: ServerResponse, id: string, token: string | undefined): FakeHubRepo | null {
    const repo = this.repos.get(id);
    if (repo && (!repo.private || (token !== undefined && repo.allowed?.includes(token)))) return repo;
    // the hub does not tell a private repo from a missing one
    error(res, token === undefined ? 401 : 404, "RepoNotFound", "Repository not found");
    return null;
  }

  private revisionOk(res: ServerResponse, repo: FakeHubRepo, rev: string): boolean {
    if (rev === "main" || rev === this.sha(repo)) return true;
    error(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    return false;
  }

  private modelInfo(res: ServerResponse, id: string, rev: string, token: string | undefined): void {
    const repo = this.visible(res, id, token);
    if (!repo || !this.revisionOk(res, repo, rev)) return;
    const params = repo.parameters;
    const total = params ? Object.values(params).reduce((a, b) => a + b, 0) : undefined;
    const body = {
      _id: sha1(id).slice(0, 24),
      id,
      modelId: id,
      author: id.split("/")[0],
      sha: this.sha(repo),
      private: repo.private === true,
      gated: repo.gated ?? false,
      disabled: false,
      downloads: 0,
      likes: 0,
      tags: ["transformers", "safetensors"],
      library_name: "transformers",
      siblings: Object.keys(repo.files).map((rfilename) => ({ rfilename })),
      ...(params ? { safetensors: { parameters: params, total } } : {}),
    };
    json(res, 200, body);
  }

  private file(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    rev: string,
    file: string,
    token: string | undefined,
  ): void {
    const repo = this.visible(res, id, token);
    if (!repo) return;
    if (repo.gated && !(token !== undefined && repo.allowed?.includes(token))) {
      if (token === undefined)
        return error(
          res,
          401,
          "GatedRepo",
          `Access to model ${id} is restricted. You must have access to it and be authenticated to access it. Please log in.`,
        );
      return error(
        res,
        403,
        "GatedRepo",
        `Access to model ${id} is restricted and you are not in the authorized list. Visit ${this.base}/${id} to ask for access.`,
      );
    }
    if (!this.revisionOk(res, repo, rev)) return;
    const content = repo.files[file];
    if (content === undefined) return error(res, 404, "EntryNotFound", "Entry not found");
    const data = Buffer.from(content);
    res.writeHead(200, {
      "content-type": file.endsWith(".json") ? "application/json" : "application/octet-stream",
      "content-length": data.byteLength,
      etag: `"${sha1(data)}"`,
      "x-repo-commit": this.sha(repo),
      "accept-ranges": "bytes",
    });
    res.end(req.method === "HEAD" ? undefined : data);
  }
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data), ...headers });
  res.end(data);
}

function error(res: ServerResponse, status: number, code: string | null, message: string): void {
  json(res, status, { error: message }, { ...(code ? { "x-error-code": code } : {}), "x-error-message": message });
}
