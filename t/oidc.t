# auth_oidc against a real OpenID Provider (oidc-provider, t/oidc-provider) over https: the
# metadata and keys fetched at start, a browser sent to log in, the callback's code exchanged,
# the session in a sealed cookie, logout; what is refused and why.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $http = TestOp::http_config(<<'_EOC_') . <<'_EOC_';
        scope openid email;
        logout_uri /logout;
        post_logout_uri /bye;
_EOC_
    oidc_provider es {
        issuer https://127.0.0.1:$TEST_NGINX_OP_TLS_PORT;
        client_id rp-es;
        client_secret rp-es-secret;
        redirect_uri /es/oidc_callback;
        cookie_name ES_SESSION;
        ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
    }
    map $oidc_claim_email $is_alice {
        alice@example.test 1;
    }
    oidc_provider down {
        issuer https://127.0.0.1:$TEST_NGINX_CLOSED_PORT;
        client_id rp;
        cookie_name DOWN_SESSION;
        ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
    }
_EOC_

our $config = <<'_EOC_';
    auth_oidc idp;
    add_header X-User "$oidc_claim_sub" always;
    add_header X-Email "$oidc_claim_email" always;
    add_header X-Error "$oidc_error" always;
    add_header X-Cookie "$http_cookie" always;
    add_header X-Remote-User "$remote_user" always;
    location /app/ {
    }
    location /admin/ {
        auth_require $is_alice;
    }
    location /jump/ {
        error_page 404 = /es/index.html;
    }
    location /es/ {
        auth_oidc es;
    }
    location /down/ {
        auth_oidc down;
    }
    location = /bye {
        auth_oidc off;
    }
_EOC_

sub flip {
    my ($cookie) = @_;
    $cookie =~ s/(NGX_OIDC_SESSION=.{20})(.)/$1 . ($2 eq 'A' ? 'B' : 'A')/e;
    return $cookie;
}

no_shuffle();
check_accum_error_log();
run_tests();

__DATA__

=== TEST 1: a request that is not a browser's navigation gets 401 and a challenge
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> app/index.html
app
>>> app/page.html
page
>>> es/index.html
es
>>> admin/index.html
admin
--- request
GET /app/
--- more_headers
Accept: application/json
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="idp"
X-Error: no_session



=== TEST 2: a navigation waits for the metadata and is sent to the provider with state, nonce and PKCE; the login cookie is HttpOnly and SameSite
--- request
GET /app/page.html?x=1
--- more_headers
Accept: text/html,application/xhtml+xml
--- error_code: 302
--- response_headers_like
Location: ^https://127\.0\.0\.1:\d+/auth\?response_type=code&client_id=rp&redirect_uri=http%3A%2F%2Flocalhost%2Foidc_callback&scope=openid%20email&state=[\w-]{43}&nonce=[\w-]{43}&code_challenge=[\w-]{43}&code_challenge_method=S256$
Set-Cookie: ^NGX_OIDC_SESSION_login_[\w-]{8}=[\w-]+; Path=/; HttpOnly; SameSite=Lax; Max-Age=600$
--- error_log eval
qr/\[info\] .*auth_oidc: provider "idp": metadata and 2 keys in use/



=== TEST 3: a login through the provider's pages, back to the page asked for; the session admits, its cookie stays away from the backend
--- init
my ($cookie, $st, $location) = TestOp::login('/app/page.html?x=1', 'alice');
Test::More::is($st, 302, 'the callback sends the browser back');
Test::More::like($location, qr{^http://127\.0\.0\.1:\d+/app/page\.html\?x=1$}, 'to the page first asked for');
Test::More::like($cookie, qr/^NGX_OIDC_SESSION=[\w-]+$/, 'with a session cookie');
Test::More::is(TestOp::grants('authorization_code'), 1, 'one code exchanged at the provider');
my ($s, $h, $body) = TestOp::http('-H', TestOp::quote("Cookie: a=1; $cookie; b=2"),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/app/page.html"));
Test::More::is($s, 200, 'the session admits the request');
Test::More::is($body, "page\n", 'and the page is served');
Test::More::is(TestOp::header($h, 'X-User'), 'alice', '$oidc_claim_sub');
Test::More::is(TestOp::header($h, 'X-Email'), 'alice@example.test', '$oidc_claim_email');
Test::More::is(TestOp::header($h, 'X-Cookie'), 'a=1; b=2', 'the backend does not get the session cookie');
Test::More::is(TestOp::header($h, 'X-Remote-User'), 'alice', '$remote_user is the sub');
($s) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote("http://127.0.0.1:$TestOp::RpPort/admin/"));
Test::More::is($s, 200, 'auth_require on a claim admits alice');
my ($carol) = TestOp::login('/app/', 'carol');
($s) = TestOp::http('-H', TestOp::quote("Cookie: $carol"), TestOp::quote("http://127.0.0.1:$TestOp::RpPort/admin/"));
Test::More::is($s, 403, 'and refuses carol');
($s) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), '-H', TestOp::quote('Accept: application/json'),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/jump/nothing"));
Test::More::is($s, 401, 'an internal redirect to the location of another provider does not keep the session');
$::cookie = $cookie;
--- request
GET /app/page.html
--- more_headers
Accept: application/json
--- error_code: 401



=== TEST 4: a tampered session cookie is refused, and so is a session of another provider
--- init
my ($s, $h) = TestOp::http('-H', TestOp::quote('Cookie: ' . ::flip($::cookie)),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/app/page.html"));
Test::More::is($s, 401, 'a tampered cookie gets 401');
Test::More::is(TestOp::header($h, 'X-Error'), 'bad_session', '$oidc_error says why');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $::cookie"),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/es/"));
Test::More::is($s, 401, 'the session of another provider gets 401');
--- request
GET /app/
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: session refused: session cookie is not valid/]



=== TEST 5: a callback replayed with its login cookie is refused by the provider; one without a login cookie by nginx
--- init
my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 302, 'the first use of the code logs in');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 401, 'the code used again gets 401');
Test::More::is(TestOp::header($h, 'X-Error'), 'token_error', 'the token endpoint refused it');
($s, $h) = TestOp::http(TestOp::quote($callback));
Test::More::is($s, 401, 'without the login cookie: 401');
Test::More::is(TestOp::header($h, 'X-Error'), 'bad_state', 'no login for this state');
my ($other, $other_cookie) = TestOp::authorize('/app/', 'alice');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $other_cookie"), TestOp::quote($callback));
Test::More::is($s, 401, 'with the login cookie of another login: 401');
--- request
GET /app/
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: login failed: the token endpoint: the provider answered "invalid_grant"/,
 qr/\[info\] .*auth_oidc: callback refused: no login in progress for this state/]



=== TEST 6: an error answered by the provider is logged and refused
--- init
my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice');
my ($state) = $callback =~ /[?&]state=([^&]+)/;
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/oidc_callback?error=access_denied&error_description=no+way&state=$state"));
Test::More::is($s, 401, 'an error callback gets 401');
Test::More::is(TestOp::header($h, 'X-Error'), 'provider_error', '$oidc_error says why');
--- request
GET /app/
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: callback refused: the provider answered "access_denied": no way/]



=== TEST 7: an ID token whose nonce is not the login's is refused
--- init
my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice',
    rewrite => sub { my ($url) = @_; $url =~ s/([?&]nonce=)[\w-]+/${1}another-nonce/ or die; $url });
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 401, 'the callback gets 401');
Test::More::is(TestOp::header($h, 'X-Error'), 'bad_id_token', '$oidc_error says why');
Test::More::ok(!TestOp::set_cookies($h) || TestOp::set_cookies($h) !~ /NGX_OIDC_SESSION=/, 'and no session cookie');
--- request
GET /app/
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: login failed: .*nonce/]



=== TEST 8: logout ends the session and goes through the provider's end_session_endpoint
--- init
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $::cookie"),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/logout"));
Test::More::is($s, 302, 'logout redirects');
Test::More::like(TestOp::header($h, 'Location'),
    qr{^https://127\.0\.0\.1:\d+/session/end\?client_id=rp&post_logout_redirect_uri=http%3A%2F%2F127\.0\.0\.1%3A\d+%2Fbye$},
    'to the provider, which sends the browser back to post_logout_uri');
Test::More::like($h, qr/^Set-Cookie: NGX_OIDC_SESSION=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0; /m,
    'the session cookie is expired');
--- request
GET /bye
--- error_code: 404



=== TEST 9: an ES256 ID token of another client; a provider that is down gives 502 and a log line
--- init
my ($cookie, $st, $location) = TestOp::login('/es/', 'bob');
Test::More::is($st, 302, 'the login with an ES256 ID token succeeds');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/es/"));
Test::More::is(TestOp::header($h, 'X-User'), 'bob', 'and its session admits');
--- request
GET /down/
--- more_headers
Accept: text/html
--- error_code: 502
--- response_headers
X-Error: provider_unavailable
--- error_log eval
[qr/\[error\] .*auth_oidc: provider "down" is unavailable: fetching "https:\/\/127\.0\.0\.1:\d+\/\.well-known\/openid-configuration" failed: connect\(\) to 127\.0\.0\.1:\d+ failed/]
