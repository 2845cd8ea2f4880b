import type { UserRole } from "../db";
import { AppError } from "../errors";

const READ_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * Who may use the operators' screens (dashboard, stats, Bull Board, /v1/admin, /metrics):
 * ADMIN everything; OPERATOR what only reads (GET, HEAD, OPTIONS); USER nothing. Throws FORBIDDEN otherwise.
 */
export function assertScreenAccess(role: UserRole, method: string): void {
  if (canActOnScreens(role)) return;
  if (role === "OPERATOR") {
    if (READ_METHODS.has(method.toUpperCase())) return;
    throw new AppError("FORBIDDEN", "operators have read-only access: an admin can retry, cancel or change queues");
  }
  throw new AppError("FORBIDDEN", "admin or operator only");
}

/** May this role act (retry, cancel, Bull Board job actions) rather than only look? */
export function canActOnScreens(role: UserRole): boolean {
  return role === "ADMIN";
}
