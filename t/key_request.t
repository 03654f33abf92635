# auth_jwt_key_request: keys from JWK Sets that subrequests fetch; failures, rotation,
# auth_jwt_key_cache, and keys from files alongside.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;
use MIME::Base64 ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: keys from a subrequest verify tokens; no token, no subrequest
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
        add_header X-Jwt-Error $jwt_error always;
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_KEYS/jwks.json;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html", "GET /api/index.html",
 "GET /api/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('es256.jwt'), main::bearer('eddsa.jwt'),
 "Authorization: Bearer " . (main::slurp('rs256.jwt') =~ s/.{4}$/AAAA/r), ""]
--- error_code eval
[200, 200, 200, 401, 401]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: ", "X-Jwt-Error: ", "X-Jwt-Error: bad_signature", "X-Jwt-Error: missing"]



=== TEST 2: the subrequest is a GET whatever the client's method
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
        proxy_pass http://127.0.0.1:$TEST_NGINX_SERVER_PORT/echo/;
    }
    location /echo/ {
        return 200 "$request_method\n";
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_KEYS/jwks.json;
    }
--- request
POST /api/x
hello
--- more_headers eval
main::bearer('rs256.jwt')
--- response_body
POST



=== TEST 3: a key request that fails answers 500 and says why
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_missing;
    }
    location = /_missing {
        internal;
        alias $TEST_NGINX_HTML_DIR/no-such-file.json;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer('rs256.jwt')
--- error_code: 500
--- error_log eval
qr/\[error\] .*auth_jwt_key_request "\/_missing" failed: status 404/



=== TEST 4: a JWK Set larger than subrequest_output_buffer_size: nginx closes the connection
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
    }
    location = /_jwks {
        internal;
        subrequest_output_buffer_size 512;
        alias $TEST_NGINX_KEYS/jwks.json;
    }
--- request
GET /api/index.html
--- more_headers eval
main::bearer('rs256.jwt')
--- ignore_response
--- error_log eval
qr/\[error\] .*too big subrequest response: 1020 .*subrequest: "\/_jwks"/
--- no_error_log
[alert]



=== TEST 5: a body that is not a JWK Set
--- user_files
>>> keys.json
<html>Sign in</html>
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
--- request
GET /api/index.html
--- more_headers eval
main::bearer('rs256.jwt')
--- error_code: 500
--- error_log eval
qr/\[error\] .*auth_jwt_key_request "\/_jwks": not a JWK Set/



=== TEST 6: rotation: a withdrawn key stops verifying at once (with its algorithm, unless
auth_jwt_algorithms names it), a failed fetch keeps the keys fetched before, auth_jwt_key_cache
spares the subrequest
--- user_files eval
[["keys/jwks.json", main::slurp('jwks.json')]]
--- config
    location /fresh/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /cached/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
        auth_jwt_key_cache 1h;
        add_header X-Jwt-Error $jwt_error always;
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_HTML_DIR/keys/jwks.json;
    }
    location /dav/ {
        alias $TEST_NGINX_HTML_DIR/keys/;
        dav_methods PUT;
    }
--- request eval
["GET /fresh/index.html", "GET /cached/index.html",
 "PUT /dav/jwks.json\n" . main::jwks_with(qr/^ec-/),
 "GET /fresh/index.html", "GET /cached/index.html", "GET /fresh/index.html",
 "PUT /dav/jwks.json\n{\"keys\": 42}",
 "GET /fresh/index.html"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), "", main::bearer('rs256.jwt'),
 main::bearer('rs256.jwt'), main::bearer('es256.jwt'), "", main::bearer('es256.jwt')]
--- error_code eval
[200, 200, 204, 401, 200, 200, 204, 200]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: ", "", "X-Jwt-Error: alg_not_allowed", "X-Jwt-Error: ", "X-Jwt-Error: ",
 "", "X-Jwt-Error: "]
--- no_error_log
[alert]
[crit]



=== TEST 7: the fallback is logged once for the same unusable body, which is not parsed again
--- user_files eval
[["keys/jwks.json", main::slurp('jwks.json')]]
--- config
    error_log $TEST_NGINX_SERVER_ROOT/logs/error.log debug;
    error_log $TEST_NGINX_SERVER_ROOT/logs/warnings.log warn;
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_HTML_DIR/keys/jwks.json;
    }
    location = /warnings {
        alias $TEST_NGINX_SERVER_ROOT/logs/warnings.log;
    }
--- init
# The worker fetches the keys once; then the JWK Set is spoilt.
my $sock = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port()) or die "connect: $!";
print $sock "GET /api/index.html HTTP/1.0\r\nHost: localhost\r\n" . main::bearer('rs256.jwt') . "\r\n\r\n";
my $response = do { local $/; <$sock> };
die "warm-up: $response" unless $response =~ m{^HTTP/1\.1 200};
open my $out, '>', html_dir() . '/keys/jwks.json' or die $!;
print $out "not json";
close $out;
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /warnings"]
--- more_headers eval
[main::bearer('rs256.jwt'), main::bearer('rs256.jwt'), ""]
--- error_code eval
[200, 200, 200]
--- response_body_like eval
["", "", "\\A[^\\n]*not a JWK Set[^\\n]*\\n[^\\n]*using the keys fetched before[^\\n]*\\n\\z"]
--- error_log eval
[qr/\[error\] .*auth_jwt_key_request "\/_jwks": not a JWK Set/,
 qr/\[warn\] .*auth_jwt_key_request "\/_jwks": using the keys fetched before/]



=== TEST 8: keys from a file and from a subrequest together; the algorithms follow both
--- user_files eval
[["ec.json", main::jwks_with(qr/^ec-256$/)]]
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_key_request /_jwks;
        add_header X-Jwt-Error $jwt_error always;
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_HTML_DIR/ec.json;
    }
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[main::bearer('hs256.jwt'), main::bearer('es256.jwt'), main::bearer('rs256.jwt')]
--- error_code eval
[200, 200, 401]
--- response_headers eval
["X-Jwt-Error: ", "X-Jwt-Error: ", "X-Jwt-Error: alg_not_allowed"]



=== TEST 9: a URI that is not one
--- config
    location /api/ {
        auth_jwt "api";
        auth_jwt_key_request _jwks;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_request": invalid URI "_jwks"; it must start with "\/" in \S+nginx\.conf:\d+/



=== TEST 10: satisfy any with auth_htpasswd: a password or a string that is no JWS needs no
fetch, a token waits for it
--- http_config
    log_format fetch '$uri';
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        auth_htpasswd "api";
        auth_htpasswd_user_file $TEST_NGINX_KEYS/../all-formats.htpasswd;
        auth_jwt "api";
        auth_jwt_key_request /_jwks;
    }
    location = /_jwks {
        internal;
        alias $TEST_NGINX_KEYS/jwks.json;
        log_subrequest on;
        access_log $TEST_NGINX_SERVER_ROOT/logs/jwks.log fetch;
    }
    location = /fetches {
        alias $TEST_NGINX_SERVER_ROOT/logs/jwks.log;
    }
--- request eval
["GET /api/index.html", "GET /fetches", "GET /api/index.html", "GET /fetches", "GET /api/index.html",
 "GET /fetches", "GET /api/index.html"]
--- more_headers eval
["Authorization: Basic " . MIME::Base64::encode_base64('plain:s3cret-pw', ''), "",
 "Authorization: Bearer not-a-token", "", main::bearer('rs256.jwt'), "", ""]
--- error_code eval
[200, 200, 401, 200, 200, 200, 401]
--- response_body_like eval
["It works", "^\$", "401", "^\$", "It works", "^/_jwks\n\$", "401"]
