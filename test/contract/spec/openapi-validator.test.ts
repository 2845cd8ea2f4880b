import { loadSpec } from "./openapi-document";
import { specAvailable, SPEC_SKIP_REASON, specValidator, validateRequest, validateResponse } from "./openapi-validator";
import { bodyFor, collectExamples, copyOf, exampleOf, statusFor, type SpecExample } from "./spec-examples";

/**
 * The validator against RunPod's spec: the spec's own examples pass, and mutated copies of them
 * fail with a message that says what is wrong and where.
 */

const describeSpec = specAvailable ? describe : describe.skip;
const examples: SpecExample[] = specAvailable ? collectExamples(loadSpec()) : [];
const AUTH = { authorization: "Bearer rp_test_key" };

function validateExample(ex: SpecExample): string[] {
  const headers = { ...AUTH, "content-type": ex.contentType };
  if (ex.kind === "request") return validateRequest({ method: ex.method, url: ex.url, headers, body: bodyFor(ex) });
  return validateResponse({
    method: ex.method,
    url: ex.url,
    status: statusFor(ex.responseKey ?? "default"),
    headers,
    body: bodyFor(ex),
  });
}

type Json = Record<string, unknown>;

const json = (value: unknown): string => JSON.stringify(value);
const podExample = (): Json => copyOf(exampleOf(examples, "getPod", "200").value) as Json;
const createPodExample = (): Json => copyOf(exampleOf(examples, "createPod").value) as Json;

const getPod = (body: string, status = 200, contentType = "application/json"): string[] =>
  validateResponse({
    method: "GET",
    url: "/v2/pods/pod_abc123",
    status,
    headers: { "content-type": contentType },
    body,
  });
const createPod = (body: unknown): string[] =>
  validateRequest({
    method: "POST",
    url: "/v2/pods",
    headers: { ...AUTH, "content-type": "application/json" },
    body: json(body),
  });

describeSpec(specAvailable ? "OpenAPI v2 validator" : SPEC_SKIP_REASON, () => {
  describe("compiling the spec", () => {
    it("compiles every component schema, with only strictTypes notices and no unknown formats", () => {
      const { compiler } = specValidator();
      expect(compiler.componentNames.length).toBeGreaterThan(100);
      expect(compiler.noopFormats).toEqual([]);
      expect(compiler.specProblems).toEqual([]);
      expect(compiler.warnings.filter((w) => !w.includes("(strictTypes)"))).toEqual([]);
    });

    it("finds request and response examples for most operations", () => {
      expect(examples.filter((e) => e.kind === "request").length).toBeGreaterThan(10);
      expect(examples.filter((e) => e.kind === "response").length).toBeGreaterThan(100);
      expect(examples.some((e) => e.contentType === "text/event-stream")).toBe(true);
    });
  });

  describe("the spec's own examples validate clean", () => {
    const table: [string, SpecExample | undefined][] =
      examples.length > 0 ? examples.map((e) => [e.label, e]) : [["no examples", undefined]];
    it.each(table)("%s", (_label, ex) => {
      if (ex === undefined) throw new Error("no examples collected");
      expect(validateExample(ex)).toEqual([]);
    });
  });

  describe("Pod responses", () => {
    it("rejects a Pod whose required field was renamed", () => {
      const pod = podExample();
      pod.state = pod.status;
      delete pod.status;
      expect(getPod(json(pod))).toContain("getPod 200 response body (root) must have required property 'status'");
    });

    it("rejects a cost that is not a number", () => {
      const pod = { ...podExample(), cost: "0.44" };
      expect(getPod(json(pod))).toContain("getPod 200 response body /cost must be number");
    });

    it("rejects a status outside the PodStatus enum and names the allowed values", () => {
      const found = getPod(json({ ...podExample(), status: "DANCING" }));
      expect(found).toHaveLength(1);
      expect(found[0]).toMatch(
        /^getPod 200 response body \/status must be equal to one of the allowed values: \[.*"RUNNING".*\]$/,
      );
    });

    it("rejects a body that is not JSON", () => {
      expect(getPod('{"id":')).toEqual([expect.stringMatching(/^getPod 200 response body is not valid JSON/)]);
    });
  });

  describe("CreatePodRequest (unevaluatedProperties: false at the top, in gpu and cpu; additionalProperties: false in mounts)", () => {
    it("accepts the example and a template-based request without an image", () => {
      expect(createPod(createPodExample())).toEqual([]);
      expect(createPod({ name: "from-template", templateId: "tpl_abc" })).toEqual([]);
    });

    it("rejects an unknown top-level field", () => {
      expect(createPod({ ...createPodExample(), gpuTypeIds: ["NVIDIA RTX A4000"] })).toEqual([
        "request body (root) must NOT have unevaluated properties: 'gpuTypeIds'",
      ]);
    });

    it("rejects an unknown field in gpu, cpu, mounts and mounts.persistent", () => {
      const body = createPodExample();
      expect(createPod({ ...body, gpu: { id: "NVIDIA GeForce RTX 4090", gpuCount: 1 } })).toContain(
        "request body /gpu must NOT have unevaluated properties: 'gpuCount'",
      );
      expect(createPod({ ...body, gpu: undefined, cpu: { id: "cpu5c", vcpuCount: 4, memory: 8 } })).toContain(
        "request body /cpu must NOT have unevaluated properties: 'memory'",
      );
      expect(createPod({ ...body, mounts: { volume: { size: 20 } } })).toContain(
        "request body /mounts must NOT have additional properties: 'volume'",
      );
      expect(
        createPod({ ...body, mounts: { persistent: { size: 20, path: "/workspace", readOnly: true } } }),
      ).toContain("request body /mounts/persistent must NOT have additional properties: 'readOnly'");
    });

    it("requires image when there is no templateId, and a name always", () => {
      const { image: _image, ...noImage } = createPodExample();
      expect(createPod(noImage)).toContain("request body (root) must have required property 'image'");
      const { name: _name, ...noName } = createPodExample();
      expect(createPod(noName)).toContain("request body (root) must have required property 'name'");
    });

    it("requires a body, and JSON", () => {
      expect(validateRequest({ method: "POST", url: "/v2/pods", headers: AUTH })).toEqual([
        "createPod requires a request body (application/json)",
      ]);
      expect(
        validateRequest({
          method: "POST",
          url: "/v2/pods",
          headers: { ...AUTH, "content-type": "text/plain" },
          body: "name=x",
        }),
      ).toEqual(["request Content-Type text/plain is not one the spec accepts (application/json)"]);
    });

    it("rejects a body on an operation that takes none", () => {
      expect(
        validateRequest({
          method: "GET",
          url: "/v2/pods",
          headers: { ...AUTH, "content-type": "application/json" },
          body: "{}",
        }),
      ).toEqual(["listPods takes no request body, but one was sent"]);
    });
  });

  describe("CreateEndpointRequest (if/then next to unevaluatedProperties, the Ajv workaround)", () => {
    const endpoint = (): Json => copyOf(exampleOf(examples, "createEndpoint").value) as Json;
    const create = (body: unknown): string[] =>
      validateRequest({
        method: "POST",
        url: "/v2/serverless",
        headers: { ...AUTH, "content-type": "application/json" },
        body: json(body),
      });

    it("still rejects unknown fields", () => {
      expect(create({ ...endpoint(), gpuIds: "ADA_24" })).toEqual([
        "request body (root) must NOT have unevaluated properties: 'gpuIds'",
      ]);
    });

    it("still applies the conditional: LOAD_BALANCER endpoints must scale by REQUEST_COUNT", () => {
      const found = create({ ...endpoint(), type: "LOAD_BALANCER", scaling: { type: "QUEUE_DELAY", queueDelay: 4 } });
      expect(found).toContain('request body (root) must match "then" schema');
      expect(
        create({ ...endpoint(), type: "LOAD_BALANCER", scaling: { type: "REQUEST_COUNT", requestCount: 5 } }),
      ).toEqual([]);
    });
  });

  describe("error responses", () => {
    it("rejects a problem+json body without detail", () => {
      const body = json({ title: "Not Found", status: 404 });
      expect(getPod(body, 404, "application/problem+json")).toEqual([
        "getPod 404 response body (root) must have required property 'detail'",
      ]);
    });

    it("rejects an error sent as application/json instead of application/problem+json", () => {
      const body = json({ title: "Not Found", status: 404, detail: "pod not found" });
      expect(getPod(body, 404)).toEqual([
        "getPod 404 response Content-Type application/json is not declared; the spec declares application/problem+json",
      ]);
    });

    it("judges an unlisted status by the default response", () => {
      const problem = json({ title: "Bad Gateway", status: 502, detail: "upstream failed" });
      expect(getPod(problem, 502, "application/problem+json")).toEqual([]);
      expect(getPod(json(podExample()), 502)).toEqual([
        "getPod 502 response (as 'default') Content-Type application/json is not declared; the spec declares application/problem+json",
      ]);
    });
  });

  describe("content types and empty bodies", () => {
    it("rejects a Pod sent as text/plain, and one with no Content-Type", () => {
      expect(getPod(json(podExample()), 200, "text/plain")).toEqual([
        "getPod 200 response Content-Type text/plain is not declared; the spec declares application/json",
      ]);
      expect(validateResponse({ method: "GET", url: "/v2/pods/p1", status: 200, body: json(podExample()) })).toEqual([
        "getPod 200 response has no Content-Type; the spec declares application/json",
      ]);
    });

    it("accepts media-type parameters (charset)", () => {
      expect(getPod(json(podExample()), 200, "application/json; charset=utf-8")).toEqual([]);
    });

    it("requires 204 to have no body", () => {
      const del = (body: string): string[] =>
        validateResponse({ method: "DELETE", url: "/v2/pods/p1", status: 204, body });
      expect(del("")).toEqual([]);
      expect(del("{}")).toEqual([
        "deletePod 204 response must have no body (the spec declares no content), got 2 chars",
      ]);
    });

    it("rejects an empty body where JSON is declared", () => {
      expect(getPod("")).toEqual(["getPod 200 response body is empty; the spec declares application/json"]);
    });
  });

  describe("unknown operations", () => {
    it("reports a path the spec does not have, and a method it does not declare", () => {
      expect(validateRequest({ method: "GET", url: "/v2/gpus", headers: AUTH })).toEqual([
        "GET /v2/gpus: no path in the spec matches",
      ]);
      expect(validateResponse({ method: "PUT", url: "/v2/pods", status: 200 })).toEqual([
        "PUT /v2/pods: the spec has no PUT for this path (it declares GET, POST)",
      ]);
    });
  });
});
