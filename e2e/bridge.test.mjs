// `agentvault bridge` must behave like the HTTP endpoint for a client that
// only speaks stdio: the official SDK's stdio client against a real serve.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { workspace, connect, toolNames, filesystemServer, bin } from './helpers.mjs';

let ws, root, ro, viaHTTP, viaBridge;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'av-root-'));
  writeFileSync(join(root, 'hello.txt'), 'hello through the bridge\n');
  ws = workspace();
  ws.cli('service', 'add-mcp', 'fs', '--command', `${filesystemServer} ${root}`);
  ro = ws.json('vault', 'create', 'readonly', '--service', 'fs');
  ws.cli('vault', 'policy', 'readonly', 'fs_*', 'block');
  ws.cli('vault', 'policy', 'readonly', 'fs_read_text_file', 'allow');
  ws.cli('vault', 'policy', 'readonly', 'fs_list_directory', 'allow');
  const base = await ws.start();
  viaHTTP = await connect(`${base}/v/${ro.id}/mcp`, ro.token);
  viaBridge = new Client({ name: 'stdio-agent', version: '1.0.0' });
  await viaBridge.connect(new StdioClientTransport({
    command: bin, args: ['bridge', 'readonly', '--data', ws.data],
    env: { ...process.env, AGENTVAULT_TOKEN: ro.token }, stderr: 'inherit',
  }));
});

after(async () => {
  await viaBridge?.close();
  await viaHTTP?.close();
  ws?.close();
  rmSync(root, { recursive: true, force: true });
});

test('the bridge offers exactly the tools the HTTP endpoint offers', async () => {
  assert.deepEqual(await toolNames(viaBridge), await toolNames(viaHTTP));
  assert.deepEqual(await toolNames(viaBridge), ['fs_list_directory', 'fs_read_text_file']);
});

test('an allowed call returns the same result through the bridge', async () => {
  const args = { path: join(root, 'hello.txt') };
  const a = await viaHTTP.callTool({ name: 'fs_read_text_file', arguments: args });
  const b = await viaBridge.callTool({ name: 'fs_read_text_file', arguments: args });
  assert.deepEqual(b, a);
  assert.match(b.content[0].text, /hello through the bridge/);
});

test('a blocked tool is not callable through the bridge', async () => {
  const target = join(root, 'blocked.txt');
  await assert.rejects(viaBridge.callTool({ name: 'fs_write_file', arguments: { path: target, content: 'x' } }), /not found/);
  assert.equal(existsSync(target), false);
});

test('a policy change reaches the stdio client', async () => {
  const changed = new Promise((resolve) => viaBridge.setNotificationHandler(ToolListChangedNotificationSchema, resolve));
  ws.cli('vault', 'policy', 'readonly', 'fs_list_directory', 'block');
  await Promise.race([changed, new Promise((_, rej) => setTimeout(() => rej(new Error('no tools/list_changed')), 5000))]);
  assert.deepEqual(await toolNames(viaBridge), ['fs_read_text_file']);
});

test('the audit log names the client behind the bridge, and has its blocked call', async () => {
  const recs = ws.json('audit', 'list', '--limit', '0', '--vault', 'readonly');
  const names = JSON.stringify(recs.map((r) => `${r.client}:${r.tool}:${r.outcome}`));
  assert.ok(recs.some((r) => r.client === 'stdio-agent 1.0.0' && r.tool === 'fs_read_text_file' && r.outcome === 'executed'), names);
  assert.ok(recs.some((r) => r.client === 'stdio-agent 1.0.0' && r.tool === 'fs_write_file' && r.outcome === 'blocked'), names);
});
