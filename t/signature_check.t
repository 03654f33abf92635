# The test hook scripts/bench measures auth_jwt against: each request of the location runs the
# signature check of one token read with the configuration, and nothing else.
#
# Needs a module built with the `test-hooks` feature (scripts/test builds one for the vendored
# flavour) and TEST_NGINX_AUTH_RS_TEST_HOOKS=1.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use TestHooks;
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a token its key file verifies: every request is served, whatever it carries
--- config
    location /raw/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_rs_test_signature_check $TEST_NGINX_FIXTURES/jwt/es256.jwt $TEST_NGINX_FIXTURES/jwt/jwks.json;
    }
--- request eval
["GET /raw/index.html", "GET /raw/index.html"]
--- more_headers eval
["", "Authorization: Bearer garbage"]
--- error_code eval
[200, 200]
--- response_body eval
[qr/It works!/, qr/It works!/]
--- no_error_log
[error]



=== TEST 2: a token no key of the file verifies fails the configuration
--- config
    location /raw/ {
        auth_rs_test_signature_check $TEST_NGINX_FIXTURES/jwt/rs256.jwt $TEST_NGINX_FIXTURES/jwt/ec256.pem;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_rs_test_signature_check": signature verification failed in \S+nginx\.conf:\d+/



=== TEST 3: a file that is not a token fails the configuration
--- config
    location /raw/ {
        auth_rs_test_signature_check $TEST_NGINX_FIXTURES/jwt/jwks.json $TEST_NGINX_FIXTURES/jwt/jwks.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_rs_test_signature_check": malformed token: \S.* in \S+nginx\.conf:\d+/
