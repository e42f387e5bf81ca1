// What a test script reports: one JSON line on stdout with what it saw, and `error` when it
// failed (the Rust side shows that line with the exit status). A script that is still running
// after `limitMs` fails with "timed out".
'use strict';

function reporter(limitMs = 30000) {
  const seen = {};
  function done(error) {
    if (error) seen.error = String((error && error.stack) || error);
    process.stdout.write(JSON.stringify(seen) + '\n');
    process.exit(error ? 1 : 0);
  }
  setTimeout(() => done('timed out'), limitMs);
  return { seen, done };
}

module.exports = { reporter };
