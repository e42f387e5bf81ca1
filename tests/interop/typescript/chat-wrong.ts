// Written against the chat example's generated declarations, with two mistakes that must not
// type-check: a route the chat does not have, and a field its message does not have.
import type { TypedClient } from "./chat";

export async function talk(client: TypedClient): Promise<void> {
  await client.request("room.jion", { name: "ada" });
  client.notify("room.message", { name: "ada", text: "hello" });
}
