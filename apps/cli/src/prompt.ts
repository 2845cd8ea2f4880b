import { createInterface } from "node:readline/promises";
import { CliError } from "./exit-codes";

/** Asks yes/no on a terminal; without one, refuses (a script must say --yes). */
export async function confirm(question: string): Promise<boolean> {
  if (!process.stdin.isTTY)
    throw new CliError("not confirmed: stdin is not a terminal; pass --yes to go ahead without asking");
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** A line from the terminal, or all of piped stdin. */
export async function readSecret(question: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const c of process.stdin) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString("utf8").trim();
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}
