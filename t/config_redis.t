# Configuration errors of auth_redis, and of the providers that name one, fail the start (and
# `nginx -t`) with the reason, file and line.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a store with neither server nor sentinel
--- http_config
    auth_redis shared {
        timeout 1s;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" has neither "server" nor "sentinel" in \S+nginx\.conf:\d+/



=== TEST 2: server and sentinel both
--- http_config
    auth_redis shared {
        server 127.0.0.1:6379;
        sentinel 127.0.0.1:26379;
        sentinel_master mymaster;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" has both "server" and "sentinel" in \S+nginx\.conf:\d+/



=== TEST 3: sentinel without sentinel_master
--- http_config
    auth_redis shared {
        sentinel 127.0.0.1:26379 127.0.0.1:26380;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" has "sentinel" without "sentinel_master" in \S+nginx\.conf:\d+/



=== TEST 4: an address that is none
--- http_config
    auth_redis shared {
        server 127.0.0.1;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"server": invalid address "127\.0\.0\.1"; it must be host:port or unix:\/path in \S+nginx\.conf:\d+/



=== TEST 5: a password file that cannot be read
--- http_config
    auth_redis shared {
        server 127.0.0.1:6379;
        password_file /nonexistent/redis.pass;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"password_file": cannot read "\/nonexistent\/redis\.pass": .* in \S+nginx\.conf:\d+/



=== TEST 6: username without password_file, and ssl_trusted_certificate with tls off
--- http_config
    auth_redis shared {
        server 127.0.0.1:6379;
        username nginx;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" has "username" without "password_file" in \S+nginx\.conf:\d+/



=== TEST 7: ssl_trusted_certificate with tls off
--- http_config
    auth_redis shared {
        server 127.0.0.1:6379;
        ssl_trusted_certificate ../html/ca.crt;
    }
--- config
--- user_files
>>> ca.crt
x
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" has "ssl_trusted_certificate" with "tls off" in \S+nginx\.conf:\d+/



=== TEST 8: a directive auth_redis does not know, and a bad timeout
--- http_config
    auth_redis shared {
        server 127.0.0.1:6379;
        timeout soon;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"timeout": invalid value "soon" in \S+nginx\.conf:\d+/



=== TEST 9: two stores of one name
--- http_config
    auth_redis shared {
        server 127.0.0.1:6379;
    }
    auth_redis shared {
        server 127.0.0.1:6380;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" is duplicate in \S+nginx\.conf:\d+/



=== TEST 10: an auth_redis and an oidc_session_zone of one name
--- http_config
    oidc_session_zone zone=shared:1m;
    auth_redis shared {
        server 127.0.0.1:6379;
    }
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis" "shared": an oidc_session_zone has the same name, in \S+nginx\.conf:\d+/



=== TEST 11: cluster names no auth_redis
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        cluster nowhere;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider" "idp": cluster "nowhere": no auth_redis "nowhere" in \S+nginx\.conf:\d+/



=== TEST 12: cluster and session_store name different stores
--- http_config
    auth_redis one {
        server 127.0.0.1:6379;
    }
    auth_redis two {
        server 127.0.0.1:6380;
    }
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        session_store one;
        cluster two;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider" "idp": cluster "two" and session_store "one" name different stores in \S+nginx\.conf:\d+/



=== TEST 13: tls on with a unix socket
--- http_config
    auth_redis shared {
        server unix:/run/redis.sock;
        tls on;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_redis": "shared" has "tls on" with a unix: socket in \S+nginx\.conf:\d+/



=== TEST 14: a full store block is accepted, and nginx starts while the server is away
--- http_config
    auth_redis shared {
        server 127.0.0.1:1;
        username nginx;
        password_file ../html/redis.pass;
        database 2;
        timeout 200ms;
        prefix "site-a:";
    }
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        session_store shared;
    }
--- config
    location = /t {
        return 200 "up";
    }
--- user_files
>>> redis.pass
secret
--- request
GET /t
--- response_body: up
