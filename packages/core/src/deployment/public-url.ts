/** Is this host name or IP literal one that only this machine or its private network can reach? */
export function isPrivateHost(hostname: string): boolean {
  const h = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, "")
    .replace(/\.$/, "");
  if (
    h === "localhost" ||
    h.endsWith(".localhost") ||
    h.endsWith(".local") ||
    h.endsWith(".internal") ||
    h === "0.0.0.0"
  )
    return true;
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(h);
  if (v4) {
    const [a = 0, b = 0] = v4.slice(1, 3).map(Number);
    return (
      a === 127 ||
      a === 10 ||
      a === 0 ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      (a === 169 && b === 254) ||
      (a === 100 && b >= 64 && b <= 127)
    );
  }
  if (h.includes(":"))
    return (
      h === "::" ||
      h === "::1" ||
      /^f[cd][0-9a-f]{2}:/.test(h) ||
      /^fe[89ab][0-9a-f]:/.test(h) ||
      h.startsWith("::ffff:127.") ||
      h.startsWith("::ffff:10.")
    );
  return !h.includes(".");
}

/** the answers per (publicUrl, simulated): the address is the process's config, parsed once instead of per submission */
const answered = new Map<string, string | null>();

/**
 * Why RunPod's machines could not call back to `publicUrl`, or null when they can. On the
 * simulator pods run on this machine, so localhost is fine; real RunPod needs a public address.
 */
export function publicUrlProblem(publicUrl: string, simulated: boolean): string | null {
  const key = `${simulated ? 1 : 0}${publicUrl}`;
  let answer = answered.get(key);
  if (answer === undefined) {
    answer = urlProblem(publicUrl, simulated);
    if (answered.size < 16) answered.set(key, answer);
  }
  return answer;
}

function urlProblem(publicUrl: string, simulated: boolean): string | null {
  let url: URL;
  try {
    url = new URL(publicUrl);
  } catch {
    return `PUBLIC_URL ${JSON.stringify(publicUrl)} is not a URL`;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return `PUBLIC_URL must be http(s), not ${url.protocol}`;
  if (!simulated && isPrivateHost(url.hostname)) {
    return `PUBLIC_URL ${url.origin} is not reachable from RunPod's machines (localhost or a private address); set PUBLIC_URL to the API's public address`;
  }
  return null;
}
