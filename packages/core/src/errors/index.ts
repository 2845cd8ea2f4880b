export { AppError, ERROR_CODES, isAppError, type AppErrorOptions, type ErrorCode } from "./app-error";
