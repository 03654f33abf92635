# Bearer mode with what auth_jwt checks besides the token (one code path, crate::bearer): the
# scopes of bearer_scope, and DPoP-bound access tokens with bearer_dpop. The access tokens are
# minted here with the test provider's key, as it would make them (RFC 9068).

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use DpopFixtures;
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

our $key = DpopFixtures->new_key('ec');
our $algs = 'ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512';

our $http = TestOp::http_config(<<'_EOC_');
        bearer_audience https://api.test/;
        bearer_scope api:read;
        bearer_dpop on;
_EOC_

# An access token of the provider: these claims over the usual ones.
sub at {
    my (%claims) = @_;
    my $now = time;
    my %all = (iss => $TestOp::Issuer, aud => 'https://api.test/', sub => 'alice',
        iat => $now, exp => $now + 600, client_id => 'rp', jti => 'j' . rand(),
        scope => 'openid api:read', %claims);
    delete $all{$_} for grep { !defined $all{$_} } keys %all;
    return TestOp::mint('{"alg":"RS256","kid":"op-rsa","typ":"at+jwt"}',
        JSON::PP->new->canonical->encode(\%all));
}

sub bound { at(cnf => { jkt => $::key->jkt }, @_) }

# The headers of a DPoP request for /api/index.html on api.test, with a proof `key` made.
sub dpop {
    my ($key, $token) = @_;
    my $proof = $key->proof(method => 'GET', uri => 'http://api.test/api/index.html',
        token => $token);
    return "Host: api.test\nAuthorization: DPoP $token\nDPoP: $proof";
}

our $config = <<'_EOC_';
    auth_oidc idp;
    add_header X-Error $oidc_error always;
    add_header X-User $oidc_claim_sub always;
    location /api/ {
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a bound token with its proof admits; the same proof again, or the token as Bearer, do not
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> api/index.html
api
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
my $token = main::bound();
my $good = main::dpop($::key, $token);
[$good, $good, "Host: api.test\nAuthorization: Bearer $token"]
--- error_code eval
[200, 401, 401]
--- response_headers eval
["X-User: alice", "X-Error: bad_token", "X-Error: bad_token"]
--- raw_response_headers_like eval
[qr/^(?!.*WWW-Authenticate)/s,
 qr/WWW-Authenticate: Bearer realm="idp", scope="api:read"(?:\r\nWWW-Authenticate: |, )DPoP realm="idp", error="invalid_dpop_proof", scope="api:read", algs="$::algs"\r\n/,
 qr/WWW-Authenticate: Bearer realm="idp", error="invalid_token", scope="api:read"(?:\r\nWWW-Authenticate: |, )DPoP realm="idp", scope="api:read", algs="/]



=== TEST 2: the scopes of bearer_scope: 403 without them, whatever the scheme
--- http_config eval: $::http
--- config eval: $::config
--- user_files
>>> api/index.html
api
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
["Authorization: Bearer " . main::at(), "Authorization: Bearer " . main::at(scope => 'openid'),
 main::dpop($::key, main::bound(scope => 'openid'))]
--- error_code eval
[200, 403, 403]
--- response_headers eval
["X-Error: ", "X-Error: insufficient_scope", "X-Error: insufficient_scope"]
--- raw_response_headers_like eval
[qr/^(?!.*WWW-Authenticate)/s,
 qr/WWW-Authenticate: Bearer realm="idp", error="insufficient_scope", scope="api:read"(?:\r\nWWW-Authenticate: |, )DPoP realm="idp", scope="api:read", algs="/,
 qr/WWW-Authenticate: Bearer realm="idp", scope="api:read"(?:\r\nWWW-Authenticate: |, )DPoP realm="idp", error="insufficient_scope", scope="api:read", algs="/]



=== TEST 3: a refusal for a scope is logged, naming it
--- http_config eval: $::http
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
"Authorization: Bearer " . main::at(scope => 'openid')
--- error_code: 403
--- error_log
auth_oidc: bearer token refused: scope "api:read" not granted



=== TEST 4: nginx -t refuses a bearer_dpop that is not off, on or required
--- http_config eval: TestOp::http_config("        bearer_dpop always;\n")
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"bearer_dpop": invalid value "always"; it must be "off", "on" or "required" in \S+nginx\.conf:\d+/



=== TEST 5: nginx -t refuses a bearer_scope that is no scope-token
--- http_config eval: TestOp::http_config(qq{        bearer_scope 'read "all"';\n})
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"bearer_scope": invalid scope "read \\"all\\"" in \S+nginx\.conf:\d+/



=== TEST 6: bearer_introspection: an opaque access token of the provider admits, asked about at its introspection endpoint
--- http_config eval
TestOp::http_config(<<'_EOC_');
        bearer_audience https://api.test/;
        bearer_introspection on;
        bearer_scope openid;
_EOC_
--- config
    auth_oidc idp;
    add_header X-User $oidc_claim_sub always;
    add_header X-Error $oidc_error always;
    location /app/ {
        add_header X-Access-Token $oidc_access_token;
    }
    location /api/ {
    }
--- user_files
>>> app/index.html
app
>>> api/index.html
api
--- init
my $token = TestOp::access_token('/app/', 'alice');
Test::More::unlike($token, qr/\./, 'the session holds an opaque access token');
my ($s, $h) = TestOp::http('-H', TestOp::quote("Authorization: Bearer $token"),
    TestOp::quote("http://127.0.0.1:$TestOp::RpPort/api/index.html"));
Test::More::is($s, 200, 'it admits as a bearer token');
Test::More::is(TestOp::header($h, 'X-User'), 'alice', 'with the answer\'s sub');
--- request
GET /api/index.html
--- more_headers
Authorization: Bearer no-such-token
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="idp", error="invalid_token", scope="openid"
X-Error: bad_token
--- error_log
auth_oidc: bearer token refused: the introspection endpoint says the token is not active
