export { createLogger, type LogFormat, type Logger, type LoggerOptions } from "./logger";
export { isSecretKey, redact, REDACTED, redactText } from "./redact";
