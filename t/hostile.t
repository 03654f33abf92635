# Hostile input: oversized headers and tokens, huge numbers, binary and multi-megabyte files,
# key files that are directories or dangling links. Nothing answers 5xx for a client's input;
# every bad file fails the configuration naming file and line.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use Digest::SHA qw(hmac_sha256);
use MIME::Base64 qw(encode_base64 encode_base64url);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

use File::Temp ();
my $links = File::Temp::tempdir(CLEANUP => 1);
symlink '/nonexistent/keys.json', "$links/dangling.json" or die "symlink: $!";
$ENV{TEST_NGINX_LINKS} = $links;

sub hs256 {
    my $m = encode_base64url('{"alg":"HS256","kid":"hs-1"}') . '.' . encode_base64url($_[0]);
    return "$m." . encode_base64url(hmac_sha256($m, 'a-test-secret-that-is-32-bytes!!'));
}

# Deterministic noise: the same bytes on every run.
sub noise {
    my ($len, $seed) = @_;
    my $out = '';
    my $x = $seed;
    while (length $out < $len) {
        $x = ($x * 1103515245 + 12345) % 2147483648;
        $out .= chr(($x >> 16) & 0xff);
    }
    return $out;
}

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a 64 KB Authorization header reaches the module and gets 401
--- http_config
    large_client_header_buffers 4 256k;
--- config
    location /basic/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "x";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
    location /jwt/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "x";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
["GET /basic/index.html", "GET /basic/index.html", "GET /jwt/index.html", "GET /jwt/index.html"]
--- more_headers eval
["Authorization: Basic " . MIME::Base64::encode_base64('sha512:' . ('p' x 48000), ''),
 "Authorization: Basic " . ('A' x 65000),
 "Authorization: Bearer " . ('a' x 200000),
 "Authorization: Bearer " . main::hs256('{"sub":"' . ('x' x 20000) . '","exp":4102444800}')]
--- error_code eval
[401, 401, 401, 401]
--- response_headers eval
["", "", "X-Jwt-Error: malformed", "X-Jwt-Error: malformed"]
--- no_error_log
[crit]
[alert]



=== TEST 1a: 1 MB tokens and credentials, with header buffers that let them through: tokens
over 16 KB are refused before they are decoded, even when validly signed
--- http_config
    large_client_header_buffers 4 2m;
--- config
    location /basic/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "x";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
    location /jwt/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "x";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        add_header X-Jwt-Error $jwt_error always;
    }
    location /cookie/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "x" token=$cookie_session;
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        add_header X-Jwt-Error $jwt_error always;
    }
--- request eval
["GET /basic/index.html", "GET /jwt/index.html", "GET /jwt/index.html", "GET /jwt/index.html",
 "GET /cookie/index.html"]
--- more_headers eval
["Authorization: Basic " . MIME::Base64::encode_base64('sha512:' . ('p' x 786432), ''),
 "Authorization: Bearer " . ('a' x 1048576),
 "Authorization: Bearer " . main::hs256('{"sub":"' . ('x' x 786000) . '","exp":4102444800}'),
 "Authorization: Bearer " . (main::hs256('{"sub":"' . ('x' x 786000) . '","exp":4102444800}') =~ s/.{4}$/AAAA/r),
 "Cookie: session=" . main::hs256('{"sub":"' . ('x' x 786000) . '","exp":4102444800}')]
--- error_code eval
[401, 401, 401, 401, 401]
--- response_headers eval
["", "X-Jwt-Error: malformed", "X-Jwt-Error: malformed", "X-Jwt-Error: malformed",
 "X-Jwt-Error: malformed"]
--- error_log eval
[qr/\[info\] .*JWT refused: .*token too long|\[error\] .*user "sha512": password mismatch/]
--- no_error_log
[crit]
[alert]



=== TEST 2: huge and odd numbers in exp and nbf
--- config
    location /jwt/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "x";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt/jwks.json;
        add_header X-Jwt-Error "[$jwt_error]" always;
    }
--- request eval
[map { "GET /jwt/index.html" } 1 .. 6]
--- more_headers eval
[map { "Authorization: Bearer " . main::hs256($_) }
 '{"exp":1e400}', '{"exp":1e300}', '{"exp":-1e300}', '{"exp":18446744073709551616}',
 '{"exp":4102444800,"nbf":1e300}', '{"exp":4102444800.999999999999999999999}']
--- error_code eval
[401, 200, 401, 200, 401, 200]
--- response_headers eval
["X-Jwt-Error: [malformed]", "X-Jwt-Error: []", "X-Jwt-Error: [expired]", "X-Jwt-Error: []",
 "X-Jwt-Error: [not_yet_valid]", "X-Jwt-Error: []"]



=== TEST 3: a 3 MB binary user file: loaded with a bounded number of warnings, no crash
--- config
    location /basic/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "x";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/$arg_f;
    }
--- user_files eval
[["binary.htpasswd", main::noise(3_000_000, 7) . "\nplain:{PLAIN}s3cret-pw\n"]]
--- request eval
["GET /basic/index.html?f=binary.htpasswd", "GET /basic/index.html?f=binary.htpasswd"]
--- more_headers eval
["Authorization: Basic " . MIME::Base64::encode_base64('plain:s3cret-pw', ''),
 "Authorization: Basic " . MIME::Base64::encode_base64('nobody:x', '')]
--- error_code eval
[200, 401]
--- no_error_log
[crit]
[alert]



=== TEST 4: a binary key file
--- config
    location /jwt/ {
        auth_jwt "x";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/binary.jwks jwks;
    }
--- user_files eval
[["binary.jwks", main::noise(2_000_000, 11)]]
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_jwt_key_file": "\S+binary\.jwks": not a JWK Set.* in \S+nginx\.conf:\d+/



=== TEST 5: a key file that is a directory
--- config
    location /jwt/ {
        auth_jwt "x";
        auth_jwt_key_file $TEST_NGINX_FIXTURES/jwt;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*"auth_jwt_key_file": cannot read "\S+jwt": Is a directory .* in \S+nginx\.conf:\d+/



=== TEST 6: a key file that is a dangling symbolic link
--- config
    location /jwt/ {
        auth_jwt "x";
        auth_jwt_key_file $TEST_NGINX_LINKS/dangling.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\].*cannot read "\S+dangling\.json": No such file or directory/
