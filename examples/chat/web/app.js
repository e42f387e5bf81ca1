// The chat page: joins the room over WebSocket with nano-client.js and renders what happens.
import { NanoClient } from '/nano-client.js';

const $ = (selector) => document.querySelector(selector);
const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const members = new Set();
let client = null;
let me = '';

function addLine(text, { who = null, system = false } = {}) {
  const item = document.createElement('li');
  if (system) item.className = 'system';
  if (who) {
    const name = document.createElement('span');
    name.className = 'who';
    name.textContent = who;
    item.append(name);
  }
  item.append(document.createTextNode(text));
  $('#messages').append(item);
  $('#messages').scrollTop = $('#messages').scrollHeight;
}

function renderMembers() {
  const list = $('#members');
  list.replaceChildren(...[...members].sort().map((name) => {
    const item = document.createElement('li');
    item.textContent = name === me ? `${name} (you)` : name;
    return item;
  }));
  $('#count').textContent = `(${members.size})`;
}

function setStatus(text, online) {
  $('#status').textContent = text;
  $('#status').classList.toggle('online', online);
  $('#send').disabled = !online;
}

async function join(name) {
  client = new NanoClient(`${scheme}://${location.host}/nano`, { user: { name }, reconnect: true });
  client.on('onMembers', ({ members: names }) => {
    members.clear();
    names.forEach((n) => members.add(n));
    renderMembers();
  });
  client.on('onNewUser', ({ name: newcomer, content }) => {
    if (newcomer) members.add(newcomer);
    renderMembers();
    addLine(content, { system: true });
  });
  client.on('onMessage', ({ name: from, content }) => addLine(content, { who: from }));
  client.on('onLeave', ({ name: leaver }) => {
    members.delete(leaver);
    renderMembers();
    addLine(`${leaver} left the room`, { system: true });
  });
  client.on('close', () => setStatus('disconnected, retrying…', false));
  client.on('kick', ({ reason }) => setStatus(`removed by the server: ${reason}`, false));
  client.on('reconnect', async () => {
    await client.request('room.join', { name: me }).catch(() => {});
    setStatus('online', true);
  });

  await client.connect();
  await client.request('room.join', { name });
}

$('#join-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const name = $('#name').value.trim();
  if (!name) return;
  $('#join').disabled = true;
  $('#join-error').textContent = '';
  try {
    me = name;
    await join(name);
    $('#join-view').hidden = true;
    $('#chat-view').hidden = false;
    setStatus('online', true);
    addLine(`You joined as ${name}`, { system: true });
    $('#message').focus();
  } catch (err) {
    $('#join-error').textContent = err.message || String(err);
    if (client) client.close();
  } finally {
    $('#join').disabled = false;
  }
});

$('#send-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const content = $('#message').value.trim();
  if (!content || !client) return;
  client.notify('room.message', { name: me, content });
  $('#message').value = '';
});
