import type { SealedSecret } from "./cipher";
import type { SecretsKeyring } from "./keyring";

/** A row holding a sealed value: what a re-seal reads and checks before it writes. */
export interface SealedRow {
  id: string;
  keyId: string;
  updatedAt: Date;
}

/** The sealed columns as written, the row's date kept (a rotation is no change of the row). */
export interface ResealData {
  keyId: string;
  iv: Uint8Array<ArrayBuffer>;
  ciphertext: Uint8Array<ArrayBuffer>;
  authTag: Uint8Array<ArrayBuffer>;
  updatedAt: Date;
}

/** One table of sealed values, as resealRows sees it. */
export interface ResealTable<R extends SealedRow> {
  /**
   * Up to `take` rows not under `currentKeyId`. `skipped` holds the ids whose write found the row changed or
   * deleted meanwhile: a table that leaves those alone leaves them out, one that reads them again retries them.
   */
  find(currentKeyId: string, skipped: string[], take: number): Promise<R[]>;
  /** the row's value sealed again, under the keyring's current key */
  reseal(row: R): SealedSecret;
  /** writes `data` only where the row is still the one read (`where`); answers how many rows it wrote */
  update(where: SealedRow, data: ResealData): Promise<{ count: number }>;
}

/**
 * Re-encrypts, batch by batch, every row of `table` that is not under the keyring's current key (`npm run
 * secrets:rotate`, after SECRETS_KEYS put a new key first). Answers how many rows it wrote; none without a key.
 */
export async function resealRows<R extends SealedRow>(
  keyring: SecretsKeyring,
  table: ResealTable<R>,
  batch: number,
): Promise<number> {
  const current = keyring.current;
  if (!current) return 0;
  let done = 0;
  const skipped: string[] = [];
  for (;;) {
    const rows = await table.find(current.id, skipped, batch);
    if (rows.length === 0) return done;
    for (const row of rows) {
      const sealed = table.reseal(row);
      const { count } = await table.update(
        { id: row.id, keyId: row.keyId, updatedAt: row.updatedAt },
        {
          keyId: sealed.keyId,
          iv: Buffer.from(sealed.iv),
          ciphertext: Buffer.from(sealed.ciphertext),
          authTag: Buffer.from(sealed.authTag),
          updatedAt: row.updatedAt,
        },
      );
      if (count === 0) skipped.push(row.id);
      done += count;
    }
  }
}
