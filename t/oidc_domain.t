# One login for the hosts of a domain (cookie_domain): the session cookie is set for the
# parent domain, one redirect_uri on one host serves them all, and the browser goes back to the
# page first asked for on any host of the domain, never to a host outside it.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

my $port = $TestOp::RpPort;
our $login = "http://login.example.localhost:$port";
our $wiki = "http://wiki.example.localhost:$port";
our $stats = "http://stats.example.localhost:$port";
# Names a browser would resolve to this server: the domain's, and hostile ones.
@TestOp::Curl = map { ('--resolve', "$_:$port:127.0.0.1") }
    map({ "$_.example.localhost" } qw(login wiki stats)),
    qw(evil.test example.localhost.evil.test evilexample.localhost);

our $http = $TestOp::front . <<"_EOC_";
    oidc_session_key $ENV{TEST_NGINX_PKI}/session.key;
    oidc_provider sso {
        issuer $TestOp::Issuer;
        client_id rp-sso;
        client_secret rp-sso-secret;
        ssl_trusted_certificate $ENV{TEST_NGINX_PKI}/ca.crt;
        redirect_uri $login/oidc_callback;
        cookie_domain .Example.localhost;
        cookie_name SSO;
        logout_uri /logout;
    }
_EOC_

our $files = [['index.html', "home\n"], ['page', "page\n"]];

# Logs in from $url (a page of some host) as $user; returns the login cookie's Set-Cookie line
# and the callback's status, headers and session cookie.
sub sso_login {
    my ($url, $user) = @_;
    my ($base, $path) = $url =~ m{^(https?://[^/]+)(/.*)$};
    my ($callback, $login_cookie) = TestOp::authorize($path, $user, base => $base, back => $::login);
    my ($st, $head) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
    return ($st, $head, TestOp::set_cookies($head));
}

sub get {
    my ($url, $cookie) = @_;
    return TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote($url));
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a login begun on one host ends on another host's callback and goes back; every host of the domain admits the session
--- http_config eval: $::http
--- config
    auth_oidc sso;
    add_header X-User $oidc_claim_sub;
--- user_files eval: $::files
--- init
my ($s, $h) = TestOp::http('-H', TestOp::quote('Accept: text/html'), TestOp::quote("$::wiki/page?x=1"));
Test::More::is($s, 302, 'a page of wiki sends the browser to log in');
Test::More::like(TestOp::header($h, 'Location'), qr{[?&]redirect_uri=http%3A%2F%2Flogin\.example\.localhost%3A$TestOp::RpPort%2Foidc_callback(&|$)},
    'with the one redirect_uri, on the login host');
Test::More::like($h, qr{^Set-Cookie: SSO_login_[\w-]+=[^;]+;.*; Domain=example\.localhost(;|\r?$)}m,
    'its login cookie is for the domain, which the login host is in');
my ($st, $head, $cookie) = ::sso_login("$::wiki/page?x=1", 'alice');
Test::More::is($st, 302, 'the callback on the login host logs in');
Test::More::is(TestOp::header($head, 'Location'), "$::wiki/page?x=1", 'and sends the browser back to the page of wiki');
Test::More::like($head, qr{^Set-Cookie: SSO=[^;]+; Path=/; HttpOnly; SameSite=Lax; Domain=example\.localhost\r?$}m,
    'the session cookie is for the whole domain');
for my $host ($::wiki, $::stats, $::login) {
    my ($s, $h) = ::get("$host/", $cookie);
    Test::More::is($s, 200, "the session admits at $host");
    Test::More::is(TestOp::header($h, 'X-User'), 'alice', 'as alice');
}
($s, $h) = ::get("$::stats/logout", $cookie);
Test::More::is($s, 302, 'a logout on stats ends the session');
Test::More::like($h, qr{^Set-Cookie: SSO=; .*Domain=example\.localhost; Max-Age=0}m,
    'and expires the cookie of the domain');
--- request
GET /
--- more_headers
Host: wiki.example.localhost
--- error_code: 401



=== TEST 2: a login begun under a host outside the domain goes back to a path of the callback's host, never to that host
--- http_config eval: $::http
--- config
    auth_oidc sso;
    add_header X-User $oidc_claim_sub;
--- user_files eval: $::files
--- init
for my $hostile ('evil.test', 'example.localhost.evil.test', 'evilexample.localhost') {
    my ($s, $h) = TestOp::http('-H', TestOp::quote('Accept: text/html'),
        TestOp::quote("http://$hostile:$TestOp::RpPort/page"));
    Test::More::is($s, 302, "Host: $hostile is sent to log in");
    Test::More::unlike($h, qr/Domain=/i, 'with a login cookie of that host only');
    my ($st, $head) = ::sso_login("http://$hostile:$TestOp::RpPort/page", 'bob');
    Test::More::is(TestOp::header($head, 'Location'), "$::login/page",
        'the callback sends the browser to the path on the login host, not to that host');
}
my ($st, $head) = ::sso_login("$::wiki//evil.test/x", 'bob');
Test::More::is(TestOp::header($head, 'Location'), "$::login/",
    'a return path that a browser reads as another host goes to / of the login host');
--- request
GET /
--- error_code: 401



=== TEST 3: without cookie_domain, cookies stay with their host
--- http_config eval: TestOp::http_config('')
--- config
    location /app/ {
        auth_oidc idp;
    }
--- init
my ($s, $h) = TestOp::http('-H', TestOp::quote('Accept: text/html'), TestOp::quote("$::wiki/app/"));
Test::More::is($s, 302, 'sent to log in');
Test::More::unlike($h, qr/Domain=/i, 'with a cookie for this host only');
--- request
GET /app/
--- error_code: 401
