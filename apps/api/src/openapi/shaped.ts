import type { z } from "zod";

type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;

/**
 * A response schema tied to the type of what the route really answers: `shaped<T>()(schema)` compiles only when every
 * T is a valid output of the schema and both have the same fields, so a field added, dropped or retyped where the
 * answer is built fails the typecheck of the OpenAPI document.
 */
export const shaped =
  <T>() =>
  <S extends z.ZodType>(
    schema: S & (T extends z.output<S> ? (SameKeys<T, z.output<S>> extends true ? unknown : never) : never),
  ): S =>
    schema;
