// Written against the chat example's generated declarations (`chat --typescript chat.d.ts`):
// must type-check.
import type { JoinResponse, Members, TypedClient, UserMessage } from "./chat";

export async function talk(client: TypedClient): Promise<string[]> {
  const seen: string[] = [];
  client.on("onMembers", (m: Members) => seen.push(...m.members));
  client.on("onMessage", (m: UserMessage) => seen.push(`${m.name}: ${m.content}`));
  client.on("onLeave", (m) => seen.push(m.name));
  const joined: JoinResponse = await client.request("room.join", { name: "ada" });
  const code: number = joined.code;
  client.notify("room.message", { name: "ada", content: `joined with code ${code}` });
  return seen;
}
