# auth_jwt_key_url: keys fetched by the worker from an identity provider, over https with a CA
# made for the test, through discovery and nginx's resolver (dnsmasq), followed when they
# rotate, kept when the provider fails; certificates, answers and servers that are refused.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;
use TestIdp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

# The provider of most blocks: the same nginx, on its own port, over https.
our $idp = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_IDP_PORT ssl;
        ssl_certificate $TEST_NGINX_PKI/idp.crt;
        ssl_certificate_key $TEST_NGINX_PKI/idp.key;
        access_log logs/idp.log;
        location = /.well-known/openid-configuration {
            default_type application/json;
            return 200 '{"issuer":"https://127.0.0.1:$TEST_NGINX_IDP_PORT","jwks_uri":"/jwks.json"}';
        }
        location = /jwks.json {
            alias $TEST_NGINX_KEYS/jwks.json;
        }
        location = /slow {
            alias $TEST_NGINX_KEYS/jwks.json;
            limit_rate 1k;
        }
        location = /500 { return 500; }
        location = /garbage { return 200 "garbage"; }
        location = /no-keys { return 200 '{"issuer":"x"}'; }
        location = /big { alias $TEST_NGINX_HTML_DIR/big.json; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_STRANGER_PORT ssl;
        ssl_certificate $TEST_NGINX_PKI/stranger.crt;
        ssl_certificate_key $TEST_NGINX_PKI/stranger.key;
        location / { alias $TEST_NGINX_KEYS/jwks.json; }
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_MISNAMED_PORT ssl;
        ssl_certificate $TEST_NGINX_PKI/misnamed.crt;
        ssl_certificate_key $TEST_NGINX_PKI/misnamed.key;
        location / { alias $TEST_NGINX_KEYS/jwks.json; }
    }
_EOC_

no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: keys at start through a discovery document over https
--- http_config eval: $::idp
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/.well-known/openid-configuration;
        add_header X-Jwt-Error $jwt_error always;
    }
--- log_level: info
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('es256.jwt'), "Authorization: Bearer e30.e30.e30"]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: ", "X-Jwt-Error: malformed"]
--- error_log eval
qr/\[info\] .*auth_jwt_key_url: "https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration": 5 keys in use/
--- no_error_log
[error]



=== TEST 2: a slow provider: the first request waits for the first fetch instead of failing
--- http_config eval: $::idp
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/slow;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer('rs256.jwt')
--- error_code: 200
--- no_error_log
[error]



=== TEST 3: a host name through nginx's resolver, its certificate checked against the name
--- http_config eval: $::idp
--- config
    resolver 127.0.0.1:$TEST_NGINX_DNS_PORT ipv6=off;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
        auth_jwt_key_url https://idp.test:$TEST_NGINX_IDP_PORT/jwks.json;
    }
    location /misnamed/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
        auth_jwt_key_url https://idp.test:$TEST_NGINX_MISNAMED_PORT/;
    }
--- request eval
["GET /misnamed/index.html", "GET /api/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt')]
--- error_code eval
[500, 200]
--- error_log eval
qr/\[error\] .*auth_jwt_key_url: fetching "https:\/\/idp\.test:\d+\/" failed: SSL to 127\.0\.0\.1:\d+: SSL certificate verify error: \(62:hostname mismatch\)/



=== TEST 4: certificates that are refused: unknown CA, the system's CAs, a wrong address
--- http_config eval: $::idp
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_STRANGER_PORT/;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_MISNAMED_PORT/;
    }
    location /system/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/jwks.json;
    }
--- request eval
["GET /api/index.html", "GET /system/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt')]
--- error_code eval
[500, 500]
--- error_log eval
[qr/\[error\] .*fetching "https:\/\/127\.0\.0\.1:$ENV{TEST_NGINX_STRANGER_PORT}\/" failed: SSL to \S+: SSL certificate verify error: \(\d+:unable to (?:get local issuer certificate|verify the first certificate)\)/,
 qr/\[error\] .*fetching "https:\/\/127\.0\.0\.1:$ENV{TEST_NGINX_MISNAMED_PORT}\/" failed: SSL to \S+: SSL certificate verify error: \(64:IP address mismatch\)/,
 qr/\[error\] .*auth_jwt: no keys to verify the token with/]
--- no_error_log
[alert]



=== TEST 5: a provider that answers badly or not at all: each URL logged, 500 without any key
--- http_config eval: $::idp
--- user_files eval
[["big.json", '{"keys":[' . ('{"kty":"oct","k":"c2VjcmV0"},' x 10000) . '{}]}']]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/500;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/garbage;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/no-keys;
        auth_jwt_key_url https://127.0.0.1:$TEST_NGINX_IDP_PORT/big;
        auth_jwt_key_url http://127.0.0.1:$TEST_NGINX_SILENT_PORT/jwks timeout=1s;
        auth_jwt_key_url http://127.0.0.1:$TEST_NGINX_CLOSED_PORT/jwks;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer('rs256.jwt')
--- error_code: 500
--- error_log eval
[qr/\[error\] .*fetching "https:\/\/\S+\/500" failed: "https:\/\/\S+\/500" answered 500/,
 qr/\[error\] .*fetching "https:\/\/\S+\/garbage" failed: "https:\/\/\S+\/garbage": not JSON/,
 qr/\[error\] .*fetching "https:\/\/\S+\/no-keys" failed: "\S+": neither a JWK Set \("keys"\) nor a discovery document \("jwks_uri"\)/,
 qr/\[error\] .*fetching "https:\/\/\S+\/big" failed: response body is larger than 262144 bytes/,
 qr/\[error\] .*fetching "http:\/\/127\.0\.0\.1:$ENV{TEST_NGINX_SILENT_PORT}\/jwks" failed: timed out/,
 qr/\[error\] .*fetching "http:\/\/127\.0\.0\.1:$ENV{TEST_NGINX_CLOSED_PORT}\/jwks" failed: connect\(\) to 127\.0\.0\.1:\d+ failed/]
--- no_error_log
[alert]



=== TEST 6: rotation without a reload: an unknown kid fetches again, once per cooldown; a withdrawn key stops at once
--- user_files eval
[["idp/keys.json", main::jwks_with(qr/^rsa-1$/)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/idp/keys.json;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /idp/ {
        root $TEST_NGINX_HTML_DIR;
        dav_methods PUT;
        access_log logs/idp.log;
    }
    location = /idp-log {
        alias logs/idp.log;
    }
--- request eval
["GET /api/index.html",
 "PUT /idp/keys.json\n" . main::jwks_with(qr/^ec-256$/),
 "GET /api/index.html",
 "GET /api/index.html",
 "GET /api/index.html",
 "GET /idp-log"]
--- more_headers eval
[main::bearer('rs256.jwt'), "", main::bearer('es256.jwt'), main::bearer('rs256.jwt'), main::bearer('es384.jwt'), ""]
--- error_code eval
[200, 204, 200, 401, 401, 200]
--- response_headers eval
["X-Jwt-Error: ", "", "X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: alg_not_allowed", ""]
--- response_body_like eval
["", "", "", "", "", qr/\A[^\n]*"GET \/idp\/keys\.json[^\n]*\n[^\n]*"PUT [^\n]*\n[^\n]*"GET \/idp\/keys\.json[^\n]*\n\z/]
--- no_error_log
[error]



=== TEST 7: the provider fails: the keys fetched before stay in use
--- user_files eval
[["idp/keys.json", main::jwks_with(qr/^rsa-1$/)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_url http://127.0.0.1:$TEST_NGINX_SERVER_PORT/idp/keys.json;
    }
    location /idp/ {
        root $TEST_NGINX_HTML_DIR;
        dav_methods DELETE;
        access_log logs/idp.log;
    }
    location = /idp-log {
        alias logs/idp.log;
    }
--- request eval
["GET /api/index.html", "DELETE /idp/keys.json", "GET /api/index.html", "GET /api/index.html", "GET /idp-log"]
--- more_headers eval
[main::bearer('rs256.jwt'), "", main::bearer('es256.jwt'), main::bearer('rs256.jwt'), ""]
--- error_code eval
[200, 204, 401, 200, 200]
--- response_body_like eval
["", "", "", "", qr/"GET \/idp\/keys\.json HTTP\/1\.1" 200 .*"DELETE .*"GET \/idp\/keys\.json HTTP\/1\.1" 404 /s]



=== TEST 8: a malformed URL
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_url ftp://idp.example/keys;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_url": invalid URL "ftp:\/\/idp\.example\/keys": the scheme must be "https:\/\/" or "http:\/\/" in \S+nginx\.conf:\d+/



=== TEST 9: an unknown parameter
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_url https://127.0.0.1/keys refresh=0;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_url": invalid parameter "refresh=0" in \S+nginx\.conf:\d+/



=== TEST 10: a host name without a resolver
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_url https://idp.example/keys;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_url": no resolver defined to resolve "idp\.example"; add "resolver" or use an address in \S+nginx\.conf:\d+/



=== TEST 11: a trusted certificate file that cannot be read
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_ssl_trusted_certificate /nonexistent/ca.crt;
        auth_jwt_key_url https://127.0.0.1/keys;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_ssl_trusted_certificate": cannot read "\/nonexistent\/ca\.crt": No such file or directory \(os error 2\) in \S+nginx\.conf:\d+/
