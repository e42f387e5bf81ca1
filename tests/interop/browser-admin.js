// Drives the admin page in headless Chromium (Debian's /usr/bin/chromium, through
// playwright-core): a wrong token is refused, the right one shows the dashboard; waits until
// the requests-per-second chart shows the traffic of <route>; kicks session <id> with its
// button and waits until it leaves the list. Prints what the page showed as one JSON line
// and saves a screenshot.
//
//   node browser-admin.js <http://admin-host:port/> <token> <route> <session id> <screenshot.png>
'use strict';

const { launchChromium } = require('./chromium');

const [url, token, route, victim, screenshot] = process.argv.slice(2);

async function signIn(page, value) {
  await page.fill('#token', value);
  await page.click('#login-form button[type=submit]');
}

// The values the chart's polyline of `series` holds, read from the DOM.
const chartValues = (page, chart, series) => page.$eval(
  `#${chart} polyline[data-series="${series}"]`,
  (line) => JSON.parse(line.dataset.values),
).catch(() => []);

(async () => {
  const browser = await launchChromium();
  const result = {};
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('pageerror', (err) => process.stderr.write(`page error: ${err.message}\n`));
    await page.goto(url);

    await signIn(page, token + '-wrong');
    await page.waitForFunction(() => document.querySelector('#status').textContent.includes('wrong'));
    result.wrongTokenStatus = await page.textContent('#status');

    await signIn(page, token);
    await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 1);
    await page.waitForFunction(
      ([series]) => {
        const line = document.querySelector(`#chart-rate polyline[data-series="${series}"]`);
        return line && JSON.parse(line.dataset.values).some((v) => v > 0);
      },
      [route],
      { timeout: 30000 },
    );
    // A few more seconds of history, for the screenshot.
    await page.waitForFunction(() => Number(document.body.dataset.polls || 0) >= 6, null, { timeout: 30000 });
    result.rateValues = await chartValues(page, 'chart-rate', route);
    result.p50Values = await chartValues(page, 'chart-latency', route);
    result.sessionsNow = Number(await page.textContent('#sessions-now'));
    result.groups = await page.$$eval('#groups tr', (rows) => rows.map((row) => row.dataset.group + ':' + row.cells[1].textContent));

    const row = `#sessions tr[data-session="${victim}"]`;
    await page.waitForSelector(row);
    result.sessionsBefore = await page.$$eval('#sessions tr', (rows) => rows.map((r) => Number(r.dataset.session)));
    await page.click(`button[data-kick="${victim}"]`);
    await page.waitForSelector(row, { state: 'detached', timeout: 10000 });
    result.sessionsAfter = await page.$$eval('#sessions tr', (rows) => rows.map((r) => Number(r.dataset.session)));
    await page.screenshot({ path: screenshot, fullPage: true });
  } catch (err) {
    result.error = String(err && err.stack || err);
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.error ? 1 : 0);
})();
