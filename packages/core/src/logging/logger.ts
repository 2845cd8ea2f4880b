import winston from "winston";
import { isSecretKey, redact, redactText, REDACTED } from "./redact";

export type Logger = winston.Logger;
export type LogFormat = "json" | "pretty";

export interface LoggerOptions {
  level?: string;
  format?: LogFormat;
  service: string;
  /** extra transports (tests capture output through one) */
  transports?: winston.transport[];
  silent?: boolean;
}

const META_SKIP = new Set(["level", "message", "timestamp", "service"]);

/** A winston format that redacts secret keys and secret-looking text in every log entry. */
const redaction = winston.format((info) => {
  for (const key of Object.keys(info)) {
    if (META_SKIP.has(key) && key !== "message") continue;
    const value = info[key];
    info[key] = isSecretKey(key)
      ? REDACTED
      : key === "message" && typeof value === "string"
        ? redactText(value)
        : redact(value);
  }
  return info;
});

export function createLogger(options: LoggerOptions): Logger {
  const format = options.format ?? "json";
  const formats =
    format === "json"
      ? winston.format.combine(redaction(), winston.format.timestamp(), winston.format.json())
      : winston.format.combine(
          redaction(),
          winston.format.timestamp({ format: "HH:mm:ss.SSS" }),
          winston.format.colorize(),
          winston.format.printf(({ timestamp, level, message, service, ...meta }) => {
            const rest = Object.keys(meta).length > 0 ? ` ${JSON.stringify(meta)}` : "";
            return `${String(timestamp)} ${level} [${String(service)}] ${String(message)}${rest}`;
          }),
        );
  return winston.createLogger({
    level: options.level ?? "info",
    defaultMeta: { service: options.service },
    format: formats,
    silent: options.silent ?? false,
    transports: options.transports ?? [new winston.transports.Console()],
  });
}
