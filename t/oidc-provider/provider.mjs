// A real OpenID Provider (panva/oidc-provider 9.13.3) for the t/ OpenID Connect tests.
//
//   node provider.mjs CONFIG.json
//
// It listens on plain HTTP (127.0.0.1:port); the test's nginx terminates TLS in front of it and
// sends X-Forwarded-Proto / X-Forwarded-Host (provider.proxy = true). See README.md for the
// CONFIG fields and the log lines printed on stdout.

import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import process from 'node:process';

import Provider, { errors } from 'oidc-provider';

const log = (line) => process.stdout.write(`${line}\n`);
const warn = (line) => process.stderr.write(`${line}\n`);
// key=value, quoting values with spaces or quotes
const kv = (fields) => Object.entries(fields)
  .filter(([, v]) => v !== undefined && v !== null && v !== '')
  .map(([k, v]) => {
    const s = String(v);
    return /[\s"]/.test(s) ? `${k}=${JSON.stringify(s)}` : `${k}=${s}`;
  })
  .join(' ');

function die(msg) {
  warn(`provider.mjs: ${msg}`);
  process.exit(2);
}

if (process.argv.length !== 3) die('usage: node provider.mjs CONFIG.json');

let cfg;
try {
  cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
} catch (err) {
  die(`cannot read ${process.argv[2]}: ${err.message}`);
}

const positive = (name, dflt) => {
  const v = cfg[name] ?? dflt;
  if (!Number.isInteger(v) || v <= 0) die(`${name} must be a positive integer (seconds)`);
  return v;
};

if (!Number.isInteger(cfg.port) || cfg.port <= 0 || cfg.port > 65535) die('port must be a TCP port number');
if (typeof cfg.issuer !== 'string') die('issuer must be a string such as https://127.0.0.1:8443');
if (!Array.isArray(cfg.clients) || cfg.clients.length === 0) die('clients must be a non-empty array');

const host = cfg.host ?? '127.0.0.1';
const accessTokenTTL = positive('accessTokenTTL', 3600);
const idTokenTTL = positive('idTokenTTL', 3600);
const refreshTokenTTL = positive('refreshTokenTTL', 14 * 24 * 3600);
const sessionTTL = positive('sessionTTL', 14 * 24 * 3600);
const authorizationCodeTTL = positive('authorizationCodeTTL', 60);
const grantTTL = Math.max(refreshTokenTTL, sessionTTL);
const rotateRefreshToken = cfg.rotateRefreshToken !== false;
const accounts = cfg.accounts ?? {};
const resource = cfg.resource; // optional: the default resource indicator => JWT access tokens
const resourceScope = cfg.resourceScope ?? '';
const accessTokenAlg = cfg.accessTokenAlg ?? 'RS256';
const accessTokenClaims = cfg.accessTokenClaims ?? [];
const skipConsent = (clientId) => (Array.isArray(cfg.skipConsent)
  ? cfg.skipConsent.includes(clientId) : cfg.skipConsent === true);
let caPem;
try {
  caPem = cfg.ca ? fs.readFileSync(cfg.ca) : undefined;
} catch (err) {
  die(`ca: ${err.message}`);
}

if (resource !== undefined && !URL.parse(resource)) die('resource must be an absolute URI');

// Front-Channel Logout is gone from oidc-provider (no features.frontchannelLogout in v9): the
// client metadata would be silently stripped, say so instead.
const clients = cfg.clients.map((c) => {
  const { frontchannel_logout_uri: fc, frontchannel_logout_session_required: fcs, ...rest } = c;
  if (fc !== undefined || fcs !== undefined) {
    warn(`provider.mjs: client ${c.client_id}: frontchannel_logout_* ignored (oidc-provider v9 has no Front-Channel Logout)`);
  }
  return rest;
});

// ---- signing keys ---------------------------------------------------------------------------

function thumbprint(jwk) {
  const members = jwk.kty === 'RSA'
    ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
    : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return crypto.createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

function generateJwks() {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return {
    keys: [
      { ...rsa, kid: thumbprint(rsa), alg: 'RS256', use: 'sig' },
      { ...ec, kid: thumbprint(ec), alg: 'ES256', use: 'sig' },
    ],
  };
}

const jwks = cfg.jwks ?? generateJwks();

// ---- outgoing requests (back-channel logout, jwks_uri, ...) ---------------------------------
//
// oidc-provider calls configuration.fetch(url, options) with options.dispatcher set to an undici
// dispatcher that destroys sockets to special-use addresses (loopback, RFC 1918, ...): that
// would kill back-channel logout POSTs to the test's 127.0.0.1 listeners. This replacement
// ignores that dispatcher and sends the request with node:http / node:https, trusting the CA of
// CONFIG.ca (when given) for https.

function loopbackFetch(url, options = {}) {
  const target = new URL(url);
  const transport = target.protocol === 'https:' ? https : http;
  const headers = {};
  for (const [name, value] of new Headers(options.headers)) headers[name] = value;
  let { body } = options;
  if (body instanceof URLSearchParams) body = body.toString();
  if (body !== undefined && body !== null) {
    body = Buffer.from(body);
    headers['content-length'] = String(body.length);
  }

  return new Promise((resolve, reject) => {
    const req = transport.request(target, {
      method: options.method ?? 'GET',
      headers,
      signal: options.signal,
      ...(transport === https && caPem ? { ca: caPem } : {}),
    }, (res) => {
      const chunks = [];
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const responseHeaders = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of [].concat(value)) responseHeaders.append(name, v);
        }
        const nullBody = [101, 204, 205, 304].includes(res.statusCode);
        try {
          resolve(new Response(nullBody ? null : Buffer.concat(chunks), {
            status: res.statusCode,
            statusText: res.statusMessage,
            headers: responseHeaders,
          }));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

// ---- accounts -------------------------------------------------------------------------------

async function findAccount(ctx, id) {
  const claims = { preferred_username: id, ...accounts[id], sub: id };
  return {
    accountId: id,
    async claims() {
      return claims;
    },
  };
}

// ---- pages (defaults print a NOTICE on stdout the first time they run) ----------------------

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head><body><h1>${esc(title)}</h1>${body}</body></html>`;

// ---- the provider ---------------------------------------------------------------------------

const configuration = {
  clients,
  clientDefaults: {
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
  },
  jwks,
  cookies: { keys: [crypto.randomBytes(32).toString('base64url')] },
  findAccount,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name', 'preferred_username', 'nickname', 'locale', 'zoneinfo', 'updated_at'],
    groups: ['groups'],
    ...cfg.claims,
  },
  conformIdTokenClaims: false, // scope-requested claims go into the id_token too
  pkce: { required: () => true }, // v9 knows only S256
  // refresh tokens for the code flow without offline_access, whenever the client may use them
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  // true: every refresh rotates; reusing a consumed refresh token revokes the whole grant
  rotateRefreshToken,
  async loadExistingGrant(ctx) {
    const { oidc } = ctx;
    const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(oidc.client.clientId);
    if (grantId) return oidc.provider.Grant.find(grantId);
    if (!skipConsent(oidc.client.clientId)) return undefined;
    const grant = new oidc.provider.Grant({ clientId: oidc.client.clientId, accountId: oidc.session.accountId });
    grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
    for (const rs of Object.values(oidc.resourceServers ?? {})) {
      if (rs.scope) grant.addResourceScope(rs.identifier(), rs.scope);
    }
    await grant.save();
    return grant;
  },
  async extraTokenClaims(ctx, token) {
    if (token.kind !== 'AccessToken' || !token.resourceServer || !token.accountId || !accessTokenClaims.length) {
      return undefined;
    }
    const claims = { ...accounts[token.accountId] };
    return Object.fromEntries(accessTokenClaims.filter((c) => c in claims).map((c) => [c, claims[c]]));
  },
  fetch: loopbackFetch,
  ttl: {
    AccessToken: accessTokenTTL,
    AuthorizationCode: authorizationCodeTTL,
    ClientCredentials: accessTokenTTL,
    DeviceCode: 600,
    BackchannelAuthenticationRequest: 600,
    PreAuthorizedCode: 600,
    IdToken: idTokenTTL,
    RefreshToken: refreshTokenTTL,
    Interaction: 3600,
    Session: sessionTTL,
    Grant: grantTTL,
  },
  clientBasedCORS: () => false,
  async renderError(ctx, out) {
    ctx.type = 'html';
    ctx.body = page('oops! something went wrong',
      Object.entries(out).map(([k, v]) => `<pre><strong>${esc(k)}</strong>: ${esc(v)}</pre>`).join(''));
  },
  features: {
    devInteractions: { enabled: true }, // /interaction/:uid login (any login/password) + consent
    backchannelLogout: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      async logoutSource(ctx, form) {
        ctx.body = page('Do you want to sign-out?',
          `${form}<button autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>`
          + '<button type="submit" form="op.logoutForm">No, stay signed in</button>');
      },
      async postLogoutSuccessSource(ctx) {
        ctx.body = page('Sign-out Success', '<p>Your sign-out was successful.</p>');
      },
    },
    revocation: {
      enabled: true,
      // a client revokes its own tokens only
      async allowedPolicy(ctx, client, token) {
        if (token.clientId !== client.clientId) {
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        }
        return true;
      },
    },
    // machine clients (an MCP client of t/mcp.t): tokens for the resource without a user
    clientCredentials: { enabled: true },
    // any authenticated client may introspect any token (e.g. a resource server client)
    introspection: { enabled: true, allowedPolicy: async () => true },
    userinfo: { enabled: true },
    resourceIndicators: {
      enabled: true,
      // no resource parameter in the authorization request: CONFIG.resource (if any)
      defaultResource: async (ctx, client, oneOf) => oneOf ?? resource,
      // at the token endpoint, use the granted resource even with the openid scope
      // (otherwise the access token would be the opaque one for userinfo)
      useGrantedResource: async () => resource !== undefined,
      async getResourceServerInfo(ctx, indicator) {
        if (resource === undefined || indicator !== resource) throw new errors.InvalidTarget();
        return {
          scope: resourceScope,
          audience: resource,
          accessTokenTTL,
          accessTokenFormat: 'jwt', // RFC 9068, typ at+jwt
          jwt: { sign: { alg: accessTokenAlg } },
        };
      },
    },
  },
};

let provider;
try {
  provider = new Provider(cfg.issuer, configuration);
} catch (err) {
  die(`invalid configuration: ${err.message}`);
}
provider.proxy = true; // trust X-Forwarded-Proto / X-Forwarded-Host from the test's nginx

// static clients are validated lazily, on first use: validate them now, so that a bad CONFIG
// fails at start and not in the middle of a test
for (const { client_id: id } of clients) {
  try {
    if (!await provider.Client.find(String(id))) die(`client ${id}: not found`);
  } catch (err) {
    die(`client ${id}: ${err.error_description ?? err.message}`);
  }
}

// ---- log lines ------------------------------------------------------------------------------

provider.on('grant.success', (ctx) => {
  const { params, client, entities } = ctx.oidc;
  log(`token ${kv({
    grant_type: params.grant_type,
    client: client?.clientId,
    sub: entities.Account?.accountId,
    rotated: params.grant_type === 'refresh_token' ? (entities.RotatedRefreshToken ? 1 : 0) : undefined,
  })}`);
});
provider.on('grant.error', (ctx, err) => {
  log(`token_error ${kv({
    grant_type: ctx.oidc?.params?.grant_type,
    client: ctx.oidc?.client?.clientId,
    error: err.error ?? err.message,
    description: err.error_description,
    detail: err.error_detail,
  })}`);
});
provider.on('grant.revoked', (ctx, grantId) => {
  log(`grant_revoked ${kv({ grant: grantId, route: ctx.oidc?.route })}`);
});
provider.on('backchannel.success', (ctx, client, accountId, sid) => {
  log(`backchannel_logout ${kv({ client: client.clientId, sub: accountId, sid, uri: client.backchannelLogoutUri })}`);
});
provider.on('backchannel.error', (ctx, err, client, accountId, sid) => {
  log(`backchannel_logout_error ${kv({
    client: client.clientId, sub: accountId, sid, uri: client.backchannelLogoutUri, error: err.cause?.message ?? err.message,
  })}`);
});
provider.on('end_session.success', (ctx) => {
  log(`end_session ${kv({ client: ctx.oidc.client?.clientId })}`);
});
provider.on('server_error', (ctx, err) => {
  warn(`server_error path=${ctx.path} ${err.stack ?? err}`);
});

// ---- HTTP server ----------------------------------------------------------------------------

// An issuer with a path (https://host:port/oidc) is served under that path, as when mounted.
const prefix = new URL(cfg.issuer).pathname.replace(/\/$/, '');
const callback = provider.callback();
const server = http.createServer((req, res) => {
  if (prefix) {
    if (req.url !== prefix && !req.url.startsWith(`${prefix}/`) && !req.url.startsWith(`${prefix}?`)) {
      res.statusCode = 404;
      res.end('not found\n');
      return;
    }
    req.originalUrl = req.url;
    req.url = req.url.slice(prefix.length) || '/';
    if (req.url.startsWith('?')) req.url = `/${req.url}`;
  }
  callback(req, res);
});

server.on('error', (err) => die(`listen ${host}:${cfg.port}: ${err.message}`));
server.listen(cfg.port, host, () => {
  log(`listening ${kv({ addr: `http://${host}:${cfg.port}`, issuer: cfg.issuer, resource })}`);
  log('ready');
});

function shutdown(signal) {
  log(`stopping signal=${signal}`);
  server.close(() => process.exit(0));
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
