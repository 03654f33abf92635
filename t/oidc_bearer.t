# Bearer mode: with bearer_audience, a request with `Authorization: Bearer` is admitted by a JWT
# access token of the provider (RFC 9068) for that audience, or refused with 401 and a
# challenge; never sent to log in. The test provider issues such tokens for its resource.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
BEGIN { $ENV{TEST_OP_RESOURCE} = 'https://api.test/' }
use Test::Nginx::Socket 'no_plan';
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $http = TestOp::http_config(<<'_EOC_');
        bearer_audience https://api.test/;
_EOC_

sub api {
    my ($token, @more) = @_;
    return TestOp::http('-H', TestOp::quote("Authorization: Bearer $token"), @more,
        TestOp::quote("http://127.0.0.1:$TestOp::RpPort/api/"));
}

sub at_claims {
    my (%claims) = @_;
    my $now = time;
    my %all = (iss => $TestOp::Issuer, aud => 'https://api.test/', sub => 'mallory',
        iat => $now, exp => $now + 600, client_id => 'rp', jti => 'j' . rand(), %claims);
    return '{' . join(',', map { my $v = $all{$_}; qq("$_":) . ($v =~ /^\d+$/ ? $v : qq("$v")) }
        sort keys %all) . '}';
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the provider's access token admits; an ID token, another audience or a tampered token do not
--- http_config eval: $::http
--- config
    auth_oidc idp;
    add_header X-User $oidc_claim_sub always;
    add_header X-Email $oidc_claim_email always;
    add_header X-Error $oidc_error always;
    location /app/ {
        add_header X-Access-Token $oidc_access_token;
        add_header X-Id-Token $oidc_id_token;
    }
    location /api/ {
    }
--- user_files
>>> app/index.html
app
>>> api/index.html
api
--- init
my ($cookie) = TestOp::login('/app/', 'alice');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Cookie: $cookie"), TestOp::quote("http://127.0.0.1:$TestOp::RpPort/app/"));
my $at = TestOp::header($h, 'X-Access-Token');
my $it = TestOp::header($h, 'X-Id-Token');
Test::More::like($at, qr/^[\w-]+\.[\w-]+\.[\w-]+$/, 'the session holds a JWT access token');
($s, $h) = ::api($at);
Test::More::is($s, 200, 'it admits as a bearer token');
Test::More::is(TestOp::header($h, 'X-User'), 'alice', '$oidc_claim_sub is its sub');
Test::More::is(TestOp::header($h, 'X-Email'), 'alice@example.test', 'and its claims are there');
($s, $h) = ::api($it);
Test::More::is($s, 401, 'the ID token does not');
Test::More::like(TestOp::header($h, 'WWW-Authenticate'), qr/^Bearer realm="idp", error="invalid_token"$/, 'a challenge');
Test::More::is(TestOp::header($h, 'X-Error'), 'bad_token', '$oidc_error');
(my $tampered = $at) =~ s/\.(.)/'.' . ($1 eq 'e' ? 'f' : 'e')/e;
($s) = ::api($tampered);
Test::More::is($s, 401, 'a tampered token does not');
my $typ = '{"alg":"RS256","kid":"op-rsa","typ":"at+jwt"}';
($s) = ::api(TestOp::mint($typ, ::at_claims()));
Test::More::is($s, 200, 'a token the provider could have made does');
($s) = ::api(TestOp::mint($typ, ::at_claims(aud => 'https://other.test/')));
Test::More::is($s, 401, 'for another audience: 401');
($s) = ::api(TestOp::mint('{"alg":"RS256","kid":"op-rsa","typ":"JWT"}', ::at_claims()));
Test::More::is($s, 401, 'without typ at+jwt: 401');
($s) = ::api(TestOp::mint($typ, ::at_claims(iss => 'https://evil.test')));
Test::More::is($s, 401, 'of another issuer: 401');
($s, $h) = ::api('garbage', '-H', TestOp::quote('Accept: text/html'));
Test::More::is($s, 401, 'a navigation with a bad token gets 401, not a login');
--- request
GET /api/
--- more_headers
Authorization: Bearer garbage
--- error_code: 401
--- error_log eval
[qr/\[info\] .*auth_oidc: bearer token refused: malformed token/,
 qr/\[info\] .*auth_oidc: bearer token refused: malformed token: typ is not at\+jwt/,
 qr/\[info\] .*auth_oidc: bearer token refused: audience not accepted/,
 qr/\[info\] .*auth_oidc: bearer token refused: issuer not accepted/,
 qr/\[info\] .*auth_oidc: bearer token refused: signature verification failed/]
