// The tic-tac-toe page: finds a match over WebSocket with nano-client.js and renders the
// server's `onState` pushes. Every move goes to the server, which refuses the wrong ones.
import { NanoClient } from '/nano-client.js';

const $ = (selector) => document.querySelector(selector);
const cells = [...document.querySelectorAll('.cell')];
const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
const client = new NanoClient(`${scheme}://${location.host}/nano`);
let state = null;
// The opponent left (the match takes nobody new), or the server closed the match.
let opponentLeft = false;
let roomClosed = false;
let connected = false;

function statusText() {
  if (!connected) return ['Disconnected: reload the page to play again', false];
  if (!state) return ['Finding a match…', false];
  if (state.status === 'waiting') return ['Waiting for an opponent…', false];
  if (state.status === 'playing') {
    return state.turn === state.you ? ['Your turn', true] : ['Their turn', false];
  }
  const { outcome } = state;
  if (outcome.kind === 'draw') return ['Draw', false];
  if (outcome.kind === 'forfeit') return ['You won: your opponent left', true];
  return outcome.mark === state.you ? ['You won!', true] : ['You lost', false];
}

function renderAgain() {
  const button = $('#again');
  const gone = opponentLeft || roomClosed;
  button.hidden = !connected || !state || (state.status !== 'over' && !roomClosed);
  if (button.hidden) return;
  const asked = state.rematch.includes(state.you);
  button.textContent = gone ? 'Find a new opponent' : asked ? 'Rematch asked…' : 'Rematch';
  button.disabled = !gone && asked;
}

function render() {
  const [text, mine] = statusText();
  $('#status').textContent = text;
  $('#status').classList.toggle('mine', mine);
  $('#you').hidden = !state;
  if (state) {
    $('#you').textContent = `You are ${state.you}`;
    $('#you').className = `badge ${state.you}`;
  }
  const line = state && state.outcome && state.outcome.line ? state.outcome.line : [];
  cells.forEach((cell, i) => {
    const mark = state ? state.board[i] : null;
    cell.textContent = mark || '';
    cell.className = `cell ${mark || ''} ${line.includes(i) ? 'win' : ''}`;
    cell.disabled = !state || roomClosed || state.status !== 'playing' || mark !== null;
  });
  const other = state && state.rematch.some((mark) => mark !== state.you);
  if (!opponentLeft && !roomClosed) $('#notice').textContent = other ? 'Your opponent wants a rematch.' : '';
  renderAgain();
}

function showError(err) {
  $('#error').textContent = err && err.message ? err.message : String(err);
}

async function findMatch() {
  state = null;
  opponentLeft = false;
  roomClosed = false;
  $('#notice').textContent = '';
  render();
  await client.request('lobby.play');
}

client.on('onState', (next) => {
  state = next;
  $('#error').textContent = '';
  render();
});
client.on('onOpponentLeft', ({ forfeit }) => {
  opponentLeft = true;
  $('#notice').textContent = forfeit
    ? 'Your opponent left: you win by forfeit.'
    : 'Your opponent left.';
  render();
});
client.on('onRoomClosed', () => {
  roomClosed = true;
  $('#notice').textContent = 'The server closed this match.';
  render();
});
client.on('close', () => {
  connected = false;
  render();
});

cells.forEach((cell, i) => {
  // Also out of turn: the server says why a move is refused, and the page shows it.
  cell.addEventListener('click', () => {
    client.request('match.move', { cell: i }).catch(showError);
  });
});

$('#again').addEventListener('click', async () => {
  $('#error').textContent = '';
  try {
    if (roomClosed) {
      await findMatch();
    } else if (opponentLeft) {
      await client.request('lobby.leave');
      await findMatch();
    } else {
      await client.request('match.rematch');
    }
  } catch (err) {
    showError(err);
  }
});

try {
  await client.connect();
  connected = true;
  await findMatch();
} catch (err) {
  render();
  showError(err);
}
