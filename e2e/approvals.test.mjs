// Approvals end to end: a tool set to "require approval" waits while the
// agent hears progress, and the CLI's answer decides it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { workspace, connect, filesystemServer, bin } from './helpers.mjs';

let ws, root, client, quick;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'av-root-'));
  ws = workspace();
  ws.cli('service', 'add-mcp', 'fs', '--command', `${filesystemServer} ${root}`);
  const ask = ws.json('vault', 'create', 'ask', '--service', 'fs', '--approval-timeout', '30s');
  const hurry = ws.json('vault', 'create', 'hurry', '--service', 'fs', '--approval-timeout', '2s');
  const base = await ws.start();
  client = await connect(`${base}/v/${ask.id}/mcp`, ask.token);
  quick = await connect(`${base}/v/${hurry.id}/mcp`, hurry.token);
});

after(async () => {
  await client?.close();
  await quick?.close();
  ws?.close();
  rmSync(root, { recursive: true, force: true });
});


test('an approve tool waits, reports progress, and runs once approved through the CLI', async () => {
  const dir = join(root, 'approved');
  const progress = [];
  const call = client.callTool({ name: 'fs_create_directory', arguments: { path: dir } }, undefined,
    { onprogress: (p) => progress.push(p), resetTimeoutOnProgress: true, timeout: 20000 });
  const pending = await ws.waitForPending('fs_create_directory');
  assert.match(pending.code, /^AV-[2-9A-Z]{4}$/);
  assert.equal(pending.vault, 'ask');
  assert.equal(existsSync(dir), false, 'the upstream ran before approval');
  await new Promise((r) => setTimeout(r, 5500)); // one progress interval
  ws.cli('approvals', 'approve', pending.id);
  const res = await call;
  assert.equal(res.isError, undefined, JSON.stringify(res));
  assert.match(res.content[0].text, /Successfully created directory/);
  assert.ok(existsSync(dir), 'the approved call did not run');
  assert.ok(progress.length >= 1, 'no progress while waiting');

  // A second answer to a settled call is refused and says why.
  assert.throws(() => execFileSync(bin, ['approvals', 'deny', pending.id, '--data', ws.data], { stdio: 'pipe' }),
    (e) => /already answered \(approved by cli\)/.test(e.stderr.toString()));
  const recs = ws.json('audit', 'list', '--limit', '0');
  assert.ok(recs.some((r) => r.phase === 'call' && r.tool === 'fs_create_directory' && r.outcome === 'approved' && r.channel === 'cli'));
  assert.ok(recs.some((r) => r.phase === 'answer' && r.outcome === 'rejected'));
});

test('a denial reaches the agent with its reason and nothing runs', async () => {
  const dir = join(root, 'denied');
  const call = client.callTool({ name: 'fs_create_directory', arguments: { path: dir } });
  const pending = await ws.waitForPending('fs_create_directory');
  ws.cli('approvals', 'deny', pending.id, '--reason', 'not today');
  const res = await call;
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /not today/);
  assert.equal(existsSync(dir), false);
});

test('no answer before the deadline is a denial', async () => {
  const dir = join(root, 'timed-out');
  const res = await quick.callTool({ name: 'fs_create_directory', arguments: { path: dir } });
  assert.equal(res.isError, true);
  assert.match(res.content[0].text, /nobody answered within 2s/);
  assert.equal(existsSync(dir), false);
  const recs = ws.json('audit', 'list', '--vault', 'hurry');
  assert.ok(recs.some((r) => r.outcome === 'timeout' && r.channel === 'timeout'));
});
