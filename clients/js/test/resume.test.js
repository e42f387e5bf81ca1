// Session resume (PROTOCOL-EXTENSIONS.md): the token and push count presented after a drop,
// requests sent again with their ids, refusals, and the sessions that must not be resumed.

import { test, mock } from 'node:test';
import assert from 'node:assert/strict';

import { NanoClient, NanoError } from '../nano-client.js';
import { MessageType, PacketType, decodeMessage, encodeMessage, encodePacket, utf8Decode, utf8Encode } from '../protocol.js';
import { fakeSocketClass } from '../testing/fake-socket.js';

const LIMIT = { timeout: 10000 };
const FAST = { baseDelay: 1, maxDelay: 1 };
const json = (value) => utf8Encode(JSON.stringify(value));
const parse = (bytes) => JSON.parse(utf8Decode(bytes));

/** The `n`th token of session `session`: `<id>.<32 hex digits>`. */
const token = (session, n) => `${session}.${n.toString(16).padStart(32, '0')}`;

/** A reply's `user` offering resume of `session` with its `n`th token. */
const offer = (session, n, extra = {}) => ({ resume: { token: token(session, n), session, graceMs: 60000, ...extra } });

/** A fake WebSocket whose `i`th connection is served by `servers[i]`. */
function scripted(...servers) {
  let index = 0;
  return fakeSocketClass((socket) => servers[index++](socket));
}

const hello = async (socket) => parse((await socket.next(PacketType.HANDSHAKE)).body);
const nextData = async (socket) => decodeMessage((await socket.next(PacketType.DATA)).body);

function push(socket, route, value) {
  socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.PUSH, route, body: json(value) })));
}

function respond(socket, id, value) {
  socket.deliver(encodePacket(PacketType.DATA, encodeMessage({ type: MessageType.RESPONSE, id, body: json(value) })));
}

/** Resolves with the values of the first `count` `name` events. */
function events(client, name, count = 1) {
  const seen = [];
  return new Promise((resolve) =>
    client.on(name, (value) => {
      seen.push(value);
      if (seen.length === count) resolve(seen);
    }),
  );
}

test('the token is kept and presented with the pushes received, in the app\'s user; replayed pushes arrive once', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      assert.deepEqual((await hello(socket)).user, { name: 'ann' });
      socket.handshake({}, offer(42, 1));
      await socket.next(PacketType.HANDSHAKE_ACK);
      for (const n of [1, 2, 3]) push(socket, 'onTick', { n });
      socket.close(1006);
    },
    async (socket) => {
      const { sys, user } = await hello(socket);
      assert.equal(sys.type, 'nano-rs-js');
      assert.deepEqual(user, { name: 'ann', resume: { token: token(42, 1), received: 3 } });
      socket.handshake({}, offer(42, 2, { resumed: true, replayed: 2 }));
      await socket.next(PacketType.HANDSHAKE_ACK);
      for (const n of [4, 5]) push(socket, 'onTick', { n }); // the two the client missed
      socket.close(1006);
    },
    async (socket) => {
      const { user } = await hello(socket);
      assert.deepEqual(user.resume, { token: token(42, 2), received: 5 }, 'replayed pushes are counted');
      socket.handshake({}, offer(42, 3, { resumed: true, replayed: 0 }));
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, user: { name: 'ann' }, reconnect: FAST });
  t.after(() => client.close());
  const ticks = [];
  client.on('onTick', ({ n }) => ticks.push(n));
  const resumes = events(client, 'resume', 2);
  const reconnects = events(client, 'reconnect', 2);
  await Socket.run(async () => {
    await client.connect();
    assert.equal(client.sessionId, 42);
    await reconnects;
  });
  assert.deepEqual(ticks, [1, 2, 3, 4, 5]);
  assert.deepEqual(await resumes, [{ session: 42, replayed: 2 }, { session: 42, replayed: 0 }]);
  const [first] = await reconnects;
  assert.equal(first.resumed, true);
  assert.equal(first.session, 42);
  assert.equal('refused' in first, false);
  assert.equal(first.reply.code, 200);
  assert.equal(client.sessionId, 42);
});

test('unanswered requests go again with their ids after a resume and get the replayed responses', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(7, 1));
      const answered = await nextData(socket);
      respond(socket, answered.id, { ok: 'a' });
      const b = await nextData(socket);
      const c = await nextData(socket);
      assert.deepEqual([b.id, c.id], [2, 3]);
      assert.equal((await nextData(socket)).type, MessageType.NOTIFY);
      socket.close(1006); // the responses to b and c are lost
    },
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(7, 2, { resumed: true, replayed: 0 }));
      await socket.next(PacketType.HANDSHAKE_ACK);
      const again = [await nextData(socket), await nextData(socket), await nextData(socket)];
      assert.deepEqual(
        again.map((m) => [m.type, m.id, m.route, parse(m.body)]),
        [
          [MessageType.REQUEST, 2, 'shop.buy', { item: 'b' }],
          [MessageType.REQUEST, 3, 'shop.buy', { item: 'c' }],
          [MessageType.REQUEST, 4, 'shop.buy', { item: 'd' }], // made while reconnecting
        ],
      );
      respond(socket, 2, { ok: 'b' }); // from the server's response cache
      respond(socket, 3, { code: 410, msg: 'response no longer available' });
      respond(socket, 4, { ok: 'd' });
      const next = await nextData(socket);
      assert.equal(next.id, 5, 'the id counter goes on');
      respond(socket, next.id, { ok: 'e' });
      assert.deepEqual(socket.sent.filter((p) => p.type === PacketType.DATA), [], 'the notify is not sent again');
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: FAST });
  t.after(() => client.close());
  let d;
  const stop = client.on('close', () => {
    stop();
    d = client.request('shop.buy', { item: 'd' });
  });
  await Socket.run(async () => {
    await client.connect();
    assert.deepEqual(await client.request('shop.buy', { item: 'a' }), { ok: 'a' });
    const b = client.request('shop.buy', { item: 'b' });
    const c = client.request('shop.buy', { item: 'c' });
    client.notify('room.message', { text: 'once' });
    assert.deepEqual(await b, { ok: 'b' });
    await assert.rejects(c, (err) => err instanceof NanoError && err.code === 410);
    assert.deepEqual(await d, { ok: 'd' });
    assert.deepEqual(await client.request('shop.buy', { item: 'e' }), { ok: 'e' });
  });
});

test('a refused resume rejects the waiting requests with its code, reports why, and starts afresh', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({ dict: { 'room.join': 1 } }, offer(42, 1));
      await nextData(socket);
      push(socket, 'onTick', {});
      socket.close(1006);
    },
    async (socket) => {
      assert.deepEqual((await hello(socket)).user.resume, { token: token(42, 1), received: 1 });
      const refused = { code: 4102, reason: 'expired' };
      socket.handshake({ dict: { 'room.join': 9 } }, offer(43, 1, { resumed: false, refused }));
      await socket.next(PacketType.HANDSHAKE_ACK);
      const first = await nextData(socket);
      assert.equal(first.id, 2, 'the refused session\'s request is not sent again');
      assert.equal(first.route, 9, 'the new dictionary is used');
      respond(socket, first.id, { joined: true });
      socket.close(1006);
    },
    async (socket) => {
      assert.deepEqual((await hello(socket)).user.resume, { token: token(43, 1), received: 0 }, 'the new session\'s token');
      socket.handshake({}, offer(43, 2, { resumed: true, replayed: 0 }));
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: FAST });
  t.after(() => client.close());
  const resumes = [];
  client.on('resume', (event) => resumes.push(event));
  const reconnects = events(client, 'reconnect', 2);
  let rejoined;
  client.on('reconnect', ({ resumed }) => {
    if (!resumed) rejoined = client.request('room.join', {});
  });
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('room.join', {}), (err) => {
      assert.ok(err instanceof NanoError);
      assert.equal(err.code, 4102);
      assert.match(err.message, /not resumed \(expired\)/);
      return true;
    });
    assert.deepEqual(await rejoined, { joined: true });
    await reconnects;
  });
  const [refusal, resumed] = await reconnects;
  assert.equal(refusal.resumed, false);
  assert.equal(refusal.session, 43);
  assert.deepEqual(refusal.refused, { code: 4102, reason: 'expired' });
  assert.equal(resumed.resumed, true);
  assert.deepEqual(resumes, [{ session: 43, replayed: 0 }]);
});

test('a kick ends the session: no reconnect, and a later connect() presents no token', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(5, 1));
      await nextData(socket);
      socket.deliver(encodePacket(PacketType.KICK, json({ reason: 'banned' })));
      socket.close(1000);
    },
    async (socket) => {
      assert.deepEqual((await hello(socket)).user, {});
      socket.handshake({}, offer(6, 1));
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: FAST });
  t.after(() => client.close());
  const reconnecting = [];
  client.on('reconnecting', (event) => reconnecting.push(event));
  const kicked = events(client, 'kick');
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('slow.slow'), /connection closed/);
    await kicked;
    assert.equal(client.sessionId, null);
    assert.deepEqual(reconnecting, []);
    assert.equal(Socket.sockets.length, 1);
    await client.connect();
  });
  assert.equal(client.sessionId, 6);
});

test('close() while a resume waits rejects the waiting requests and reconnects no more', LIMIT, async (t) => {
  const Socket = scripted(async (socket) => {
    await hello(socket);
    socket.handshake({}, offer(8, 1));
    await nextData(socket);
    socket.close(1006);
  });
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: { baseDelay: 60000, maxDelay: 60000 } });
  t.after(() => client.close());
  const closed = events(client, 'close');
  await Socket.run(async () => {
    await client.connect();
    let settled = false;
    const waiting = client.request('slow.slow');
    waiting.then(() => (settled = true), () => (settled = true));
    await closed;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'the request waits for the resume');
    assert.equal(client.sessionId, 8, 'a dropped session is still the current one');
    client.close();
    await assert.rejects(waiting, /connection closed/);
    assert.equal(client.sessionId, null);
  });
  assert.equal(Socket.sockets.length, 1);
});

test('five resumes in a row keep the session, count every push and continue the request ids', LIMIT, async (t) => {
  let sent = 0; // pushes sent so far
  const serve = (i) => async (socket) => {
    const { user } = await hello(socket);
    if (i === 0) assert.equal(user.resume, undefined);
    else assert.deepEqual(user.resume, { token: token(9, i), received: sent }, `resume ${i}`);
    socket.handshake({}, offer(9, i + 1, i === 0 ? {} : { resumed: true, replayed: i }));
    await socket.next(PacketType.HANDSHAKE_ACK);
    for (let k = 0; k <= i; k += 1) push(socket, 'onTick', { n: sent++ });
    const request = await nextData(socket);
    assert.equal(request.id, i + 1);
    respond(socket, request.id, { i });
    if (i < 5) socket.close(1006);
  };
  const Socket = scripted(...[0, 1, 2, 3, 4, 5].map(serve));
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: FAST });
  t.after(() => client.close());
  const ticks = [];
  client.on('onTick', ({ n }) => ticks.push(n));
  const answers = [];
  const allAnswered = new Promise((resolve) =>
    client.on('connect', () =>
      client.request('tick.ask').then(({ i }) => answers.push(i) === 6 && resolve()),
    ),
  );
  const resumes = events(client, 'resume', 5);
  await Socket.run(async () => {
    await client.connect();
    await allAnswered;
  });
  assert.deepEqual(answers, [0, 1, 2, 3, 4, 5]);
  assert.deepEqual(ticks, [...Array(21).keys()]);
  assert.deepEqual(await resumes, [1, 2, 3, 4, 5].map((replayed) => ({ session: 9, replayed })));
  assert.equal(client.sessionId, 9);
});

test('a server without resume gives a fresh session: waiting requests reject, nothing is presented again', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(3, 1));
      await nextData(socket);
      socket.close(1006);
    },
    async (socket) => {
      assert.ok((await hello(socket)).user.resume);
      socket.handshake(); // no user.resume: this server does not resume sessions
      await nextData(socket);
      socket.close(1006);
    },
    async (socket) => {
      assert.deepEqual((await hello(socket)).user, { name: 'ann' });
      socket.handshake();
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, user: { name: 'ann' }, reconnect: FAST });
  t.after(() => client.close());
  const reconnects = events(client, 'reconnect', 2);
  let second;
  client.on('reconnect', () => {
    second ??= client.request('room.join', {});
  });
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('room.join', {}), (err) => err.code === -1 && /does not resume sessions/.test(err.message));
    await assert.rejects(second, /connection closed/, 'rejected at the drop: there is nothing to resume');
    await reconnects;
  });
  const [fresh] = await reconnects;
  assert.equal(fresh.resumed, false);
  assert.equal(fresh.session, null);
  assert.equal('refused' in fresh, false);
  assert.equal(client.sessionId, null);
});

test('resume: false presents no token and rejects the requests at the drop', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(4, 1));
      await nextData(socket);
      socket.close(1006);
    },
    async (socket) => {
      assert.deepEqual((await hello(socket)).user, {});
      socket.handshake({}, offer(5, 1));
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: FAST, resume: false });
  t.after(() => client.close());
  const reconnected = events(client, 'reconnect');
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('room.join', {}), /connection closed/);
    const [event] = await reconnected;
    assert.equal(event.resumed, false);
  });
  assert.equal(client.sessionId, 5);
});

test('a request waiting for a resume still times out, and is not sent again', LIMIT, async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(2, 1));
      await nextData(socket);
      socket.close(1006);
    },
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(2, 2, { resumed: true, replayed: 0 }));
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, requestTimeout: 1000, reconnect: { baseDelay: 4000, maxDelay: 4000 } });
  t.after(() => client.close());
  const closed = events(client, 'close');
  const resumed = events(client, 'resume');
  await Socket.run(async () => {
    await client.connect();
    const waiting = assert.rejects(client.request('slow.slow'), /no response to slow.slow within 1000 ms/);
    await closed;
    mock.timers.tick(1000);
    await waiting;
    assert.equal(Socket.sockets.length, 1, 'still waiting to reconnect');
    mock.timers.tick(4000);
    await resumed;
  });
  assert.deepEqual(Socket.sockets[1].sent.filter((p) => p.type === PacketType.DATA), []);
});

test('a server shutting down (503) is tried again, and the requests keep waiting for the resume', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(11, 1));
      await nextData(socket);
      socket.close(1006);
    },
    async (socket) => {
      await hello(socket);
      socket.deliver(encodePacket(PacketType.HANDSHAKE, json({ code: 503 })));
    },
    async (socket) => {
      assert.deepEqual((await hello(socket)).user.resume, { token: token(11, 1), received: 0 });
      socket.handshake({}, offer(11, 2, { resumed: true, replayed: 0 }));
      const again = await nextData(socket);
      assert.equal(again.id, 1);
      respond(socket, again.id, { late: true });
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: FAST });
  t.after(() => client.close());
  const attempts = [];
  client.on('reconnecting', ({ attempt }) => attempts.push(attempt));
  await Socket.run(async () => {
    await client.connect();
    assert.deepEqual(await client.request('slow.slow'), { late: true });
  });
  assert.deepEqual(attempts, [1, 2]);
});

test('when the reconnect attempts run out, the waiting requests reject', LIMIT, async (t) => {
  const Socket = scripted(
    async (socket) => {
      await hello(socket);
      socket.handshake({}, offer(12, 1));
      await nextData(socket);
      socket.close(1006);
    },
    async (socket) => {
      await hello(socket);
      socket.close(1006);
    },
  );
  const client = new NanoClient('ws://x', { WebSocket: Socket, reconnect: { ...FAST, retries: 1 } });
  t.after(() => client.close());
  await Socket.run(async () => {
    await client.connect();
    await assert.rejects(client.request('slow.slow'), /connection closed/);
  });
  assert.equal(Socket.sockets.length, 2);
});
