# auth_oidc refreshes a session's tokens before they expire: once for the whole nginx, however
# many requests of the session arrive at once in however many workers, and the requests that
# still carry the old cookie get the new session; the test provider rotates refresh tokens and
# revokes the grant when one is used twice, so a second refresh would log the user out.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
BEGIN { $ENV{TEST_OP_ACCESS_TOKEN_TTL} = 8 }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_BURST_PORT} = TestIdp::port(0);

our $http = TestOp::http_config() . <<'_EOC_';
    # reuseport: the kernel spreads the burst's connections over both workers.
    log_format pids '$pid $status';
    server {
        listen 127.0.0.1:$TEST_NGINX_BURST_PORT reuseport;
        auth_oidc idp;
        access_log logs/burst.log pids;
        location /app/ {
            root $TEST_NGINX_HTML_DIR;
        }
    }
_EOC_

sub app { "http://127.0.0.1:$TestOp::RpPort/app/" }

sub session_of {
    my ($head) = @_;
    my ($value) = $head =~ /^Set-Cookie: (NGX_OIDC_SESSION=[\w-]+);/mi;
    return $value;
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: 50 requests at once in two workers, as the tokens are due: one refresh, nobody logged out
--- http_config eval: $::http
--- config
    auth_oidc idp;
    add_header X-Error $oidc_error always;
    location /app/ {
    }
--- user_files
>>> app/index.html
app
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
Test::More::like($cookie, qr/^NGX_OIDC_SESSION=/, 'logged in');
# The access token lives 8 s; a refresh is due in its last quarter.
select undef, undef, undef, 6.5;
my $urls = join ' ', ("http://127.0.0.1:$ENV{TEST_NGINX_BURST_PORT}/app/") x 50;
my @codes = grep { /^\d{3}$/ } split /\s+/, `curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 50 -H 'Cookie: $cookie' -o /dev/null -w '%{http_code} ' $urls 2>/dev/null`;
Test::More::is(scalar(@codes), 50, '50 requests');
Test::More::is(scalar(grep { $_ eq '200' } @codes), 50, 'all admitted');
my $servroot = $ENV{TEST_NGINX_SERVROOT} // "$FindBin::Bin/servroot";
my %pids = map { (split)[0] => 1 } grep { / 200$/ } `cat $servroot/logs/burst.log`;
# Under valgrind nginx runs as one process.
Test::More::is(scalar(keys %pids), $ENV{TEST_NGINX_USE_VALGRIND} ? 1 : 2, 'in both workers');
select undef, undef, undef, 1;
Test::More::is(TestOp::grants('refresh_token'), 1, 'exactly one refresh at the provider');
Test::More::unlike(TestOp::log_text(), qr/^(token_error|grant_revoked)/m, 'no refresh token used twice');

my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::app()));
Test::More::is($s, 200, 'the old cookie still admits');
my $new = ::session_of($h);
Test::More::ok($new && $new ne $cookie, 'and gets the new session');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $new"), TestOp::quote(::app()));
Test::More::is($s, 200, 'the new session admits');
Test::More::ok(!::session_of($h), 'without a new cookie');

# The rotated refresh token works in its turn.
select undef, undef, undef, 6.5;
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $new"), TestOp::quote(::app()));
Test::More::is($s, 200, 'the next refresh is due: still admitted');
select undef, undef, undef, 1;
Test::More::is(TestOp::grants('refresh_token'), 2, 'refreshed with the rotated token');
Test::More::unlike(TestOp::log_text(), qr/^(token_error|grant_revoked)/m, 'the grant lives');
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401
--- no_error_log
[error]



=== TEST 2: tokens that have expired: the request waits for the refresh
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my $before = TestOp::grants('refresh_token');
select undef, undef, undef, 8.5;
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::app()));
Test::More::is($s, 200, 'expired tokens: admitted once refreshed');
Test::More::ok(::session_of($h), 'with the new session');
Test::More::is(TestOp::grants('refresh_token'), $before + 1, 'one refresh');
--- request
GET /app/
--- error_code: 401
--- error_log eval
qr/\[info\] .*auth_oidc: tokens refreshed at "idp"/



=== TEST 3: the provider down: sessions go on, a refresh fails with a log line, a login in progress gets 502
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice');
TestOp::stop();
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::app()));
Test::More::is($s, 200, 'the session admits with the provider down');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 502, 'a callback whose code cannot be exchanged: 502');
Test::More::is(TestOp::header($h, 'X-Error'), 'provider_unavailable', '$oidc_error says why');
select undef, undef, undef, 6.5;
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::app()));
Test::More::is($s, 200, 'the tokens are due and cannot be refreshed: still admitted');
select undef, undef, undef, 0.5;
--- request
GET /app/
--- error_code: 401
--- error_log eval
[qr/\[error\] .*auth_oidc: login failed: the token endpoint: status 502/,
 qr/\[error\] .*auth_oidc: refreshing the tokens at "idp" failed: the token endpoint: status 502/]
