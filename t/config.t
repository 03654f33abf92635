# Configuration errors fail the start (and `nginx -t`) naming file, line and reason; problems
# in a user file named without variables are reported while the configuration is read.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

no_shuffle();
run_tests();

__DATA__

=== TEST 1: auth_htpasswd twice in one location
--- config
    location /secret/ {
        auth_htpasswd "One";
        auth_htpasswd "Two";
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_htpasswd" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 2: auth_htpasswd_user_file twice in one location
--- config
    location /secret/ {
        auth_htpasswd_user_file /a;
        auth_htpasswd_user_file /b;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_htpasswd_user_file" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 3: no argument
--- config
    location /secret/ {
        auth_htpasswd;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid number of arguments in "auth_htpasswd" directive in \S+nginx\.conf:\d+/



=== TEST 4: two arguments
--- config
    location /secret/ {
        auth_htpasswd_user_file /a /b;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*invalid number of arguments in "auth_htpasswd_user_file" directive in \S+nginx\.conf:\d+/



=== TEST 5: an unknown variable
--- config
    location /secret/ {
        auth_htpasswd_user_file /etc/$no_such_variable;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*unknown "no_such_variable" variable/



=== TEST 6: not allowed inside "if", like auth_basic
--- config
    location /secret/ {
        if ($arg_x) {
            auth_htpasswd "Restricted";
        }
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_htpasswd" directive is not allowed here in \S+nginx\.conf:\d+/



=== TEST 7: lines of a static user file that cannot be used are reported at startup with the directive's place
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/malformed.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers
Authorization: Basic b2s6Z29vZA==
--- error_code: 200
--- error_log eval
[qr/\[warn\].*"\S+malformed\.htpasswd":2: no ':' after the user name, line skipped in \S+nginx\.conf:\d+/,
 qr/\[warn\].*"\S+malformed\.htpasswd":3: unsupported password hash format, user "plaintext" is refused in \S+nginx\.conf:\d+/]



=== TEST 8: a user file missing at startup is not a configuration error
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/not-yet.htpasswd;
    }
--- request
GET /secret/index.html
--- error_code: 401
--- no_error_log
[warn]
[emerg]
