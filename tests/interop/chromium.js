// Headless Chromium for the browser tests: Debian's /usr/bin/chromium (or $CHROMIUM) through
// playwright-core, with the flags it needs in a container (no sandbox as root, no GPU, no
// /dev/shm, nothing in the background).
'use strict';

const { chromium } = require('playwright-core');

function launchChromium() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

module.exports = { launchChromium };
