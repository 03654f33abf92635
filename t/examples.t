# Every example in nginx-conf/examples, included unchanged and exercised.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_EXAMPLES} = "$FindBin::Bin/../nginx-conf/examples";

sub fixture {
    open my $f, '<', "$FindBin::Bin/fixtures/$_[0]" or die $!;
    local $/;
    my $data = <$f>;
    return $data;
}

sub bearer { my $t = fixture("jwt/$_[0]"); chomp $t; "Authorization: Bearer $t" }

sub basic { 'Authorization: Basic ' . encode_base64(join(':', @_), '') }

our $FILES = [
    ['../conf/keys/jwks.json', fixture('jwt/jwks.json')],
    ['../conf/htpasswd/admins', fixture('all-formats.htpasswd')],
    ['admin/index.html', "admin\n"], ['api/index.html', "api\n"], ['app/index.html', "app\n"],
    ['intranet/index.html', "intranet\n"], ['portal/index.html', "portal\n"],
];

no_shuffle();
run_tests();

__DATA__

=== TEST 1: htpasswd.conf
--- config
    include $TEST_NGINX_EXAMPLES/htpasswd.conf;
--- user_files eval: $main::FILES
--- request eval
["GET /admin/", "GET /admin/", "GET /admin/"]
--- more_headers eval
["", main::basic('bcrypt', 's3cret-pw'), main::basic('bcrypt', 'nope')]
--- error_code eval
[401, 200, 401]
--- response_body eval
[qr/401/, "admin\n", qr/401/]



=== TEST 2: jwt-jwks.conf: issuer, audience and keys from the JWKS
--- config
    include $TEST_NGINX_EXAMPLES/jwt-jwks.conf;
--- user_files eval: $main::FILES
--- request eval
["GET /api/", "GET /api/", "GET /api/"]
--- more_headers eval
["", main::bearer('es256.jwt'), main::bearer('eddsa.jwt')]
--- error_code eval
[401, 200, 200]



=== TEST 3: jwt-cookie-login.conf
--- config
    include $TEST_NGINX_EXAMPLES/jwt-cookie-login.conf;
--- user_files eval: $main::FILES
--- request eval
["GET /app/?x=1", "GET /app/", "GET /app/"]
--- more_headers eval
["", "Cookie: session=expired.garbage.x", "Cookie: session=" . substr(main::bearer('rs256.jwt'), 22)]
--- error_code eval
[302, 302, 200]
--- response_headers eval
["Location: http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/login?next=/app/?x=1&reason=missing",
 "Location: http://localhost:$ENV{TEST_NGINX_SERVER_PORT}/login?next=/app/&reason=malformed",
 "!Location"]



=== TEST 4: jwt-claims-to-headers.conf
--- config
    include $TEST_NGINX_EXAMPLES/jwt-claims-to-headers.conf;
    location /echo-headers/ {
        return 200 "user=$http_x_user scope=$http_x_scope groups=$http_x_groups";
    }
--- user_files eval: $main::FILES
--- request eval
["GET /backend/", "GET /backend/"]
--- more_headers eval
["", main::bearer('ps256.jwt')]
--- error_code eval
[401, 200]
--- response_body eval
[qr/401/, "user=alice scope=read write groups=admin,dev"]



=== TEST 5: satisfy-any-allowlist.conf: 127.0.0.1 is on the allow-list
--- config
    include $TEST_NGINX_EXAMPLES/satisfy-any-allowlist.conf;
--- user_files eval: $main::FILES
--- request
GET /intranet/
--- error_code: 200
--- response_body
intranet



=== TEST 6: satisfy-any-allowlist.conf, as seen from outside the allow-list
--- config
    set_real_ip_from 127.0.0.1;
    real_ip_header X-Forwarded-For;
    include $TEST_NGINX_EXAMPLES/satisfy-any-allowlist.conf;
--- user_files eval: $main::FILES
--- request eval
["GET /intranet/", "GET /intranet/", "GET /intranet/"]
--- more_headers eval
["X-Forwarded-For: 192.0.2.1", "X-Forwarded-For: 192.0.2.1\n" . main::bearer('hs256.jwt'),
 "X-Forwarded-For: 192.0.2.1\n" . main::basic('sha512', 's3cret-pw')]
--- error_code eval
[401, 200, 200]



=== TEST 7: jwt-then-auth-request.conf: a token spares the validator, which decides otherwise
--- config
    include $TEST_NGINX_EXAMPLES/jwt-then-auth-request.conf;
    location /validator/ {
        if ($http_x_session = "valid") {
            return 204;
        }
        return 401;
    }
--- user_files eval: $main::FILES
--- request eval
["GET /portal/", "GET /portal/", "GET /portal/"]
--- more_headers eval
[main::bearer('es384.jwt'), "X-Session: valid", ""]
--- error_code eval
[200, 200, 401]
