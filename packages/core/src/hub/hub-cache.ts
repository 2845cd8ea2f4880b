import { createHash } from "node:crypto";
import type { HubModelInfo } from "./hub-client";
import { HubError } from "./hub-error";
import { TtlLru, type TtlLruOptions } from "./ttl-lru";

/** What the pre-flight (and later the tokenizer checks) ask of the hub; HubClient and CachedHub both answer it. */
export interface Hub {
  readonly endpoint: string;
  modelInfo(repo: string, token?: string, revision?: string): Promise<HubModelInfo>;
  fetchFile(repo: string, revision: string, file: string, token?: string): Promise<Buffer>;
}

/** What the cache keeps: an answer, or the hub's EntryNotFound for a file the repo lacks. */
type Entry = HubModelInfo | Buffer | HubError;

/** The scope of answers any caller may reuse: asked without a token, or about a repo that is public. */
const PUBLIC = "public";

/** A token's cache scope: a hash of it (the token itself is never a key, never kept). */
export function tokenScope(token: string | undefined): string {
  return token === undefined ? PUBLIC : `t:${createHash("sha256").update(token).digest("hex").slice(0, 32)}`;
}

/**
 * The hub's answers kept for a while (HUB_CACHE_TTL_SECONDS, at most HUB_CACHE_MAX_BYTES), keyed by model +
 * revision + file and by WHO may see them: an answer given to a token is kept under that token's hash, so user A's
 * access to a gated or private repo never answers user B's request; an answer given without a token, or about a
 * repo whose info says public and ungated, is kept in the public scope every caller reads first. Successes are kept,
 * and a file the repo does not have (EntryNotFound: asked of files like chat_template.jinja that most models lack);
 * a refusal is asked again (the user may have been granted access meanwhile). Two requests for the same entry at
 * once make one hub request.
 */
export class CachedHub implements Hub {
  private readonly cache: TtlLru<Entry>;
  private readonly inFlight = new Map<string, Promise<Entry>>();

  constructor(
    private readonly hub: Hub,
    options: TtlLruOptions,
  ) {
    this.cache = new TtlLru(options);
  }

  get endpoint(): string {
    return this.hub.endpoint;
  }

  modelInfo(repo: string, token?: string, revision = "main"): Promise<HubModelInfo> {
    const key = `info\0${repo}\0${revision}`;
    return this.cached(key, token, async () => {
      const info = await this.hub.modelInfo(repo, token, revision === "main" ? undefined : revision);
      const bytes = 512 + info.siblings.reduce((n, s) => n + s.rfilename.length, 0);
      return { value: info, bytes, public: !info.private };
    }) as Promise<HubModelInfo>;
  }

  fetchFile(repo: string, revision: string, file: string, token?: string): Promise<Buffer> {
    const key = `file\0${repo}\0${revision}\0${file}`;
    return this.cached(key, token, async () => {
      const data = await this.hub.fetchFile(repo, revision, file, token).catch((err: unknown) => {
        if (err instanceof HubError && err.kind === "entry_not_found") return err;
        throw err;
      });
      const bytes = data instanceof HubError ? 256 : data.byteLength;
      return { value: data, bytes, public: this.knownPublic(repo, revision) };
    }) as Promise<Buffer>;
  }

  /** The cached info says anyone may read the repo's files: public and not gated. */
  private knownPublic(repo: string, revision: string): boolean {
    const info = this.cache.get(`${PUBLIC}\0info\0${repo}\0${revision}`) as HubModelInfo | undefined;
    return info !== undefined && !info.private && info.gated === false;
  }

  private async cached(
    key: string,
    token: string | undefined,
    load: () => Promise<{ value: Entry; bytes: number; public: boolean }>,
  ): Promise<HubModelInfo | Buffer> {
    const own = `${tokenScope(token)}\0${key}`;
    let entry = this.cache.get(`${PUBLIC}\0${key}`) ?? this.cache.get(own) ?? this.inFlight.get(own);
    if (entry === undefined) {
      const read = load()
        .then((r) => {
          this.cache.set(r.public || token === undefined ? `${PUBLIC}\0${key}` : own, r.value, r.bytes);
          return r.value;
        })
        .finally(() => this.inFlight.delete(own));
      this.inFlight.set(own, read);
      entry = read;
    }
    const value = await entry;
    if (value instanceof HubError) throw value;
    return value;
  }
}
