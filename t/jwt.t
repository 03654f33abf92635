# auth_jwt: keys, algorithms, claims, variables, responses and cooperation with nginx.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256);
use JSON::PP ();
use MIME::Base64 qw(encode_base64url encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

our $SECRET = 'a-test-secret-that-is-32-bytes!!';

sub slurp {
    open my $f, '<', "$FindBin::Bin/fixtures/jwt/$_[0]" or die "$_[0]: $!";
    local $/;
    my $data = <$f>;
    $data =~ s/\s+\z//;
    return $data;
}

sub json { JSON::PP->new->canonical->encode($_[0]) }

# An HS256 token over the given header and payload (strings, or hashes to encode).
sub hs256 {
    my ($header, $payload, $secret) = @_;
    $header = json($header) if ref $header;
    $payload = json($payload) if ref $payload;
    my $message = encode_base64url($header) . '.' . encode_base64url($payload);
    return "$message." . encode_base64url(hmac_sha256($message, $secret // $SECRET));
}

sub claims { return { sub => 'alice', exp => time + 3600, @_ } }

sub bearer { "Authorization: Bearer $_[0]" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no token: 401 with a Bearer challenge, no error attribute
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        add_header X-Jwt-Error "[$jwt_error]" always;
    }
--- request
GET /api/index.html
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api"
X-Jwt-Error: [missing]
--- error_log
[info]
no JWT was provided



=== TEST 2: every algorithm, keys from one JWKS
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        add_header X-Sub $jwt_claim_sub;
        add_header X-Alg $jwt_header_alg;
    }
--- request eval
[map { "GET /api/index.html" } 1 .. 7]
--- more_headers eval
[map { main::bearer(main::slurp($_)) } qw(rs256.jwt rs512-nokid.jwt ps256.jwt es256.jwt es384.jwt eddsa.jwt hs256.jwt)]
--- error_code eval
[map { 200 } 1 .. 7]
--- response_headers eval
[map { "X-Sub: alice\nX-Alg: $_" } qw(RS256 RS512 PS256 ES256 ES384 EdDSA HS256)]
--- response_body eval
[map { qr/It works!/ } 1 .. 7]



=== TEST 3: PEM public key, PKCS#1 key, X.509 certificate, raw HMAC secret, several files
--- config
    location /spki/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa.pem;
    }
    location /pkcs1/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa-pkcs1.pem pem;
    }
    location /cert/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa.crt;
    }
    location /hmac/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
    }
    location /many/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/ec256.pem;
        auth_jwt_key_file $TEST_NGINX_KEYS/ed25519.pem;
    }
--- request eval
["GET /spki/index.html", "GET /pkcs1/index.html", "GET /cert/index.html", "GET /hmac/index.html",
 "GET /many/index.html", "GET /many/index.html", "GET /many/index.html"]
--- more_headers eval
[map { main::bearer(main::slurp($_)) } qw(rs256.jwt ps256.jwt rs256.jwt hs256.jwt es256.jwt eddsa.jwt rs256.jwt)]
--- error_code eval
[200, 200, 200, 200, 200, 200, 401]



=== TEST 4: each reason for a refusal, in $jwt_error, with error="invalid_token"
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        auth_jwt_issuer https://issuer.example;
        auth_jwt_audience api;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
[map { "GET /api/index.html" } 1 .. 11]
--- more_headers eval
my $iss = 'https://issuer.example';
my $hdr = { alg => 'HS256', kid => 'hs-1' };
[map { main::bearer($_) }
 main::hs256($hdr, main::claims(iss => $iss, aud => 'api')),
 main::hs256($hdr, main::claims(iss => $iss, aud => 'api', exp => time - 60)),
 main::hs256($hdr, main::claims(iss => $iss, aud => 'api', nbf => time + 3600, exp => time + 7200)),
 main::hs256($hdr, main::claims(iss => 'https://evil.example', aud => 'api')),
 main::hs256($hdr, main::claims(iss => $iss, aud => ['web'])),
 main::hs256($hdr, main::claims(iss => $iss, aud => 'api'), 'another-secret-another-secret!!!'),
 main::hs256({ alg => 'HS256', kid => 'nobody' }, main::claims(iss => $iss, aud => 'api')),
 main::hs256({ alg => 'none' }, main::claims(iss => $iss, aud => 'api')),
 'not-a-token',
 main::hs256($hdr, main::claims(iss => $iss, aud => 'api', exp => "9999999999")),
 main::hs256($hdr, main::claims(iss => $iss)),
]
--- error_code eval
[200, map { 401 } 1 .. 10]
--- response_headers eval
["X-Jwt-Error: \nWWW-Authenticate: ",
 map { "X-Jwt-Error: $_\nWWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\"" }
 qw(expired not_yet_valid bad_issuer bad_audience bad_signature unknown_key alg_not_allowed malformed malformed bad_audience)]



=== TEST 5: the log names the reason and never shows the token
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer(main::hs256({ alg => 'HS256' }, main::claims(sub => 'secret-subject', exp => time - 60)))
--- error_code: 401
--- log_level: info
--- error_log eval
qr/\[info\].*JWT refused: token expired/
--- no_error_log
secret-subject
eyJ



=== TEST 6: alg "none" in any spelling and the RS256 public key used as an HMAC secret
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa.pem;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /all-algs/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa.pem;
        auth_jwt_algorithms RS256 HS256;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html", "GET /api/index.html", "GET /all-algs/index.html"]
--- more_headers eval
my $none = sub { my $h = main::json({ alg => $_[0] }); MIME::Base64::encode_base64url($h) . '.' . MIME::Base64::encode_base64url(main::json(main::claims())) . '.' };
my $pem = do { open my $f, '<', "$ENV{TEST_NGINX_KEYS}/rsa.pem" or die; local $/; <$f> };
[map { main::bearer($_) }
 $none->('none'), $none->('NONE'), $none->('nOnE'),
 main::hs256({ alg => 'HS256' }, main::claims(), $pem),
 main::hs256({ alg => 'HS256' }, main::claims(), $pem)]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_headers eval
["X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: unknown_key"]



=== TEST 7: auth_jwt_algorithms narrows what the keys allow
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        auth_jwt_algorithms ES256 EdDSA;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[map { main::bearer(main::slurp($_)) } qw(es256.jwt eddsa.jwt rs256.jwt)]
--- error_code eval
[200, 200, 401]



=== TEST 8: leeway applies to exp and nbf; exp is required unless auth_jwt_require_exp off
--- config
    location /strict/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
    }
    location /leeway/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_leeway 10m;
    }
    location /no-exp/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_require_exp off;
    }
--- request eval
["GET /strict/index.html", "GET /leeway/index.html", "GET /leeway/index.html",
 "GET /strict/index.html", "GET /leeway/index.html", "GET /strict/index.html", "GET /no-exp/index.html",
 "GET /leeway/index.html"]
--- more_headers eval
my $h = { alg => 'HS256' };
[map { main::bearer($_) }
 main::hs256($h, main::claims(exp => time - 60)),
 main::hs256($h, main::claims(exp => time - 60)),
 main::hs256($h, main::claims(exp => time - 3600)),
 main::hs256($h, main::claims(nbf => time + 3600, exp => time + 7200)),
 main::hs256($h, main::claims(nbf => time + 60)),
 main::hs256($h, { sub => 'alice' }),
 main::hs256($h, { sub => 'alice' }),
 main::hs256($h, main::claims(exp => time + 3600.5)),
]
--- error_code eval
[401, 200, 401, 401, 200, 401, 200, 200]



=== TEST 9: token= from a cookie or an argument; the Authorization header is then ignored
--- config
    location /cookie/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api" token=$cookie_auth;
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    }
    location /arg/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api" token=$arg_access_token;
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    }
--- request eval
my $t = main::slurp('es256.jwt');
["GET /cookie/index.html", "GET /cookie/index.html", "GET /arg/index.html?access_token=$t", "GET /arg/index.html"]
--- more_headers eval
my $t = main::slurp('es256.jwt');
["Cookie: auth=$t", main::bearer($t), "", ""]
--- error_code eval
[200, 401, 200, 401]



=== TEST 10: login redirect with error_page 401 = @login, $jwt_error survives the redirect
--- config
    location /app/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "app" token=$cookie_session;
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        error_page 401 = @login;
    }
    location @login {
        return 302 /login?reason=$jwt_error;
    }
--- request eval
["GET /app/index.html", "GET /app/index.html", "GET /app/index.html"]
--- more_headers eval
["", "Cookie: session=garbage", "Cookie: session=" . main::slurp('eddsa.jwt')]
--- error_code eval
[302, 302, 200]
--- response_headers eval
["Location: http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/login?reason=missing",
 "Location: http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/login?reason=malformed",
 "!Location"]



=== TEST 11: auth_jwt_require: 401 by default, 403 with insufficient_scope on request
--- http_config
    map $jwt_claim_scope $can_write {
        "~\bwrite\b" 1;
        default 0;
    }
    map $jwt_claim_groups $is_admin {
        "~(^|,)admin(,|$)" 1;
        default "";
    }
--- config
    location /write/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_require $can_write error=403;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /admin/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_require $is_admin $jwt_claim_sub;
    }
--- request eval
["GET /write/index.html", "GET /write/index.html", "GET /admin/index.html", "GET /admin/index.html"]
--- more_headers eval
my $h = { alg => 'HS256' };
[map { main::bearer($_) }
 main::hs256($h, main::claims(scope => 'read write')),
 main::hs256($h, main::claims(scope => 'read')),
 main::hs256($h, main::claims(groups => ['dev', 'admin'])),
 main::hs256($h, main::claims(groups => ['dev'])),
]
--- error_code eval
[200, 403, 200, 401]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: require_failed\nWWW-Authenticate: Bearer realm=\"api\", error=\"insufficient_scope\"",
 "!WWW-Authenticate", "WWW-Authenticate: Bearer realm=\"api\", error=\"invalid_token\""]



=== TEST 12: claims and header fields to variables: nested, arrays, payload
--- http_config
    auth_jwt_claim_set $email profile email;
    auth_jwt_claim_set $level profile level;
    auth_jwt_claim_set $groups groups;
    auth_jwt_header_set $key_id kid;
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        add_header X-Email $email;
        add_header X-Level $level;
        add_header X-Groups $groups;
        add_header X-Kid $key_id;
        add_header X-Aud $jwt_claim_aud;
        add_header X-Exp $jwt_claim_exp;
        add_header X-Typ $jwt_header_typ;
        add_header X-Missing "[$jwt_claim_nothing]";
        add_header X-Payload $jwt_payload;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer(main::slurp('rs256.jwt'))
--- error_code: 200
--- response_headers
X-Email: alice@example.com
X-Level: 3
X-Groups: admin,dev
X-Kid: rsa-1
X-Aud: api,web
X-Exp: 4102444800
X-Typ: JWT
X-Missing: []
X-Payload: {"sub":"alice","iss":"https://issuer.example","aud":["api","web"],"exp":4102444800,"iat":1700000000,"scope":"read write","groups":["admin","dev"],"profile":{"email":"alice@example.com","level":3}}



=== TEST 13: no phase before access sees an unverified claim
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        set $early "[$jwt_claim_sub]";
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        add_header X-Early $early always;
        add_header X-Late "[$jwt_claim_sub]" always;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[main::bearer(main::hs256({ alg => 'HS256' }, main::claims(sub => 'mallory'), 'wrong-secret-wrong-secret-wrong!')),
 main::bearer(main::hs256({ alg => 'HS256' }, main::claims()))]
--- error_code eval
[401, 200]
--- response_headers eval
["X-Early: []\nX-Late: []", "X-Early: []\nX-Late: [alice]"]



=== TEST 14: $remote_user is the token's sub in the access log
--- http_config
    log_format who "$remote_user $status";
--- config
    access_log $TEST_NGINX_HTML_DIR/who.log who;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    }
    location = /who.log {
        root $TEST_NGINX_HTML_DIR;
        access_log off;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /who.log"]
--- more_headers eval
[main::bearer(main::slurp('eddsa.jwt')), "", ""]
--- error_code eval
[200, 401, 200]
--- response_body eval
[qr/It works!/, qr/401/, "alice 200\n- 401\n"]



=== TEST 15: satisfy any: a valid token spares auth_request, which is never called
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        auth_request /validator;
    }
    location = /validator {
        internal;
        proxy_pass http://127.0.0.1:1/;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer(main::slurp('es384.jwt'))
--- error_code: 200
--- no_error_log
connect() failed



=== TEST 16: satisfy any with auth_htpasswd and allow/deny; satisfy all with deny
--- config
    location /any/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        deny all;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        auth_htpasswd "api";
        auth_htpasswd_user_file $TEST_NGINX_KEYS/../all-formats.htpasswd;
    }
    location /all/ {
        alias $TEST_NGINX_HTML_DIR/;
        deny all;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    }
--- request eval
["GET /any/index.html", "GET /any/index.html", "GET /any/index.html", "GET /all/index.html"]
--- more_headers eval
[main::bearer(main::slurp('hs256.jwt')), "Authorization: Basic " . MIME::Base64::encode_base64('plain:s3cret-pw', ''), "", main::bearer(main::slurp('hs256.jwt'))]
--- error_code eval
[200, 200, 401, 403]



=== TEST 17: inheritance and "off" in a nested location; limit_except
--- config
    auth_jwt "server";
    auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        location /api/public/ {
            alias $TEST_NGINX_HTML_DIR/;
            auth_jwt off;
        }
    }
    location /write/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt off;
        limit_except GET {
            auth_jwt "writers";
        }
    }
--- request eval
["GET /api/index.html", "GET /api/public/index.html", "GET /write/index.html", "POST /write/index.html\nx", "POST /write/index.html\nx"]
--- more_headers eval
["", "", "", "", main::bearer(main::slurp('rs256.jwt'))]
--- error_code eval
[401, 200, 200, 401, 405]
--- response_headers eval
["WWW-Authenticate: Bearer realm=\"server\"", "!WWW-Authenticate", "!WWW-Authenticate", "WWW-Authenticate: Bearer realm=\"writers\"", "!WWW-Authenticate"]



=== TEST 18: hostile tokens: oversized, nested JSON (10,000 levels closed is over 16 KB; 11,000
unclosed fit), duplicate names, crit, kid traversal
--- http_config
    large_client_header_buffers 4 64k;
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
[map { "GET /api/index.html" } 1 .. 9]
--- more_headers eval
my $claims = main::json(main::claims());
my $h = '{"alg":"HS256","kid":"hs-1"}';
[map { main::bearer($_) }
 'a' x 17000,
 main::hs256($h, '{"sub":' . ('[' x 10000) . ']' x 10000 . '}'),
 main::hs256($h, '{"sub":' . ('[' x 11000)),
 main::hs256($h, '{"sub":"alice","sub":"admin","exp":4102444800}'),
 main::hs256('{"alg":"HS256","alg":"HS256","kid":"hs-1"}', $claims),
 main::hs256('{"alg":"HS256","kid":"hs-1","crit":["exp"],"exp":1}', $claims),
 main::hs256('{"alg":"HS256","kid":"../../../../etc/passwd"}', $claims),
 main::hs256($h, '"just a string"'),
 "\xff\xfe.\x01.x",
]
--- error_code eval
[map { 401 } 1 .. 9]
--- response_headers eval
["X-Jwt-Error: malformed", "X-Jwt-Error: malformed", "X-Jwt-Error: malformed", "X-Jwt-Error: malformed",
 "X-Jwt-Error: malformed",
 "X-Jwt-Error: malformed", "X-Jwt-Error: unknown_key", "X-Jwt-Error: malformed", "X-Jwt-Error: malformed"]
--- no_error_log
[alert]
[crit]



=== TEST 19: a bad key file fails the configuration, naming file, line and reason
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa1024.pem;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_jwt_key_file": "\S+rsa1024\.pem": RSA key of 1024 bits; at least 2048 are required in \S+nginx\.conf:\d+/



=== TEST 20: a private key is refused
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/rsa.key;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"\S+rsa\.key": a private key; give the public key in \S+nginx\.conf:\d+/



=== TEST 21: a missing key file
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/missing.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*cannot read "\S+missing\.json": No such file or directory .*in \S+nginx\.conf:\d+/



=== TEST 22: other configuration errors
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_type encrypted;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_jwt_type": only signed tokens \(JWS\) are supported in \S+nginx\.conf:\d+/



=== TEST 23: an unknown algorithm name
--- config
    location /api/ {
        auth_jwt_algorithms RS256 none;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_jwt_algorithms": unsupported algorithm "none" in \S+nginx\.conf:\d+/



=== TEST 24: a JWKS that is not one
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/../all-formats.htpasswd jwks;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*not a JWK Set/



=== TEST 25: satisfy any: failed checks leave no challenge on the response another check admits
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
        auth_htpasswd "api";
        auth_htpasswd_user_file $TEST_NGINX_KEYS/../all-formats.htpasswd;
        auth_basic "basic";
        auth_basic_user_file $TEST_NGINX_KEYS/../shared.htpasswd;
        auth_request /verdict;
    }
    location = /verdict {
        internal;
        if ($http_x_verdict = "ok") {
            return 204;
        }
        return 403;
    }
--- request
GET /api/index.html
--- more_headers
X-Verdict: ok
--- error_code: 200
--- response_headers
!WWW-Authenticate



=== TEST 25a: satisfy any: when every check fails, a challenge (the same nginx)
--- request
GET /api/index.html
--- error_code: 401
--- response_headers_like
WWW-Authenticate: .+



=== TEST 26: control characters in claims cannot split headers built from them
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        add_header X-Name $jwt_claim_name;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer(main::hs256({ alg => 'HS256' }, main::claims(name => "Mallory\r\nX-Injected: yes")))
--- error_code: 200
--- response_headers
X-Name: Mallory\x0D\x0AX-Injected: yes
!X-Injected



=== TEST 27: $remote_user read before the access phase still shows sub afterwards
--- http_config
    log_format who "$remote_user $early_user";
--- config
    access_log $TEST_NGINX_HTML_DIR/who.log who;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        set $early_user "[$remote_user]";
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json;
    }
    location = /who.log {
        root $TEST_NGINX_HTML_DIR;
        access_log off;
    }
--- request eval
["GET /api/index.html", "GET /who.log"]
--- more_headers eval
[main::bearer(main::slurp('es256.jwt')), ""]
--- error_code eval
[200, 200]
--- response_body eval
[qr/It works!/, "alice []\n"]
