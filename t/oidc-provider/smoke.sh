#!/usr/bin/env bash
# End-to-end smoke test of provider.mjs without nginx: curl against the plain HTTP port with
# X-Forwarded-Proto/-Host (what the test's TLS-terminating nginx will send), issuer
# https://127.0.0.1:PORT.
#
#   bash smoke.sh            (needs node, curl, openssl; run `npm install` here first)
#
# Covers: discovery; authorization code + PKCE S256 + state + nonce through the devInteractions
# login and consent forms; code exchange (client_secret_basic); id_token (signature, claims),
# JWT access token (RFC 9068), refresh token; refresh with rotation; reuse of the rotated-out
# refresh token -> invalid_grant and the grant revoked; a second client (client_secret_post,
# consent skipped) on the same IdP session; RP-initiated logout sending back-channel logout
# tokens to a loopback https listener (test CA, CONFIG.ca) and a loopback http listener; the
# log lines; a clean exit on SIGTERM.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
[ -d "$here/node_modules/oidc-provider" ] || { echo "smoke: FAIL: run 'npm install' in $here first" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-}" = 1 ]; then echo "smoke: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

fail() {
  echo "smoke: FAIL: $*" >&2
  if [ -s "$tmp/provider.out" ]; then echo "--- provider stdout" >&2; cat "$tmp/provider.out" >&2; fi
  if [ -s "$tmp/provider.err" ]; then echo "--- provider stderr" >&2; cat "$tmp/provider.err" >&2; fi
  exit 1
}
ok() { echo "ok - $*"; }

# ---- helpers in node (JSON, JWT, PKCE, listeners) -------------------------------------------
cat > "$tmp/util.mjs" <<'EOF'
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
const [cmd, ...args] = process.argv.slice(2);
const b64json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString());
const get = (obj, path) => path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), obj);
const out = (v) => process.stdout.write(v === undefined ? '' : (typeof v === 'string' ? v : JSON.stringify(v)));
switch (cmd) {
  case 'port': { // a free TCP port on 127.0.0.1
    const s = net.createServer().listen(0, '127.0.0.1', () => { out(String(s.address().port)); s.close(); });
    break;
  }
  case 'json': // FILE PATH: print a member (strings raw, the rest as JSON)
    out(get(JSON.parse(fs.readFileSync(args[0], 'utf8')), args[1]));
    break;
  case 'jwt': // TOKEN header|payload PATH
    out(get(b64json(args[0].split('.')[args[1] === 'header' ? 0 : 1]), args[2]));
    break;
  case 'verify': { // TOKEN JWKSFILE: check the JWS signature with the key of its kid
    const [h, p, sig] = args[0].split('.');
    const header = b64json(h);
    const jwk = JSON.parse(fs.readFileSync(args[1], 'utf8')).keys.find((k) => k.kid === header.kid);
    if (!jwk) { console.error(`no key ${header.kid} in jwks`); process.exit(1); }
    const key = crypto.createPublicKey({ key: jwk, format: 'jwk' });
    const alg = { RS256: ['sha256', {}], ES256: ['sha256', { dsaEncoding: 'ieee-p1363' }] }[header.alg];
    if (!alg) { console.error(`unexpected alg ${header.alg}`); process.exit(1); }
    const good = crypto.verify(alg[0], Buffer.from(`${h}.${p}`), { key, ...alg[1] }, Buffer.from(sig, 'base64url'));
    if (!good) { console.error('bad signature'); process.exit(1); }
    out(header.alg);
    break;
  }
  case 'pkce': { // prints "verifier challenge"
    const v = crypto.randomBytes(32).toString('base64url');
    out(`${v} ${crypto.createHash('sha256').update(v).digest('base64url')}`);
    break;
  }
  case 'form': // FILE NAME: the value of <input name=NAME value=...> in an HTML page
    out(fs.readFileSync(args[0], 'utf8').match(new RegExp(`name="${args[1]}" value="([^"]*)"`))?.[1]);
    break;
  case 'receivers': { // LOGFILE HTTPPORT HTTPSPORT KEY CERT: back-channel logout listeners
    const [logfile, hp, sp, key, cert] = args;
    const handler = (scheme) => (req, res) => {
      let body = '';
      req.on('data', (c) => { body += c; });
      req.on('end', () => {
        const token = new URLSearchParams(body).get('logout_token') ?? '';
        fs.appendFileSync(logfile, `${scheme} ${req.method} ${req.url} ${token}\n`);
        res.writeHead(200, { 'cache-control': 'no-store' });
        res.end();
      });
    };
    let n = 0;
    const up = () => { if (++n === 2) console.log('ready'); };
    http.createServer(handler('http')).listen(+hp, '127.0.0.1', up);
    https.createServer({ key: fs.readFileSync(key), cert: fs.readFileSync(cert) }, handler('https')).listen(+sp, '127.0.0.1', up);
    process.on('SIGTERM', () => process.exit(0));
    break;
  }
  default:
    console.error(`util.mjs: unknown command ${cmd}`);
    process.exit(2);
}
EOF
u() { node "$tmp/util.mjs" "$@"; }

wait_line() { # FILE LINE SECONDS
  local i
  for ((i = 0; i < $3 * 10; i++)); do
    grep -qx "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# ---- a test CA and a certificate for the https back-channel listener ------------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=smoke test CA" \
  -keyout "$tmp/ca.key" -out "$tmp/ca.pem" 2>/dev/null || fail "openssl: test CA"
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=127.0.0.1" \
  -keyout "$tmp/rp.key" -out "$tmp/rp.csr" 2>/dev/null || fail "openssl: csr"
printf 'subjectAltName=IP:127.0.0.1\n' > "$tmp/ext"
openssl x509 -req -in "$tmp/rp.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial -days 2 \
  -extfile "$tmp/ext" -out "$tmp/rp.pem" 2>/dev/null || fail "openssl: sign"

port=$(u port)
bcl_http=$(u port)
bcl_https=$(u port)
[ "$port" != "$bcl_http" ] && [ "$port" != "$bcl_https" ] && [ "$bcl_http" != "$bcl_https" ] || fail "port clash, run again"
issuer="https://127.0.0.1:$port"
resource="https://api.test/"

cat > "$tmp/config.json" <<EOF
{
  "port": $port,
  "issuer": "$issuer",
  "ca": "$tmp/ca.pem",
  "resource": "$resource",
  "accessTokenClaims": ["email", "groups"],
  "accessTokenTTL": 300,
  "idTokenTTL": 300,
  "refreshTokenTTL": 3600,
  "sessionTTL": 3600,
  "skipConsent": ["app2"],
  "accounts": {
    "alice": { "email": "alice@example.test", "email_verified": true, "name": "Alice Liddell", "groups": ["admins", "staff"] }
  },
  "clients": [
    {
      "client_id": "app",
      "client_secret": "app-secret",
      "redirect_uris": ["https://app.test/callback"],
      "post_logout_redirect_uris": ["https://app.test/bye"],
      "token_endpoint_auth_method": "client_secret_basic",
      "grant_types": ["authorization_code", "refresh_token"],
      "backchannel_logout_uri": "https://127.0.0.1:$bcl_https/app/backchannel",
      "backchannel_logout_session_required": true
    },
    {
      "client_id": "app2",
      "client_secret": "app2-secret",
      "redirect_uris": ["https://app2.test/cb"],
      "post_logout_redirect_uris": ["https://app2.test/bye"],
      "token_endpoint_auth_method": "client_secret_post",
      "grant_types": ["authorization_code", "refresh_token"],
      "backchannel_logout_uri": "http://127.0.0.1:$bcl_http/app2/backchannel",
      "backchannel_logout_session_required": true
    }
  ]
}
EOF

node "$tmp/util.mjs" receivers "$tmp/bcl.log" "$bcl_http" "$bcl_https" "$tmp/rp.key" "$tmp/rp.pem" > "$tmp/recv.out" 2>&1 &
pids+=($!)
node "$here/provider.mjs" "$tmp/config.json" > "$tmp/provider.out" 2> "$tmp/provider.err" &
provider_pid=$!
pids+=($provider_pid)
wait_line "$tmp/recv.out" ready 10 || fail "back-channel listeners did not start: $(cat "$tmp/recv.out")"
wait_line "$tmp/provider.out" ready 15 || fail "provider did not print 'ready'"
ok "provider ready on 127.0.0.1:$port, issuer $issuer"

# ---- curl against the plain HTTP port, as if behind the TLS-terminating proxy -----------------
base="http://127.0.0.1:$port"
jar="$tmp/cookies"
: > "$jar"
# c OUTFILE ARGS...: prints the status code; headers in OUTFILE.h, body in OUTFILE
c() {
  local o=$1; shift
  curl -sS -o "$o" -D "$o.h" -w '%{http_code}' -b "$jar" -c "$jar" \
    -H 'X-Forwarded-Proto: https' -H "X-Forwarded-Host: 127.0.0.1:$port" "$@" || fail "curl $*"
}
location() { sed -n 's/^[Ll]ocation: *//p' "$1.h" | tr -d '\r'; }
# follow LOCATION: an absolute URL of the issuer or a path, through the plain port
local_url() { case $1 in "$issuer"/*) echo "$base${1#"$issuer"}" ;; /*) echo "$base$1" ;; *) fail "unexpected redirect $1" ;; esac; }

# 1. discovery
st=$(c "$tmp/disc" "$base/.well-known/openid-configuration")
[ "$st" = 200 ] || fail "discovery: HTTP $st"
d() { u json "$tmp/disc" "$1"; }
[ "$(d issuer)" = "$issuer" ] || fail "discovery issuer $(d issuer)"
[ "$(d authorization_endpoint)" = "$issuer/auth" ] || fail "authorization_endpoint $(d authorization_endpoint)"
[ "$(d token_endpoint)" = "$issuer/token" ] || fail "token_endpoint $(d token_endpoint)"
[ "$(d jwks_uri)" = "$issuer/jwks" ] || fail "jwks_uri $(d jwks_uri)"
[ "$(d end_session_endpoint)" = "$issuer/session/end" ] || fail "end_session_endpoint $(d end_session_endpoint)"
[ "$(d backchannel_logout_supported)" = true ] || fail "backchannel_logout_supported $(d backchannel_logout_supported)"
[ "$(d backchannel_logout_session_supported)" = true ] || fail "backchannel_logout_session_supported"
[ "$(d code_challenge_methods_supported)" = '["S256"]' ] || fail "code_challenge_methods_supported $(d code_challenge_methods_supported)"
ok "discovery: issuer and endpoints under $issuer, back-channel logout supported"
st=$(c "$tmp/jwks" "$base/jwks")
[ "$st" = 200 ] || fail "jwks: HTTP $st"
[ "$(u json "$tmp/jwks" keys.length)" = 2 ] || fail "jwks: expected 2 keys"
grep -q '"d"' "$tmp/jwks" && fail "jwks publishes a private member"
ok "jwks: RSA and EC public keys"

# 2. authorization request: PKCE S256, state, nonce
read -r verifier challenge < <(u pkce; echo)
state=st-$RANDOM$RANDOM
nonce=n-$RANDOM$RANDOM
st=$(c "$tmp/a1" -G "$base/auth" --data-urlencode client_id=app --data-urlencode response_type=code \
  --data-urlencode scope="openid email profile groups" --data-urlencode redirect_uri=https://app.test/callback \
  --data-urlencode state="$state" --data-urlencode nonce="$nonce" \
  --data-urlencode code_challenge="$challenge" --data-urlencode code_challenge_method=S256)
[ "$st" = 303 ] || fail "authorization request: HTTP $st $(cat "$tmp/a1")"
login_url=$(location "$tmp/a1")
case $login_url in /interaction/*) ;; *) fail "authorization request: redirect to $login_url, expected /interaction/UID" ;; esac
grep -qi '^set-cookie: _interaction=.*secure' "$tmp/a1.h" || fail "no Secure _interaction cookie: $(grep -i set-cookie "$tmp/a1.h")"

# the request without PKCE is refused
st=$(c "$tmp/nopkce" -G "$base/auth" --data-urlencode client_id=app --data-urlencode response_type=code \
  --data-urlencode scope=openid --data-urlencode redirect_uri=https://app.test/callback --data-urlencode state=x)
loc=$(location "$tmp/nopkce")
case $loc in https://app.test/callback\?*error=invalid_request*) ;; *) fail "no PKCE: expected error redirect, got $st $loc" ;; esac
ok "authorization request -> login interaction $login_url (and without PKCE -> invalid_request)"

# 3. the devInteractions login form (any login name/password; the login is the account id)
st=$(c "$tmp/login" "$(local_url "$login_url")")
[ "$st" = 200 ] || fail "login page: HTTP $st"
grep -q 'name="login"' "$tmp/login" || fail "login page has no login field"
st=$(c "$tmp/l2" --data-urlencode prompt=login --data-urlencode login=alice --data-urlencode password=whatever "$(local_url "$login_url")")
[ "$st" = 303 ] || fail "login submit: HTTP $st $(head -c 300 "$tmp/l2")"
st=$(c "$tmp/l3" "$(local_url "$(location "$tmp/l2")")")
[ "$st" = 303 ] || fail "resume after login: HTTP $st"
consent_url=$(location "$tmp/l3")
case $consent_url in /interaction/*) ;; *) fail "after login: redirect to $consent_url, expected the consent interaction" ;; esac
ok "login form posted as alice -> consent interaction $consent_url"

# 4. the consent form
st=$(c "$tmp/consent" "$(local_url "$consent_url")")
[ "$st" = 200 ] || fail "consent page: HTTP $st"
grep -q 'name="prompt" value="consent"' "$tmp/consent" || fail "consent page has no consent form"
st=$(c "$tmp/c2" --data-urlencode prompt=consent "$(local_url "$consent_url")")
[ "$st" = 303 ] || fail "consent submit: HTTP $st"
st=$(c "$tmp/c3" "$(local_url "$(location "$tmp/c2")")")
[ "$st" = 303 ] || fail "resume after consent: HTTP $st"
cb=$(location "$tmp/c3")
case $cb in https://app.test/callback\?*) ;; *) fail "expected the redirect to the client, got $cb" ;; esac
q() { sed -n "s/.*[?&]$1=\([^&]*\).*/\1/p" <<< "$cb"; }
code=$(q code)
[ -n "$code" ] || fail "no code in $cb"
[ "$(q state)" = "$state" ] || fail "state mismatch in $cb"
[ "$(q iss | sed 's/%3A/:/g; s/%2F/\//g')" = "$issuer" ] || fail "iss mismatch in $cb"
ok "consent -> $(sed 's/code=[^&]*/code=.../' <<< "$cb")"

# 5. code exchange, client_secret_basic
st=$(c "$tmp/t1" -u app:app-secret --data-urlencode grant_type=authorization_code --data-urlencode code="$code" \
  --data-urlencode redirect_uri=https://app.test/callback --data-urlencode code_verifier="$verifier" "$base/token")
[ "$st" = 200 ] || fail "code exchange: HTTP $st $(cat "$tmp/t1")"
id_token=$(u json "$tmp/t1" id_token)
access_token=$(u json "$tmp/t1" access_token)
rt1=$(u json "$tmp/t1" refresh_token)
[ -n "$id_token" ] || fail "no id_token: $(cat "$tmp/t1")"
[ -n "$access_token" ] || fail "no access_token"
[ -n "$rt1" ] || fail "no refresh_token (issueRefreshToken)"
[ "$(u json "$tmp/t1" token_type)" = Bearer ] || fail "token_type $(u json "$tmp/t1" token_type)"

alg=$(u verify "$id_token" "$tmp/jwks") || fail "id_token signature"
p() { u jwt "$1" payload "$2"; }
[ "$(p "$id_token" iss)" = "$issuer" ] || fail "id_token iss $(p "$id_token" iss)"
[ "$(p "$id_token" aud)" = app ] || fail "id_token aud $(p "$id_token" aud)"
[ "$(p "$id_token" sub)" = alice ] || fail "id_token sub $(p "$id_token" sub)"
[ "$(p "$id_token" nonce)" = "$nonce" ] || fail "id_token nonce"
[ "$(p "$id_token" email)" = alice@example.test ] || fail "id_token has no email claim (conformIdTokenClaims)"
[ "$(p "$id_token" groups)" = '["admins","staff"]' ] || fail "id_token groups $(p "$id_token" groups)"
[ -n "$(p "$id_token" sid)" ] || fail "id_token has no sid"
ok "code exchange: id_token ($alg, sub=alice, nonce, sid, email and groups claims), refresh_token"

[ "$(u jwt "$access_token" header typ)" = at+jwt ] || fail "access token is not an RFC 9068 JWT: $access_token"
u verify "$access_token" "$tmp/jwks" > /dev/null || fail "access token signature"
[ "$(p "$access_token" aud)" = "$resource" ] || fail "access token aud $(p "$access_token" aud)"
[ "$(p "$access_token" client_id)" = app ] || fail "access token client_id"
[ "$(p "$access_token" sub)" = alice ] || fail "access token sub"
[ "$(p "$access_token" groups)" = '["admins","staff"]' ] || fail "access token groups (accessTokenClaims)"
exp=$(p "$access_token" exp); iat=$(p "$access_token" iat)
[ $((exp - iat)) = 300 ] || fail "access token lifetime $((exp - iat)), expected accessTokenTTL 300"
ok "access token: at+jwt for $resource, lifetime 300 s, groups claim"

# introspection of the refresh token
st=$(c "$tmp/i1" -u app:app-secret --data-urlencode token="$rt1" "$base/token/introspection")
[ "$st" = 200 ] && [ "$(u json "$tmp/i1" active)" = true ] || fail "introspection of the refresh token: $st $(cat "$tmp/i1")"
[ "$(u json "$tmp/i1" sub)" = alice ] && [ "$(u json "$tmp/i1" client_id)" = app ] || fail "introspection: $(cat "$tmp/i1")"

# 6. refresh with rotation
st=$(c "$tmp/r1" -u app:app-secret --data-urlencode grant_type=refresh_token --data-urlencode refresh_token="$rt1" "$base/token")
[ "$st" = 200 ] || fail "refresh: HTTP $st $(cat "$tmp/r1")"
rt2=$(u json "$tmp/r1" refresh_token)
[ -n "$rt2" ] && [ "$rt2" != "$rt1" ] || fail "refresh did not rotate the refresh token"
[ -n "$(u json "$tmp/r1" access_token)" ] && [ "$(u json "$tmp/r1" access_token)" != "$access_token" ] || fail "refresh: no new access token"
[ -n "$(u json "$tmp/r1" id_token)" ] || fail "refresh: no id_token"
ok "refresh: new access token, id_token and a new (rotated) refresh token"

# 7. reuse of the rotated-out refresh token -> invalid_grant, the grant is revoked
st=$(c "$tmp/r2" -u app:app-secret --data-urlencode grant_type=refresh_token --data-urlencode refresh_token="$rt1" "$base/token")
[ "$st" = 400 ] && [ "$(u json "$tmp/r2" error)" = invalid_grant ] || fail "reuse: expected 400 invalid_grant, got $st $(cat "$tmp/r2")"
ok "reusing the old refresh token: 400 invalid_grant ($(u json "$tmp/r2" error_description))"
st=$(c "$tmp/r3" -u app:app-secret --data-urlencode grant_type=refresh_token --data-urlencode refresh_token="$rt2" "$base/token")
[ "$st" = 400 ] && [ "$(u json "$tmp/r3" error)" = invalid_grant ] || fail "after reuse, the new refresh token still works: $st $(cat "$tmp/r3")"
ok "the grant is revoked: the new refresh token fails too ($(u json "$tmp/r3" error_description))"

# 8. a second client on the same IdP session: consent skipped, client_secret_post
read -r verifier2 challenge2 < <(u pkce; echo)
st=$(c "$tmp/b1" -G "$base/auth" --data-urlencode client_id=app2 --data-urlencode response_type=code \
  --data-urlencode scope="openid email" --data-urlencode redirect_uri=https://app2.test/cb \
  --data-urlencode state=s2 --data-urlencode nonce=n2 \
  --data-urlencode code_challenge="$challenge2" --data-urlencode code_challenge_method=S256)
[ "$st" = 303 ] || fail "app2 authorization: HTTP $st"
cb=$(location "$tmp/b1")
case $cb in https://app2.test/cb\?*) ;; *) fail "app2: expected a direct redirect with a code (session + skipConsent), got $cb" ;; esac
code2=$(q code)
st=$(c "$tmp/t2" --data-urlencode client_id=app2 --data-urlencode client_secret=app2-secret \
  --data-urlencode grant_type=authorization_code --data-urlencode code="$code2" \
  --data-urlencode redirect_uri=https://app2.test/cb --data-urlencode code_verifier="$verifier2" "$base/token")
[ "$st" = 200 ] || fail "app2 code exchange: HTTP $st $(cat "$tmp/t2")"
id_token2=$(u json "$tmp/t2" id_token)
[ "$(p "$id_token2" sub)" = alice ] && [ "$(p "$id_token2" aud)" = app2 ] || fail "app2 id_token"
[ -n "$(u json "$tmp/t2" refresh_token)" ] || fail "app2: no refresh token"
ok "app2: single sign-on on the IdP session, no login or consent, client_secret_post"

# 9. RP-initiated logout with back-channel logout to both clients (https with the test CA, http)
st=$(c "$tmp/e1" -G "$base/session/end" --data-urlencode id_token_hint="$id_token2" \
  --data-urlencode post_logout_redirect_uri=https://app2.test/bye --data-urlencode state=bye)
[ "$st" = 200 ] || fail "end_session: HTTP $st"
xsrf=$(u form "$tmp/e1" xsrf)
[ -n "$xsrf" ] || fail "end_session: no xsrf in the logout form"
st=$(c "$tmp/e2" --data-urlencode xsrf="$xsrf" --data-urlencode logout=yes "$base/session/end/confirm")
[ "$st" = 303 ] || fail "end_session confirm: HTTP $st"
[ "$(location "$tmp/e2")" = "https://app2.test/bye?state=bye" ] || fail "end_session: redirect to $(location "$tmp/e2")"
ok "RP-initiated logout: confirm form -> https://app2.test/bye?state=bye"
[ -s "$tmp/bcl.log" ] || fail "no back-channel logout request arrived"
for who in "https POST /app/backchannel" "http POST /app2/backchannel"; do
  line=$(grep "^$who " "$tmp/bcl.log") || fail "no back-channel logout: $who; got: $(cat "$tmp/bcl.log")"
  lt=${line##* }
  u verify "$lt" "$tmp/jwks" > /dev/null || fail "logout_token signature ($who)"
  [ "$(p "$lt" sub)" = alice ] || fail "logout_token sub ($who)"
  [ -n "$(p "$lt" sid)" ] || fail "logout_token has no sid ($who)"
  [ "$(p "$lt" events)" = '{"http://schemas.openid.net/event/backchannel-logout":{}}' ] || fail "logout_token events ($who)"
done
[ "$(p "$(grep '^http POST /app2/' "$tmp/bcl.log" | sed 's/.* //')" sid)" = "$(p "$id_token2" sid)" ] || fail "logout_token sid != id_token sid"
ok "back-channel logout tokens (sub, sid, events) received over https (CONFIG.ca) and http on 127.0.0.1"

# 10. log lines
out=$tmp/provider.out
[ "$(grep -c '^token grant_type=authorization_code ' "$out")" = 2 ] || fail "log: expected 2 'token grant_type=authorization_code' lines"
grep -qx 'token grant_type=refresh_token client=app sub=alice rotated=1' "$out" || fail "log: no refresh line"
[ "$(grep -c '^token grant_type=refresh_token ' "$out")" = 1 ] || fail "log: expected exactly 1 refresh line"
grep -q '^token_error grant_type=refresh_token client=app error=invalid_grant .*detail="refresh token already used"$' "$out" || fail "log: no token_error line for the reuse"
[ "$(grep -c '^token_error grant_type=refresh_token client=app error=invalid_grant' "$out")" = 2 ] || fail "log: expected 2 token_error lines"
grep -q '^grant_revoked grant=[^ ]* route=token$' "$out" || fail "log: no grant_revoked line for the reuse"
[ "$(grep -c '^backchannel_logout client=' "$out")" = 2 ] || fail "log: expected 2 backchannel_logout lines"
grep -q '^backchannel_logout_error' "$out" && fail "log: a back-channel logout failed"
grep -q '^end_session client=app2$' "$out" || fail "log: no end_session line"
ok "log lines: token / token_error / grant_revoked / backchannel_logout / end_session"

# 11. SIGTERM
kill -TERM "$provider_pid"
for ((i = 0; i < 50; i++)); do kill -0 "$provider_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$provider_pid" 2>/dev/null && fail "provider still running 5 s after SIGTERM"
rc=0; wait "$provider_pid" || rc=$?
[ "$rc" = 0 ] || fail "provider exit status $rc after SIGTERM"
ok "SIGTERM: clean exit"

echo "--- provider stdout"
cat "$out"
echo "smoke: PASS"
