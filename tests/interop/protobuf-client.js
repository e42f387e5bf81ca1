// A protobuf chat client written for nano-rs's tests, sharing no code with nano-rs: raw TCP,
// packets and messages framed by the pinned `pinus-protocol`, payloads encoded and decoded by
// the pinned `protobufjs` from the example's own `chat.proto` and nano-rs's `nano.proto`.
// Two members (ann, bo) join the `protobuf` example's room; bo says something (a notify that the
// server broadcasts); ann sends a join with an empty name, one with a truncated payload, and a
// leave with no payload. Routes of compressed messages are resolved through `sys.codeToRoute`.
//
//   node protobuf-client.js <host> <port>   # prints one JSON line of observations
'use strict';

const path = require('path');
const protobuf = require('protobufjs');
const { Package, Message } = require('pinus-protocol');
const { connectPinus } = require('./pinus-tcp');

const [host, portText] = process.argv.slice(2);
const port = Number(portText);
const { seen, done } = require('./report').reporter(30000);

const root = protobuf.loadSync([
  path.join(__dirname, '..', '..', 'examples', 'protobuf', 'chat.proto'),
  path.join(__dirname, '..', '..', 'nano-core', 'proto', 'nano.proto'),
]);
const type = (name) => root.lookupType(name);
const OBJECT_FORM = { longs: String, defaults: true };
const decode = (name, body) => type(name).toObject(type(name).decode(body), OBJECT_FORM);
const encode = (name, object) => Buffer.from(type(name).encode(type(name).fromObject(object)).finish());

// Error flag of the message layer (pitaya's convention): bit 5 of the flag byte.
const ERROR_FLAG = 0x20;

async function member() {
  const conn = connectPinus(host, port, done);
  conn.send(Package.TYPE_HANDSHAKE, Buffer.from(JSON.stringify({ sys: { type: 'protobuf-client', version: '0.1.0' }, user: {} })));
  const reply = JSON.parse((await conn.next()).body.toString());
  conn.send(Package.TYPE_HANDSHAKE_ACK);
  const inbox = [];
  const waiting = [];
  const take = () => {
    for (let i = 0; i < waiting.length; i++) {
      const index = inbox.findIndex(waiting[i].matches);
      if (index >= 0) {
        waiting[i].resolve(inbox.splice(index, 1)[0]);
        waiting.splice(i--, 1);
      }
    }
  };
  (async () => {
    for (;;) {
      const packet = await conn.next();
      if (packet.type !== Package.TYPE_DATA) continue;
      const message = Message.decode(packet.body);
      const route = message.compressRoute ? reply.sys.codeToRoute[String(message.route)] : message.route;
      inbox.push({ type: message.type, id: message.id, route, error: Boolean(packet.body[0] & ERROR_FLAG), body: message.body });
      take();
    }
  })().catch(done);
  return {
    sys: reply.sys,
    /** The next message for which `matches(message)` holds. */
    wait: (matches) => new Promise((resolve) => { waiting.push({ matches, resolve }); take(); }),
    request: (id, route, body) => conn.send(Package.TYPE_DATA, Message.encode(id, Message.TYPE_REQUEST, false, route, body)),
    notify: (route, body) => conn.send(Package.TYPE_DATA, Message.encode(0, Message.TYPE_NOTIFY, false, route, body)),
    end: conn.end,
  };
}

const response = (id) => (message) => message.type === Message.TYPE_RESPONSE && message.id === id;
const push = (route) => (message) => message.type === Message.TYPE_PUSH && message.route === route;

async function join(client, id, name) {
  client.request(id, 'room.join', encode('chat.Join', { name }));
  const answer = await client.wait(response(id));
  const welcome = await client.wait(push('onWelcome'));
  return { error: answer.error, joined: decode('chat.Joined', answer.body), welcome: decode('chat.Welcome', welcome.body) };
}

(async () => {
  const ann = await member();
  const bo = await member();
  seen.serializer = ann.sys.serializer;
  seen.annJoin = await join(ann, 1, 'ann');
  seen.boJoin = await join(bo, 1, 'bo');

  bo.notify('room.say', encode('chat.Say', { text: 'hello from protobufjs' }));
  seen.chats = [];
  for (const client of [ann, bo]) {
    const chat = await client.wait(push('onChat'));
    seen.chats.push(decode('chat.Chat', chat.body));
  }

  ann.request(2, 'room.join', encode('chat.Join', { name: '' }));
  const refused = await ann.wait(response(2));
  seen.emptyName = { error: refused.error, body: decode('nano.ErrorBody', refused.body) };

  const truncated = encode('chat.Join', { name: 'ann' }).subarray(0, 3);
  ann.request(3, 'room.join', truncated);
  const undecodable = await ann.wait(response(3));
  seen.truncated = { error: undecodable.error, body: decode('nano.ErrorBody', undecodable.body) };

  ann.request(4, 'room.leave', Buffer.alloc(0));
  const left = await ann.wait(response(4));
  seen.leave = { error: left.error, bodyLength: left.body.length };
  ann.end();
  bo.end();
  done();
})().catch(done);
