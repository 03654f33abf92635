# A refresh answer whose ID token does not verify (here: another audience) is a refusal, as the
# provider's own refusal is: the session ends once its tokens have expired, with an error line
# that says why, instead of going on with the old tokens while the refresh is tried again every
# 5 seconds. Metadata that cannot be used is a failed fetch, which names the reason. The
# provider is this nginx itself: its metadata, keys and token endpoint are locations that
# answer fixed documents.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use File::Temp ();
use MIME::Base64 ();
use TestIdp;

my $keys = "$FindBin::Bin/fixtures/jwt";
my $port = TestIdp::port(0);
my $issuer = "http://127.0.0.1:$port";
my $tool = $ENV{TEST_NGINX_SEAL_SESSION} || "$FindBin::Bin/../target/debug/examples/seal_session";
-x $tool or die "$tool missing: cargo build -p auth-core --example seal_session\n";

my $secret = File::Temp->new;
print $secret join '', map { chr(int(rand(256))) } 1 .. 32;
close $secret;

sub b64url {
    my $s = MIME::Base64::encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

# An RS256 token signed with the fixture key that the provider's JWK Set publishes (rsa-1).
sub mint {
    my ($claims) = @_;
    my $input = b64url('{"alg":"RS256","kid":"rsa-1","typ":"JWT"}') . '.' . b64url($claims);
    my $file = File::Temp->new;
    print $file $input;
    close $file;
    my $sig = `openssl dgst -sha256 -sign $keys/rsa.key -binary $file`;
    return "$input." . b64url($sig);
}

my $now = int(time);
my $id_token = mint(qq({"iss":"$issuer","aud":"someone-else","sub":"bench","iat":$now,"exp":@{[$now + 600]}}));
my $metadata = qq({"issuer":"$issuer","authorization_endpoint":"$issuer/auth",)
    . qq("token_endpoint":"$issuer/token","jwks_uri":"$issuer/jwks","response_types_supported":["code"]});
my $answer = qq({"access_token":"a2","token_type":"Bearer","expires_in":300,"refresh_token":"r2",)
    . qq("id_token":"$id_token"});

our $cookie = `$tool $secret fake NGX_OIDC_SESSION -10`;
chomp $cookie;
$cookie =~ /^NGX_OIDC_SESSION=/ or die "seal_session: $cookie";

(my $other = $metadata) =~ s/"issuer":"[^"]*"/"issuer":"http:\/\/127.0.0.1:9"/;

our $http = <<"_EOC_";
    oidc_session_key $secret;
    oidc_provider fake {
        issuer $issuer;
        client_id rp;
        client_secret rp-secret;
    }
    oidc_provider mismatch {
        issuer $issuer;
        config_url $issuer/mismatch;
        client_id rp;
        cookie_name MISMATCH;
    }
    server {
        listen 127.0.0.1:$port;
        location = /.well-known/openid-configuration {
            default_type application/json;
            return 200 '$metadata';
        }
        location = /jwks {
            default_type application/json;
            alias $keys/jwks.json;
        }
        location = /mismatch {
            default_type application/json;
            return 200 '$other';
        }
        location = /token {
            default_type application/json;
            return 200 '$answer';
        }
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: an expired session whose refresh answer has an ID token for another audience ends, and the log says why
--- http_config eval: $::http
--- config
    location /app/ {
        auth_oidc fake;
        add_header X-Error $oidc_error always;
    }
--- more_headers eval
"Cookie: $::cookie"
--- request
GET /app/index.html
--- error_code: 401
--- response_headers
X-Error: session_ended
--- error_log eval
[qr/\[error\] .*auth_oidc: refreshing the tokens at "fake" failed: ID token refused: audience not accepted; the answer is refused, the session ends when its tokens expire/,
 qr/\[info\] .*auth_oidc: session ended: its refresh token was spent or refused/]



=== TEST 2: metadata of another issuer is a failed fetch: a login gets 502, and the log says why
--- http_config eval: $::http
--- config
    location /app/ {
        auth_oidc mismatch;
    }
--- more_headers
Accept: text/html
--- request
GET /app/
--- error_code: 502
--- error_log eval
[qr/\[error\] .*auth_oidc: provider "mismatch": fetching "http:\/\/127\.0\.0\.1:\d+\/mismatch" failed: "\S+": "issuer" is "http:\/\/127\.0\.0\.1:9", not the configured issuer/,
 qr/\[error\] .*auth_oidc: provider "mismatch" is unavailable: fetching "\S+" failed: "\S+": "issuer" is/]
