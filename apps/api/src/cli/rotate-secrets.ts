/**
 * `npm run secrets:rotate`: re-encrypts every sealed secret that is not under the current key (the first of
 * SECRETS_KEYS) with it: the users' secrets and the webhook endpoints' signing secrets, so the old keys can then be
 * dropped from SECRETS_KEYS (the worker's start-up check covers both). Prints how many; never a value.
 */
import {
  createPrismaClient,
  isAppError,
  loadConfigOrExit,
  reencryptEndpointSecrets,
  reencryptSecrets,
  secretsKeyring,
} from "@trainpod/core";

async function main(): Promise<number> {
  const config = loadConfigOrExit();
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL, maxConnections: 1 });
  try {
    const keyring = secretsKeyring(config);
    if (!keyring.current) {
      process.stderr.write("SECRETS_KEY / SECRETS_KEYS is not set: nothing to encrypt with\n");
      return 1;
    }
    const users = await reencryptSecrets({ prisma, keyring });
    const hooks = await reencryptEndpointSecrets({ prisma, keyring });
    process.stderr.write(
      `${users} secrets and ${hooks} webhook signing secrets re-encrypted under key id "${keyring.current.id}"\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(`rotation failed: ${isAppError(err) || err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  } finally {
    await prisma.$disconnect();
  }
}

main().then((code) => process.exit(code));
