// Drives a nano-rs server with pomelo-client-websocket 1.0.13, an unmodified third-party
// Pomelo client, and prints what it saw as one JSON line.
//
//   node pomelo-ws-client.js <host> <port> <path>
//
// Scenario: handshake with user data, request `room.join`, receive the `onMembers` push,
// notify `room.message` and receive it back as `onMessage`, then disconnect.
'use strict';

const Pomelo = require('pomelo-client-websocket');

const [host, port, path] = process.argv.slice(2);
const client = new Pomelo();
const seen = { connected: false, pushes: [] };

const timer = setTimeout(() => finish('timed out'), 10000);

function finish(error) {
  clearTimeout(timer);
  if (error) seen.error = error;
  client.disconnect();
  process.stdout.write(JSON.stringify(seen) + '\n');
  setTimeout(() => process.exit(error ? 1 : 0), 50);
}

client.on('error', (err) => finish('client error: ' + err));
client.on('onMembers', (body) => seen.pushes.push({ route: 'onMembers', body }));
client.on('onMessage', (body) => {
  seen.pushes.push({ route: 'onMessage', body });
  finish();
});

client.init({ host, port: Number(port), path, scheme: 'ws', user: { name: 'js-client' } }, () => {
  seen.connected = true;
  seen.dict = client.data && client.data.dict;
  client.request('room.join', { name: 'js-client' }, (response) => {
    seen.join = response;
    client.notify('room.message', { name: 'js-client', content: 'hello from node' });
  });
});
