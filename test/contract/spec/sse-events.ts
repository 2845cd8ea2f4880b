/**
 * Server-Sent Events parsing for the log-stream operations. The spec's schema for
 * `text/event-stream` is just `type: string`; its description says every event carries an `id:`
 * line and a JSON `data:` payload with `source`, `line` and `ts`, which is what is checked here.
 */

export interface SseEvent {
  /** 1-based position in the stream, for messages */
  index: number;
  id: string | undefined;
  event: string | undefined;
  /** `data:` lines joined with "\n", undefined when the event had none */
  data: string | undefined;
}

/**
 * Splits a stream into events. Comment-only blocks (keep-alives such as `: ping`) are skipped.
 * `partial`: the stream was cut off (the caller closed it), so a trailing block with no blank
 * line after it may be a half-received event and is dropped; for a complete body it is kept (the
 * spec's own examples end with a single newline).
 */
export function parseSse(text: string, partial: boolean): SseEvent[] {
  const normalized = text.replace(/\r\n?/g, "\n");
  const blocks = normalized.split(/\n\n/);
  const last = blocks.pop() ?? "";
  if (!partial && last.trim() !== "") blocks.push(last);
  const events: SseEvent[] = [];
  for (const block of blocks) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    let fields = 0;
    for (const line of block.split("\n")) {
      if (line === "" || line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const name = colon < 0 ? line : line.slice(0, colon);
      let value = colon < 0 ? "" : line.slice(colon + 1);
      if (value.startsWith(" ")) value = value.slice(1);
      fields++;
      if (name === "id") id = value;
      else if (name === "event") event = value;
      else if (name === "data") data.push(value);
    }
    if (fields > 0)
      events.push({ index: events.length + 1, id, event, data: data.length > 0 ? data.join("\n") : undefined });
  }
  return events;
}

/** Violations of one event's framing; the payload is returned parsed for the schema check. */
export function checkSseEvent(ev: SseEvent): { violations: string[]; payload?: unknown } {
  const where = `SSE event ${ev.index}`;
  const violations: string[] = [];
  if (ev.id === undefined || ev.id === "") violations.push(`${where}: missing id: line`);
  if (ev.data === undefined) {
    violations.push(`${where}: missing data: line`);
    return { violations };
  }
  try {
    return { violations, payload: JSON.parse(ev.data) as unknown };
  } catch {
    violations.push(`${where}: data is not JSON: ${ev.data.slice(0, 120)}`);
    return { violations };
  }
}

/** The payload schema the description spells out; `source` reuses the spec's LogSource enum. */
export const SSE_LOG_PAYLOAD_SCHEMA = {
  type: "object",
  required: ["source", "line", "ts"],
  properties: {
    source: { $ref: "#/components/schemas/LogSource" },
    line: { type: "string" },
    ts: { type: "string", format: "date-time" },
  },
} as const;
