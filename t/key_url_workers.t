# auth_jwt_key_url with two workers: one fetch for the whole nginx, at start and for tokens with
# unknown kids; the other worker takes the keys from the shared zone.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# Tokens whose kids no key has, as a flood of made-up kids would send.
our @strangers = map { main::bearer('es384.jwt') } 1 .. 8;

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: two workers fetch once at start and once when the keys rotate, whatever the flood of unknown kids
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
        dav_methods PUT;
        access_log logs/idp.log;
    }
    location = /idp-log {
        alias logs/idp.log;
    }
--- request eval
[("GET /api/index.html") x 2,
 "PUT /idp/keys.json\n" . main::jwks_with(qr/^(rsa-1|ec-256)$/),
 ("GET /api/index.html") x 12,
 "GET /idp-log"]
--- more_headers eval
[(main::bearer('rs256.jwt')) x 2, "", (main::bearer('es256.jwt')) x 4, @main::strangers, ""]
--- error_code eval
[200, 200, 204, (200) x 4, (401) x 8, 200]
--- response_body_like eval
[("") x 15, qr/\A[^\n]*"GET \/idp\/keys\.json[^\n]*\n[^\n]*"PUT [^\n]*\n[^\n]*"GET \/idp\/keys\.json[^\n]*\n\z/]
--- no_error_log
[error]
