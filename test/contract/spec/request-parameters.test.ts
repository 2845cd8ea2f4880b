import { matchOperation, specAvailable, SPEC_SKIP_REASON, validateRequest } from "./openapi-validator";

/** Operation matching, parameters (path, query with their styles, headers) and security. */

const describeSpec = specAvailable ? describe : describe.skip;
const AUTH = { authorization: "Bearer rp_test_key" };
const get = (url: string, headers: Record<string, string> = AUTH): string[] =>
  validateRequest({ method: "GET", url, headers });

describeSpec(specAvailable ? "OpenAPI v2 request parameters" : SPEC_SKIP_REASON, () => {
  describe("matchOperation", () => {
    it("resolves a concrete path to its template, operationId and decoded path parameters", () => {
      expect(matchOperation("GET", "/v2/pods/abc123/logs")).toMatchObject({
        pathTemplate: "/v2/pods/{id}/logs",
        operationId: "getPodLogs",
        pathParams: { id: "abc123" },
        prefix: "",
      });
      expect(matchOperation("get", "/v2/catalog/gpus/NVIDIA%20GeForce%20RTX%204090")).toMatchObject({
        operationId: "getGpuType",
        pathParams: { id: "NVIDIA GeForce RTX 4090" },
      });
    });

    it("allows a base prefix before /v2", () => {
      expect(matchOperation("DELETE", "/sim/runpod/v2/pods/abc123")).toMatchObject({
        operationId: "deletePod",
        prefix: "/sim/runpod",
      });
    });

    it("prefers literal segments over parameters", () => {
      expect(matchOperation("GET", "/v2/registries/delegations")?.operationId).toBe("listDelegations");
      expect(matchOperation("GET", "/v2/registries/reg_abc")?.operationId).toBe("getRegistry");
    });

    it("answers undefined for unknown paths, extra segments, trailing slashes and undeclared methods", () => {
      expect(matchOperation("GET", "/v2/pods/abc/logs/more")).toBeUndefined();
      expect(matchOperation("GET", "/v2/pods/")).toBeUndefined();
      expect(matchOperation("GET", "/v1/pods")).toBeUndefined();
      expect(matchOperation("PUT", "/v2/pods/abc")).toBeUndefined();
    });
  });

  describe("query parameters", () => {
    it("accepts form explode=false arrays as one comma-separated value", () => {
      expect(get("/v2/catalog/gpus?include=AVAILABILITY&product=POD,SERVERLESS&count=2&countryCodes=FR,DE")).toEqual(
        [],
      );
    });

    it("rejects the same array sent as repeated keys", () => {
      expect(get("/v2/catalog/gpus?include=AVAILABILITY&product=POD&product=SERVERLESS")).toEqual([
        "query parameter 'product' sent 2 times; style=form explode=false wants one comma-separated value",
      ]);
    });

    it("checks each array item against the item schema", () => {
      expect(get("/v2/catalog/gpus?countryCodes=FR,deu")).toEqual([
        "query parameter 'countryCodes' /1 must match pattern \"^[A-Z]{2}$\"",
      ]);
      expect(get("/v2/catalog/gpus?include=AVAILABILITY,PRICES")).toContain(
        "query parameter 'include' must NOT have more than 1 items",
      );
    });

    it("coerces scalars to their declared type before checking", () => {
      expect(get("/v2/pods?includeClusterPods=true")).toEqual([]);
      expect(get("/v2/pods?includeClusterPods=yes")).toEqual(["query parameter 'includeClusterPods' must be boolean"]);
      expect(get("/v2/pods/p1/logs?tail=6000")).toEqual(["query parameter 'tail' must be <= 5000"]);
      expect(get("/v2/pods/p1/logs?tail=ten")).toEqual(["query parameter 'tail' must be integer"]);
      expect(get("/v2/billing?startTime=yesterday")).toEqual([
        "query parameter 'startTime' must match format \"date-time\"",
      ]);
    });

    it("rejects query parameters the operation does not declare", () => {
      expect(get("/v2/pods?namePrefix=tp-")).toEqual(["query parameter 'namePrefix' is not declared by listPods"]);
    });
  });

  describe("header parameters", () => {
    it("checks Last-Event-ID against its date-time schema", () => {
      expect(get("/v2/pods/p1/logs", { ...AUTH, "last-event-id": "2026-06-01T12:02:03Z" })).toEqual([]);
      // the spec's own SSE example ids carry a /sequence suffix, which this schema rejects (see report)
      expect(get("/v2/pods/p1/logs", { ...AUTH, "last-event-id": "2026-06-01T12:02:03Z/000000000001" })).toEqual([
        "header parameter 'Last-Event-ID' must match format \"date-time\"",
      ]);
    });
  });

  describe("security", () => {
    it("requires a bearer token unless told not to check", () => {
      expect(get("/v2/pods", {})).toEqual(["listPods requires bearerAuth: no Authorization: Bearer header"]);
      expect(get("/v2/pods", { authorization: "Basic abc" })).toEqual([
        "listPods requires bearerAuth: no Authorization: Bearer header",
      ]);
      expect(validateRequest({ method: "GET", url: "/v2/pods" }, { security: false })).toEqual([]);
    });
  });
});
