// GitHub tools end to end: a real `serve` with a GitHub service connected by
// a pasted token, in front of a fake GitHub REST API that answers as GitHub
// documents; the official TypeScript SDK client calls github_create_issue on
// a repository inside the vault's guard and on one outside it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { workspace, connect, toolNames } from './helpers.mjs';

// No keychain on a CI machine: the documented encrypted-file fallback.
process.env.AGENTVAULT_PASSPHRASE = 'e2e passphrase';
const token = 'ghp_CANARY0123456789abcdefghijklmnopqrstu';

let ws, fake, client, received = [];

function fakeGitHub() {
  return createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      received.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
      res.setHeader('Content-Type', 'application/json');
      if (req.method === 'GET' && req.url === '/user') {
        res.setHeader('X-OAuth-Scopes', 'repo, read:org');
        return res.end(JSON.stringify({ login: 'octocat', id: 1 }));
      }
      const m = req.url.match(/^\/repos\/([^/]+)\/([^/]+)\/issues$/);
      if (req.method === 'POST' && m) {
        const { title } = JSON.parse(body);
        res.statusCode = 201;
        return res.end(JSON.stringify({
          number: 42, title, state: 'open', user: { login: 'octocat' },
          html_url: `https://github.com/${m[1]}/${m[2]}/issues/42`,
          repository_url: `https://api.github.com/repos/${m[1]}/${m[2]}`, labels: [],
        }));
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ message: 'Not Found' }));
    });
  });
}

before(async () => {
  fake = fakeGitHub();
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  const api = `http://127.0.0.1:${fake.address().port}/`;
  ws = workspace();
  const out = await ws.cliInput(token + '\n', 'service', 'connect', 'github', '--token-stdin', '--api-url', api);
  assert.match(out, /Connected GitHub as service github/);
  assert.match(out, /repo:/, 'the scope meanings are shown');
  const vault = ws.json('vault', 'create', 'dev', '--service', 'github');
  ws.cli('vault', 'policy', 'dev', 'github_create_issue', 'allow');
  ws.cli('vault', 'guard', 'dev', 'repo', 'acme/*');
  const base = await ws.start();
  client = await connect(`${base}/v/${vault.id}/mcp`, vault.token);
});

after(async () => {
  await client?.close();
  ws?.close();
  fake?.close();
});

test('the vault offers GitHub tools with their default decisions', async () => {
  const names = await toolNames(client);
  assert.ok(names.includes('github_create_issue') && names.includes('github_get_issue'), names.join());
  assert.ok(!names.includes('github_merge_pull_request'), 'destructive tools are blocked by default');
});

test('create_issue inside the guard runs; outside it is refused with the reason; both audited', async () => {
  received = [];
  const ok = await client.callTool({ name: 'github_create_issue', arguments: { owner: 'acme', repo: 'widgets', title: 'From the agent' } });
  assert.equal(ok.isError, undefined, JSON.stringify(ok));
  assert.match(ok.content[0].text, /"number":42/);

  const refused = await client.callTool({ name: 'github_create_issue', arguments: { owner: 'evil', repo: 'widgets', title: 'Exfiltrate' } });
  assert.equal(refused.isError, true);
  assert.match(refused.content[0].text, /AgentVault refused this call: repository evil\/widgets is outside this vault's allowlist \(acme\/\*\)/);

  assert.equal(received.length, 1, JSON.stringify(received));
  assert.equal(received[0].url, '/repos/acme/widgets/issues');
  assert.deepEqual(JSON.parse(received[0].body), { title: 'From the agent' });
  assert.equal(received[0].auth, `Bearer ${token}`, 'the credential is added on the way out');

  const recs = ws.json('audit', 'list', '--limit', '0').filter((r) => r.tool === 'github_create_issue');
  const executed = recs.filter((r) => r.outcome === 'executed');
  const blocked = recs.filter((r) => r.outcome === 'blocked');
  assert.equal(executed.length, 1, JSON.stringify(recs));
  assert.equal(blocked.length, 1, JSON.stringify(recs));
  assert.equal(blocked[0].rule, 'guard:repo');
  assert.match(blocked[0].error, /evil\/widgets/);
});

test('the token appears in no file of the data folder and in no output', async () => {
  for (const f of readdirSync(ws.data)) {
    if (!statSync(join(ws.data, f)).isFile()) continue;
    const bytes = readFileSync(join(ws.data, f));
    assert.equal(bytes.includes(token), false, `${f} holds the token`);
    assert.equal(bytes.includes(token.slice(4, 24)), false, `${f} holds part of the token`);
  }
  const shown = ws.cli('service', 'list') + ws.cli('audit', 'export', '--format', 'jsonl') + ws.cli('vault', 'show', 'dev');
  assert.equal(shown.includes(token.slice(4, 24)), false);
});
