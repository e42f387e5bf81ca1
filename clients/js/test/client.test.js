import { test, mock } from 'node:test';
import assert from 'node:assert/strict';

import { NanoClient, NanoError } from '../nano-client.js';
import {
  MessageType,
  PacketType,
  decodeMessage,
  decodePackets,
  encodeMessage,
  encodePacket,
  utf8Decode,
  utf8Encode,
} from '../protocol.js';

import { fakeSocketClass } from '../testing/fake-socket.js';

const body = (value) => utf8Encode(JSON.stringify(value));
const parse = (bytes) => JSON.parse(utf8Decode(bytes));

// A deadline for each test: a fake server waiting for a packet that never comes fails the test
// instead of hanging the run.
const LIMIT = { timeout: 10000 };

test('handshake with user data, then requests, notifies and pushes with the dictionary', LIMIT, async (t) => {
  const dict = { 'room.join': 1, onMessage: 2 };
  const Socket = fakeSocketClass(async (socket) => {
    const hello = parse((await socket.next(PacketType.HANDSHAKE)).body);
    assert.deepEqual(hello.user, { name: 'ann' });
    socket.handshake({ heartbeat: 0, dict });
    await socket.next(PacketType.HANDSHAKE_ACK);
    const request = decodeMessage((await socket.next(PacketType.DATA)).body);
    assert.equal(request.route, 1, 'room.join travels compressed');
    assert.equal(request.compressed, true);
    socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.PUSH, route: 2, body: body({ hi: 1 }) })));
    socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.RESPONSE, id: request.id, body: body({ code: 0 }) })));
    const notify = decodeMessage((await socket.next(PacketType.DATA)).body);
    assert.equal(notify.route, 'room.message');
    assert.deepEqual(parse(notify.body), { text: 'yo' });
  });
  const client = new NanoClient('ws://x/nano', { user: { name: 'ann' }, WebSocket: Socket });
  t.after(() => client.close());
  const pushes = [];
  client.on('onMessage', (value) => pushes.push(value));
  await Socket.run(async () => {
    const reply = await client.connect();
    assert.equal(reply.code, 200);
    assert.deepEqual(await client.request('room.join', { name: 'ann' }), { code: 0 });
    assert.deepEqual(pushes, [{ hi: 1 }]);
    assert.equal(client.notify('room.message', { text: 'yo' }), true);
  });
});

test('an error body rejects the request with its code and message', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake();
    const request = decodeMessage((await socket.next(PacketType.DATA)).body);
    assert.equal(request.route, 'a.b');
    socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.RESPONSE, id: request.id, body: body({ code: 404, msg: 'unknown route `a.b`' }) })));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket });
  t.after(() => client.close());
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('a.b', {}), (err) => err instanceof NanoError && err.code === 404 && /unknown route/.test(err.message));
  });
});

// A reconnect is scheduled (and `reconnecting` emitted) in the same turn as the close, so no
// `reconnecting` by the time the test resumes after the close means none will come.
test('a refused handshake rejects connect with the code and does not reconnect', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.deliver(encodePacket(PacketType.HANDSHAKE, body({ code: 501 })));
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: true });
  t.after(() => client.close());
  const reconnecting = [];
  client.on('reconnecting', (event) => reconnecting.push(event));
  await Socket.run(async () => {
    await assert.rejects(client.connect(), (err) => err.code === 501);
  });
  assert.equal(Socket.sockets[0].readyState, 3, 'the refused socket is closed');
  assert.deepEqual(reconnecting, []);
  assert.equal(Socket.sockets.length, 1);
});

test('kick is reported with its reason, pending requests fail, no reconnect', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake();
    await socket.next(PacketType.DATA);
    socket.deliver(encodePacket(PacketType.KICK, body({ reason: 'duplicate login' })));
    socket.close(1000);
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: true });
  t.after(() => client.close());
  const kicks = [];
  const reconnecting = [];
  client.on('kick', (kick) => kicks.push(kick.reason));
  client.on('reconnecting', (event) => reconnecting.push(event));
  const closed = new Promise((resolve) => client.on('close', resolve));
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('slow.slow'), /connection closed/);
    await closed;
  });
  assert.deepEqual(kicks, ['duplicate login']);
  assert.deepEqual(reconnecting, []);
  assert.equal(Socket.sockets.length, 1);
});

test('heartbeats go out every interval and a silent server is dropped after two', LIMIT, async (t) => {
  mock.timers.enable({ apis: ['setInterval', 'setTimeout'] });
  try {
    let socket;
    const Socket = fakeSocketClass(async (s) => {
      socket = s;
      await s.next(PacketType.HANDSHAKE);
      s.handshake({ heartbeat: 5 });
    });
    const client = new NanoClient('ws://x', { WebSocket: Socket });
    t.after(() => client.close());
    const timeouts = [];
    client.on('heartbeat-timeout', () => timeouts.push(true));
    await Socket.run(() => client.connect());
    const beats = () => socket.sent.filter((packet) => packet.type === PacketType.HEARTBEAT).length;
    mock.timers.tick(5000);
    assert.equal(beats(), 1);
    // Server traffic keeps it alive.
    socket.deliver(encodePacket(PacketType.HEARTBEAT));
    mock.timers.tick(5000);
    assert.equal(beats(), 2);
    assert.deepEqual(timeouts, []);
    mock.timers.tick(5000); // 10 s of silence since the last server packet
    assert.deepEqual(timeouts, [true]);
    assert.equal(socket.readyState, 3);
  } finally {
    mock.timers.reset();
  }
});

test('reconnects with backoff after an unexpected close', LIMIT, async (t) => {
  let opened = 0;
  const Socket = fakeSocketClass(async (socket) => {
    opened += 1;
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake();
    if (opened === 1) {
      await socket.next(PacketType.HANDSHAKE_ACK);
      socket.close(1006);
    }
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: { baseDelay: 5, maxDelay: 20 } });
  t.after(() => client.close());
  const events = [];
  client.on('reconnecting', ({ attempt }) => events.push(`reconnecting ${attempt}`));
  const reconnected = new Promise((resolve) => client.on('reconnect', resolve));
  await Socket.run(async () => {
    await client.connect();
    await reconnected;
  });
  assert.deepEqual(events, ['reconnecting 1']);
  assert.equal(opened, 2);
});

test('a request without an answer times out', LIMIT, async (t) => {
  const Socket = fakeSocketClass(async (socket) => {
    await socket.next(PacketType.HANDSHAKE);
    socket.handshake();
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, requestTimeout: 20 });
  t.after(() => client.close());
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('never.answered'), /no response/);
  });
});
