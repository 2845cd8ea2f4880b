import { createServer } from "node:net";

/** A free TCP port on 127.0.0.1 (for a process that takes a port number, where 0 is not "any"). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
