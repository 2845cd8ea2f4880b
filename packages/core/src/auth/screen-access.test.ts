import { AppError } from "../errors";
import { assertScreenAccess, canActOnScreens } from "./screen-access";

function verdict(role: "USER" | "OPERATOR" | "ADMIN", method: string): string {
  try {
    assertScreenAccess(role, method);
    return "allowed";
  } catch (err) {
    return err instanceof AppError ? err.code : "other";
  }
}

describe("assertScreenAccess", () => {
  it.each([
    ["ADMIN", "GET", "allowed"],
    ["ADMIN", "POST", "allowed"],
    ["ADMIN", "DELETE", "allowed"],
    ["OPERATOR", "GET", "allowed"],
    ["OPERATOR", "head", "allowed"],
    ["OPERATOR", "POST", "FORBIDDEN"],
    ["OPERATOR", "PUT", "FORBIDDEN"],
    ["OPERATOR", "DELETE", "FORBIDDEN"],
    ["USER", "GET", "FORBIDDEN"],
    ["USER", "POST", "FORBIDDEN"],
  ] as const)("%s %s → %s", (role, method, expected) => {
    expect(verdict(role, method)).toBe(expected);
  });

  it("only an admin acts", () => {
    expect([canActOnScreens("ADMIN"), canActOnScreens("OPERATOR"), canActOnScreens("USER")]).toEqual([
      true,
      false,
      false,
    ]);
  });
});
