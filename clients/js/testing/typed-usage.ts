// Type-checked by nano-tests (manifest_typescript.rs) against the package's declarations and
// the chat example's generated ones: the client's options and events, and the generated
// `TypedClient` over a `NanoClient`.
import { NanoClient, NanoError, json, nanoErrorBody, type Codec, type HandshakeReply, type ResumeRefusal } from "../nano-client.js";
import { msgpack } from "../msgpack.js";
import { decodePackets, PacketType } from "../protocol.js";
import type { JoinResponse, TypedClient } from "../../../examples/chat/chat";

const tagged: Codec = { encode: (value, route) => json.encode({ route, value }, route), decode: json.decode };

export async function play(url: string): Promise<number> {
  const client = new NanoClient(url, {
    serializers: { msgpack, tagged },
    errorBody: (body, flagged) => nanoErrorBody(body, flagged) ?? (flagged ? new NanoError(500, "flagged") : null),
    reconnect: { retries: 3, baseDelay: 100 },
    resume: true,
  });
  const reply: HandshakeReply = await client.connect();
  client.on("kick", ({ reason }) => console.log(reason.length));
  client.on("reconnecting", ({ attempt, delay }) => console.log(attempt + delay));
  client.on("resume", ({ session, replayed }) => console.log(session + replayed));
  client.on("reconnect", ({ resumed, session, refused, reply }) => {
    const why: ResumeRefusal | undefined = refused;
    console.log(resumed, session ?? 0, why?.code, why?.reason, reply.code);
  });
  const session: number | null = client.sessionId;
  const typed = client as unknown as TypedClient;
  const joined: JoinResponse = await typed.request("room.join", { name: "ada" });
  typed.on("onMessage", (m) => console.log(m.content));
  const { packets } = decodePackets(new Uint8Array(0));
  return (session ?? 0) + reply.code + joined.code + packets.filter((p) => p.type === PacketType.DATA).length;
}
