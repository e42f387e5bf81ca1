// Drives the tictactoe example's web page in headless Chromium (Debian's /usr/bin/chromium,
// through playwright-core): two pages are paired, a click out of turn shows the server's
// refusal, X wins on the top row by clicks, both pages show the result; both ask for a
// rematch and O starts the second game; O's page closes in the middle of it and X's shows
// that the opponent left (a win by forfeit), then finds a new match. Prints what the pages
// showed as one JSON line and saves a screenshot of X's page at the end of the first game.
//
//   node browser-tictactoe.js <http://host:port/> <screenshot.png>
'use strict';

const { launchChromium } = require('./chromium');

const [url, screenshot] = process.argv.slice(2);
const TIMEOUT = { timeout: 10000 };

async function open(browser, name) {
  const page = await browser.newPage({ viewport: { width: 520, height: 720 } });
  page.on('pageerror', (err) => process.stderr.write(`[${name}] page error: ${err.message}\n`));
  await page.goto(url);
  return page;
}

const text = (page, selector) => page.$eval(selector, (node) => node.textContent);
const board = (page) => page.$$eval('.cell', (cells) => cells.map((cell) => cell.textContent));

function statusIs(page, wanted) {
  return page.waitForFunction(
    (w) => document.querySelector('#status').textContent.includes(w),
    wanted,
    TIMEOUT,
  );
}

// `page` clicks `cell` on its turn and waits until the cell shows its mark.
async function click(page, cell, mark) {
  await statusIs(page, 'Your turn');
  await page.click(`.cell[data-cell="${cell}"]`);
  await page.waitForFunction(
    ([c, m]) => document.querySelector(`.cell[data-cell="${c}"]`).textContent === m,
    [cell, mark],
    TIMEOUT,
  );
}

async function play(result, browser) {
  const first = await open(browser, 'first');
  await statusIs(first, 'Waiting for an opponent');
  result.firstWaiting = await text(first, '#status');
  const second = await open(browser, 'second');
  await statusIs(second, 'turn');
  await statusIs(first, 'turn');
  const firstMark = (await text(first, '#you')).slice(-1);
  const [x, o] = firstMark === 'X' ? [first, second] : [second, first];
  result.marks = [await text(x, '#you'), await text(o, '#you')];
  result.startStatus = [await text(x, '#status'), await text(o, '#status')];

  // Out of turn: the server refuses, the page says so, the board is unchanged.
  await o.click('.cell[data-cell="8"]');
  await o.waitForFunction(() => document.querySelector('#error').textContent !== '', null, TIMEOUT);
  result.outOfTurnError = await text(o, '#error');
  result.boardAfterOutOfTurn = await board(x);

  for (const [page, cell, mark] of [[x, 0, 'X'], [o, 3, 'O'], [x, 1, 'X'], [o, 4, 'O'], [x, 2, 'X']]) {
    await click(page, cell, mark);
  }
  await statusIs(x, 'You won');
  await statusIs(o, 'You lost');
  result.endStatus = [await text(x, '#status'), await text(o, '#status')];
  result.board = await board(o);
  result.winCells = await x.$$eval('.cell.win', (cells) => cells.map((cell) => Number(cell.dataset.cell)));
  result.againButton = await text(x, '#again');
  await x.screenshot({ path: screenshot, fullPage: true });

  // A rematch: X asks, O sees it and accepts, O starts the second game.
  await x.click('#again');
  await o.waitForFunction(() => document.querySelector('#notice').textContent !== '', null, TIMEOUT);
  result.rematchNotice = await text(o, '#notice');
  result.againAfterAsking = await text(x, '#again');
  await o.click('#again');
  await statusIs(o, 'Your turn');
  await statusIs(x, 'Their turn');
  result.secondGameBoard = await board(x);

  // O leaves in the middle of the second game: X wins by forfeit.
  await click(o, 4, 'O');
  await o.close();
  await x.waitForFunction(() => document.querySelector('#notice').textContent.includes('left'), null, TIMEOUT);
  result.statusAfterLeave = await text(x, '#status');
  result.noticeAfterLeave = await text(x, '#notice');
  result.againAfterLeave = await text(x, '#again');
  await x.click('#again');
  await statusIs(x, 'Waiting for an opponent');
  result.statusAfterNewMatch = await text(x, '#status');
}

(async () => {
  const browser = await launchChromium();
  const result = {};
  try {
    await play(result, browser);
  } catch (err) {
    result.error = String((err && err.stack) || err);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.error ? 1 : 0);
})();
