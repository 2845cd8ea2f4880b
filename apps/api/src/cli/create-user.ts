/**
 * `npm run user:create -- --email a@b.c [--admin | --operator] [--key-name laptop]`
 * (--operator: reads the admin screens, changes nothing)
 * Creates a user and prints their API key, once, to stdout (and nothing else there). The key is
 * never logged; messages go to stderr.
 */
import { parseArgs } from "node:util";
import { createPrismaClient, createUserWithKey, isAppError, loadConfigOrExit } from "@trainpod/core";

async function main(): Promise<number> {
  let values: { email?: string; admin?: boolean; operator?: boolean; "key-name"?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        email: { type: "string" },
        admin: { type: "boolean" },
        operator: { type: "boolean" },
        "key-name": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    values = { help: true };
  }
  if (values.help || !values.email || (values.admin && values.operator)) {
    process.stderr.write(
      "usage: npm run user:create -- --email <address> [--admin | --operator] [--key-name <name>]\n",
    );
    return 2;
  }
  const config = loadConfigOrExit();
  const prisma = createPrismaClient({ databaseUrl: config.env.DATABASE_URL, maxConnections: 1 });
  try {
    const { key, user } = await createUserWithKey(prisma, {
      email: values.email,
      role: values.admin ? "ADMIN" : values.operator ? "OPERATOR" : "USER",
      keyName: values["key-name"],
    });
    process.stdout.write(`${key}\n`);
    process.stderr.write(
      `created ${user.role} ${user.email} (${user.id}); the key above is shown once and cannot be recovered\n`,
    );
    return 0;
  } catch (err) {
    process.stderr.write(
      `could not create the user: ${isAppError(err) ? err.message : err instanceof Error ? err.message : String(err)}\n`,
    );
    return 1;
  } finally {
    await prisma.$disconnect();
  }
}

main().then((code) => process.exit(code));
