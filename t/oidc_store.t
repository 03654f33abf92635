# session_store: sessions kept in an oidc_session_zone, the cookie holding only a random id.
# Logout removes the session on the server; a reload keeps the zone; a refresh updates the
# stored session under the same id; a full zone drops the least recently used sessions.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
BEGIN { $ENV{TEST_OP_ACCESS_TOKEN_TTL} = 6 }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $http = TestOp::http_config(<<'_EOC_') . <<'_EOC_';
        session_store sessions;
        logout_uri /logout;
_EOC_
    oidc_session_zone zone=sessions:1m;
    oidc_session_zone zone=tiny:32k;
    oidc_provider big {
        issuer https://127.0.0.1:$TEST_NGINX_OP_TLS_PORT;
        client_id rp;
        client_secret rp-secret;
        redirect_uri /big/oidc_callback;
        scope openid bio;
        cookie_name BIG_SESSION;
        session_store tiny;
        ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
    }
_EOC_

our $config = <<'_EOC_';
    auth_oidc idp;
    add_header X-User "$oidc_claim_sub" always;
    add_header X-Error "$oidc_error" always;
    add_header X-Cookie "$http_cookie" always;
    location /app/ {
    }
    location /big/ {
        auth_oidc big;
    }
_EOC_

sub get {
    my ($path, $cookie, @more) = @_;
    return TestOp::http('-H', TestOp::quote("Cookie: $cookie"), @more,
        TestOp::quote("http://127.0.0.1:$TestOp::RpPort$path"));
}

sub json { ('-H', TestOp::quote('Accept: application/json')) }

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the cookie holds an id; the session admits, in every worker, and across a reload
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> app/index.html
app
>>> big/index.html
big
--- init
my ($cookie, $st) = TestOp::login('/app/', 'alice');
Test::More::is($st, 302, 'logged in');
Test::More::like($cookie, qr/^NGX_OIDC_SESSION=[\w-]{43}$/, 'the cookie is one id');
my %users;
for (1 .. 10) {
    my ($s, $h) = ::get('/app/', "a=1; $cookie");
    $users{"$s " . TestOp::header($h, 'X-User') . ' ' . TestOp::header($h, 'X-Cookie')}++;
}
Test::More::is(join(',', keys %users), '200 alice a=1', 'ten requests admitted, the id kept from the backend');
unless ($ENV{TEST_NGINX_USE_VALGRIND}) {
    my $servroot = $ENV{TEST_NGINX_SERVROOT} // "$FindBin::Bin/servroot";
    my $master = `cat $servroot/logs/nginx.pid`;
    chomp $master;
    kill 'HUP', $master;
    sleep 1;
    my ($s) = ::get('/app/', $cookie);
    Test::More::is($s, 200, 'a reload keeps the stored session');
}
my ($s, $h) = ::get('/app/', 'NGX_OIDC_SESSION=' . ('A' x 43), ::json());
Test::More::is("$s " . TestOp::header($h, 'X-Error'), '401 bad_session', 'an id of no session is refused');
($s, $h) = ::get('/app/', 'NGX_OIDC_SESSION=short', ::json());
Test::More::is("$s " . TestOp::header($h, 'X-Error'), '401 bad_session', 'and so is what is no id');
$::cookie = $cookie;
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: session refused: no such session in the store/,
 qr/\[info\] .*auth_oidc: session refused: the session id is not valid/]



=== TEST 2: logout removes the session from the store: its cookie, kept by an attacker, no longer admits
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my ($s, $h) = ::get('/logout', $cookie);
Test::More::is($s, 302, 'logged out');
Test::More::like($h, qr/^Set-Cookie: NGX_OIDC_SESSION=; /m, 'the cookie is expired');
($s, $h) = ::get('/app/', $cookie, ::json());
Test::More::is("$s " . TestOp::header($h, 'X-Error'), '401 bad_session', 'the old id is refused');
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 3: a new login gets a new id, and the old one ends
--- init
my ($first) = TestOp::login('/app/', 'alice');
my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $first; $login_cookie"), TestOp::quote($callback));
my $second = TestOp::set_cookies($h);
Test::More::ok($second =~ /^NGX_OIDC_SESSION=[\w-]{43}$/ && $second ne $first, 'a new id');
($s) = ::get('/app/', $second);
Test::More::is($s, 200, 'which admits');
($s) = ::get('/app/', $first, ::json());
Test::More::is($s, 401, 'the first no longer does');
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 4: a refresh updates the stored session under the same id
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my $before = TestOp::grants('refresh_token');
sleep 6;
my ($s, $h) = ::get('/app/', $cookie);
Test::More::is($s, 200, 'after the tokens expired, the session admits');
Test::More::is(TestOp::grants('refresh_token'), $before + 1, 'refreshed at the provider');
Test::More::ok(!TestOp::set_cookies($h), 'the browser keeps its cookie');
($s, $h) = ::get('/app/', $cookie);
Test::More::is($s, 200, 'which admits again');
Test::More::is(TestOp::grants('refresh_token'), $before + 1, 'with the new tokens, without another refresh');
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 5: large sessions in one short cookie; a full zone drops the least recently used
--- init
my @cookies;
for (1 .. 4) {
    my ($cookie, $st) = TestOp::login('/big/', 'big');
    push @cookies, $cookie;
}
Test::More::ok(!(grep { !/^BIG_SESSION=[\w-]{43}$/ } @cookies), 'sessions of 8 KB in one short cookie each');
my ($s, $h) = ::get('/big/', $cookies[-1]);
Test::More::is("$s " . TestOp::header($h, 'X-User'), '200 big', 'the last admits');
($s) = ::get('/big/', $cookies[0], ::json());
Test::More::is($s, 401, 'the first was dropped for room');
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401
--- error_log eval
qr/\[warn\] .*auth_oidc: oidc_session_zone "tiny" is full: \d+ sessions? dropped/
