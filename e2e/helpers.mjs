// Helpers for end-to-end tests: a real `agentvault` binary, a temporary data
// folder, and the official TypeScript MCP client.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const here = dirname(fileURLToPath(import.meta.url));

export const bin = process.env.AGENTVAULT_BIN ?? join(here, '..', 'bin', 'agentvault');
export const filesystemServer = join(here, 'node_modules', '.bin', 'mcp-server-filesystem');

// A temporary data folder and CLI runner; cleaned up by close().
export function workspace() {
  const data = mkdtempSync(join(tmpdir(), 'av-e2e-'));
  const cli = (...args) => execFileSync(bin, [...args, '--data', data], { encoding: 'utf8' });
  // cliInput runs a command with input on its standard input (secrets),
  // without blocking the event loop (a fake service in this process must
  // answer it); it resolves to the standard output.
  const cliInput = (input, ...args) => new Promise((resolve, reject) => {
    const child = spawn(bin, [...args, '--data', data]);
    let out = '', err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`agentvault ${args.join(' ')}: exit ${code}: ${err}`))));
    child.stdin.end(input);
  });
  const json = (...args) => JSON.parse(cli(...args, '--json'));
  let server;
  return {
    data,
    cli,
    cliInput,
    json,
    // start runs `serve` on a free loopback port and resolves to its base URL.
    async start() {
      server = spawn(bin, ['serve', '--data', data, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      server.stderr.on('data', (d) => { stderr += d; });
      return await new Promise((resolve, reject) => {
        let out = '';
        server.stdout.on('data', (d) => {
          out += d;
          const m = out.match(/serving on (http:\/\/[0-9.:]+)/);
          if (m) resolve(m[1]);
        });
        server.on('exit', (code) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
    },
    // waitForPending polls the CLI until a call of tool waits for approval.
    async waitForPending(tool) {
      for (let i = 0; i < 100; i++) {
        const p = json('approvals', 'list').pending.find((x) => x.tool === tool);
        if (p) return p;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(`no pending approval for ${tool}`);
    },
    close() {
      server?.kill('SIGTERM');
      rmSync(data, { recursive: true, force: true });
    },
  };
}

// connect opens the official SDK client on a vault.
export async function connect(url, token) {
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

export async function toolNames(client) {
  return (await client.listTools()).tools.map((t) => t.name).sort();
}
