# Back-channel logout: the provider POSTs a logout token to backchannel_logout_uri, and from then
# on every worker refuses the session it names, whatever cookie the browser kept; logout tokens
# that are forged, replayed or not logout tokens are refused with 400.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_BURST_PORT} = TestIdp::port(0);

our $http = TestOp::http_config(<<'_EOC_') . <<'_EOC_';
        logout_uri /logout;
        post_logout_uri /bye;
        backchannel_logout_uri /backchannel;
        frontchannel_logout_uri /frontchannel;
_EOC_
    # reuseport: the kernel spreads the connections over both workers.
    server {
        listen 127.0.0.1:$TEST_NGINX_BURST_PORT reuseport;
        auth_oidc idp;
        location /app/ {
            root $TEST_NGINX_HTML_DIR;
            add_header X-Sid $oidc_claim_sid;
        }
    }
_EOC_

sub rp { "http://127.0.0.1:$TestOp::RpPort$_[0]" }

# The statuses of 20 requests at once with $cookie, in both workers.
sub burst {
    my ($cookie) = @_;
    my $urls = join ' ', ("http://127.0.0.1:$ENV{TEST_NGINX_BURST_PORT}/app/") x 20;
    my @codes = grep { /^\d{3}$/ } split /\s+/,
        `curl -s --no-progress-meter -Z --parallel-immediate -H 'Cookie: $cookie' -H 'Accept: application/json' -o /dev/null -w '%{http_code} ' $urls 2>/dev/null`;
    my %seen;
    $seen{$_}++ for @codes;
    return join ' ', map { "$_ x$seen{$_}" } sort keys %seen;
}

sub logout_token {
    my (%claims) = @_;
    my $now = time;
    my %all = (iss => $TestOp::Issuer, aud => 'rp', iat => $now, exp => $now + 3600,
        jti => "jti-" . rand(), events => '{"http://schemas.openid.net/event/backchannel-logout":{}}',
        %claims);
    my $json = '{' . join(',', map {
        my $v = $all{$_};
        qq("$_":) . ($v =~ /^(\d+|\{.*\})$/ ? $v : qq("$v"))
    } grep { defined $all{$_} } sort keys %all) . '}';
    return $json;
}

sub post_token {
    my ($token) = @_;
    my ($s) = TestOp::http('--data-urlencode', TestOp::quote("logout_token=$token"), TestOp::quote(rp('/backchannel')));
    return $s;
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the provider's back-channel logout ends the session in every worker; a new login works
--- http_config eval: $::http
--- config
    auth_oidc idp;
    location /app/ {
    }
    location = /bye {
        auth_oidc off;
        return 200 "bye";
    }
--- user_files
>>> app/index.html
app
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my $jar = $TestOp::LastJar;
Test::More::is(::burst($cookie), '200 x20', 'the session admits in both workers');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::rp('/logout')));
Test::More::is($s, 302, 'logout_uri sends the browser to the provider');
my $back = TestOp::provider_logout(TestOp::header($h, 'Location'), $jar);
Test::More::like($back, qr{/bye$}, 'which sends it back to post_logout_uri');
Test::More::like(TestOp::log_text(), qr/^backchannel_logout client=rp /m,
    'the provider POSTed a logout token to backchannel_logout_uri');
Test::More::is(::burst($cookie), '401 x20', 'the old cookie is refused in both workers');
my ($again) = TestOp::login('/app/', 'alice');
Test::More::is(::burst($again), '200 x20', 'a new login works');
--- request
GET /bye
--- response_body: bye
--- error_log eval
[qr/\[info\] .*auth_oidc: back-channel logout at "idp": the session ended/,
 qr/\[info\] .*auth_oidc: session refused|session ended: the provider logged it out/]
--- no_error_log
backchannel_logout_error



=== TEST 2: logout tokens that are forged, replayed or not logout tokens get 400; a sub ends the user's older sessions
--- init
my ($s) = TestOp::http(TestOp::quote(::rp('/backchannel')));
Test::More::is($s, 405, 'GET: 405');
Test::More::is(::post_token(''), 400, 'no logout_token: 400');
my $header = '{"alg":"RS256","kid":"op-rsa","typ":"logout+jwt"}';
Test::More::is(::post_token(TestOp::mint($header, ::logout_token(sid => 'x'), 'rsa1024.key')), 400, 'another key: 400');
Test::More::is(::post_token(TestOp::mint($header, ::logout_token(sid => 'x', events => undef))), 400, 'no event: 400');
Test::More::is(::post_token(TestOp::mint($header, ::logout_token(sid => 'x', nonce => 'n'))), 400, 'a nonce: 400');
Test::More::is(::post_token(TestOp::mint($header, ::logout_token(sid => 'x', aud => 'other'))), 400, 'another audience: 400');
my $later = int(time) + 3600;
Test::More::is(::post_token(TestOp::mint($header, ::logout_token(sid => 'x', iat => $later, exp => $later + 3600))), 400, 'issued an hour ahead: 400');
my ($bob) = TestOp::login('/app/', 'bob');
Test::More::is(::burst($bob), '200 x20', "bob's session admits");
sleep 1;
my $token = TestOp::mint($header, ::logout_token(sub => 'bob'));
Test::More::is(::post_token($token), 200, 'a logout token for bob: 200');
Test::More::is(::post_token($token), 400, 'the same again: 400');
Test::More::is(::burst($bob), '401 x20', "bob's session is over in both workers");
sleep 1;
my ($later) = TestOp::login('/app/', 'bob');
Test::More::is(::burst($later), '200 x20', 'a later login of bob works');
--- request
POST /backchannel
logout_token=garbage
--- error_code: 400
--- error_log eval
[qr/\[info\] .*auth_oidc: back-channel logout refused: signature verification failed/,
 qr/\[info\] .*auth_oidc: back-channel logout refused: no backchannel-logout event/,
 qr/\[info\] .*auth_oidc: back-channel logout refused: a logout token has no nonce/,
 qr/\[info\] .*auth_oidc: back-channel logout refused: audience not accepted/,
 qr/\[info\] .*auth_oidc: back-channel logout refused: "iat" is in the future/,
 qr/\[info\] .*auth_oidc: back-channel logout refused: the logout token was used already/,
 qr/\[info\] .*auth_oidc: back-channel logout at "idp": the user's sessions ended/]



=== TEST 3: front-channel logout by iss and sid, or by the session cookie
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"),
    TestOp::quote("http://127.0.0.1:$ENV{TEST_NGINX_BURST_PORT}/app/"));
my $sid = TestOp::header($h, 'X-Sid');
Test::More::ok($sid, 'the session has a sid');
($s) = TestOp::http(TestOp::quote(::rp('/frontchannel?iss=https%3A%2F%2Fother.example&sid=' . $sid)));
Test::More::is($s, 400, 'another issuer: 400');
Test::More::is(::burst($cookie), '200 x20', 'and the session lives');
my $iss = $TestOp::Issuer;
$iss =~ s/([^\w.~-])/sprintf('%%%02X', ord $1)/ge;
($s, $h) = TestOp::http(TestOp::quote(::rp("/frontchannel?iss=$iss&sid=$sid")));
Test::More::is($s, 200, 'iss and sid of the provider: 200');
Test::More::is(TestOp::header($h, 'Cache-Control'), 'no-store', 'not to be cached');
Test::More::is(::burst($cookie), '401 x20', 'the session is over in both workers');
my ($other) = TestOp::login('/app/', 'carol');
($s) = TestOp::http('-H', TestOp::quote("Cookie: $other"), TestOp::quote(::rp('/frontchannel')));
Test::More::is($s, 200, 'with the session cookie: 200');
Test::More::is(::burst($other), '401 x20', 'that session is over too');
--- request
GET /frontchannel
--- error_code: 400
--- error_log eval
[qr/\[info\] .*auth_oidc: front-channel logout at "idp": the session ended/,
 qr/\[info\] .*auth_oidc: front-channel logout refused: no iss and sid of the provider, and no session/]
