# The provider's callback and logout URIs are answered wherever they land in a server where
# auth_oidc names the provider, also outside the locations it protects: protecting /app/ alone
# needs no location for /oidc_callback.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $http = TestOp::http_config(<<'_EOC_');
        logout_uri /logout;
_EOC_

sub rp { "http://127.0.0.1:$TestOp::RpPort$_[0]" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: only /app/ is protected: the login comes back through /oidc_callback, which no location covers
--- http_config eval: $::http
--- config
    location /app/ {
        auth_oidc idp;
        add_header X-User "$oidc_claim_sub" always;
    }
--- user_files
>>> app/index.html
app
--- init
my ($cookie, $st, $location, $callback) = TestOp::login('/app/', 'alice');
Test::More::like($callback, qr{^http://127\.0\.0\.1:\d+/oidc_callback\?}, 'the provider sends the browser to /oidc_callback');
Test::More::is($st, 302, 'the module answers the callback outside /app/');
Test::More::like($location, qr{/app/$}, 'and sends the browser back to the page it asked for');
Test::More::like($cookie, qr/NGX_OIDC_SESSION=/, 'with a session');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::rp('/app/')));
Test::More::is($s, 200, 'the session admits at /app/');
Test::More::is(TestOp::header($h, 'X-User'), 'alice', 'as alice');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::rp('/logout')));
Test::More::is($s, 302, 'logout_uri, outside /app/ too, ends the session');
Test::More::like($h, qr/^Set-Cookie: NGX_OIDC_SESSION=; /m, 'its cookie expired');
($s) = TestOp::http(TestOp::quote(::rp('/elsewhere.html')));
Test::More::is($s, 404, 'other paths outside /app/ are left alone');
--- request
GET /oidc_callback
--- error_code: 401
--- error_log eval
qr/\[info\] .*auth_oidc: callback refused: no state/



=== TEST 2: where auth_oidc is off, the callback is answered all the same
--- http_config eval: $::http
--- config
    auth_oidc off;
    location /app/ {
        auth_oidc idp;
    }
--- user_files
>>> app/index.html
app
>>> index.html
public
--- init
my ($cookie, $st) = TestOp::login('/app/', 'bob');
Test::More::is($st, 302, 'the callback where "auth_oidc off" is in force is the module\'s');
my ($s) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::rp('/app/')));
Test::More::is($s, 200, 'the session admits at /app/');
--- request
GET /
--- response_body
public



=== TEST 3: a server where no auth_oidc names the provider leaves /oidc_callback to nginx
--- http_config eval: $::http
--- config
    location /app/ {
    }
--- request
GET /oidc_callback?state=x&code=y
--- error_code: 404
--- no_error_log
auth_oidc: callback



=== TEST 4: the migration guide's snippet from Vouch Proxy, as the README has it (with this provider's domain)
--- http_config eval
TestOp::http_config(<<'_EOC_') . <<'_EOC_'
        scope openid email;
        logout_uri /app/logout;
_EOC_
    map $oidc_claim_email $allowed_domain {
        default           0;
        ~@example\.test$  1;
    }
_EOC_
--- config
    location /app/ {
        auth_oidc idp;
        auth_require $allowed_domain;
        add_header X-User  $oidc_claim_sub always;
        add_header X-Email $oidc_claim_email always;
    }
--- user_files
>>> app/index.html
app
--- init
my ($alice, $st) = TestOp::login('/app/', 'alice');
Test::More::is($st, 302, 'the callback, outside /app/, logs alice in');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $alice"), TestOp::quote(::rp('/app/')));
Test::More::is($s, 200, 'alice, of the allowed domain, gets in');
Test::More::is(TestOp::header($h, 'X-Email'), 'alice@example.test', 'with her e-mail for the backend');
my ($bob) = TestOp::login('/app/', 'bob');
($s) = TestOp::http('-H', TestOp::quote("Cookie: $bob"), TestOp::quote(::rp('/app/')));
Test::More::is($s, 403, 'bob, without an address of the domain, gets 403');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $alice"), TestOp::quote(::rp('/app/logout')));
Test::More::is($s, 302, '/app/logout logs out');
Test::More::like(TestOp::header($h, 'Location'), qr{/session/end\?}, 'through the provider');
--- request
GET /app/
--- error_code: 401



=== TEST 5: two providers with the same callback in one server: nginx -t warns, the first answers it
--- http_config eval
TestOp::http_config() . <<'_EOC_'
    oidc_provider other {
        issuer https://127.0.0.1:$TEST_NGINX_OP_TLS_PORT;
        client_id rp;
        cookie_name OTHER_SESSION;
        ssl_trusted_certificate $TEST_NGINX_PKI/ca.crt;
    }
_EOC_
--- config
    location /a/ {
        auth_oidc idp;
    }
    location /b/ {
        auth_oidc other;
    }
--- request
GET /oidc_callback
--- error_code: 401
--- error_log eval
[qr/\[warn\] .*"auth_oidc": oidc_provider "other" has a callback or logout URI of "idp", in the same server/,
 qr/\[info\] .*auth_oidc: callback refused: no state/]
