// Encodes and decodes a table of cases with pinus-protocol, the TypeScript Pomelo codec, so that
// nano-rs can be compared with an implementation it shares no code with.
//
// stdin: a JSON array of cases, each either
//   {"packet": <type>, "body": <hex>, "ours": <hex of nano-rs's packet>} or
//   {"message": <type>, "id": n, "compressed": bool, "route": "name" | code, "payload": <hex>,
//    "ours": <hex of nano-rs's whole Data packet>}
// stdout: a JSON array with, per case, pinus's encoding ("encoded", hex) and pinus's decoding of
// nano-rs's bytes ("decoded").
'use strict';

const { Package, Message } = require('pinus-protocol');

const hex = (buffer) => (buffer ? Buffer.from(buffer).toString('hex') : '');
const cases = JSON.parse(require('fs').readFileSync(0, 'utf8'));

const results = cases.map((c) => {
  const ours = Buffer.from(c.ours, 'hex');
  if (c.packet !== undefined) {
    const encoded = Package.encode(c.packet, Buffer.from(c.body, 'hex'));
    const decoded = Package.decode(ours);
    return { encoded: hex(encoded), decoded: { type: decoded.type, body: hex(decoded.body) } };
  }
  const body = Message.encode(c.id, c.message, c.compressed, c.route, Buffer.from(c.payload, 'hex'));
  const encoded = Package.encode(Package.TYPE_DATA, body);
  const packet = Package.decode(ours);
  const message = Message.decode(packet.body);
  return {
    encoded: hex(encoded),
    decoded: {
      packet: packet.type,
      type: message.type,
      id: message.id,
      compressed: message.compressRoute === 1,
      route: message.route,
      payload: hex(message.body),
    },
  };
});

process.stdout.write(JSON.stringify(results));
