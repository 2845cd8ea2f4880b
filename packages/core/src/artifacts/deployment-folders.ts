import { promises as fs } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { AppError } from "../errors";
import {
  assertSafeKey,
  LocalFileStorage,
  type BlobObject,
  type BlobStat,
  type BlobStorage,
  type GetOptions,
  type PutOptions,
  type PutResult,
} from "../storage";

const escapes = (): AppError => new AppError("VALIDATION_FAILED", "invalid storage key");

function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}

/**
 * The artifact storage on a local folder (ARTIFACT_DIR), each deployment confined to its own folder. Keys are
 * `<deploymentId>/<path>`; LocalFileStorage alone keeps a key inside ARTIFACT_DIR, symlinks followed, so a
 * symlink in one deployment's folder could still lead into another's. Here every operation goes to a
 * LocalFileStorage rooted at ARTIFACT_DIR/<deploymentId>, whose real path must be exactly that folder (not
 * itself a symlink elsewhere): what the key names, symlinks followed, stays inside it, or VALIDATION_FAILED.
 */
class DeploymentFolders implements BlobStorage {
  constructor(private readonly root: string) {}

  /** The deployment's own store and the key inside it; null when the folder does not exist (and `create` is false). */
  private async scope(key: string, create: boolean): Promise<{ store: LocalFileStorage; rest: string } | null> {
    assertSafeKey(key);
    const [deploymentId = "", ...segments] = key.split("/");
    if (segments.length === 0) throw escapes();
    const folder = path.join(this.root, deploymentId);
    if (create) {
      await fs.mkdir(folder, { recursive: true }).catch((err: unknown) => {
        throw (err as NodeJS.ErrnoException).code === "EEXIST" ? escapes() : err; // a dangling symlink or a file
      });
    }
    let real: string;
    try {
      real = await fs.realpath(folder);
    } catch (err) {
      if (isNotFound(err)) return null;
      throw err;
    }
    if (real !== path.join(await fs.realpath(this.root), deploymentId)) throw escapes();
    return { store: new LocalFileStorage(folder), rest: segments.join("/") };
  }

  async put(key: string, body: Readable | AsyncIterable<Uint8Array>, options?: PutOptions): Promise<PutResult> {
    const scoped = await this.scope(key, true);
    if (!scoped) throw escapes(); // created a moment ago, gone already
    return scoped.store.put(scoped.rest, body, options);
  }

  async get(key: string, options?: GetOptions): Promise<BlobObject> {
    const scoped = await this.scope(key, false);
    if (!scoped) throw new AppError("NOT_FOUND", "object not found");
    return scoped.store.get(scoped.rest, options);
  }

  async stat(key: string): Promise<BlobStat | null> {
    const scoped = await this.scope(key, false);
    return scoped ? scoped.store.stat(scoped.rest) : null;
  }

  async delete(key: string): Promise<void> {
    const scoped = await this.scope(key, false);
    if (scoped) await scoped.store.delete(scoped.rest);
  }
}

/**
 * The artifact storage as the API uses it: a local folder gets each deployment confined to its own
 * subfolder (DeploymentFolders); any other store (S3: flat keys, no symlinks, checked by assertSafeKey) is
 * returned as it is.
 */
export function confineToDeploymentFolders(storage: BlobStorage): BlobStorage {
  return storage instanceof LocalFileStorage ? new DeploymentFolders(storage.root) : storage;
}
