# The provider rotates its signing key while nginx runs: the next login, whose ID token names a
# kid nginx has never seen, makes one worker fetch the provider's keys again at once (no reload,
# no hourly wait), and works. Tokens with made-up kids cost at most one fetch per cooldown for
# the whole nginx: the keys live in shared memory, fetched by one worker for all.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $http = TestOp::http_config(<<'_EOC_');
        backchannel_logout_uri /backchannel;
_EOC_

sub rp { "http://127.0.0.1:$TestOp::RpPort$_[0]" }

# How often the provider's JWK Set was fetched, from the access log of its TLS front.
sub jwks_fetches {
    my $servroot = $ENV{TEST_NGINX_SERVROOT} // "$FindBin::Bin/servroot";
    return scalar grep { m{"GET /jwks } } `cat $servroot/logs/op_access.log 2>/dev/null`;
}

sub logout_token {
    my ($kid) = @_;
    my $now = int(time);
    my $claims = qq({"iss":"$TestOp::Issuer","aud":"rp","iat":$now,"exp":@{[$now + 300]},)
        . qq("jti":"j-$kid","sid":"none",)
        . qq("events":{"http://schemas.openid.net/event/backchannel-logout":{}}});
    return TestOp::mint(qq({"alg":"RS256","kid":"$kid","typ":"logout+jwt"}), $claims);
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a new signing key and no reload: the next login works after one fetch of the keys; made-up kids fetch nothing more
--- http_config eval: $::http
--- config
    auth_oidc idp;
    location /app/ {
        add_header X-User "$oidc_claim_sub" always;
    }
--- user_files
>>> app/index.html
app
--- init
my ($cookie, $st) = TestOp::login('/app/', 'alice');
Test::More::is($st, 302, 'a login signed with the first key works');
my $before = ::jwks_fetches();
Test::More::ok($before >= 1, "the keys were fetched ($before)");
TestOp::restart(rotated => 1);
my ($again, $st2) = TestOp::login('/app/', 'bob');
Test::More::is($st2, 302, 'after the rotation, the next login works without a reload');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $again"), TestOp::quote(::rp('/app/')));
Test::More::is($s, 200, 'its session admits');
Test::More::is(TestOp::header($h, 'X-User'), 'bob', 'as bob');
Test::More::is(::jwks_fetches() - $before, 1, 'the keys were fetched once more, for both workers');
my $flood = ::jwks_fetches();
my @codes = map {
    my ($c) = TestOp::http('--data-urlencode', TestOp::quote('logout_token=' . ::logout_token("made-up-$_")),
        TestOp::quote(::rp('/backchannel')));
    $c
} 1 .. 20;
Test::More::is(join(' ', @codes), join(' ', (400) x 20), '20 logout tokens with made-up kids: 400 each');
Test::More::cmp_ok(::jwks_fetches() - $flood, '<=', 1, 'and at most one more fetch of the keys');
--- request
GET /app/
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: provider "idp": metadata and 2 keys in use/,
 qr/\[info\] .*auth_oidc: back-channel logout refused: no key fits the token's kid and algorithm/]
