# auth_jwt_scope: the scopes an access token must grant (its "scope", space-delimited, or
# "scp"); a token without one of them gets 403 with error="insufficient_scope" and the scopes
# required (RFC 6750, section 3.1), and a request without a token learns them from the 401.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

sub token { JwtFixtures::hs256_bearer(@_) }

our $config = <<'_EOC_';
    auth_jwt "mcp";
    auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
    auth_jwt_scope mcp:tools mcp:read;
    add_header X-Jwt-Error "[$jwt_error]" always;
    location /mcp/ {
        alias $TEST_NGINX_HTML_DIR/;
    }
    location /mcp/admin/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt_scope mcp:admin;
        limit_except GET {
            deny all;
        }
    }
    location /open/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt off;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the scopes granted admit; one missing gets 403 naming the scopes required
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /mcp/index.html", "GET /mcp/index.html", "GET /mcp/index.html", "GET /mcp/index.html",
 "GET /mcp/index.html", "GET /mcp/index.html"]
--- more_headers eval
[main::token(scope => 'mcp:read mcp:tools other'),
 main::token(scp => ['mcp:tools', 'mcp:read']),
 main::token(scope => 'mcp:tools', scp => 'mcp:read'),
 main::token(scope => 'mcp:tools'),
 main::token(scope => 'mcp:tools,mcp:read'),
 main::token()]
--- error_code eval
[200, 200, 200, 403, 403, 403]
--- response_headers eval
["X-Jwt-Error: []", "X-Jwt-Error: []", "X-Jwt-Error: []",
 qq{WWW-Authenticate: Bearer realm="mcp", error="insufficient_scope", scope="mcp:tools mcp:read"\nX-Jwt-Error: [insufficient_scope]},
 qq{WWW-Authenticate: Bearer realm="mcp", error="insufficient_scope", scope="mcp:tools mcp:read"},
 qq{WWW-Authenticate: Bearer realm="mcp", error="insufficient_scope", scope="mcp:tools mcp:read"}]



=== TEST 1a: the info line names the scopes missing
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request
GET /mcp/index.html
--- more_headers eval
main::token(scope => 'mcp:tools')
--- error_code: 403
--- error_log eval
qr/\[info\] .*JWT refused: scope "mcp:read" not granted/



=== TEST 2: without a token, the 401 says which scopes to ask for; a bad token gets invalid_token alone
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /mcp/index.html", "GET /mcp/index.html"]
--- more_headers eval
["", "Authorization: Bearer not.a.token"]
--- error_code eval
[401, 401]
--- response_headers eval
[qq{WWW-Authenticate: Bearer realm="mcp", scope="mcp:tools mcp:read"},
 qq{WWW-Authenticate: Bearer realm="mcp", error="invalid_token"}]



=== TEST 3: a nested location's auth_jwt_scope replaces the inherited one; limit_except and off keep working
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /mcp/admin/index.html", "GET /mcp/admin/index.html", "POST /mcp/admin/index.html", "GET /open/index.html"]
--- more_headers eval
[main::token(scope => 'mcp:tools mcp:read'), main::token(scope => 'mcp:admin'),
 main::token(scope => 'mcp:admin'), ""]
--- error_code eval
[403, 200, 403, 200]
--- response_headers eval
[qq{WWW-Authenticate: Bearer realm="mcp", error="insufficient_scope", scope="mcp:admin"}, "", "", ""]



=== TEST 4: auth_jwt_require runs after the scopes, and the scopes are in $jwt_claim_scope for a map
--- http_config
    map $jwt_claim_scope $writer {
        "~(^| )write( |$)" 1;
    }
--- config
    location /api/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_scope read;
        auth_jwt_require $writer error=403;
    }
--- user_files
>>> index.html
ok
--- request eval
["GET /api/index.html", "GET /api/index.html", "GET /api/index.html"]
--- more_headers eval
[main::token(scope => 'read write'), main::token(scope => 'read'), main::token(scope => 'write')]
--- error_code eval
[200, 403, 403]
--- response_headers eval
["", qq{WWW-Authenticate: Bearer realm="api", error="insufficient_scope"},
 qq{WWW-Authenticate: Bearer realm="api", error="insufficient_scope", scope="read"}]



=== TEST 5: a scope that cannot stand in a challenge fails nginx -t
--- config
    location / {
        auth_jwt_scope 'read "all"';
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_scope": invalid scope "read \\"all\\"" in \S+nginx\.conf:\d+/
