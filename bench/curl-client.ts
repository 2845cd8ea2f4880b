/**
 * A client for download benches: one bash process that runs curl and cat on request (a line in, a line out), so
 * that starting them costs the bench's process nothing (a fork from a big node process costs it ~20 ms of CPU).
 * Its CPU, curl's and cat's included once they exit, can be read from /proc/<pid>/stat (support's processTreeCpuMs).
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface Curl {
  code: number;
  bytes: number;
  /** curl's own timings (from its start: connect, request, first byte, last byte), ms */
  ttfbMs: number;
  totalMs: number;
  /** the Location of a redirect (not followed) */
  redirect: string;
}

const SHELL = `while IFS=$'\\t' read -r op a b; do
  case $op in
    curl) curl -sS -o /dev/null \${b:+-H "$b"} -w '%{http_code} %{size_download} %{time_starttransfer} %{time_total} %{redirect_url}\\n' "$a" 2>/dev/null ;;
    cat) TIMEFORMAT=%3R; { time cat "$a" > /dev/null; } 2>&1 ;;
  esac
done`;

export interface CurlClient {
  pid: number;
  /** GET `url` (one header at most), body to /dev/null; redirects are not followed */
  curl(url: string, header?: string): Promise<Curl>;
  /** `cat file > /dev/null`, timed by bash's `time` (fork and exec of cat included), ms */
  cat(file: string): Promise<number>;
  stop(): void;
}

export function startCurlClient(): CurlClient {
  const child = spawn("bash", ["-c", SHELL], { stdio: ["pipe", "pipe", "inherit"] });
  const waiting: ((line: string) => void)[] = [];
  createInterface({ input: child.stdout }).on("line", (line) => waiting.shift()?.(line));
  const run = (line: string) =>
    new Promise<string>((resolve) => {
      waiting.push(resolve);
      child.stdin.write(`${line}\n`);
    });
  return {
    pid: child.pid ?? 0,
    async curl(url, header = "") {
      const [code, bytes, ttfb, total, redirect = ""] = (await run(`curl\t${url}\t${header}`)).trim().split(" ");
      const ms = (s: string | undefined) => Number(s) * 1000;
      return { code: Number(code), bytes: Number(bytes), ttfbMs: ms(ttfb), totalMs: ms(total), redirect };
    },
    cat: async (file) => Number(await run(`cat\t${file}`)) * 1000,
    stop: () => child.stdin.end(),
  };
}
