# A person's login through auth_oidc in a real browser: Debian's chromium, headless, driven by
# puppeteer-core (t/browser/login.mjs), against the test's OpenID Provider over https.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $http = TestOp::http_config(<<'_EOC_');
        logout_uri /logout;
        post_logout_uri /bye;
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: open a protected page, log in on the provider's page, land on the page, log out, load it again: the login
--- http_config eval: $::http
--- config
    auth_oidc idp;
    location /app/ {
        add_header X-User $oidc_claim_sub;
    }
    location = /bye {
        auth_oidc off;
        default_type text/html;
        return 200 "<p>bye</p>";
    }
--- user_files
>>> app/page.html
page
--- init
# A page last changed a year ago: without Cache-Control, a browser may reuse it for weeks.
my $old = time - 365 * 24 * 3600;
utime $old, $old, "$ENV{TEST_NGINX_HTML_DIR}/app/page.html" or die "utime: $!";
my $page = "http://127.0.0.1:$TestOp::RpPort/app/page.html";
my $out = `cd $FindBin::Bin/browser && node login.mjs '$page' alice '$ENV{TEST_NGINX_PKI}/ca.crt' 2>&1`;
my $rc = $? >> 8;
for my $line (split /\n/, $out) {
    if ($line =~ /^(not )?ok (.*)$/) {
        Test::More::ok(!$1, $2);
        Test::More::diag($line) if $1;
    } else {
        Test::More::diag($line);
    }
}
Test::More::is($rc, 0, 'the browser run ends well');
Test::More::cmp_ok(scalar(() = $out =~ /^ok /mg), '>=', 11, 'every step ran');
--- request
GET /bye
--- response_body: <p>bye</p>
