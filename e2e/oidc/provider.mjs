// A real OpenID provider on loopback for AgentVault's Go integration tests, built on the
// OpenID-certified npm package `oidc-provider`. See shared docs AUTH0.md ("Local test provider").
//
//   PORT=0 CLIENT_ID=agentvault CLIENT_SECRET=s3cret \
//   REDIRECT_URIS=http://127.0.0.1:18484/callback CONNECTED=github node e2e/oidc/provider.mjs
//
// Prints exactly one stdout line when listening: `READY <baseURL> <issuer>`, e.g.
// `READY http://127.0.0.1:40123 http://127.0.0.1:40123/` (issuer has Auth0's trailing slash).
// Everything else (oidc-provider notices, errors) goes to stderr.
//
// Endpoints use Auth0's paths so code that derives URLs from the tenant base URL works unchanged:
//   /authorize, /oauth/token, /bc-authorize, /.well-known/jwks.json, /userinfo, /oauth/revoke,
//   /.well-known/openid-configuration. Token and bc-authorize bodies must be form-encoded (no JSON).
// Test-only control endpoints (no auth): GET /test/ciba, POST /test/ciba/<id>/approve|deny,
// POST /test/connect/<connection>. Following redirects from /authorize (with a cookie jar) logs in
// the single test user `auth0|tester` and consents to every requested scope automatically.

import http from 'node:http';
import crypto from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

// oidc-provider prints some notices with console.info (stdout); keep stdout for the READY line only.
console.info = console.log = (...args) => console.error(...args);

const TOKEN_VAULT_GRANT = 'urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token';
const CIBA_GRANT = 'urn:openid:params:grant-type:ciba';
const RT_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:refresh_token';
const FCAT_TOKEN_TYPE = 'http://auth0.com/oauth/token-type/federated-connection-access-token';
const USER_ID = 'auth0|tester';
const ACCOUNTS = {
  [USER_ID]: { sub: USER_ID, email: 'tester@example.com', email_verified: true, name: 'Test User', nickname: 'tester' },
};

const env = process.env;
const CLIENT_ID = env.CLIENT_ID || 'agentvault-test';
const CLIENT_SECRET = env.CLIENT_SECRET || 'agentvault-test-secret';
const REDIRECT_URIS = (env.REDIRECT_URIS || 'http://127.0.0.1:18484/callback').split(',').map((s) => s.trim()).filter(Boolean);
const connected = new Set((env.CONNECTED ?? 'github').split(',').map((s) => s.trim()).filter(Boolean));
const pendingCiba = new Map(); // auth_req_id -> { auth_req_id, binding_message, login_hint_sub, scope }

// The port must be known before the Provider is built (the issuer contains it), so listen first.
const server = http.createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(Number(env.PORT || 0), '127.0.0.1', resolve);
});
const { port } = server.address();
const BASE = `http://127.0.0.1:${port}`;
const ISSUER = `${BASE}/`;

const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(ISSUER, {
  clients: [{
    client_id: CLIENT_ID,
    client_secret: CLIENT_SECRET,
    redirect_uris: REDIRECT_URIS,
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token', CIBA_GRANT, TOKEN_VAULT_GRANT],
    token_endpoint_auth_method: 'client_secret_post',
    backchannel_token_delivery_mode: 'poll',
  }],
  jwks: { keys: [signingKey] },
  cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name', 'nickname'] },
  findAccount: (ctx, id) => (ACCOUNTS[id] ? { accountId: id, claims: () => ACCOUNTS[id] } : undefined),
  pkce: { required: () => true }, // S256 is the only method oidc-provider 9 accepts
  conformIdTokenClaims: false, // like Auth0: profile/email claims go into the ID token too
  rotateRefreshToken: false, // Token Vault needs a stable refresh token
  ttl: {
    // Auth0 accepts requested_expiry 1-300 s; longer values are capped here.
    BackchannelAuthenticationRequest: (ctx) => Math.min(300, Number(ctx?.oidc?.params.requested_expiry) || 300),
    AccessToken: 3600, AuthorizationCode: 60, IdToken: 3600, Grant: 14 * 24 * 3600,
    Interaction: 3600, Session: 14 * 24 * 3600, RefreshToken: 14 * 24 * 3600,
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  routes: {
    authorization: '/authorize', token: '/oauth/token', backchannel_authentication: '/bc-authorize',
    jwks: '/.well-known/jwks.json', userinfo: '/userinfo', revocation: '/oauth/revoke',
  },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    ciba: {
      enabled: true,
      deliveryModes: ['poll'],
      // login_hint = {"format":"iss_sub","iss":"<issuer>","sub":"<user id>"}; iss with or without '/'.
      async processLoginHint(ctx, loginHint) {
        let hint;
        try { hint = JSON.parse(loginHint); } catch { throw new errors.InvalidRequest('login_hint is not JSON'); }
        if (hint?.format !== 'iss_sub') throw new errors.InvalidRequest('login_hint format must be iss_sub');
        if (String(hint.iss).replace(/\/+$/, '') !== BASE) throw new errors.InvalidRequest('login_hint iss does not match the issuer');
        if (!ACCOUNTS[hint.sub]) throw new errors.UnknownUserId('unknown login_hint sub');
        return hint.sub;
      },
      // Auth0's rule: required, at most 64 characters of A-Za-z0-9+-_.,:#
      async validateBindingMessage(ctx, bindingMessage) {
        if (!/^[A-Za-z0-9+\-_.,:#]{1,64}$/.test(bindingMessage ?? '')) {
          throw new errors.InvalidBindingMessage('binding_message is required: 1-64 characters of A-Za-z0-9+-_.,:#');
        }
      },
      async validateRequestContext() {},
      async verifyUserCode() {},
      async processLoginHintToken() { throw new errors.InvalidRequest('login_hint_token is not supported'); },
      async triggerAuthenticationDevice(ctx, request) {
        pendingCiba.set(request.jti, {
          exp: request.exp, // epoch seconds; not shown by GET /test/ciba
          auth_req_id: request.jti,
          binding_message: request.params.binding_message,
          login_hint_sub: request.accountId,
          scope: request.scope,
        });
      },
    },
  },
});

// Auth0 issues a refresh token for offline_access without prompt=consent; oidc-provider drops
// offline_access unless prompt includes consent, so add it (consent is granted automatically anyway).
function addConsentPrompt(req) {
  const url = new URL(req.url, BASE);
  if (url.pathname !== '/authorize') return;
  const scope = (url.searchParams.get('scope') || '').split(' ');
  const prompt = (url.searchParams.get('prompt') || '').split(' ').filter(Boolean);
  if (scope.includes('offline_access') && !prompt.includes('consent') && !prompt.includes('none')) {
    url.searchParams.set('prompt', [...prompt, 'consent'].join(' '));
    req.url = url.pathname + url.search;
  }
}

// Token Vault exchange: refresh token in, provider ("connection") access token out.
provider.registerGrantType(TOKEN_VAULT_GRANT, async (ctx) => {
  const p = ctx.oidc.params;
  for (const name of ['subject_token', 'subject_token_type', 'requested_token_type', 'connection']) {
    if (!p[name]) throw new errors.InvalidRequest(`missing required parameter '${name}'`);
  }
  if (p.subject_token_type !== RT_TOKEN_TYPE) throw new errors.InvalidRequest(`subject_token_type must be ${RT_TOKEN_TYPE}`);
  if (p.requested_token_type !== FCAT_TOKEN_TYPE) throw new errors.InvalidRequest(`requested_token_type must be ${FCAT_TOKEN_TYPE}`);
  const rt = await provider.RefreshToken.find(p.subject_token);
  if (!rt || rt.isExpired || rt.clientId !== ctx.oidc.client.clientId || !(await provider.Grant.find(rt.grantId))) {
    throw new errors.InvalidGrant('subject_token is not a valid refresh token for this client'); // -> invalid_grant
  }
  if (!connected.has(p.connection)) {
    ctx.status = 401;
    ctx.body = { error: 'federated_connection_refresh_token_not_found', error_description: `Federated connection Refresh Token not found for connection ${p.connection}.` };
    return;
  }
  ctx.body = {
    access_token: `${p.connection}-token-${crypto.randomBytes(12).toString('hex')}`,
    token_type: 'Bearer',
    expires_in: 3600,
    issued_token_type: FCAT_TOKEN_TYPE,
    scope: 'repo',
  };
}, ['subject_token', 'subject_token_type', 'requested_token_type', 'connection', 'login_hint']);

// Interaction: log in the test user and grant every requested scope in one step.
async function finishInteraction(req, res) {
  const { params, grantId } = await provider.interactionDetails(req, res);
  const grant = (grantId && await provider.Grant.find(grantId))
    || new provider.Grant({ accountId: USER_ID, clientId: params.client_id });
  if (params.scope) grant.addOIDCScope(params.scope);
  const savedGrantId = await grant.save();
  await provider.interactionFinished(req, res, {
    login: { accountId: USER_ID },
    consent: { grantId: savedGrantId },
  }, { mergeWithLastSubmission: false });
}

async function approveCiba(id) {
  const request = await provider.BackchannelAuthenticationRequest.find(id, { ignoreExpiration: true });
  if (!request) return false;
  const grant = new provider.Grant({ accountId: request.accountId, clientId: request.clientId });
  grant.addOIDCScope(request.scope);
  if (request.claims && Object.keys(request.claims).length) grant.addOIDCClaims(Object.keys(request.claims.id_token || {}));
  await grant.save();
  await provider.backchannelResult(request, grant);
  return true;
}

async function denyCiba(id) {
  const request = await provider.BackchannelAuthenticationRequest.find(id, { ignoreExpiration: true });
  if (!request) return false;
  // backchannelResult stores `error_description`, but the model persists `errorDescription`: set it here.
  request.errorDescription = 'The end-user has denied the authorization request';
  await provider.backchannelResult(request, new errors.AccessDenied());
  return true;
}

function sendJSON(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

// Test control routes; returns false when the request is not one of them.
async function testRoutes(req, res) {
  const { pathname } = new URL(req.url, BASE);
  if (req.method === 'GET' && pathname === '/test/ciba') {
    const now = Date.now() / 1000;
    for (const [id, p] of pendingCiba) if (p.exp <= now) pendingCiba.delete(id); // drop expired ones
    sendJSON(res, 200, [...pendingCiba.values()].map(({ exp, ...p }) => p));
    return true;
  }
  let m = req.method === 'POST' && pathname.match(/^\/test\/ciba\/([^/]+)\/(approve|deny)$/);
  if (m) {
    const id = decodeURIComponent(m[1]);
    if (!pendingCiba.has(id)) { sendJSON(res, 404, { error: 'not_found' }); return true; }
    pendingCiba.delete(id);
    if (!(await (m[2] === 'deny' ? denyCiba(id) : approveCiba(id)))) { sendJSON(res, 404, { error: 'not_found' }); return true; }
    sendJSON(res, 200, { ok: true });
    return true;
  }
  m = req.method === 'POST' && pathname.match(/^\/test\/connect\/([^/]+)$/);
  if (m) {
    connected.add(decodeURIComponent(m[1]));
    sendJSON(res, 200, { connected: [...connected] });
    return true;
  }
  return false;
}

provider.on('server_error', (ctx, err) => console.error('oidc-provider server_error:', err));
provider.on('grant.error', (ctx, err) => console.error('grant.error:', err.message, err.error_description || '', err.error_detail || ''));
provider.on('backchannel.error', (ctx, err) => console.error('backchannel.error:', err.message, err.error_description || ''));
provider.on('authorization.error', (ctx, err) => console.error('authorization.error:', err.message, err.error_description || ''));

const oidcCallback = provider.callback();
server.on('request', async (req, res) => {
  try {
    if (req.url.startsWith('/test/') && await testRoutes(req, res)) return;
    if (req.method === 'GET' && /^\/interaction\/[^/?]+$/.test(new URL(req.url, BASE).pathname)) {
      await finishInteraction(req, res);
      return;
    }
    addConsentPrompt(req);
    oidcCallback(req, res);
  } catch (err) {
    console.error('request error:', req.method, req.url, err);
    // e.g. 400 invalid_request "interaction session id cookie not found" when the client has no cookie jar
    const status = err instanceof errors.OIDCProviderError ? err.status : 500;
    if (!res.headersSent) sendJSON(res, status, { error: err.error || 'server_error', error_description: err.error_description || String(err?.message || err) });
    else res.end();
  }
});

process.stdout.write(`READY ${BASE} ${ISSUER}\n`);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
