// An upstream MCP server reached over HTTP that answers calls with event
// streams, as the official TypeScript SDK's server does by default: the
// vault's calls to it, plain and with progress, through a real `serve`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { randomUUID } from 'node:crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { workspace, connect } from './helpers.mjs';

let ws, upstream, client;
const answers = []; // content type of each tools/call answer the upstream sent

// server is the upstream of one session: an echo and a counter that reports
// progress when asked to.
function server() {
  const s = new McpServer({ name: 'ts-upstream', version: '1.0.0' });
  const readOnly = { readOnlyHint: true, destructiveHint: false };
  s.registerTool('echo', { description: 'Echo a message.', inputSchema: { message: z.string() }, annotations: readOnly },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }));
  s.registerTool('count', { description: 'Count to n.', inputSchema: { n: z.number() }, annotations: readOnly },
    async ({ n }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        if (token !== undefined) {
          await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: n } });
        }
      }
      return { content: [{ type: 'text', text: `counted to ${n}` }] };
    });
  return s;
}

before(async () => {
  const sessions = new Map();
  upstream = createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const body = chunks.length ? JSON.parse(Buffer.concat(chunks)) : undefined;
    if (body?.method === 'tools/call') {
      const writeHead = res.writeHead.bind(res);
      res.writeHead = (status, ...rest) => {
        const headers = new Headers(rest.find((h) => h && typeof h === 'object') ?? {});
        answers.push(String(headers.get('content-type') ?? res.getHeader('content-type')));
        return writeHead(status, ...rest);
      };
    }
    let t = sessions.get(req.headers['mcp-session-id']);
    if (!t && req.method === 'POST' && isInitializeRequest(body)) {
      t = new StreamableHTTPServerTransport({ sessionIdGenerator: () => randomUUID(), onsessioninitialized: (id) => sessions.set(id, t) });
      await server().connect(t);
    }
    if (!t) {
      res.writeHead(404).end();
      return;
    }
    await t.handleRequest(req, res, body);
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  ws = workspace();
  // Asynchronously: adding checks the server, which answers from this process.
  await ws.cliInput('', 'service', 'add-mcp', 'ts', '--url', `http://127.0.0.1:${upstream.address().port}/mcp`);
  const vault = ws.json('vault', 'create', 'work', '--service', 'ts');
  const base = await ws.start();
  client = await connect(`${base}/v/${vault.id}/mcp`, vault.token);
});

after(async () => {
  await client?.close();
  ws?.close();
  upstream?.close();
});

test('a call to an upstream that answers with an event stream returns its result', async () => {
  const res = await client.callTool({ name: 'ts_echo', arguments: { message: 'over an event stream' } });
  assert.equal(res.content[0].text, 'over an event stream');
  assert.ok(answers.some((t) => t.startsWith('text/event-stream')), `answers: ${answers}`);
});

test("the upstream's progress reaches the agent under its own token", async () => {
  const seen = [];
  const res = await client.callTool({ name: 'ts_count', arguments: { n: 3 } }, undefined, { onprogress: (p) => seen.push(p.progress) });
  assert.equal(res.content[0].text, 'counted to 3');
  // Not necessarily in order: mcp-go hands a session's notifications to
  // whichever of its open streams (this call's, or the client's listening
  // one) reads first.
  assert.ok(seen.length >= 1 && seen.every((p) => [1, 2, 3].includes(p)), `progress: ${seen}`);
});

test('both calls are audited with intent and outcome, listed as one row each', () => {
  for (const [args, want] of [[[], ['call:executed']], [['--phases'], ['intent:', 'outcome:executed']]]) {
    const recs = ws.json('audit', 'list', '--limit', '0', ...args).filter((r) => r.tool === 'ts_echo' || r.tool === 'ts_count');
    for (const tool of ['ts_echo', 'ts_count']) {
      const phases = recs.filter((r) => r.tool === tool).map((r) => `${r.phase}:${r.outcome ?? ''}`);
      assert.deepEqual(phases, want, `${tool} ${args}: ${phases}`);
    }
  }
});
