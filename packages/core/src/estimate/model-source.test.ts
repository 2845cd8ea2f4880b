import { HubError } from "../hub";
import type { Hub } from "../hub";
import { hubModelFiles } from "./model-source";

// hubModelFiles on a stand-in hub (pure logic: which answers are the model's files, which are a failure to read
// them). The path through the real hub client, its cache and the fake hub over HTTP is test/e2e/estimate-hub.test.ts.

const FILES: Record<string, string> = {
  "tokenizer.json": '{"model":{"type":"BPE"}}',
  "tokenizer_config.json": '{"eos_token":"</s>"}',
  "config.json": '{"hidden_size":64}',
};

function hubWith(answer: (file: string) => Buffer | HubError): Hub & { asked: string[] } {
  const asked: string[] = [];
  return {
    endpoint: "http://hub.invalid",
    asked,
    modelInfo: () => Promise.reject(new Error("not asked here")),
    fetchFile: async (_repo, _rev, file) => {
      asked.push(file);
      const a = answer(file);
      if (a instanceof HubError) throw a;
      return a;
    },
  };
}
const present = (file: string) =>
  FILES[file] !== undefined ? Buffer.from(FILES[file]) : new HubError("entry_not_found", "Entry not found", 404);

it("a model without chat_template.jinja or config.json: the files it has, and never the weights", async () => {
  const hub = hubWith((f) => (f === "config.json" ? new HubError("entry_not_found", "gone", 404) : present(f)));
  const files = await hubModelFiles(hub)("acme/tiny", "hf_x");
  expect(files).toEqual({
    tokenizerJson: { model: { type: "BPE" } },
    tokenizerConfig: { eos_token: "</s>" },
    config: {},
  });
  expect(hub.asked.sort()).toEqual(["chat_template.jinja", "config.json", "tokenizer.json", "tokenizer_config.json"]);
  expect(await hubModelFiles(hub)("/workspace/models/tiny", "hf_x")).toBeNull();
});

it.each(["chat_template.jinja", "config.json"])(
  "the hub failing on %s is a failure to read the files, not a model without it",
  async (failing) => {
    const hub = hubWith((f) => (f === failing ? new HubError("unavailable", "the hub answered 503", 503) : present(f)));
    const err = await hubModelFiles(hub)("acme/tiny", "hf_x").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).message).toBe("the hub answered 503");
  },
);
