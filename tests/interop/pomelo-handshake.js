// Runs pomelo 2.x's own handshake command (lib/connectors/commands/handshake.js, from the pinned
// `pomelo` package) over pomelo's own dictionary component, so nano-rs's handshake reply can be
// compared with what pomelo builds for the same dictionary.
//
// stdin: {"routes": [route, ...] in code order (codes 1, 2, 3, ...), "heartbeat": seconds,
//         "clients": [client handshake `sys`, ...]}; a client `sys.dictVersion` of "<pomelo>"
//         is replaced by pomelo's own version of the dictionary.
// stdout: {"version": pomelo's dictVersion, "replies": [pomelo's handshake reply per client]}
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const Module = require('module');
const Dictionary = require('pomelo/lib/components/dictionary');
const { Package } = require('pomelo-protocol');

const input = JSON.parse(fs.readFileSync(0, 'utf8'));

// pomelo numbers the routes of a user dictionary file 1, 2, 3, ... in file order (after the
// handler routes it finds on disk: none here, the app has no servers).
const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'pomelo-dict-')), 'dictionary.json');
fs.writeFileSync(file, JSON.stringify(input.routes));
const app = { get: () => ({}), getBase: () => path.dirname(file), components: {} };
const dictionary = Dictionary(app, { dict: file });

// The handshake command reads the running app as `require('../../pomelo').app`, which only a
// configured pomelo server sets; so the file is loaded as it ships with `../../pomelo` standing
// for this app and every other require (pomelo-protocol) resolved from the file's own folder.
function loadHandshakeCommand() {
  const filename = require.resolve('pomelo/lib/connectors/commands/handshake');
  const own = Module.createRequire(filename);
  const stub = (name) => (name === '../../pomelo' ? { app } : own(name));
  const module = { exports: {} };
  const source = fs.readFileSync(filename, 'utf8');
  new Function('require', 'module', 'exports', 'Buffer', source)(stub, module, module.exports, Buffer);
  return module.exports;
}
const Handshake = loadHandshakeCommand();

function handshake(command, sys) {
  return new Promise((resolve, reject) => {
    const socket = {
      id: 1,
      handshakeResponse: (packet) => resolve(JSON.parse(Package.decode(packet).body.toString())),
      sendForce: (packet) => resolve(JSON.parse(Package.decode(packet).body.toString())),
      disconnect: () => {},
    };
    try {
      command.handle(socket, { sys });
    } catch (error) {
      reject(error);
    }
  });
}

dictionary.start(async () => {
  try {
    app.components.__dictionary__ = dictionary;
    const command = new Handshake({ heartbeat: input.heartbeat, useDict: true });
    const version = dictionary.getVersion();
    const replies = [];
    for (const sys of input.clients) {
      const presented = sys.dictVersion === '<pomelo>' ? { ...sys, dictVersion: version } : sys;
      replies.push(await handshake(command, presented));
    }
    process.stdout.write(JSON.stringify({ version, replies }) + '\n');
    fs.rmSync(path.dirname(file), { recursive: true });
  } catch (error) {
    process.stdout.write(JSON.stringify({ error: String(error && error.stack || error) }) + '\n');
    process.exit(1);
  }
});
