// Drives the chat example's web page in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): two users join, one talks, the other sees it; one leaves, the other sees
// the leave. Prints what happened as one JSON line and saves a screenshot.
//
//   node browser-chat.js <http://host:port/> <screenshot.png> [<bob's http://host:port/>]
//
// bob's page may come from another server (another gate of a cluster); alice's by default.
'use strict';

const { launchChromium } = require('./chromium');

const [url, screenshot, bobUrl = url] = process.argv.slice(2);

async function join(browser, name, pageUrl) {
  const page = await browser.newPage({ viewport: { width: 900, height: 640 } });
  page.on('pageerror', (err) => process.stderr.write(`[${name}] page error: ${err.message}\n`));
  await page.goto(pageUrl);
  await page.fill('#name', name);
  await page.click('#join');
  await page.waitForSelector('#chat-view:not([hidden])', { timeout: 10000 });
  return page;
}

const texts = (page, selector) => page.$$eval(selector, (items) => items.map((item) => item.textContent));

(async () => {
  const browser = await launchChromium();
  const result = {};
  try {
    const alice = await join(browser, 'alice', url);
    const bob = await join(browser, 'bob', bobUrl);
    await alice.waitForFunction(() => document.querySelector('#messages').textContent.includes('bob'));
    result.aliceMembers = await texts(alice, '#members li');
    result.bobMembers = await texts(bob, '#members li');

    await alice.fill('#message', 'hello bob');
    await alice.click('#send');
    await bob.waitForFunction(() => document.querySelector('#messages').textContent.includes('hello bob'));
    result.bobMessages = await texts(bob, '#messages li');

    await alice.close();
    await bob.waitForFunction(() => document.querySelector('#messages').textContent.includes('alice left'));
    result.bobAfterLeave = await texts(bob, '#messages li');
    result.bobMembersAfterLeave = await texts(bob, '#members li');
    await bob.screenshot({ path: screenshot, fullPage: true });
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.error ? 1 : 0);
})();
