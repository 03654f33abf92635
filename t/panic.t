# A panic stops where nginx calls into the module: the request gets a 500 and an alert line
# saying what panicked and where, the worker lives on and the next request is served; a panic
# while reading a directive fails the configuration with file and line.
#
# Needs a module built with the `test-hooks` feature (scripts/test builds one for the vendored
# flavour) and TEST_NGINX_AUTH_RS_TEST_HOOKS=1.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use TestHooks;
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

sub slurp {
    open my $f, '<', "$FindBin::Bin/fixtures/jwt/$_[0]" or die "$_[0]: $!";
    local $/;
    my $data = <$f>;
    $data =~ s/\s+\z//;
    return $data;
}

sub bearer { "Authorization: Bearer " . slurp('hs256.jwt') }
sub basic { "Authorization: Basic " . encode_base64("$_[0]:s3cret-pw", '') }

no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: a panic in auth_jwt's handler: 500 with an alert, then the worker serves on
--- config
    location /jwt/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
    }
--- request eval
["GET /jwt/index.html", "GET /jwt/index.html", "GET /jwt/index.html"]
--- more_headers eval
[main::bearer() . "\nX-Test-Panic: auth_jwt", main::bearer(), ""]
--- error_code eval
[500, 200, 401]
--- response_body eval
[qr/500 Internal Server Error/, qr/It works!/, qr/401 Authorization Required/]
--- error_log eval
[qr/\[alert\] .*auth_jwt: internal error, request refused: panicked at src\/jwt\/handler.rs:\d+: test hook: auth_jwt/]
--- no_error_log
exited on signal
' panicked at



=== TEST 2: a panic in auth_htpasswd's handler
--- config
    location /basic/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "x";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
["GET /basic/index.html", "GET /basic/index.html"]
--- more_headers eval
[main::basic('plain') . "\nX-Test-Panic: auth_htpasswd", main::basic('plain')]
--- error_code eval
[500, 200]
--- error_log eval
[qr/\[alert\] .*auth_htpasswd: internal error, request refused: panicked at src\/htpasswd\/handler.rs:\d+: test hook: auth_htpasswd/]
--- no_error_log
exited on signal



=== TEST 3: a panic while checking a password in the thread pool
--- config
    location /basic/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "x";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
["GET /basic/index.html", "GET /basic/index.html"]
--- more_headers eval
[main::basic('bcrypt') . "\nX-Test-Panic: thread", main::basic('bcrypt')]
--- error_code eval
[500, 200]
--- error_log eval
[qr/\[alert\] .*auth_htpasswd: internal error in a thread: panicked at src\/htpasswd\/thread.rs:\d+: test hook: thread/]
--- no_error_log
exited on signal



=== TEST 4: a panic in a variable's get handler fails the variable, not the request
--- config
    location /jwt/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        add_header X-Sub $jwt_claim_sub;
    }
--- request eval
["GET /jwt/index.html", "GET /jwt/index.html"]
--- more_headers eval
[main::bearer() . "\nX-Test-Panic: variable", main::bearer()]
--- error_code eval
[200, 200]
--- response_headers eval
["!X-Sub", "X-Sub: alice"]
--- error_log eval
[qr/\[alert\] .*internal error in an auth_jwt variable: panicked at src\/jwt\/variables.rs:\d+: test hook: variable/]
--- no_error_log
exited on signal



=== TEST 5: a panic while reading a directive fails the configuration with file and line
--- config
    location / {
        auth_rs_test_panic;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*internal error while reading the directive: panicked at src\/test_hooks.rs:\d+: test hook: directive in \S+nginx.conf:\d+/
