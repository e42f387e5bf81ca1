// Third-party JavaScript against the nano-rs examples. Prints one JSON line of observations.
//
//   node interop-examples.js pinus-raw <host> <port>   # pingpong over TCP, pinus-protocol codec
//   node interop-examples.js pomelo-chat <host> <port> # chat over WebSocket, pomelo-client-websocket
'use strict';

const { Package, Message } = require('pinus-protocol');
const { connectPinus } = require('./pinus-tcp');
const Pomelo = require('pomelo-client-websocket');

const [mode, host, portText] = process.argv.slice(2);
const port = Number(portText);
const { seen, done } = require('./report').reporter(30000);

// ---- pingpong over raw TCP, framed by pinus-protocol ----
function pinusRaw() {
  const conn = connectPinus(host, port, done);
  const { send, next } = conn;
  let dict = {};
  const json = (value) => Buffer.from(JSON.stringify(value));

  (async () => {
    send(Package.TYPE_HANDSHAKE, json({ sys: { type: 'pinus-raw', version: '1.7.4' }, user: {} }));
    const hello = await next();
    const reply = JSON.parse(hello.body.toString());
    seen.handshakeCode = reply.code;
    seen.heartbeat = reply.sys.heartbeat;
    dict = reply.sys.dict || {};
    seen.dict = dict;
    send(Package.TYPE_HANDSHAKE_ACK);

    // A request by name, then the same route by its dictionary code.
    send(Package.TYPE_DATA, Message.encode(1, Message.TYPE_REQUEST, false, 'pingpong.ping', json({ n: 1 })));
    send(Package.TYPE_DATA, Message.encode(2, Message.TYPE_REQUEST, true, dict['pingpong.ping'], json({ n: 2 })));
    // A notify: the server pushes `pong` back, compressed when `pong` is in the dictionary.
    send(Package.TYPE_DATA, Message.encode(0, Message.TYPE_NOTIFY, false, 'pingpong.notify', json({ n: 3 })));
    // A heartbeat is fine at any time.
    send(Package.TYPE_HEARTBEAT);

    seen.messages = [];
    while (seen.messages.length < 3) {
      const packet = await next();
      if (packet.type !== Package.TYPE_DATA) continue;
      const message = Message.decode(packet.body);
      const route = message.compressRoute
        ? Object.keys(dict).find((name) => dict[name] === message.route)
        : message.route;
      seen.messages.push({
        type: message.type,
        id: message.id,
        route,
        compressed: Boolean(message.compressRoute),
        body: JSON.parse(message.body.toString()),
      });
    }
    conn.end();
    done();
  })().catch(done);
}

// ---- chat over WebSocket with pomelo-client-websocket ----
function client(name, options = {}) {
  const pomelo = new Pomelo();
  const events = { pushes: [], kicked: false, closed: false };
  pomelo.on('onKick', () => { events.kicked = true; });
  pomelo.on('close', () => { events.closed = true; });
  pomelo.on('heartbeat timeout', () => { events.heartbeatTimeout = true; });
  for (const route of ['onMembers', 'onNewUser', 'onMessage', 'onLeave']) {
    pomelo.on(route, (body) => events.pushes.push({ route, body }));
  }
  const ready = new Promise((resolve, reject) => {
    pomelo.on('error', reject);
    pomelo.init({ host, port, path: '/nano', user: { name }, ...options }, resolve);
  });
  const request = (route, body) => new Promise((resolve) => pomelo.request(route, body, resolve));
  return { pomelo, events, ready, request };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Resolves once `condition()` holds (checked every 10 ms); rejects, naming `what`, when it does
// not within `ms`.
function waitFor(what, condition, ms = 10000) {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const check = () => {
      if (condition()) resolve();
      else if (Date.now() > deadline) reject(new Error(`timed out waiting for ${what}`));
      else setTimeout(check, 10);
    };
    check();
  });
}

const hasPush = (events, route, content) =>
  events.pushes.some((push) => push.route === route && push.body.content === content);

async function pomeloChat() {
  const ann = client('ann');
  const bob = client('bob');
  await ann.ready;
  await bob.ready;
  seen.annJoin = await ann.request('room.join', { name: 'ann' });
  seen.bobJoin = await bob.request('room.join', { name: 'bob' });
  bob.pomelo.notify('room.message', { name: 'bob', content: 'hi ann' });

  // Ten seconds of a 1 s heartbeat: nobody is dropped.
  await sleep(10000);
  seen.annAfterHeartbeats = { closed: ann.events.closed, heartbeatTimeout: Boolean(ann.events.heartbeatTimeout) };

  // A second login as ann takes the name over: the first ann is kicked.
  const ann2 = client('ann');
  await ann2.ready;
  seen.ann2Join = await ann2.request('room.join', { name: 'ann' });
  await waitFor('the first ann to be kicked and disconnected', () => ann.events.kicked && ann.events.closed);
  // A leave announced for the first ann would be pushed when its session closes, before the
  // server has read a message bob sends once that connection is gone: when bob sees his own
  // message come back, such a leave is already among his pushes.
  bob.pomelo.notify('room.message', { name: 'bob', content: 'after the takeover' });
  await waitFor('bob to see his message after the takeover', () => hasPush(bob.events, 'onMessage', 'after the takeover'));
  seen.annKicked = ann.events.kicked;
  seen.annPushes = ann.events.pushes;
  seen.bobPushes = bob.events.pushes;
  for (const c of [ann, bob, ann2]) c.pomelo.disconnect();
  done();
}

if (mode === 'pinus-raw') pinusRaw();
else if (mode === 'pomelo-chat') pomeloChat().catch(done);
else done(`unknown mode ${mode}`);
