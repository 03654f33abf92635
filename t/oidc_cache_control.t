# A response that a session admitted gets "Cache-Control: private, no-cache" unless it has a
# Cache-Control already: shared caches never store it, and the browser asks again, so that a
# page seen before a logout leads to the login after it. auth_oidc_cache_control off leaves a
# location's responses alone; the logout clears the browser's cache of the site.

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

# The Cache-Control lines of a response's headers.
sub cache_control { [ $_[0] =~ /^Cache-Control:\s*([^\r\n]*)/mgi ] }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: what a session admits is private and revalidated, unless the location or the response says otherwise
--- http_config eval: $::http
--- config
    auth_oidc idp;
    location /app/ {
    }
    location /app/assets/ {
        auth_oidc_cache_control off;
    }
    location /app/expires/ {
        expires 1h;
    }
    location /app/proxied/ {
        proxy_pass http://127.0.0.1:$server_port/backend/;
    }
    location /backend/ {
        auth_oidc off;
        alias html/app/;
        add_header Cache-Control "public, max-age=60";
    }
    location /open/ {
        auth_oidc off;
    }
--- user_files
>>> app/index.html
index
>>> app/page.html
page
>>> app/assets/a.css
css
>>> app/expires/e.html
expires
>>> open/o.html
open
--- init
my ($cookie) = TestOp::login('/app/page.html', 'alice');
my $get = sub { TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote(::rp($_[0]))) };
my ($s, $h) = $get->('/app/page.html');
Test::More::is($s, 200, 'the session admits');
Test::More::is_deeply(::cache_control($h), ['private, no-cache'], 'its page is private and revalidated');
my $modified = TestOp::header($h, 'Last-Modified');
($s, $h) = $get->('/app/');
Test::More::is_deeply(::cache_control($h), ['private, no-cache'], 'after the index\'s internal redirect too');
($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), '-H', TestOp::quote("If-Modified-Since: $modified"), TestOp::quote(::rp('/app/page.html')));
Test::More::is($s, 304, 'a revalidation with the session is answered 304');
Test::More::is_deeply(::cache_control($h), ['private, no-cache'], 'which says so again');
($s, $h) = $get->('/app/assets/a.css');
Test::More::is($s, 200, 'auth_oidc_cache_control off: admitted');
Test::More::is_deeply(::cache_control($h), [], 'and left as the location makes it');
($s, $h) = $get->('/app/expires/e.html');
Test::More::is_deeply(::cache_control($h), ['max-age=3600'], 'expires replaces it');
($s, $h) = $get->('/app/proxied/page.html');
Test::More::is($s, 200, 'a proxied page is admitted');
Test::More::is_deeply(::cache_control($h), ['public, max-age=60'], 'and keeps the backend\'s Cache-Control');
($s, $h) = $get->('/open/o.html');
Test::More::is_deeply(::cache_control($h), [], 'where auth_oidc is off nothing changes');
($s, $h) = TestOp::http(TestOp::quote(::rp('/app/page.html')));
Test::More::is($s, 401, 'without a session, 401');
Test::More::is_deeply(::cache_control($h), [], 'and no Cache-Control of the module\'s');
($s, $h) = $get->('/logout');
Test::More::is($s, 302, 'logout');
Test::More::is(TestOp::header($h, 'Clear-Site-Data'), '"cache"', 'clears the browser\'s cache of the site');
($s, $h) = TestOp::http(TestOp::quote(::rp('/logout')));
Test::More::is(TestOp::header($h, 'Clear-Site-Data'), undef, 'but only when it ends a session');
--- request
GET /open/o.html
--- response_body
open
