import { test } from 'node:test';
import assert from 'node:assert/strict';

import {
  MessageType,
  PacketType,
  decodeMessage,
  decodePackets,
  encodeMessage,
  encodePacket,
  utf8Encode,
} from '../protocol.js';

const hex = (text) => Uint8Array.from(text.split(/\s+/).filter(Boolean).map((b) => parseInt(b, 16)));
const json = (text) => utf8Encode(text);

// The worked examples of docs/PROTOCOL.md, section 5 (Worked bytes).
const EXAMPLES = [
  ['request room.join', { type: MessageType.REQUEST, id: 1, route: 'room.join', body: json('{}') },
    '04 00 00 0e 00 01 09 72 6f 6f 6d 2e 6a 6f 69 6e 7b 7d'],
  ['response to id 1', { type: MessageType.RESPONSE, id: 1, body: json('{"code":0}') },
    '04 00 00 0c 04 01 7b 22 63 6f 64 65 22 3a 30 7d'],
  ['push onMessage', { type: MessageType.PUSH, route: 'onMessage', body: json('{}') },
    '04 00 00 0d 06 09 6f 6e 4d 65 73 73 61 67 65 7b 7d'],
  ['notify room.message', { type: MessageType.NOTIFY, route: 'room.message', body: json('{}') },
    '04 00 00 10 02 0c 72 6f 6f 6d 2e 6d 65 73 73 61 67 65 7b 7d'],
  ['request id 300, compressed route', { type: MessageType.REQUEST, id: 300, route: 0x0102, body: json('{}') },
    '04 00 00 07 01 ac 02 01 02 7b 7d'],
];

for (const [name, message, wire] of EXAMPLES) {
  test(`PROTOCOL.md example: ${name}`, () => {
    const bytes = encodePacket(PacketType.DATA, encodeMessage(message));
    assert.deepEqual(bytes, hex(wire));
    const { packets, rest } = decodePackets(bytes);
    assert.equal(rest.length, 0);
    const decoded = decodeMessage(packets[0].body);
    assert.equal(decoded.type, message.type);
    assert.equal(decoded.id, message.id ?? 0);
    if (message.type !== MessageType.RESPONSE) assert.equal(decoded.route, message.route);
    assert.deepEqual(decoded.body, message.body);
  });
}

test('control packets', () => {
  assert.deepEqual(encodePacket(PacketType.HANDSHAKE_ACK), hex('02 00 00 00'));
  assert.deepEqual(encodePacket(PacketType.HEARTBEAT), hex('03 00 00 00'));
});

test('varint ids round-trip up to 2^53', () => {
  for (const id of [0, 1, 127, 128, 300, 16383, 16384, 2 ** 31, 2 ** 32, Number.MAX_SAFE_INTEGER]) {
    const decoded = decodeMessage(encodeMessage({ type: MessageType.RESPONSE, id, body: new Uint8Array(0) }));
    assert.equal(decoded.id, id);
  }
});

test('a stream split at every point decodes to the same packets', () => {
  const stream = new Uint8Array([
    ...encodePacket(PacketType.HANDSHAKE, json('{"code":200}')),
    ...encodePacket(PacketType.HEARTBEAT),
    ...encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.PUSH, route: 'r', body: json('1') })),
  ]);
  for (let cut = 0; cut <= stream.length; cut++) {
    let buffer = new Uint8Array(0);
    const seen = [];
    for (const piece of [stream.subarray(0, cut), stream.subarray(cut)]) {
      const joined = new Uint8Array([...buffer, ...piece]);
      const { packets, rest } = decodePackets(joined);
      seen.push(...packets.map((p) => p.type));
      buffer = rest;
    }
    assert.deepEqual(seen, [PacketType.HANDSHAKE, PacketType.HEARTBEAT, PacketType.DATA], `cut at ${cut}`);
  }
});

test('malformed input is an error, not a crash', () => {
  assert.throws(() => decodePackets(hex('09 00 00 00')), /unknown packet type/);
  assert.throws(() => decodePackets(hex('04 01 00 01'), 65536), /exceeds/);
  assert.throws(() => decodeMessage(new Uint8Array(0)), /empty/);
  assert.throws(() => decodeMessage(hex('08 01')), /invalid message type/);
  assert.throws(() => decodeMessage(hex('00 80')), /truncated inside the id/);
  assert.throws(() => decodeMessage(hex('02 09 72 6f')), /past the end/);
  assert.throws(() => decodeMessage(hex('03 01')), /route code/);
  assert.throws(() => decodeMessage(hex('02 02 c3 28')), TypeError); // invalid UTF-8
  assert.throws(() => encodeMessage({ type: MessageType.NOTIFY, route: 'x'.repeat(256) }), /255/);
});
