import type { ApiClient, Json } from "../api-client";
import { CliError, EXIT, type ExitCode } from "../exit-codes";
import { renderTable } from "../render";

/** A secret's value as typed or piped: the line ending(s) a shell or an editor adds are not part of it. Pure. */
export function secretValueOf(raw: string): string {
  return raw.replace(/(\r?\n)+$/, "");
}

/** All of piped stdin. */
async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of input) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

/** One line from the terminal with nothing echoed (raw mode); Ctrl-C or Ctrl-D aborts. */
function hiddenLine(prompt: string, input: NodeJS.ReadStream, out: NodeJS.WritableStream): Promise<string> {
  return new Promise((resolve, reject) => {
    out.write(prompt);
    let value = "";
    const done = (err?: Error) => {
      input.off("data", onData);
      input.setRawMode(false);
      input.pause();
      out.write("\n");
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString("utf8")) {
        if (ch === "\r" || ch === "\n") return done();
        if (ch === "\u0003" || ch === "\u0004") return done(new CliError("aborted: no secret was set"));
        if (ch === "\u007f" || ch === "\b") value = value.slice(0, -1);
        else value += ch;
      }
    };
    input.setRawMode(true);
    input.resume();
    input.on("data", onData);
  });
}

/**
 * `trainpod secrets set NAME`: the value from stdin when it is piped (`printf %s "$HF_TOKEN" | trainpod secrets set
 * HF_TOKEN`), else from a prompt that echoes nothing. Never from an argument: it would stay in the shell's history and
 * in every process listing.
 */
export async function setSecret(
  api: ApiClient,
  name: string,
  io: { input?: NodeJS.ReadStream; out?: NodeJS.WritableStream; err?: NodeJS.WritableStream } = {},
): Promise<ExitCode> {
  const input = io.input ?? process.stdin;
  const err = io.err ?? process.stderr;
  const raw = input.isTTY ? await hiddenLine(`value for ${name} (not shown): `, input, err) : await readAll(input);
  const value = secretValueOf(raw);
  if (value === "") throw new CliError(`no value for ${name}: pipe it on stdin or type it at the prompt`, EXIT.USAGE);
  const res = await api.request<Json>("POST", "/v1/secrets", { name, value });
  (io.out ?? process.stdout).write(
    `secret ${res.name} set (${res.createdAt === res.updatedAt ? "new" : "replaced"})\n`,
  );
  return EXIT.OK;
}

/** `trainpod secrets list`: names and dates, never values. */
export async function listSecrets(
  api: ApiClient,
  opts: { json?: boolean },
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  const { items } = await api.request<{ items: Json[] }>("GET", "/v1/secrets");
  if (opts.json) out.write(`${JSON.stringify(items, null, 2)}\n`);
  else if (items.length === 0) out.write("no secrets; set one with `trainpod secrets set NAME`\n");
  else
    out.write(
      `${renderTable([["name", "created", "updated"], ...items.map((s) => [s.name, s.createdAt, s.updatedAt])])}\n`,
    );
  return EXIT.OK;
}

/** `trainpod secrets rm NAME`. */
export async function removeSecret(
  api: ApiClient,
  name: string,
  out: NodeJS.WritableStream = process.stdout,
): Promise<ExitCode> {
  await api.request("DELETE", `/v1/secrets/${encodeURIComponent(name)}`);
  out.write(`secret ${name} deleted\n`);
  return EXIT.OK;
}
