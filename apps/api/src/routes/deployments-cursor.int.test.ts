/**
 * GET /v1/deployments?cursor=: the cursor must be one of the caller's deployments. Someone else's id and an
 * id that does not exist answer the same 400 (as datasets do), so the cursor tells nothing about other users'
 * deployments. Security review, finding 4.
 */
import { randomUUID } from "node:crypto";
import { createUserWithKey } from "@trainpod/core";
import { makeDataset } from "../../../../test/factories";
import { insertDeployment, startTestApi, type ApiHarness } from "../../../../test/support/api-harness";

let h: ApiHarness;
let bob: { key: string; deployments: string[] };
let aliceDeployment: string;

beforeAll(async () => {
  h = await startTestApi();
  const b = await createUserWithKey(h.db.prisma, { email: "bob@example.com" });
  const bobDataset = (await makeDataset(h.db.prisma, b.user.id)).id;
  // bob's deployments are older than alice's: before the fix, alice's id as a cursor paged through them
  const older = [await insertDeployment(h, b.user.id, bobDataset), await insertDeployment(h, b.user.id, bobDataset)];
  bob = { key: b.key, deployments: older };
  const a = await createUserWithKey(h.db.prisma, { email: "alice@example.com" });
  aliceDeployment = await insertDeployment(h, a.user.id, (await makeDataset(h.db.prisma, a.user.id)).id);
});
afterAll(async () => {
  await h?.close();
});

const list = async (query: string) => {
  const res = await fetch(`${h.url}/v1/deployments${query}`, { headers: { authorization: `Bearer ${bob.key}` } });
  return {
    status: res.status,
    body: (await res.json()) as {
      items?: Array<{ id: string }>;
      nextCursor?: string | null;
      error?: { code: string; message: string };
    },
  };
};

describe("GET /v1/deployments?cursor=", () => {
  it("another user's deployment id as the cursor is 400 VALIDATION_FAILED, exactly as an id that does not exist", async () => {
    const theirs = await list(`?cursor=${aliceDeployment}`);
    const unknown = await list(`?cursor=${randomUUID()}`);
    expect(theirs).toEqual({
      status: 400,
      body: { error: { code: "VALIDATION_FAILED", message: "cursor is not a deployment of this listing" } },
    });
    expect(unknown).toEqual(theirs);
    expect(await list(`?status=QUEUED&cursor=${aliceDeployment}`)).toEqual(theirs);
  });

  it("the caller's own cursor still pages", async () => {
    const first = await list("?limit=1");
    expect([first.status, first.body.items?.map((d) => d.id), first.body.nextCursor]).toEqual([
      200,
      [bob.deployments[1]],
      bob.deployments[1],
    ]);
    const second = await list(`?limit=1&cursor=${first.body.nextCursor}`);
    expect([second.status, second.body.items?.map((d) => d.id), second.body.nextCursor]).toEqual([
      200,
      [bob.deployments[0]],
      null,
    ]);
  });
});
