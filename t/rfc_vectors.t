# Known-answer vectors of RFC 7515 A.1-A.4, RFC 7520 4.1-4.4 and RFC 8037 A.4 over HTTP: each
# token's key in a JWKS file, the 2011 expiry covered by a long leeway. Tokens whose payload is
# text, not claims, pass the signature and stop at the payload: "malformed", not
# "bad_signature"; a changed signature is "bad_signature".

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

my $vectors = do {
    open my $f, '<', "$FindBin::Bin/../auth-core/tests/fixtures/rfc-vectors.json" or die $!;
    local $/;
    JSON::PP->new->decode(<$f>);
};

my $spec = '';
my $n = 0;
for my $v (@$vectors) {
    $n++;
    my $jwks = JSON::PP->new->canonical->encode({ keys => [$v->{jwk}] });
    my $token = $v->{token};
    (my $tampered = $token) =~ s/(.)(.)$/($1 eq 'A' ? 'B' : 'A') . $2/e;
    my ($code, $error) = $v->{claims} ? (200, '') : (401, 'malformed');
    $spec .= <<"_EOB_";
=== TEST $n: $v->{name} ($v->{alg})
--- config
    location /api/ {
        alias \$TEST_NGINX_HTML_DIR/;
        auth_jwt "rfc";
        auth_jwt_key_file \$TEST_NGINX_HTML_DIR/key.jwks;
        auth_jwt_leeway 100y;
        add_header X-Jwt-Error "[\$jwt_error]" always;
    }
--- user_files
>>> key.jwks
$jwks
--- request eval
["GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
["Authorization: Bearer $token", "Authorization: Bearer $tampered"]
--- error_code eval
[$code, 401]
--- response_headers eval
["X-Jwt-Error: [$error]", "X-Jwt-Error: [bad_signature]"]


_EOB_
}

spec_string($spec);
run_tests();
