// A minimal route-dictionary client written for nano-rs's tests, sharing no code with nano-rs's
// clients: raw TCP, packets and messages framed by the pinned `pinus-protocol` codec, and
// compressed push routes resolved only through the handshake's `sys.codeToRoute` (never `dict`).
// It connects twice: first with no dictionary (it caches routeToCode, codeToRoute and
// dictVersion), then presenting the cached dictVersion. Each time it sends `room.join` as a
// route-compressed request and `room.say` as a route-compressed notify, and waits for the
// response and both pushes.
//
//   node dict-client.js <host> <port>   # prints one JSON line of observations
'use strict';

const { Package, Message } = require('pinus-protocol');
const { connectPinus } = require('./pinus-tcp');

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
const { seen, done } = require('./report').reporter(30000);

const connect = () => connectPinus(host, port, done);

const json = (value) => Buffer.from(JSON.stringify(value));

// One session: handshake with `sys`, then a compressed request and notify; `cache` holds the
// dictionary from an earlier handshake and is refreshed from this one's maps when they come.
async function session(sys, cache) {
  const conn = connect();
  conn.send(Package.TYPE_HANDSHAKE, json({ sys, user: {} }));
  const reply = JSON.parse((await conn.next()).body.toString());
  const observed = { code: reply.code, sys: reply.sys };
  if (reply.sys.codeToRoute) {
    cache.routeToCode = reply.sys.routeToCode;
    cache.codeToRoute = reply.sys.codeToRoute;
    cache.dictVersion = reply.sys.dictVersion;
  }
  conn.send(Package.TYPE_HANDSHAKE_ACK);
  const code = (route) => cache.routeToCode[route];
  conn.send(Package.TYPE_DATA, Message.encode(1, Message.TYPE_REQUEST, true, code('room.join'), json({ name: 'ann' })));
  conn.send(Package.TYPE_DATA, Message.encode(0, Message.TYPE_NOTIFY, true, code('room.say'), json({ text: 'hi' })));
  observed.messages = [];
  while (observed.messages.length < 3) {
    const packet = await conn.next();
    if (packet.type !== Package.TYPE_DATA) continue;
    const message = Message.decode(packet.body);
    const route = message.compressRoute ? cache.codeToRoute[String(message.route)] : message.route;
    observed.messages.push({
      type: message.type,
      id: message.id,
      compressed: Boolean(message.compressRoute),
      route: route === undefined ? `unresolved code ${message.route}` : route,
      body: JSON.parse(message.body.toString()),
    });
  }
  conn.end();
  return observed;
}

(async () => {
  const cache = {};
  seen.fresh = await session({ type: 'dict-client', version: '0.1.0' }, cache);
  seen.cachedVersion = cache.dictVersion;
  seen.cached = await session({ type: 'dict-client', version: '0.1.0', dictVersion: cache.dictVersion }, cache);
  done();
})().catch(done);
