import { z } from "zod";

/** Is `c` a control character: C0 (U+0000-U+001F, tab and newline too), DEL, or C1 (U+0080-U+009F)? */
const isControl = (c: number) => c < 0x20 || (c >= 0x7f && c <= 0x9f);

/** Does `s` hold a control character? Postgres refuses NUL outright; no name or id of ours holds any (issue 34). */
export function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isControl(s.charCodeAt(i))) return true;
  return false;
}

/** A string of a request schema: no control character, whatever else its field allows (a 400 or a 422 otherwise). */
export const plainString = () =>
  z.string().refine((s) => !hasControlCharacter(s), "must not hold control characters (U+0000-U+001F, U+007F-U+009F)");
