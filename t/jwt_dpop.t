# auth_jwt_dpop: DPoP-bound tokens (RFC 9449). A token bound to a key (cnf.jkt) is accepted only
# as `Authorization: DPoP` with a proof its key signed for this request, once; never as Bearer.
# Proofs are made here with the openssl command, on EC P-256 and Ed25519 keys.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;
use DpopFixtures;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

our $ec = DpopFixtures->new_key('ec');
our $ed = DpopFixtures->new_key('ed25519');
our $thief = DpopFixtures->new_key('ec');
our $algs = 'ES256 ES384 ES512 EdDSA PS256 PS384 PS512 RS256 RS384 RS512';

# A token bound to `key`.
sub bound { my ($key, %claims) = @_; JwtFixtures::hs256_token(cnf => { jkt => $key->jkt }, %claims) }

# The headers of a request to `path` on api.test with `token` and a proof `key` made; `proof`
# changes what the proof says.
sub dpop {
    my ($key, $token, $path, %proof) = @_;
    my $proof = $key->proof(method => 'GET', uri => "http://api.test$path", token => $token,
        %proof);
    return "Host: api.test\nAuthorization: DPoP $token\nDPoP: $proof";
}

our $config = <<'_EOC_';
    auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
    auth_jwt_dpop_window 5m;

    location /api {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_dpop on;
    }
    location /strict {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "strict";
        auth_jwt_dpop required;
    }
    location /plain {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "plain";
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a bound token with a good proof passes, on either key type; the same proof again is a replay
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
my $token = main::bound($::ec);
my $good = main::dpop($::ec, $token, '/api/index.html');
[$good, main::dpop($::ed, main::bound($::ed), '/api/index.html'), $good]
--- error_code eval
[200, 200, 401]
--- response_body eval
["ok\n", "ok\n", qr/401 Authorization Required/]
--- raw_response_headers_like eval
[qr/^(?!.*WWW-Authenticate)/s, qr/^(?!.*WWW-Authenticate)/s,
 qr/WWW-Authenticate: Bearer realm="api"(?:\r\nWWW-Authenticate: |, )DPoP realm="api", error="invalid_dpop_proof", algs="$::algs"\r\n/]



=== TEST 2: a proof made for another URI is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/other.html')
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof htu is not the request's URI



=== TEST 3: a proof made for another method is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', method => 'POST')
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof htm is not the request's method



=== TEST 4: a proof made for another token is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', token => main::bound($::ec, sub => 'bob'))
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof ath is not the access token's hash



=== TEST 5: a proof made an hour ago is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', claims => { iat => time - 3600 })
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof iat is out of the accepted window



=== TEST 6: a proof made an hour ahead is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', claims => { iat => time + 3600 })
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof iat is out of the accepted window



=== TEST 7: a proof made by another key (a thief's) is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::thief, main::bound($::ec), '/api/index.html')
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof key is not the one the token is bound to



=== TEST 8: a proof made of another type is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', header => { typ => 'JWT' })
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof typ is not "dpop+jwt"



=== TEST 9: a proof made without a jti is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', claims => { jti => undef })
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: malformed DPoP proof: no jti



=== TEST 10: a proof made with a private key in its header is refused
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/api/index.html', header => { jwk => { %{ $::ec->jwk }, d => 'c2VjcmV0' } })
--- error_code: 401
--- raw_response_headers_like eval
qr/DPoP realm="api", error="invalid_dpop_proof", algs="/
--- error_log
JWT refused: DPoP proof key: the key has the private member "d"



=== TEST 11: a stolen bound token is useless as Bearer, and as DPoP without a proof
--- config eval: $::config
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /plain/index.html"]
--- more_headers eval
my $token = main::bound($::ec);
["Authorization: Bearer $token", "Authorization: DPoP $token", "Authorization: Bearer $token"]
--- error_code eval
[401, 401, 401]
--- raw_response_headers_like eval
[qr/WWW-Authenticate: Bearer realm="api", error="invalid_token"(?:\r\nWWW-Authenticate: |, )DPoP realm="api", algs="$::algs"\r\n/,
 qr/WWW-Authenticate: Bearer realm="api"(?:\r\nWWW-Authenticate: |, )DPoP realm="api", error="invalid_dpop_proof", algs="/,
 qr/WWW-Authenticate: Bearer realm="plain", error="invalid_token"\r\n(?!.*DPoP)/s]



=== TEST 12: without a token, both schemes are offered, Bearer first
--- config eval: $::config
--- request
GET /api/index.html
--- error_code: 401
--- raw_response_headers_like eval
qr/WWW-Authenticate: Bearer realm="api"(?:\r\nWWW-Authenticate: |, )DPoP realm="api", algs="$::algs"\r\n/



=== TEST 13: unbound Bearer tokens still pass where DPoP is on; an unbound token is no DPoP token
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
my $token = JwtFixtures::hs256_token();
["Authorization: Bearer $token", main::dpop($::ec, $token, '/api/index.html')]
--- error_code eval
[200, 401]
--- raw_response_headers_like eval
[qr/^(?!.*WWW-Authenticate)/s, qr/DPoP realm="api", error="invalid_token", algs="/]



=== TEST 14: required: only DPoP is offered, and a Bearer token is refused even unbound
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /strict/index.html", "GET /strict/index.html", "GET /strict/index.html"]
--- more_headers eval
my $token = main::bound($::ed);
[JwtFixtures::hs256_bearer(), main::dpop($::ed, $token, '/strict/index.html'), ""]
--- error_code eval
[401, 200, 401]
--- raw_response_headers_like eval
[qr/WWW-Authenticate: DPoP realm="strict", error="invalid_token", algs="$::algs"\r\n/,
 qr/^(?!.*WWW-Authenticate)/s,
 qr/^(?!.*Bearer)(?=.*WWW-Authenticate: DPoP realm="strict", algs=)/s]



=== TEST 15: where DPoP is off, the DPoP scheme is no token at all
--- config eval: $::config
--- request
GET /plain/index.html
--- more_headers eval
main::dpop($::ec, main::bound($::ec), '/plain/index.html')
--- error_code: 401
--- raw_response_headers_like eval
qr/WWW-Authenticate: Bearer realm="plain"\r\n(?!.*DPoP)/s



=== TEST 16: two proofs are one too many
--- config eval: $::config
--- request
GET /api/index.html
--- more_headers eval
my $token = main::bound($::ec);
main::dpop($::ec, $token, '/api/index.html') . "\nDPoP: "
    . $::ec->proof(method => 'GET', uri => 'http://api.test/api/index.html', token => $token)
--- error_code: 401
--- error_log
JWT refused: more than one DPoP proof



=== TEST 17: the resource's metadata says DPoP is accepted, or required
--- config
    location /mcp {
        auth_jwt "mcp";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp;
        auth_jwt_dpop required;
    }
    location /api {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/api;
        auth_jwt_dpop on;
    }
--- request eval
["GET /.well-known/oauth-protected-resource/mcp", "GET /.well-known/oauth-protected-resource/api"]
--- response_body_like eval
[qr/"dpop_bound_access_tokens_required":true,"dpop_signing_alg_values_supported":\["ES256","ES384","ES512","EdDSA","PS256","PS384","PS512","RS256","RS384","RS512"\]/,
 qr/"dpop_bound_access_tokens_required":false/]
