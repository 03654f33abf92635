# Where auth_jwt's keys come from besides one static file: JWK Sets with keys that cannot be
# used (skipped, RFC 7517 section 5), key files and key requests named with variables, and
# sources that fail while others give keys.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

# Keys a verifier cannot use: no kty, RSA under 2048 bits, an oct key that claims RS256.
our @unusable = (
    { kid => 'no-kty', n => 'AQAB' },
    { kty => 'RSA', kid => 'small', n => 'AQAB', e => 'AQAB' },
    { kty => 'oct', kid => 'confused', alg => 'RS256', k => 'c2VjcmV0' },
);

no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: a key file with unusable keys among good ones: each is skipped with a warning, the others verify
--- user_files eval
[["keys.json", main::jwks_with(qr/^(rsa-1|ec-256)$/, @main::unusable)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys.json;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('es256.jwt'), main::bearer('eddsa.jwt')]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed"]
--- error_log eval
[qr/\[warn\] .*"auth_jwt_key_file": "\S+keys\.json": key 0 \(kid "no-kty"\): no "kty", skipped in \S+nginx\.conf:\d+/,
 qr/\[warn\] .*"auth_jwt_key_file": "\S+keys\.json": key 1 \(kid "small"\): RSA key of 17 bits; at least 2048 are required, skipped/,
 qr/\[warn\] .*"auth_jwt_key_file": "\S+keys\.json": key 2 \(kid "confused"\): "alg" RS256 does not fit a key of type oct, skipped/]



=== TEST 2: the same set fetched by auth_jwt_key_request: skipped keys are named with the URI
--- user_files eval
[["keys.json", main::jwks_with(qr/^(rsa-1|ec-256)$/, @main::unusable)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_HTML_DIR/keys.json;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('es256.jwt')]
--- error_code eval
[200, 200]
--- error_log eval
[qr/\[warn\] .*auth_jwt_key_request "\/_jwks": key 0 \(kid "no-kty"\): no "kty", skipped/,
 qr/\[warn\] .*auth_jwt_key_request "\/_jwks": key 2 \(kid "confused"\): "alg" RS256 does not fit a key of type oct, skipped/]
--- no_error_log
[error]



=== TEST 3: a key request that fails is logged and the key file decides; 500 only without any key
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_key_request /_missing;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /only-request/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_missing;
    }
    location = /_missing {
        internal;
        alias $TEST_NGINX_HTML_DIR/no-such-file.json;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /only-request/index.html"]
--- more_headers eval
[main::bearer('hs256.jwt'), main::bearer('rs256.jwt'), main::bearer('hs256.jwt')]
--- error_code eval
[200, 401, 500]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed", ""]
--- error_log eval
[qr/\[error\] .*auth_jwt_key_request "\/_missing" failed: status 404/]



=== TEST 4: each key directive inherits on its own: a location with only a key request keeps the server's key file
--- config
    auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_missing;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /server-keys/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
    }
    location = /_missing {
        internal;
        alias $TEST_NGINX_HTML_DIR/no-such-file.json;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /server-keys/index.html"]
--- more_headers eval
[main::bearer('hs256.jwt'), main::bearer('rs256.jwt'), main::bearer('hs256.jwt')]
--- error_code eval
[200, 401, 200]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed", ""]
--- error_log eval
[qr/\[error\] .*auth_jwt_key_request "\/_missing" failed: status 404/]



=== TEST 5: auth_jwt_key_file with variables: the file the request names; a missing one is logged and refuses
--- user_files eval
[["keys/a.json", main::jwks_with(qr/^rsa-1$/)], ["keys/b.json", main::jwks_with(qr/^ec-256$/)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys/$arg_tenant.json;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
["GET /api/index.html?tenant=c", "GET /api/index.html?tenant=a", "GET /api/index.html?tenant=b",
 "GET /api/index.html?tenant=b"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), main::bearer('es256.jwt')]
--- error_code eval
[401, 200, 401, 200]
--- response_headers eval
["X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: "]
--- error_log eval
[qr/\[error\] .*open\(\) "\S+\/keys\/c\.json" failed \(2: No such file or directory\)/]



=== TEST 6: a key file named with variables is parsed once per version, and a new version at once replaces the old, cached tokens included
--- http_config
    auth_jwt_cache max=16 valid=10m;
--- user_files eval
[["keys/a.json", main::jwks_with(qr/^rsa-1$/, $main::unusable[0])]]
--- config
    error_log $TEST_NGINX_SERVER_ROOT/logs/error.log debug;
    error_log $TEST_NGINX_SERVER_ROOT/logs/warnings.log warn;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys/$arg_tenant.json;
    }
    location /dav/ {
        alias $TEST_NGINX_HTML_DIR/keys/;
        dav_methods PUT;
    }
    location = /warnings {
        alias $TEST_NGINX_SERVER_ROOT/logs/warnings.log;
    }
--- request eval
["GET /api/index.html?tenant=a", "GET /api/index.html?tenant=a", "GET /api/index.html?tenant=a",
 "PUT /dav/a.json\n" . main::jwks_with(qr/^ec-256$/, $main::unusable[0]),
 "GET /api/index.html?tenant=a", "GET /api/index.html?tenant=a", "GET /warnings"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), main::bearer('es256.jwt'), "",
 main::bearer('rs256.jwt'), main::bearer('es256.jwt'), ""]
--- error_code eval
[200, 200, 401, 204, 401, 200, 200]
--- response_body_like eval
["", "", "", "", "", "",
 "\\A[^\\n]*keys/a\\.json\": key 0 \\(kid \"no-kty\"\\): no \"kty\", skipped[^\\n]*\\n[^\\n]*keys/a\\.json\": key 0 \\(kid \"no-kty\"\\): no \"kty\", skipped[^\\n]*\\n\\z"]



=== TEST 7: auth_jwt_key_request with variables: each URI's keys are kept apart
--- user_files eval
[["keys/a", main::jwks_with(qr/^rsa-1$/)], ["keys/b", main::jwks_with(qr/^ec-256$/)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks/$arg_tenant;
        auth_jwt_key_cache 1h;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /_jwks/ {
        internal;
        alias $TEST_NGINX_HTML_DIR/keys/;
    }
--- request eval
["GET /api/index.html?tenant=c", "GET /api/index.html?tenant=a", "GET /api/index.html?tenant=b",
 "GET /api/index.html?tenant=b", "GET /api/index.html?tenant=a"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), main::bearer('es256.jwt'),
 main::bearer('rs256.jwt')]
--- error_code eval
[500, 200, 401, 200, 200]
--- response_headers eval
["", "X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: ", "X-Jwt-Error: "]
--- error_log eval
[qr/\[error\] .*auth_jwt_key_request "\/_jwks\/c" failed: status 404/]
