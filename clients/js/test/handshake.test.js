// What the client takes from the handshake reply: the serializer it names, the route
// dictionary in pomelo's fields or nano's, a cached dictionary when the server omits the maps,
// and the error convention the app chose.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decode as msgpackDecode, encode as msgpackEncode } from '@msgpack/msgpack';

import { NanoClient, NanoError } from '../nano-client.js';
import { msgpack } from '../msgpack.js';
import { MessageType, PacketType, decodeMessage, encodeMessage, encodePacket, utf8Decode, utf8Encode } from '../protocol.js';
import { fakeSocketClass } from '../testing/fake-socket.js';

const LIMIT = { timeout: 10000 };
const json = (value) => utf8Encode(JSON.stringify(value));
const parse = (bytes) => JSON.parse(utf8Decode(bytes));

function respond(socket, id, bytes) {
  socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.RESPONSE, id, body: bytes })));
}

function push(socket, route, bytes) {
  socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.PUSH, route, body: bytes })));
}

test('a server that announces msgpack gets MessagePack payloads, errors included', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake({ serializer: 'msgpack' });
    await socket.next(PacketType.HANDSHAKE_ACK);
    const join = decodeMessage((await socket.next(PacketType.DATA)).body);
    assert.deepEqual(msgpackDecode(join.body), { name: 'ann', level: 3 });
    push(socket, 'onMessage', msgpackEncode({ text: 'hi' }));
    respond(socket, join.id, msgpackEncode({ members: ['ann'] }));
    const bad = decodeMessage((await socket.next(PacketType.DATA)).body);
    respond(socket, bad.id, msgpackEncode({ code: 400, msg: 'bad payload' }));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, serializers: { msgpack } });
  t.after(() => client.close());
  const pushes = [];
  client.on('onMessage', (body) => pushes.push(body));
  await Socket.run(async () => {
    await client.connect();
    assert.deepEqual(await client.request('room.join', { name: 'ann', level: 3 }), { members: ['ann'] });
    assert.deepEqual(pushes, [{ text: 'hi' }]);
    await assert.rejects(client.request('room.join', {}), (err) => err instanceof NanoError && err.code === 400);
  });
});

test('a serializer the client has no codec for fails the connect clearly and does not reconnect', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake({ serializer: 'protobuf' });
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: true });
  t.after(() => client.close());
  const reconnecting = [];
  client.on('reconnecting', (event) => reconnecting.push(event));
  await Socket.run(async () => {
    await assert.rejects(client.connect(), /speaks "protobuf": pass a codec for it in options.serializers/);
  });
  assert.equal(Socket.sockets[0].readyState, 3);
  assert.equal(Socket.sockets[0].sent.some((packet) => packet.type === PacketType.HANDSHAKE_ACK), false);
  assert.deepEqual(reconnecting, []);
});

test('an app codec (protobuf, say) gets the route of every message', LIMIT, async (t) => {
  const seen = [];
  const tagged = {
    encode: (value, route) => (seen.push(['encode', route]), json({ route, value })),
    decode: (bytes, route) => (seen.push(['decode', route]), parse(bytes)),
  };
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake({ serializer: 'protobuf', dict: { 'room.join': 1, onTick: 2 } });
    const request = decodeMessage((await socket.next(PacketType.DATA)).body);
    assert.deepEqual(parse(request.body), { route: 'room.join', value: { n: 1 } });
    push(socket, 2, json({ tick: 7 }));
    respond(socket, request.id, json({ ok: true }));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, serializers: { protobuf: tagged } });
  t.after(() => client.close());
  const ticks = [];
  client.on('onTick', (body) => ticks.push(body));
  await Socket.run(async () => {
    await client.connect();
    assert.deepEqual(await client.request('room.join', { n: 1 }), { ok: true });
  });
  assert.deepEqual(ticks, [{ tick: 7 }]);
  assert.deepEqual(seen, [['encode', 'room.join'], ['decode', 'onTick'], ['decode', 'room.join']]);
});

test('a flagged error body goes through the codec\'s decodeError (protobuf apps)', LIMIT, async (t) => {
  const seen = [];
  const codec = {
    encode: (value) => json(value),
    decode: (bytes, route) => (seen.push(['decode', route]), parse(bytes)),
    decodeError: (bytes) => (seen.push(['decodeError']), parse(bytes)),
  };
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake({ serializer: 'protobuf' });
    const first = decodeMessage((await socket.next(PacketType.DATA)).body);
    const flagged = encodeMessage({ type: MessageType.RESPONSE, id: first.id, body: json({ code: 4002, msg: 'bets are positive' }) });
    flagged[0] |= 0x20;
    socket.deliver(encodePacket(PacketType.DATA, flagged));
    const second = decodeMessage((await socket.next(PacketType.DATA)).body);
    respond(socket, second.id, json({ gold: 940 }));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, serializers: { protobuf: codec } });
  t.after(() => client.close());
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('casino.bet', { amount: -1 }), (err) => {
      assert.ok(err instanceof NanoError);
      assert.equal(err.code, 4002);
      assert.equal(err.message, 'bets are positive');
      return true;
    });
    assert.deepEqual(await client.request('casino.bet', { amount: 60 }), { gold: 940 });
  });
  assert.deepEqual(seen, [['decodeError'], ['decode', 'casino.bet']]);
});

test("the app's error convention replaces nano-rs's", LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake();
    const first = decodeMessage((await socket.next(PacketType.DATA)).body);
    respond(socket, first.id, json({ code: 404, msg: 'a real answer that looks like an error' }));
    const second = decodeMessage((await socket.next(PacketType.DATA)).body);
    respond(socket, second.id, json({ error: { reason: 'sold out' } }));
  });
  const errorBody = (body) => (body && body.error ? new NanoError(409, body.error.reason) : null);
  const client = new NanoClient('ws://x', { WebSocket: Socket, errorBody });
  t.after(() => client.close());
  await Socket.run(async () => {
    await client.connect();
    assert.deepEqual(await client.request('shop.item', {}), { code: 404, msg: 'a real answer that looks like an error' });
    await assert.rejects(client.request('shop.buy', {}), (err) => err.code === 409 && err.message === 'sold out');
  });
});

test("pomelo's dictionary fields: codeToRoute resolves pushes, dictVersion is cached and sent back", LIMIT, async (t) => {
  const routeToCode = { 'room.join': 1, onMessage: 2 };
  const hellos = [];
  const Socket = fakeSocketClass(async (socket) => {
    const hello = parse((await socket.next(PacketType.HANDSHAKE)).body);
    hellos.push(hello.sys);
    if (hellos.length === 1) {
      socket.handshake({ routeToCode, codeToRoute: { 1: 'room.join', 2: 'onMessage' }, dictVersion: 'v1', useDict: true });
    } else {
      socket.handshake({ useDict: true }); // the client's version is current: no maps
    }
    await socket.next(PacketType.HANDSHAKE_ACK);
    const request = decodeMessage((await socket.next(PacketType.DATA)).body);
    assert.equal(request.route, 1, 'room.join travels compressed, also with the cached dictionary');
    push(socket, 2, json({ n: hellos.length }));
    respond(socket, request.id, json({}));
    if (hellos.length === 1) socket.close(1006);
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: { baseDelay: 1, maxDelay: 1 } });
  t.after(() => client.close());
  const messages = [];
  client.on('onMessage', (body) => messages.push(body));
  const reconnected = new Promise((resolve) => client.on('reconnect', resolve));
  await Socket.run(async () => {
    await client.connect();
    await client.request('room.join', {});
    await reconnected;
    await client.request('room.join', {});
  });
  assert.equal(hellos[0].dictVersion, undefined, 'nothing cached at first');
  assert.equal(hellos[1].dictVersion, 'v1');
  assert.deepEqual(messages, [{ n: 1 }, { n: 2 }]);
});

test('a dictionary cache passed by the app is read and written', LIMIT, async (t) => {
  const stored = { version: 'v7', routeToCode: { onMessage: 5 } };
  const writes = [];
  const dictCache = { get: () => stored, set: (entry) => writes.push(entry) };
  const Socket = fakeSocketClass(async (socket) => {
    const hello = parse((await socket.next(PacketType.HANDSHAKE)).body);
    assert.equal(hello.sys.dictVersion, 'v7');
    socket.handshake({ useDict: true });
    await socket.next(PacketType.HANDSHAKE_ACK);
    push(socket, 5, json('from the cache'));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, dictCache });
  t.after(() => client.close());
  const got = new Promise((resolve) => client.on('onMessage', resolve));
  await Socket.run(async () => {
    await client.connect();
    assert.equal(await got, 'from the cache');
  });
  assert.deepEqual(writes, [], 'nothing new to cache');
});

test('useDict without maps and with nothing cached fails the connect', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake({ useDict: true });
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket });
  t.after(() => client.close());
  await Socket.run(async () => {
    await assert.rejects(client.connect(), /route dictionary but sent none/);
  });
});

test('an empty body is null whatever the serializer', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake({ serializer: 'msgpack' });
    const request = decodeMessage((await socket.next(PacketType.DATA)).body);
    respond(socket, request.id, new Uint8Array(0));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, serializers: { msgpack } });
  t.after(() => client.close());
  await Socket.run(async () => {
    await client.connect();
    assert.equal(await client.request('a.b', {}), null);
  });
});
