# The options of oidc_provider and auth_oidc against the real provider: a provider named by a
# variable, session_timeout, a session too large for one cookie, userinfo, client_secret_post,
# a relying party over https (Secure cookies), and ssl_crl.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

sub provider {
    my ($name, $client, $more) = @_;
    return <<"_EOC_";
    oidc_provider $name {
        issuer $TestOp::Issuer;
        client_id $client;
        client_secret $client-secret;
        cookie_name \U$name\E_SESSION;
        ssl_trusted_certificate $ENV{TEST_NGINX_PKI}/ca.crt;
$more    }
_EOC_
}

our $http = TestOp::http_config() . join('',
    provider('short', 'rp', "        redirect_uri /short/oidc_callback;\n        session_timeout 2s;\n"),
    provider('big', 'rp', "        redirect_uri /big/oidc_callback;\n        scope openid bio;\n"),
    provider('info', 'rp', "        redirect_uri /info/oidc_callback;\n        scope openid email;\n"
        . "        userinfo on;\n"),
    provider('post', 'rp-post', "        redirect_uri /post/oidc_callback;\n"
        . "        config_url $TestOp::Issuer/post-only/.well-known/openid-configuration;\n"),
    provider('tls', 'rp-tls', "        redirect_uri /tls/oidc_callback;\n"),
    provider('crl_ok', 'rp', "        ssl_crl $ENV{TEST_NGINX_PKI}/ca-empty.crl;\n"),
    provider('crl_revoked', 'rp', "        ssl_crl $ENV{TEST_NGINX_PKI}/ca-revoked.crl;\n"),
) . <<'_EOC_';
    map $arg_p $var_provider {
        default idp;
        info    info;
        none    off;
        bogus   nobody;
    }
    server {
        listen 127.0.0.1:$TEST_NGINX_RP_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_PKI/idp.crt;
        ssl_certificate_key $TEST_NGINX_PKI/idp.key;
        location /tls/ {
            auth_oidc tls;
        }
    }
_EOC_

our $config = <<'_EOC_';
    large_client_header_buffers 4 16k;
    auth_oidc idp;
    add_header X-User "$oidc_claim_sub" always;
    add_header X-Error "$oidc_error" always;
    add_header X-Cookie "$http_cookie" always;
    add_header X-Userinfo "$oidc_userinfo" always;
    location /var/ {
        auth_oidc $var_provider;
    }
    location /short/ {
        auth_oidc short;
    }
    location /big/ {
        auth_oidc big;
    }
    location /info/ {
        auth_oidc info;
    }
    location /post/ {
        auth_oidc post;
    }
    location /crl-ok/ {
        auth_oidc crl_ok;
    }
    location /crl-revoked/ {
        auth_oidc crl_revoked;
    }
_EOC_

sub get {
    my ($path, @headers) = @_;
    return TestOp::http((map { ('-H', TestOp::quote($_)) } @headers),
        TestOp::quote("http://127.0.0.1:$TestOp::RpPort$path"));
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: auth_oidc with a variable: the provider it names, "off", and a name of no provider
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> var/index.html
var
>>> short/index.html
short
>>> big/index.html
big
>>> info/index.html
info
>>> post/index.html
post
>>> tls/index.html
tls
>>> crl-ok/index.html
crl
--- init
my ($s, $h) = ::get('/var/', 'Accept: application/json');
Test::More::is($s, 401, 'the default of the map: idp');
Test::More::is(TestOp::header($h, 'WWW-Authenticate'), 'Bearer realm="idp"', 'its challenge');
($s, $h) = ::get('/var/?p=info', 'Accept: application/json');
Test::More::is(TestOp::header($h, 'WWW-Authenticate'), 'Bearer realm="info"', 'another provider by the variable');
my ($s2, $h2, $body) = ::get('/var/?p=none', 'Accept: application/json');
Test::More::is("$s2 $body", "200 var\n", '"off" lets the request through');
my ($cookie, $st, $location) = TestOp::login('/var/?x=1', 'alice');
Test::More::like($location, qr{/var/\?x=1$}, 'a login through the provider the variable names');
($s, $h) = ::get('/var/', "Cookie: $cookie");
Test::More::is("$s " . TestOp::header($h, 'X-User'), '200 alice', 'and its session admits');
--- request
GET /var/?p=bogus
--- error_code: 500
--- error_log eval
qr/\[error\] .*auth_oidc: no oidc_provider "nobody", the value of "auth_oidc" in \S+:\d+/



=== TEST 2: a session ends after session_timeout
--- init
my ($cookie, $st) = TestOp::login('/short/', 'alice');
Test::More::like($cookie, qr/^SHORT_SESSION=/, 'logged in');
my ($s) = ::get('/short/', "Cookie: $cookie");
Test::More::is($s, 200, 'the session admits');
sleep 3;
my $h;
($s, $h) = ::get('/short/', "Cookie: $cookie", 'Accept: application/json');
Test::More::is("$s " . TestOp::header($h, 'X-Error'), '401 bad_session', 'two seconds later it does not');
--- request
GET /short/
--- more_headers
Accept: application/json
--- error_code: 401
--- error_log eval
qr/\[info\] .*auth_oidc: session refused: session expired/



=== TEST 3: a session too large for one cookie is split over several, each under 4 KB, and joined again
--- init
my ($callback, $login_cookie) = TestOp::authorize('/big/', 'big');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 302, 'logged in');
my @set = $h =~ /^Set-Cookie:\s*(BIG_SESSION[^\r\n]*)/mg;
Test::More::ok(@set >= 3, 'in ' . scalar(@set) . ' cookies');
Test::More::ok(!(grep { length > 4000 } @set), 'none over 4000 bytes');
Test::More::ok(!(grep { !/; HttpOnly; SameSite=Lax/ } @set), 'all HttpOnly and SameSite');
my $cookie = TestOp::set_cookies($h);
my ($s2, $h2) = ::get('/big/', "Cookie: a=1; $cookie; b=2");
Test::More::is("$s2 " . TestOp::header($h2, 'X-User'), '200 big', 'they admit together');
Test::More::is(TestOp::header($h2, 'X-Cookie'), 'a=1; b=2', 'and none reaches the backend');
my @parts = split /; /, $cookie;
($s2, $h2) = ::get('/big/', "Cookie: a=1; $parts[0]", map({ "Cookie: $_" } @parts[1 .. $#parts]),
    'Cookie: b=2');
Test::More::is("$s2 " . TestOp::header($h2, 'X-User'), '200 big', 'in a Cookie header each too');
Test::More::unlike(TestOp::header($h2, 'X-Cookie'), qr/BIG_SESSION/, 'and none reaches the backend');
(my $cut = $cookie) =~ s/; BIG_SESSION_1=[^;]*//;
($s2, $h2) = ::get('/big/', "Cookie: $cut", 'Accept: application/json');
Test::More::is("$s2 " . TestOp::header($h2, 'X-Error'), '401 bad_session', 'one missing: refused');
--- request
GET /big/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 4: userinfo on: the UserInfo endpoint's claims, had with the access token, in $oidc_userinfo
--- init
my ($cookie) = TestOp::login('/info/', 'alice');
my ($s, $h) = ::get('/info/', "Cookie: $cookie");
Test::More::is($s, 200, 'logged in');
my $userinfo = TestOp::header($h, 'X-Userinfo');
Test::More::like($userinfo, qr/^\{.*"email":"alice\@example\.test".*\}$/, 'the claims of the email scope');
Test::More::like($userinfo, qr/"sub":"alice"/, 'about the user');
Test::More::unlike($userinfo, qr/"groups"/, 'and not those of other scopes');
my ($idp_cookie) = TestOp::login('/var/', 'alice');
($s, $h) = ::get('/var/', "Cookie: $idp_cookie");
Test::More::is(TestOp::header($h, 'X-User'), 'alice', 'without userinfo on, a session');
Test::More::ok(!defined TestOp::header($h, 'X-Userinfo'), 'has an empty $oidc_userinfo (add_header leaves it out)');
--- request
GET /info/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 5: client_secret_post, when the metadata lists only that
--- init
my ($cookie, $st) = TestOp::login('/post/', 'alice');
Test::More::is($st, 302, 'the code is exchanged');
Test::More::like(TestOp::log_text(), qr/^token grant_type=authorization_code client=rp-post /m,
    'by the provider, for the client it registered with client_secret_post only');
my ($s) = ::get('/post/', "Cookie: $cookie");
Test::More::is($s, 200, 'its session admits');
--- request
GET /post/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 6: over https, the login and session cookies are Secure and redirect_uri is https
--- init
my $base = "https://127.0.0.1:$TestOp::RpTlsPort";
my ($s, $h) = TestOp::http('-H', TestOp::quote('Accept: text/html'), TestOp::quote("$base/tls/"));
Test::More::like(TestOp::header($h, 'Set-Cookie'), qr/^TLS_SESSION_login_[\w-]{8}=[\w-]+; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=600$/,
    'the login cookie is Secure');
Test::More::like(TestOp::header($h, 'Location'), qr/&redirect_uri=https%3A%2F%2F127\.0\.0\.1%3A$TestOp::RpTlsPort%2Ftls%2Foidc_callback&/,
    'the redirect_uri is https');
my ($callback, $login_cookie) = TestOp::authorize('/tls/', 'alice', base => $base);
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 302, 'logged in');
Test::More::like($h, qr/^Set-Cookie: TLS_SESSION=[\w-]+; Path=\/; HttpOnly; Secure; SameSite=Lax/m, 'the session cookie is Secure');
my $cookie = TestOp::set_cookies($h);
($s) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote("$base/tls/"));
Test::More::is($s, 200, 'its session admits');
--- request
GET /tls/
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 7: ssl_crl: a CRL that does not list the provider's certificate, and one that does
--- init
my ($s) = ::get('/crl-ok/', 'Accept: text/html');
Test::More::is($s, 302, 'with a CRL that does not revoke it, the provider is used');
--- request
GET /crl-revoked/
--- more_headers
Accept: text/html
--- error_code: 502
--- response_headers
X-Error: provider_unavailable
--- error_log eval
qr/\[error\] .*auth_oidc: provider "crl_revoked" is unavailable: .*certificate revoked/
