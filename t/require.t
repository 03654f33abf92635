# auth_require (NGINX Plus's): the request goes on only when every value is non-empty and not
# "0", else 403 or the directive's error=; after every access check, under satisfy any too.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: every value must be non-empty and not "0"; several directives, several codes
--- config
    location /a/ {
        auth_require $arg_x $arg_y;
        return 200 "ok";
    }
    location /b/ {
        auth_require $arg_x error=401;
        auth_require $arg_y error=404;
        alias $TEST_NGINX_HTML_DIR/;
    }
    location /c/ {
        satisfy any;
        allow all;
        auth_require $arg_x;
        alias $TEST_NGINX_HTML_DIR/;
    }
    location /d/ {
        auth_require $arg_x;
        location /d/open/ {
            auth_require off;
            alias $TEST_NGINX_HTML_DIR/;
        }
        alias $TEST_NGINX_HTML_DIR/;
    }
--- user_files
>>> index.html
page
--- request eval
["GET /b/?x=1&y=1", "GET /b/?x=1", "GET /b/?y=1", "GET /b/?x=0&y=1", "GET /c/?x=1", "GET /c/", "GET /d/?x=yes", "GET /d/", "GET /d/open/"]
--- error_code eval
[200, 404, 401, 401, 200, 403, 200, 403, 200]



=== TEST 2: a refusal is logged at info
--- request
GET /b/?x=1
--- error_code: 404
--- error_log eval
qr/\[info\] .*auth_require: access refused: a value is empty or "0"/



=== TEST 3: after an access check: the user auth_htpasswd admitted
--- user_files
>>> users
alice:{PLAIN}pw
bob:{PLAIN}pw
--- config
    location /admin/ {
        auth_htpasswd "admin";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
        auth_require $is_alice;
        alias $TEST_NGINX_HTML_DIR/;
    }
--- http_config
    map $remote_user $is_alice {
        alice 1;
    }
--- request eval
["GET /admin/users", "GET /admin/users", "GET /admin/users"]
--- more_headers eval
["Authorization: Basic YWxpY2U6cHc=", "Authorization: Basic Ym9iOnB3", "X-None: 1"]
--- error_code eval
[200, 403, 401]



=== TEST 4: values without variables, and bad codes, fail the configuration
--- config
    location /a/ {
        auth_require 1;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_require": "1" has no variables: it would decide the same for every request in \S+nginx\.conf:\d+/



=== TEST 5: error= must be a 4xx or 5xx code
--- config
    location /a/ {
        auth_require $arg_x error=302;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_require": error= must be a 4xx or 5xx code in \S+nginx\.conf:\d+/
