// The npm package: what `npm pack` ships, and that every entry point of `exports` loads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const packageDir = new URL('..', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('package.json', packageDir), 'utf8'));

test('npm pack ships exactly the modules, their types, the README and the license', { timeout: 60000 }, () => {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: packageDir, encoding: 'utf8' });
  const [pack] = JSON.parse(out);
  const shipped = pack.files.map((file) => file.path).sort();
  assert.deepEqual(shipped, [
    'LICENSE',
    'README.md',
    'msgpack.d.ts',
    'msgpack.js',
    'nano-client.d.ts',
    'nano-client.js',
    'package.json',
    'protocol.d.ts',
    'protocol.js',
  ]);
  assert.equal(pack.name, manifest.name);
});

test('the manifest is publishable', () => {
  assert.equal(manifest.private, undefined, 'not private');
  for (const field of ['name', 'version', 'description', 'license', 'repository', 'types', 'exports', 'files']) {
    assert.ok(manifest[field], `package.json has ${field}`);
  }
  assert.equal(manifest.license, 'MIT');
  for (const [name, version] of Object.entries(manifest.dependencies || {})) {
    assert.match(version, /^\d+\.\d+\.\d+$/, `${name} is pinned`);
  }
});

test('every entry point of exports loads by the package name', async () => {
  const entries = Object.keys(manifest.exports).map((key) => manifest.name + key.slice(1));
  assert.deepEqual(entries, ['nano-rs-client', 'nano-rs-client/protocol', 'nano-rs-client/msgpack']);
  const [client, protocol, msgpack] = await Promise.all(entries.map((entry) => import(entry)));
  assert.equal(typeof client.NanoClient, 'function');
  assert.equal(typeof protocol.decodePackets, 'function');
  assert.equal(typeof msgpack.msgpack.encode, 'function');
  for (const target of Object.values(manifest.exports)) {
    readFileSync(new URL(target.types, packageDir)); // the declared types exist
  }
});
