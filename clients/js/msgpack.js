// msgpack.js: the MessagePack codec for servers that announce `sys.serializer: "msgpack"`
// (nano-rs with `.serializer(Serializer::MessagePack)`).
//
//   import { NanoClient } from 'nano-rs-client';
//   import { msgpack } from 'nano-rs-client/msgpack';
//   const client = new NanoClient(url, { serializers: { msgpack } });
//
// Kept apart from nano-client.js so that a JSON-only page loads no dependency.

import { decode, encode } from '@msgpack/msgpack';

/** MessagePack payloads (maps with string keys, as rmp-serde writes named structs). */
export const msgpack = Object.freeze({
  encode: (value) => encode(value),
  decode: (bytes) => decode(bytes),
});
