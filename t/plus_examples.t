# The JWS examples of NGINX Plus's ngx_http_auth_jwt_module documentation, unchanged but for
# the file names, work with this module (auth_jwt_key_request, which fetches keys with a
# subrequest, is not implemented).

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256);
use JSON::PP ();
use MIME::Base64 qw(encode_base64url);

our $SECRET = 'a-test-secret-that-is-32-bytes!!';

sub slurp {
    open my $f, '<', "$FindBin::Bin/fixtures/jwt/$_[0]" or die "$_[0]: $!";
    local $/;
    return scalar <$f>;
}

sub token {
    my $message = encode_base64url('{"alg":"HS256","kid":"hs-1","typ":"JWT"}') . '.'
        . encode_base64url(JSON::PP->new->canonical->encode({ exp => time + 3600, @_ }));
    return "$message." . encode_base64url(hmac_sha256($message, $SECRET));
}

no_root_location();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: the first example: a closed site with keys from a JWKS
--- config
location / {
    auth_jwt          "closed site";
    auth_jwt_key_file conf/keys.json;
}
--- user_files eval
[["../conf/conf/keys.json", main::slurp('jwks.json')]]
--- request eval
["GET /index.html", "GET /index.html"]
--- more_headers eval
["", "Authorization: Bearer " . main::token(sub => 'alice')]
--- error_code eval
[401, 200]
--- response_headers eval
['WWW-Authenticate: Bearer realm="closed site"', '!WWW-Authenticate']



=== TEST 2: claims and header fields to variables; requirements through map
--- http_config
auth_jwt_claim_set $email info e-mail;
auth_jwt_header_set $alg alg;

map $jwt_claim_role $jwt_has_admin_role {
    "~\badmin\b"    1;
}

map $jwt_claim_scope $jwt_has_restricted_scope {
    restricted    1;
}
--- config
location /profile/ {
    alias html/;
    auth_jwt "closed site";
    auth_jwt_key_file conf/keys.json;
    auth_jwt_require $jwt_has_admin_role $jwt_has_restricted_scope error=403;
    add_header X-Email $email;
    add_header X-Alg $alg;
}
--- user_files eval
[["../conf/conf/keys.json", main::slurp('jwks.json')]]
--- request eval
["GET /profile/index.html", "GET /profile/index.html", "GET /profile/index.html"]
--- more_headers eval
["Authorization: Bearer " . main::token(role => 'user admin', scope => 'restricted', info => { 'e-mail' => 'a@example.com' }),
 "Authorization: Bearer " . main::token(role => 'user', scope => 'restricted'),
 "Authorization: Bearer " . main::token(role => 'admin', scope => 'public')]
--- error_code eval
[200, 403, 403]
--- response_headers eval
["X-Email: a\@example.com\nX-Alg: HS256", 'WWW-Authenticate: Bearer realm="closed site", error="insufficient_scope"', '']



=== TEST 3: token from a cookie, key cache, leeway and type
--- config
location / {
    auth_jwt "closed site" token=$cookie_auth_token;
    auth_jwt_key_file conf/keys.json;
    auth_jwt_key_cache 1h;
    auth_jwt_leeway 60s;
    auth_jwt_type signed;
}
--- user_files eval
[["../conf/conf/keys.json", main::slurp('jwks.json')]]
--- request eval
["GET /index.html", "GET /index.html", "GET /index.html"]
--- more_headers eval
["Cookie: auth_token=" . main::token(sub => 'alice'),
 "Cookie: auth_token=" . main::token(sub => 'alice', nbf => time + 50),
 "Cookie: auth_token=" . main::token(sub => 'alice', exp => time - 3600)]
--- error_code eval
[200, 200, 401]
