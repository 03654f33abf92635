# auth_jwt_introspection: opaque access tokens checked at the introspection endpoint (RFC 7662)
# of the test OpenID Provider (oidc-provider), which issues them to auth_oidc's logins here.
# Answers are kept for a while and shared by the workers; one introspection per token is in
# flight for the whole nginx; a provider that is down or slow gets 503, never a stall.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";
my $pki = $ENV{TEST_NGINX_PKI};
my $op = "https://127.0.0.1:$TestOp::TlsPort";
our $slow_port = TestIdp::port(0);
my $slow = "https://127.0.0.1:$slow_port";
my $closed = "https://127.0.0.1:$ENV{TEST_NGINX_CLOSED_PORT}";

# The provider's front, and a slow one: its answers trickle out at 100 bytes a second.
our $http = TestOp::http_config() . <<"_EOC_";
    server {
        listen 127.0.0.1:$slow_port ssl;
        ssl_certificate $pki/idp.crt;
        ssl_certificate_key $pki/idp.key;
        access_log logs/slow_access.log;
        location / {
            proxy_pass http://127.0.0.1:$TestOp::Port;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host 127.0.0.1:$TestOp::TlsPort;
            limit_rate 100;
            limit_rate_after 0;
        }
    }
_EOC_

sub api {
    my ($what, $token) = @_;
    my $path = "http://127.0.0.1:$TestOp::RpPort/$what/index.html";
    return TestOp::http('-H', TestOp::quote("Authorization: Bearer $token"), TestOp::quote($path));
}

our $config = <<"_EOC_";
    auth_jwt_ssl_trusted_certificate $pki/ca.crt;
    add_header X-User \$jwt_claim_sub always;
    add_header X-Client \$jwt_claim_client_id always;
    add_header X-Error \$jwt_error always;

    location /app/ {
        auth_oidc idp;
        add_header X-Access-Token \$oidc_access_token;
    }
    location /api/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /nocache/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret
                               cache=0;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /auto/ {
        auth_jwt "api";
        auth_jwt_key_url $op/.well-known/openid-configuration;
        auth_jwt_introspection auto client_id=rp client_secret=rp-secret;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /jws/ {
        auth_jwt "api";
        auth_jwt_key_file \$TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /always/ {
        auth_jwt "api";
        auth_jwt_key_file \$TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret
                               mode=always;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /scoped/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret;
        auth_jwt_scope openid;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /admin/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret;
        auth_jwt_scope admin;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /issuer/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret;
        auth_jwt_issuer https://evil.test;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /audience/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=rp-secret;
        auth_jwt_audience https://other.test/;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /badsecret/ {
        auth_jwt "api";
        auth_jwt_introspection $op/token/introspection client_id=rp client_secret=wrong;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /down/ {
        auth_jwt "api";
        auth_jwt_introspection $closed/token/introspection client_id=rp client_secret=rp-secret;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /slow/ {
        auth_jwt "api";
        auth_jwt_introspection $slow/token/introspection client_id=rp client_secret=rp-secret;
        alias \$TEST_NGINX_HTML_DIR/;
    }
    location /impatient/ {
        auth_jwt "api";
        auth_jwt_introspection $slow/token/introspection client_id=rp client_secret=rp-secret
                               timeout=1s;
        alias \$TEST_NGINX_HTML_DIR/;
    }
_EOC_

# How many introspection requests a front of the provider passed on. A front logs a request
# when it is done with the connection, which may be a moment after its answer was read: the
# count is read until it is at least `$least`, for up to 5 seconds.
sub introspections {
    my ($log, $least) = @_;
    my $count = 0;
    for (1 .. 50) {
        open my $f, '<', "$ENV{TEST_NGINX_SERVROOT}/logs/$log" or return 0;
        local $/;
        my $text = <$f> // '';
        $count = () = $text =~ m{"POST /token/introspection }g;
        last if $count >= ($least // 0);
        select undef, undef, undef, 0.1;
    }
    return $count;
}

workers(2);
master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: an opaque token admits with its claims, once asked; JWS tokens are verified here unless mode=always
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> index.html
api
>>> app/index.html
app
--- init
my $token = TestOp::access_token('/app/', 'alice');
my ($s, $h, $b) = ::api('api', $token);
Test::More::is($s, 200, 'an active token admits');
Test::More::is(TestOp::header($h, 'X-User'), 'alice', '$jwt_claim_sub is the answer\'s sub');
Test::More::is(TestOp::header($h, 'X-Client'), 'rp', 'and the other members are claims');
Test::More::is(::introspections('op_access.log', 1), 1, 'after one introspection');
for (1 .. 4) {
    ($s) = ::api('api', $token);
    Test::More::is($s, 200, "again ($_)");
}
Test::More::is(::introspections('op_access.log'), 1, 'the answer is kept, by both workers');
($s, $h) = ::api('auto', $token);
Test::More::is($s, 200, 'auto: the endpoint of the discovery document');
Test::More::is(::introspections('op_access.log'), 1, 'the same endpoint: the same answer, kept');

my $jwt = JwtFixtures::hs256_token();
($s) = ::api('jws', $jwt);
Test::More::is($s, 200, 'a JWS is verified with the keys');
Test::More::is(::introspections('op_access.log'), 1, 'and not introspected');
($s, $h) = ::api('always', $jwt);
Test::More::is($s, 401, 'mode=always introspects it too: the provider will not vouch for it');
Test::More::is(TestOp::header($h, 'X-Error'), 'inactive', '$jwt_error inactive');
Test::More::is(::introspections('op_access.log', 2), 2, 'introspected');
--- request
GET /api/index.html
--- more_headers
Authorization: Bearer no-such-token
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api", error="invalid_token"
X-Error: inactive
--- error_log
JWT refused: the introspection endpoint says the token is not active



=== TEST 2: scopes, the issuer where the answer has one, the audience only where it has one
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> index.html
api
>>> app/index.html
app
--- init
my $token = TestOp::access_token('/app/', 'alice');
my ($s, $h) = ::api('scoped', $token);
Test::More::is($s, 200, 'a scope the token has');
($s, $h) = ::api('admin', $token);
Test::More::is($s, 403, 'a scope it lacks');
Test::More::is(TestOp::header($h, 'WWW-Authenticate'),
    'Bearer realm="api", error="insufficient_scope", scope="admin"', 'names the scope');
($s, $h) = ::api('issuer', $token);
Test::More::is($s, 401, 'another issuer');
Test::More::is(TestOp::header($h, 'X-Error'), 'bad_issuer', '$jwt_error bad_issuer');
($s, $h) = ::api('audience', $token);
Test::More::is($s, 200, 'the answer has no aud: auth_jwt_audience has nothing to check');
--- request
GET /api/index.html
--- error_code: 401



=== TEST 3: a revoked token: refused at once without a cache, admitted until the answer kept ends
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> index.html
api
>>> app/index.html
app
--- init
my $token = TestOp::access_token('/app/', 'alice');
my ($s) = ::api('api', $token);
Test::More::is($s, 200, 'admitted');
($s) = ::api('nocache', $token);
Test::More::is($s, 200, 'admitted without a cache');
($s) = TestOp::http('-u', 'rp:rp-secret', '--data-urlencode', "token=$token",
    TestOp::quote("https://127.0.0.1:$TestOp::TlsPort/token/revocation"));
Test::More::is($s, 200, 'revoked at the provider');
# cache=0 shares an answer for at most a second, with the requests that waited for it.
sleep 2;
my $before = ::introspections('op_access.log');
($s, my $h) = ::api('nocache', $token);
Test::More::is($s, 401, 'without a cache: refused');
Test::More::is(TestOp::header($h, 'X-Error'), 'inactive', 'as inactive');
($s) = ::api('nocache', $token);
Test::More::is($s, 401, 'the negative answer is kept a few seconds');
Test::More::is(::introspections('op_access.log', $before + 1), $before + 1, 'by one introspection');
($s) = ::api('api', $token);
Test::More::is($s, 200, 'with the default cache: admitted, until its minute ends');
--- request
GET /api/index.html
--- error_code: 401



=== TEST 4: an endpoint that refuses the client, or cannot be reached: 503 with an error line
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> index.html
api
--- request eval
["GET /badsecret/index.html", "GET /down/index.html"]
--- more_headers eval
["Authorization: Bearer opaque-1", "Authorization: Bearer opaque-2"]
--- error_code eval
[503, 503]
--- error_log eval
qr/\[error\] .*auth_jwt: introspection at "https:\/\/127\.0\.0\.1:\d+\/token\/introspection" failed: (the introspection endpoint answered 401|connect\(\) to 127\.0\.0\.1:\d+ failed)/



=== TEST 5: concurrent requests with one token, in both workers, wait for one introspection
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> index.html
api
>>> app/index.html
app
--- init
my $token = TestOp::access_token('/app/', 'alice');
my $url = "http://127.0.0.1:$TestOp::RpPort/slow/index.html";
my $started = time;
my @kids;
for my $i (1 .. 8) {
    my $pid = fork() // die "fork: $!";
    if (!$pid) {
        # exec: no END block of the harness may run in the child (it would stop nginx).
        exec 'sh', '-c', "curl -s -o /dev/null -w '%{http_code}' --max-time 30 "
            . "-H 'Authorization: Bearer $token' $url | grep -qx 200";
    }
    push @kids, $pid;
}
my $ok = 0;
for (@kids) { waitpid $_, 0; $ok++ if $? == 0 }
Test::More::is($ok, 8, 'all eight admitted');
Test::More::is(::introspections('slow_access.log', 1), 1, 'after one introspection');
Test::More::cmp_ok(time - $started, '<', 20, 'in the time of one slow answer');
--- request
GET /impatient/index.html
--- more_headers
Authorization: Bearer opaque-slow
--- error_code: 503
--- error_log eval
qr/\[error\] .*auth_jwt: introspection at "https:\/\/127\.0\.0\.1:\d+\/token\/introspection" failed: timed out/
