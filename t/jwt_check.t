# The token-check tool (auth-core's jwt-check) and the module agree: each token goes to both,
# with the same keys and rules, and the module's $jwt_error must be the tool's reason.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64url);

my $tool = $ENV{TEST_NGINX_JWT_CHECK} || "$FindBin::Bin/../target/debug/jwt-check";
-x $tool or die "$tool missing: cargo build -p auth-core --bin jwt-check\n";

my $keys = "$FindBin::Bin/fixtures/jwt";
my $secret = 'a-test-secret-that-is-32-bytes!!';

sub slurp {
    open my $f, '<', "$keys/$_[0]" or die $!;
    chomp(my $t = <$f>);
    return $t;
}

sub hs256 {
    my ($header, $payload) = @_;
    my $m = encode_base64url($header) . '.' . encode_base64url($payload);
    return "$m." . encode_base64url(hmac_sha256($m, $secret));
}

my $now = time;
my $iss = '"iss":"https://issuer.example","aud":"api"';
my %tokens = (
    'ES256 from the JWKS'  => slurp('es256.jwt'),
    'EdDSA from the JWKS'  => slurp('eddsa.jwt'),
    'expired'              => hs256('{"alg":"HS256","kid":"hs-1"}', '{"exp":' . ($now - 3600) . ",$iss}"),
    'within the leeway'    => hs256('{"alg":"HS256","kid":"hs-1"}', '{"exp":' . ($now - 60) . ",$iss}"),
    'not yet valid'        => hs256('{"alg":"HS256","kid":"hs-1"}', '{"exp":' . ($now + 7200) . ',"nbf":' . ($now + 3600) . ",$iss}"),
    'other issuer'         => hs256('{"alg":"HS256","kid":"hs-1"}', '{"exp":' . ($now + 3600) . ',"iss":"x","aud":"api"}'),
    'other audience'       => hs256('{"alg":"HS256","kid":"hs-1"}', '{"exp":' . ($now + 3600) . ',"iss":"https://issuer.example","aud":"web"}'),
    'unknown kid'          => hs256('{"alg":"HS256","kid":"nope"}', '{"exp":' . ($now + 3600) . ",$iss}"),
    'alg none'             => encode_base64url('{"alg":"none"}') . '.' . encode_base64url('{}') . '.',
    'crit'                 => hs256('{"alg":"HS256","kid":"hs-1","crit":["x"],"x":1}', '{"exp":' . ($now + 3600) . ",$iss}"),
    'tampered signature'   => substr(slurp('rs256.jwt'), 0, -3) . 'AAA',
    'not a token'          => 'hello',
);

my $spec = '';
my $n = 0;
for my $name (sort keys %tokens) {
    my $token = $tokens{$name};
    my $out = `$tool --key $keys/jwks.json --issuer https://issuer.example --audience api --leeway 600 '$token'`;
    $out =~ /^(valid|invalid: \w+)/ or die "$name: unexpected output: $out";
    my $reason = $out =~ /^invalid: (\w+)/ ? $1 : '';
    my $code = $reason ? 401 : 200;
    $n++;
    $spec .= <<"_EOB_";
=== TEST $n: $name: the tool says "@{[$reason || 'valid']}"
--- config
    location /api/ {
        alias \$TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $keys/jwks.json;
        auth_jwt_issuer https://issuer.example;
        auth_jwt_audience api;
        auth_jwt_leeway 10m;
        add_header X-Jwt-Error "[\$jwt_error]" always;
    }
--- request
GET /api/index.html
--- more_headers
Authorization: Bearer $token
--- error_code: $code
--- response_headers
X-Jwt-Error: [$reason]


_EOB_
}

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
spec_string($spec);
run_tests();
