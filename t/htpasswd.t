# auth_htpasswd: directives, hash formats, responses and log lines.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

sub basic { 'Authorization: Basic ' . encode_base64(join(':', @_), '') }

our @formats = map { /^([^#:][^:]*):/ ? $1 : () }
    do { open my $f, '<', "$FindBin::Bin/fixtures/all-formats.htpasswd" or die $!; <$f> };
die "fixture lost its users" unless @formats == 17;

# A block without --- config runs in the nginx of the block before it, and Test::Nginx reads
# error.log from its start: blocks that check the log begin with an empty one.
sub fresh_error_log { truncate server_root() . '/logs/error.log', 0 or die "truncate: $!" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: no credentials: 401 with an RFC 7617 challenge
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"
--- error_log
no user/password was provided for basic authentication



=== TEST 2: every hash format made by htpasswd, openssl passwd and mkpasswd is accepted
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
        add_header X-User $remote_user;
    }
--- request eval
[map { "GET /secret/index.html" } @main::formats]
--- more_headers eval
[map { main::basic($_, 's3cret-pw') } @main::formats]
--- error_code eval
[map { 200 } @main::formats]
--- response_headers eval
[map { "X-User: $_" } @main::formats]
--- response_body eval
[map { qr/It works!/ } @main::formats]
--- no_error_log
[error]



=== TEST 3: every hash format refuses a wrong password, and the log never shows it
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
[map { "GET /secret/index.html" } @main::formats]
--- more_headers eval
[map { main::basic($_, 'S3cret-pw') } @main::formats]
--- error_code eval
[map { 401 } @main::formats]
--- response_headers eval
[map { 'WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"' } @main::formats]
--- no_error_log
S3cret-pw
[crit]



=== TEST 3a: a wrong password is logged at error level, without the password
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('sha512-rounds', 'Wr0ng-pw')
--- error_code: 401
--- error_log eval
qr/\[error\].*user "sha512-rounds": password mismatch/
--- no_error_log
Wr0ng-pw



=== TEST 4: unknown user
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('nobody', 's3cret-pw')
--- error_code: 401
--- error_log eval
qr/user "nobody" was not found in "\S+all-formats\.htpasswd"/



=== TEST 5: non-ASCII user, password with a colon and spaces
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/utf8.htpasswd;
    }
--- request eval
["GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('jürgen', 'pä:ss wörd'), main::basic('jürgen', 'pä')]
--- error_code eval
[200, 401]



=== TEST 6: realm takes variables and is sent as an escaped quoted-string
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Zone $host \"q\" \\ end";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Zone localhost \"q\" \\ end", charset="UTF-8"



=== TEST 7: a realm that evaluates to "off" disables the check
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        set $realm off;
        if ($arg_protect) {
            set $realm "Restricted";
        }
        auth_htpasswd $realm;
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
["GET /secret/index.html", "GET /secret/index.html?protect=1"]
--- error_code eval
[200, 401]



=== TEST 8: inherited from server level; "off" in a nested location; file from http level
--- http_config
    auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
--- config
    auth_htpasswd "Server";
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        location /secret/open/ {
            alias $TEST_NGINX_HTML_DIR/;
            auth_htpasswd off;
        }
    }
--- request eval
["GET /secret/index.html", "GET /secret/open/index.html", "GET /secret/index.html"]
--- more_headers eval
["", "", main::basic('sha', 's3cret-pw')]
--- error_code eval
[401, 200, 200]
--- response_headers eval
['WWW-Authenticate: Basic realm="Server", charset="UTF-8"', '!WWW-Authenticate', '!WWW-Authenticate']



=== TEST 9: without a user file nothing is checked, as with auth_basic
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
    }
--- request
GET /secret/index.html
--- error_code: 200



=== TEST 10: limit_except protects only the other methods
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
        limit_except GET {
            auth_htpasswd "Writers";
        }
    }
--- request eval
["GET /secret/index.html", "POST /secret/index.html\nx", "POST /secret/index.html\nx"]
--- more_headers eval
["", "", main::basic('apr1', 's3cret-pw')]
--- error_code eval
[200, 401, 405]



=== TEST 11: satisfy any with allow: the address suffices
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        allow 127.0.0.1;
        deny all;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- error_code: 200
--- response_headers
!WWW-Authenticate



=== TEST 12: satisfy any with deny: credentials suffice, their absence is 401 (not 403)
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        deny all;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
["GET /secret/index.html", "GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
["", main::basic('md5crypt', 's3cret-pw'), main::basic('md5crypt', 'bad')]
--- error_code eval
[401, 200, 401]



=== TEST 13: satisfy all: deny wins over good credentials, allow does not replace them
--- config
    location /denied/ {
        alias $TEST_NGINX_HTML_DIR/;
        deny all;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
    location /allowed/ {
        alias $TEST_NGINX_HTML_DIR/;
        allow all;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
["GET /denied/index.html", "GET /allowed/index.html", "GET /allowed/index.html"]
--- more_headers eval
[main::basic('plain', 's3cret-pw'), "", main::basic('plain', 's3cret-pw')]
--- error_code eval
[403, 401, 200]



=== TEST 14: error_page 401 to a named location and to an internal URI
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
        error_page 401 = @login;
    }
    location @login {
        add_header X-Login yes always;
        return 302 /login?from=$uri;
    }
    location /page/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
        error_page 401 /denied.html;
    }
    location = /denied.html {
        internal;
        root $TEST_NGINX_HTML_DIR;
    }
--- user_files
>>> denied.html
please log in
--- request eval
["GET /secret/index.html", "GET /secret/index.html", "GET /page/index.html"]
--- more_headers eval
["", main::basic('ssha', 's3cret-pw'), ""]
--- error_code eval
[302, 200, 401]
--- response_headers eval
["Location: http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/login?from=/secret/index.html", "!X-Login", "WWW-Authenticate: Basic realm=\"Restricted\", charset=\"UTF-8\""]
--- response_body eval
[qr/302/, qr/It works!/, "please log in\n"]



=== TEST 15: auth_request in the same location: satisfy all needs both, satisfy any either
--- config
    location /all/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
        auth_request /verdict;
    }
    location /any/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
        auth_request /verdict;
    }
    location = /verdict {
        internal;
        if ($http_x_verdict = "ok") {
            return 204;
        }
        return 403;
    }
--- request eval
["GET /all/index.html", "GET /all/index.html", "GET /all/index.html", "GET /any/index.html", "GET /any/index.html", "GET /any/index.html"]
--- more_headers eval
[main::basic('bcrypt', 's3cret-pw') . "\nX-Verdict: ok", main::basic('bcrypt', 's3cret-pw'), "X-Verdict: ok", main::basic('bcrypt', 's3cret-pw'), "X-Verdict: ok", main::basic('bcrypt', 'bad')]
--- error_code eval
[200, 403, 401, 200, 200, 401]



=== TEST 16: auth_basic and auth_htpasswd in one location with satisfy any: either file admits
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        auth_basic "Restricted";
        auth_basic_user_file $TEST_NGINX_HTML_DIR/basic.htpasswd;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- user_files
>>> basic.htpasswd
basiconly:{PLAIN}other
--- request eval
["GET /secret/index.html", "GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('basiconly', 'other'), main::basic('sha512', 's3cret-pw'), main::basic('sha512', 'other')]
--- error_code eval
[200, 200, 401]



=== TEST 17: $remote_user reaches the access log
--- http_config
    log_format who "$remote_user $status";
--- config
    access_log $TEST_NGINX_HTML_DIR/who.log who;
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
    location = /who.log {
        root $TEST_NGINX_HTML_DIR;
        access_log off;
    }
--- request eval
["GET /secret/index.html", "GET /secret/index.html", "GET /who.log"]
--- more_headers eval
[main::basic('yescrypt', 's3cret-pw'), main::basic('yescrypt', 'nope'), ""]
--- error_code eval
[200, 401, 200]
--- response_body eval
[qr/It works!/, qr/401/, "yescrypt 200\nyescrypt 401\n"]



=== TEST 18: a missing user file is 403, as with auth_basic
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/missing.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('plain', 's3cret-pw')
--- error_code: 403
--- error_log eval
qr/\[error\].*open\(\) "\S+missing\.htpasswd" failed \(2: No such file or directory\)/



=== TEST 19: a user file that cannot be read is 500, logged at crit
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('plain', 's3cret-pw')
--- error_code: 500
--- error_log eval
qr/\[crit\].*open\(\) "\S+html\/" failed/



=== TEST 20: the user file path takes variables
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/$arg_f.htpasswd;
    }
--- request eval
["GET /secret/index.html?f=utf8", "GET /secret/index.html?f=all-formats", "GET /secret/index.html?f=utf8"]
--- more_headers eval
[main::basic('jürgen', 'pä:ss wörd'), main::basic('des', 's3cret-pw'), main::basic('des', 's3cret-pw')]
--- error_code eval
[200, 200, 401]



=== TEST 21: lines that cannot be used get one warning each, naming file and line
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/$arg_f;
    }
--- user_files
>>> users
# comment line

alice:{PLAIN}one
no colon here
:{PLAIN}nouser
bob:$apr1$short$bad
alice:{PLAIN}two
carol:{PLAIN}three:Carol, with a comment field
--- request
GET /secret/index.html?f=users
--- more_headers eval
main::basic('alice', 'one')
--- error_code: 200
--- error_log eval
[qr/\[warn\].*"\S+\/users":4: no ':' after the user name, line skipped/,
 qr/\[warn\].*"\S+\/users":5: empty user name, line skipped/,
 qr/\[warn\].*"\S+\/users":6: malformed apr1 hash, user "bob" is refused/,
 qr/\[warn\].*"\S+\/users":7: duplicate user, the first entry is used, line skipped/]



=== TEST 21a: the first of duplicate users wins, the comment field is ignored, nothing is re-read
--- init
main::fresh_error_log();
--- request eval
["GET /secret/index.html?f=users", "GET /secret/index.html?f=users", "GET /secret/index.html?f=users"]
--- more_headers eval
[main::basic('alice', 'two'), main::basic('carol', 'three'), main::basic('bob', 'x')]
--- error_code eval
[401, 200, 401]
--- no_error_log
line skipped



=== TEST 22: auth_delay holds back a 401 from auth_htpasswd as it does for auth_basic
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_delay 100ms;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('plain', 'wrong')
--- error_code: 401
--- error_log
delaying unauthorized request



=== TEST 23: bcrypt, SHA-crypt and yescrypt are checked in the thread pool "default"
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('bcrypt', 's3cret-pw')
--- error_code: 200
--- error_log eval
qr/added to thread pool "default"/



=== TEST 24: a wrong password through the thread pool is still a 401 with the challenge
--- init
main::fresh_error_log();
--- request
GET /secret/index.html
--- more_headers eval
main::basic('yescrypt', 'wrong')
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"
--- error_log eval
[qr/added to thread pool "default"/, qr/user "yescrypt": password mismatch/]



=== TEST 25: fast hashes stay in the event loop
--- init
main::fresh_error_log();
--- request
GET /secret/index.html
--- more_headers eval
main::basic('apr1', 's3cret-pw')
--- error_code: 200
--- no_error_log
thread pool



=== TEST 26: an unknown user's password is checked against a real hash all the same
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/utf8.htpasswd;
    }
--- request
GET /secret/index.html
--- more_headers eval
main::basic('nobody', 'whatever')
--- error_code: 401
--- error_log eval
[qr/added to thread pool "default"/, qr/user "nobody" was not found in "\S+utf8\.htpasswd"/]



=== TEST 27: a user whose first line has an unusable hash is refused like a wrong password, later lines notwithstanding
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
    }
--- user_files eval
[['users', "first:\$2y\$04\$Yxr4IsYICh.tNJV7HIDcoe/JRLdwqglp1/svvkzQAhaf30hs8mKIK\n"
    . "gone:!{PLAIN}old\ngone:{PLAIN}old\n"]]
--- request
GET /secret/index.html
--- more_headers eval
main::basic('gone', 'old')
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"
--- error_log eval
[qr/\[warn\].*"\S+\/users":2: unsupported password hash format, user "gone" is refused/,
 qr/added to thread pool "default"/,
 qr/\[error\].*user "gone": password mismatch, the hash in "\S+\/users":2 cannot be used/]
