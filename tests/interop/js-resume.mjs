// Drives nano-rs's own JavaScript client (clients/js, with the `ws` package as its WebSocket)
// against a real server with session resume on, and prints one JSON line per event. The test
// cuts the connection when it reads the `joined` line, broadcasts three `onSay` pushes while
// the client is away (it waits 500 ms before reconnecting), and reads the rest.
//
//   node js-resume.mjs ws://127.0.0.1:PORT/nano
import WebSocket from 'ws';
import { NanoClient } from '../../clients/js/nano-client.js';

const [url] = process.argv.slice(2);
const print = (line) => process.stdout.write(JSON.stringify(line) + '\n');
const client = new NanoClient(url, {
  WebSocket,
  reconnect: { retries: 20, baseDelay: 500, maxDelay: 500 },
});
const says = [];

setTimeout(() => {
  print({ error: 'timed out', says });
  process.exit(1);
}, 15000);

client.on('resume', (event) => print({ resume: event }));
client.on('reconnect', (event) => print({ reconnect: { resumed: event.resumed, session: event.session } }));
client.on('onSay', (text) => {
  says.push(text);
  if (says.length === 3) finish();
});

async function finish() {
  const me = await client.request('room.whoami', {});
  print({ says, me });
  client.close();
  process.exit(0);
}

await client.connect();
await client.request('room.join', 11);
print({ joined: client.sessionId });
