# auth_htpasswd_cache and auth_jwt_cache: what is verified once is answered from a per-worker
# cache; failures are never cached; a changed user file or another location's rules miss it.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

sub basic { 'Authorization: Basic ' . encode_base64(join(':', @_), '') }

sub token {
    open my $f, '<', "$FindBin::Bin/fixtures/jwt/$_[0]" or die $!;
    chomp(my $t = <$f>);
    return "Authorization: Bearer $t";
}

sub copy_users {
    open my $in, '<', "$FindBin::Bin/fixtures/all-formats.htpasswd" or die $!;
    local $/;
    my $data = <$in>;
    my $tmp = html_dir() . '/users.tmp';
    open my $out, '>', $tmp or die $!;
    print $out $data;
    close $out;
    rename $tmp, html_dir() . '/users' or die $!;
}

# A block without --- config runs in the nginx of the block before it, and Test::Nginx reads
# error.log from its start: blocks that check the log begin with an empty one.
sub fresh_error_log { truncate server_root() . '/logs/error.log', 0 or die "truncate: $!" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a bcrypt login is checked in the thread pool once
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
    }
--- init
main::copy_users();
--- request
GET /secret/index.html
--- more_headers eval
main::basic('bcrypt', 's3cret-pw')
--- error_code: 200
--- error_log
added to thread pool
--- no_error_log
verified from cache



=== TEST 2: then answered from the cache
--- init
main::fresh_error_log();
--- request
GET /secret/index.html
--- more_headers eval
main::basic('bcrypt', 's3cret-pw')
--- error_code: 200
--- error_log
auth_htpasswd: user "bcrypt" verified from cache
--- no_error_log
thread pool



=== TEST 3: a wrong password is not answered from the cache
--- init
main::fresh_error_log();
--- request
GET /secret/index.html
--- more_headers eval
main::basic('bcrypt', 'wrong')
--- error_code: 401
--- error_log
password mismatch
--- no_error_log
verified from cache



=== TEST 4: a new version of the user file misses the cache
--- init
main::fresh_error_log();
main::copy_users();
--- request
GET /secret/index.html
--- more_headers eval
main::basic('bcrypt', 's3cret-pw')
--- error_code: 200
--- error_log
added to thread pool
--- no_error_log
verified from cache



=== TEST 5: auth_htpasswd_cache off
--- http_config
    auth_htpasswd_cache off;
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
--- request eval
["GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('sha512', 's3cret-pw'), main::basic('sha512', 's3cret-pw')]
--- error_code eval
[200, 200]
--- no_error_log
verified from cache



=== TEST 6: a token is verified once per location, then answered from the cache
--- http_config
    auth_jwt_cache max=16 valid=10m;
--- config
    location /a/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "a";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        add_header X-Sub $jwt_claim_sub;
    }
    location /b/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "b";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        auth_jwt_issuer https://other.example;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request
GET /a/index.html
--- more_headers eval
main::token('es256.jwt')
--- error_code: 200
--- no_error_log
verified from cache



=== TEST 7: the second time from the cache, with the claims
--- init
main::fresh_error_log();
--- request
GET /a/index.html
--- more_headers eval
main::token('es256.jwt')
--- error_code: 200
--- response_headers
X-Sub: alice
--- error_log
auth_jwt: token verified from cache



=== TEST 8: another location's rules are not bypassed by the cache
--- init
main::fresh_error_log();
--- request
GET /b/index.html
--- more_headers eval
main::token('es256.jwt')
--- error_code: 401
--- response_headers
X-Jwt-Error: bad_issuer
--- no_error_log
verified from cache



=== TEST 9: cache directives: errors name file and line
--- http_config
    auth_jwt_cache max=0;
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_jwt_cache": invalid "max=0" in \S+nginx\.conf:\d+/



=== TEST 10: max is required
--- http_config
    auth_htpasswd_cache valid=1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_htpasswd_cache": "max" or "off" is required in \S+nginx\.conf:\d+/
