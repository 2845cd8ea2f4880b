/**
 * A pod's `args` string ("arguments passed to the container entrypoint", GraphQL's dockerArgs:
 * it replaces the image's start command) as the argv the sim spawns. The templates page allows
 * two forms: JSON `{"cmd": [...], "entrypoint": [...]}` → [...entrypoint, ...cmd], or a plain
 * command split like a POSIX shell splits words (quotes and backslashes; no expansion, no
 * operators: `bash -c '...'` is how to get a shell). Simulated images have no entrypoint or CMD
 * of their own, so empty args = an idle container.
 */
export class ArgsError extends Error {}

function jsonForm(text: string): string[] | undefined {
  if (!text.startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined; // not JSON after all: a shell-words command that starts with "{"
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return undefined;
  const obj = parsed as Record<string, unknown>;
  const unknown = Object.keys(obj).filter((k) => k !== "cmd" && k !== "entrypoint");
  if (unknown.length > 0)
    throw new ArgsError(
      `args JSON may only hold "cmd" and "entrypoint", not ${unknown.map((k) => JSON.stringify(k)).join(", ")}`,
    );
  const list = (key: string): string[] => {
    const v = obj[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v) || !v.every((x) => typeof x === "string"))
      throw new ArgsError(`args JSON "${key}" must be an array of strings`);
    return v as string[];
  };
  return [...list("entrypoint"), ...list("cmd")];
}

/** POSIX-shell-like word splitting: '...' literal, "..." with \\ \" \$ \` escapes, \x outside quotes. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word = "";
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (c === " " || c === "\t" || c === "\n") {
      if (inWord) words.push(word);
      word = "";
      inWord = false;
      i += 1;
    } else if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) throw new ArgsError("args: unterminated single quote");
      word += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i += 1;
      for (;;) {
        if (i >= text.length) throw new ArgsError("args: unterminated double quote");
        const d = text[i] as string;
        if (d === '"') break;
        if (d === "\\" && i + 1 < text.length && '\\"$`\n'.includes(text[i + 1] as string)) {
          if (text[i + 1] !== "\n") word += text[i + 1];
          i += 2;
        } else {
          word += d;
          i += 1;
        }
      }
      inWord = true;
      i += 1;
    } else if (c === "\\") {
      if (i + 1 >= text.length) throw new ArgsError("args: trailing backslash");
      if (text[i + 1] !== "\n") word += text[i + 1];
      inWord = true;
      i += 2;
    } else {
      word += c;
      inWord = true;
      i += 1;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** The argv for `args`; throws ArgsError when it cannot be parsed. */
export function parseArgs(args: string): string[] {
  const text = args.trim();
  if (text === "") return [];
  return jsonForm(text) ?? shellWords(text);
}
