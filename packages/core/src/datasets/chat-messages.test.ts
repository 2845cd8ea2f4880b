import { messagesReason, toolsReason } from "./chat-messages";

// the same cases as pod-agent/tests/test_data.py's test_tool_message_rules and test_tools_must_be_functions
const call = (id: unknown, args: unknown = "{}") => ({
  ...(id === undefined ? {} : { id }),
  function: { name: "f", arguments: args },
});

describe("chat messages with tool calls (issue 26 item 6)", () => {
  it.each<[unknown[], string]>([
    [[{ role: "assistant", content: null }], "messages[0].content must be a string"],
    [[{ role: "assistant", content: null, tool_calls: [] }], "messages[0].content must be a string"],
    [[{ role: "assistant", content: "a", tool_calls: [1] }], "messages[0].tool_calls[0] must be an object"],
    [[{ role: "assistant", tool_calls: [call(1)] }], "messages[0].tool_calls[0].id must be a string"],
    [
      [{ role: "assistant", tool_calls: [call(undefined, '{"x": NaN}')] }],
      "messages[0].tool_calls[0].function.arguments must be a JSON object or a string of one",
    ],
    [
      [
        { role: "assistant", tool_calls: [call("a")] },
        { role: "tool", tool_call_id: 7, content: "x" },
      ],
      "messages[1].tool_call_id must be a string",
    ],
    [
      [
        { role: "assistant", tool_calls: [call("a")] },
        { role: "user", content: "q" },
        { role: "tool", tool_call_id: "a", content: "x" },
      ],
      "messages[2]: a tool message must follow an assistant message with tool_calls",
    ],
    [
      [
        { role: "tool", content: "x" },
        { role: "assistant", content: "a" },
      ],
      "messages[0]: a tool message must follow an assistant message with tool_calls",
    ],
  ])("refuses %j", (messages, reason) => {
    expect(messagesReason(messages)).toBe(reason);
  });

  it("accepts calls with arguments as an object or a string of one, content null or absent, answers in order", () => {
    expect(
      messagesReason([
        { role: "user", content: "q" },
        { role: "assistant", content: null, tool_calls: [call("a", '{"city": "Paris"}'), call("b", { city: "Rome" })] },
        { role: "tool", tool_call_id: "a", content: "18" },
        { role: "tool", tool_call_id: "b", content: "24" },
        { role: "assistant", content: "done" },
      ]),
    ).toBeNull();
  });

  it("checks tools as functions", () => {
    expect(toolsReason({})).toBe("tools must be an array");
    expect(toolsReason([{ type: "function", function: { name: "" } }])).toBe(
      "tools[0].function.name must be a non-empty string",
    );
    expect(toolsReason([{ type: "code", function: { name: "f" } }])).toBe('tools[0].type must be "function"');
    expect(toolsReason(null)).toBeNull();
    expect(toolsReason([{ type: "function", function: { name: "f", parameters: {} } }])).toBeNull();
  });
});
