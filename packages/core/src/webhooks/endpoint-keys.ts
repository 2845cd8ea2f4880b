import type { PrismaClient } from "../db";
import { resealRows, sealSecret, type SecretsKeyring } from "../secrets";
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
  return resealRows(
    deps.keyring,
    {
      find: (current, skipped, take) =>
        deps.prisma.webhookEndpoint.findMany({
          where: { keyId: { not: current }, id: { notIn: skipped } },
          orderBy: { id: "asc" },
          take,
        }),
      reseal: (row) => sealSecret(deps.keyring, endpointSecretOwner(row), endpointSecret(deps.keyring, row)),
      update: (where, data) => deps.prisma.webhookEndpoint.updateMany({ where, data }),
    },
    batch,
  );
}
