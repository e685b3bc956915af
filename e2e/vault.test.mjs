// The foundation's acceptance test: a real `serve` process in front of the
// real filesystem MCP server, driven by the official TypeScript SDK client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { workspace, connect, toolNames, filesystemServer } from './helpers.mjs';

let ws, base, root, work, ro, workClient, roClient;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'av-root-'));
  writeFileSync(join(root, 'hello.txt'), 'hello from the upstream\n');
  ws = workspace();
  ws.cli('service', 'add-mcp', 'fs', '--command', `${filesystemServer} ${root}`);
  work = ws.json('vault', 'create', 'work', '--service', 'fs');
  ro = ws.json('vault', 'create', 'readonly', '--service', 'fs');
  ws.cli('vault', 'policy', 'readonly', 'fs_*', 'block');
  ws.cli('vault', 'policy', 'readonly', 'fs_read_text_file', 'allow');
  ws.cli('vault', 'policy', 'readonly', 'fs_list_directory', 'allow');
  base = await ws.start();
  const url = (v) => `${base}/v/${v.id}/mcp`;
  workClient = await connect(url(work), work.token);
  roClient = await connect(url(ro), ro.token);
});

after(async () => {
  await workClient?.close();
  await roClient?.close();
  ws?.close();
  rmSync(root, { recursive: true, force: true });
});

test('two vaults on one upstream see different tools', async () => {
  const w = await toolNames(workClient);
  assert.ok(w.includes('fs_read_text_file') && w.includes('fs_create_directory'), w.join());
  assert.ok(!w.includes('fs_write_file'), 'destructive tools are blocked by default');
  assert.deepEqual(await toolNames(roClient), ['fs_list_directory', 'fs_read_text_file']);
});

test('an allowed call returns the upstream result unchanged', async () => {
  const direct = new Client({ name: 'direct', version: '1' });
  await direct.connect(new StdioClientTransport({ command: filesystemServer, args: [root], stderr: 'ignore' }));
  const args = { path: join(root, 'hello.txt') };
  const want = await direct.callTool({ name: 'read_text_file', arguments: args });
  await direct.close();
  const got = await roClient.callTool({ name: 'fs_read_text_file', arguments: args });
  assert.deepEqual(got, want);
  assert.match(got.content[0].text, /hello from the upstream/);
});

test('a blocked tool is neither listed nor callable, and never reaches the upstream', async () => {
  const target = join(root, 'blocked.txt');
  await assert.rejects(roClient.callTool({ name: 'fs_write_file', arguments: { path: target, content: 'x' } }), /not found/);
  await assert.rejects(workClient.callTool({ name: 'fs_write_file', arguments: { path: target, content: 'x' } }), /not found/);
  const unknown = await roClient.callTool({ name: 'fs_no_such_tool', arguments: {} }).catch((e) => e.message);
  const blocked = await roClient.callTool({ name: 'fs_create_directory', arguments: { path: target } }).catch((e) => e.message);
  assert.equal(blocked.replace('fs_create_directory', 'X'), unknown.replace('fs_no_such_tool', 'X'));
  assert.equal(existsSync(target), false, 'the upstream wrote a file for a blocked call');
});

test('the audit log has intent and outcome for each call', async () => {
  await workClient.callTool({ name: 'fs_list_directory', arguments: { path: root } });
  const recs = ws.json('audit', 'list', '--limit', '0', '--phases');
  const calls = new Map();
  for (const r of recs) {
    if (!calls.has(r.call_id)) calls.set(r.call_id, []);
    calls.get(r.call_id).push(r);
  }
  const executed = [...calls.values()].filter((rs) => rs.some((r) => r.outcome === 'executed'));
  assert.ok(executed.length >= 2, `executed calls: ${executed.length}`);
  for (const rs of executed) {
    assert.deepEqual(rs.map((r) => r.phase), ['intent', 'outcome'], JSON.stringify(rs));
    assert.ok(rs[0].seq < rs[1].seq);
    assert.equal(rs[0].client, 'e2e-agent 1.0.0');
  }
  assert.ok(recs.some((r) => r.outcome === 'blocked' && r.tool === 'fs_write_file'));
  assert.ok(!recs.some((r) => r.phase === 'intent' && r.tool === 'fs_write_file'), 'a blocked call has an intent record');
  for (const r of recs) assert.ok(!JSON.stringify(r).includes('hello from the upstream'));
  const rows = ws.json('audit', 'list', '--limit', '0');
  assert.equal(rows.length, recs.length - executed.length, 'one row per call');
  assert.ok(rows.every((r) => r.phase === 'call'), JSON.stringify(rows));
});

test('a policy change reaches a connected client as tools/list_changed', async () => {
  const changed = new Promise((resolve) => roClient.setNotificationHandler(ToolListChangedNotificationSchema, resolve));
  ws.cli('vault', 'policy', 'readonly', 'fs_list_directory', 'block');
  await Promise.race([changed, new Promise((_, rej) => setTimeout(() => rej(new Error('no tools/list_changed')), 5000))]);
  assert.deepEqual(await toolNames(roClient), ['fs_read_text_file']);
});

function rawPost(path, headers) {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize',
      params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }));
  });
}

test('wrong credentials get 401 and foreign origins or hosts get 403', async () => {
  const path = `/v/${ro.id}/mcp`;
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });
  assert.equal(await rawPost(path, {}), 401, 'no token');
  assert.equal(await rawPost(path, bearer('avt_wrong')), 401, 'wrong token');
  assert.equal(await rawPost(path, bearer(work.token)), 401, "another vault's token");
  assert.equal(await rawPost(path, { ...bearer(ro.token), Origin: 'http://evil.example' }), 403, 'foreign Origin');
  assert.equal(await rawPost(path, { ...bearer(ro.token), Host: 'evil.example' }), 403, 'foreign Host');
  assert.equal(await rawPost(path, bearer(ro.token)), 200, 'the right token');
  const { token } = ws.json('vault', 'rotate', 'readonly');
  assert.equal(await rawPost(path, bearer(ro.token)), 401, 'rotated token');
  assert.equal(await rawPost(path, bearer(token)), 200, 'the new token');
});
