import type { PrismaClient } from "../db";
import { sealSecret, type SecretsKeyring } from "../secrets";
import { endpointSecret, endpointSecretOwner } from "./endpoints";

/**
 * Re-encrypts every webhook endpoint's signing secret that is not under the keyring's current key (`npm run
 * secrets:rotate`, beside the users' secrets), bound to its endpoint as at creation. The endpoint's dates are kept
 * (rotation is no change of the endpoint); a row changed or deleted meanwhile is left alone. Answers how many.
 */
export async function reencryptEndpointSecrets(
  deps: { prisma: PrismaClient; keyring: SecretsKeyring },
  batch = 500,
): Promise<number> {
  const current = deps.keyring.current;
  if (!current) return 0;
  let done = 0;
  const skipped: string[] = [];
  for (;;) {
    const rows = await deps.prisma.webhookEndpoint.findMany({
      where: { keyId: { not: current.id }, id: { notIn: skipped } },
      orderBy: { id: "asc" },
      take: batch,
    });
    if (rows.length === 0) return done;
    for (const row of rows) {
      const sealed = sealSecret(deps.keyring, endpointSecretOwner(row), endpointSecret(deps.keyring, row));
      const { count } = await deps.prisma.webhookEndpoint.updateMany({
        where: { id: row.id, keyId: row.keyId, updatedAt: row.updatedAt },
        data: {
          keyId: sealed.keyId,
          iv: Buffer.from(sealed.iv),
          ciphertext: Buffer.from(sealed.ciphertext),
          authTag: Buffer.from(sealed.authTag),
          updatedAt: row.updatedAt,
        },
      });
      if (count === 0) skipped.push(row.id);
      done += count;
    }
  }
}
