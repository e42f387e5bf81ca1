// Protobuf golden vectors from protobufjs, an implementation independent of nano-rs's (prost).
// Reads one JSON object on stdin: `{ cases: [{ type, hex, object }] }`, where `hex` is prost's
// encoding of the value that `object` describes in protobufjs' JSON form. For each case it
// prints what protobufjs makes of prost's bytes (`decoded`, as a plain object) and its own
// encoding of `object` (`encoded`, hex).
//
//   node protobuf-golden.js < cases.json   # prints one JSON line
'use strict';

const path = require('path');
const protobuf = require('protobufjs');

const { seen, done } = require('./report').reporter(30000);

const OBJECT_FORM = { longs: String, enums: String, bytes: String, oneofs: true };

function readStdin() {
  return new Promise((resolve, reject) => {
    const chunks = [];
    process.stdin.on('data', (chunk) => chunks.push(chunk));
    process.stdin.on('end', () => resolve(Buffer.concat(chunks).toString()));
    process.stdin.on('error', reject);
  });
}

(async () => {
  const root = protobuf.loadSync(path.join(__dirname, 'proto', 'golden.proto'));
  const { cases } = JSON.parse(await readStdin());
  seen.results = cases.map(({ type, hex, object }) => {
    const Type = root.lookupType(`golden.${type}`);
    const decoded = Type.toObject(Type.decode(Buffer.from(hex, 'hex')), OBJECT_FORM);
    const message = Type.fromObject(object);
    const problem = Type.verify(message);
    if (problem) throw new Error(`case of ${type} is not valid: ${problem}`);
    const encoded = Buffer.from(Type.encode(message).finish()).toString('hex');
    return { decoded, encoded };
  });
  done();
})().catch(done);
