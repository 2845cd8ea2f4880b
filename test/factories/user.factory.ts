import { randomBytes } from "node:crypto";
import { createUserWithKey, type PrismaClient, type User } from "@trainpod/core";

/** A user with an API key; the plaintext key is returned once, as in production. */
export async function makeUser(
  prisma: PrismaClient,
  over: { email?: string; role?: "USER" | "OPERATOR" | "ADMIN" } = {},
): Promise<{ user: User; key: string }> {
  const email = over.email ?? `user-${randomBytes(4).toString("hex")}@example.com`;
  const { user, key } = await createUserWithKey(prisma, { email, role: over.role ?? "USER" });
  return { user, key };
}
