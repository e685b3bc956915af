// Data-flow protection end to end, through the official SDK client on one
// session: an allowed sink runs; after a source call the same sink waits
// for approval, saying why; a new session starts clean; the audit log
// names the flow rule; `vault explain` agrees with the live session.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { workspace, connect, filesystemServer, bin } from './helpers.mjs';

let ws, root, base, vault, client;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'av-flow-'));
  writeFileSync(join(root, 'secret.txt'), 'the private plan');
  ws = workspace();
  ws.cli('service', 'add-mcp', 'fs', '--command', `${filesystemServer} ${root}`);
  vault = ws.json('vault', 'create', 'flow', '--service', 'fs');
  ws.cli('vault', 'policy', 'flow', 'fs_create_directory', 'allow');
  ws.cli('vault', 'flow', 'flow', 'on');
  ws.cli('vault', 'flow', 'flow', 'source', 'fs_read_text_file');
  ws.cli('vault', 'flow', 'flow', 'sink', 'fs_create_directory');
  base = await ws.start();
  client = await connect(`${base}/v/${vault.id}/mcp`, vault.token);
});

after(async () => {
  await client?.close();
  ws?.close();
  rmSync(root, { recursive: true, force: true });
});


test('a sink runs until the session reads private data, then asks', async () => {
  const first = join(root, 'before');
  let res = await client.callTool({ name: 'fs_create_directory', arguments: { path: first } });
  assert.equal(res.isError, undefined, JSON.stringify(res));
  assert.ok(existsSync(first), 'the allowed sink did not run before any source');
  assert.equal(ws.json('approvals', 'list').pending.length, 0);

  const session = client.transport.sessionId;
  const clean = ws.json('vault', 'explain', 'flow', 'fs_create_directory', '--session', session);
  assert.equal(clean.decision, 'allow', JSON.stringify(clean));

  res = await client.callTool({ name: 'fs_read_text_file', arguments: { path: join(root, 'secret.txt') } });
  assert.match(res.content[0].text, /the private plan/);

  const tainted = ws.json('vault', 'explain', 'flow', 'fs_create_directory', '--session', session);
  assert.equal(tainted.decision, 'approve', JSON.stringify(tainted));
  assert.equal(tainted.rule, 'flow:fs_read_text_file');

  const after = join(root, 'after');
  const call = client.callTool({ name: 'fs_create_directory', arguments: { path: after } });
  const pending = await ws.waitForPending('fs_create_directory');
  assert.match(pending.flow, /read private data with fs_read_text_file at \d\d:\d\d; fs_create_directory can send it out/);
  assert.equal(existsSync(after), false, 'the sink ran before approval');
  const shown = ws.cli('approvals', 'show', pending.id);
  assert.match(shown, /Data flow: this session read private data/);
  assert.match(shown, /Tool: changes data/);
  assert.throws(() => execFileSync(bin, ['approvals', 'approve', pending.id, '--always', '--data', ws.data], { stdio: 'pipe' }),
    (e) => /once or for this session, not always/.test(e.stderr.toString()));
  ws.cli('approvals', 'approve', pending.id);
  res = await call;
  assert.equal(res.isError, undefined, JSON.stringify(res));
  assert.ok(existsSync(after));

  const recs = ws.json('audit', 'list', '--limit', '0');
  assert.ok(recs.some((r) => r.tool === 'fs_create_directory' && r.rule === 'flow:fs_read_text_file' && r.outcome === 'approved' && r.channel === 'cli'),
    JSON.stringify(recs.filter((r) => r.tool === 'fs_create_directory')));
});

test('a new session starts clean', async () => {
  const fresh = await connect(`${base}/v/${vault.id}/mcp`, vault.token);
  try {
    const dir = join(root, 'fresh');
    const res = await fresh.callTool({ name: 'fs_create_directory', arguments: { path: dir } });
    assert.equal(res.isError, undefined, JSON.stringify(res));
    assert.ok(existsSync(dir));
  } finally {
    await fresh.close();
  }
});
