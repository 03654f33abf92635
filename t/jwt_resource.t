# auth_jwt_resource: a protected resource (RFC 9728). Tokens must name it in aud (RFC 8707);
# the module answers its metadata on the server, wherever the request lands; every challenge
# of the location says where that metadata is.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use JwtFixtures;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";
my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $resource = "http://127.0.0.1:$port/mcp";
our $metadata = "http://127.0.0.1:$port/.well-known/oauth-protected-resource/mcp";

sub token { JwtFixtures::hs256_bearer(@_) }

our $config = <<'_EOC_';
    location /mcp {
        alias $TEST_NGINX_HTML_DIR/;
        auth_jwt "mcp";
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp
                          authorization_server=https://as.example
                          scopes=mcp:tools,mcp:read;
        auth_jwt_scope mcp:tools;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the metadata is answered, as JSON, though no location covers its path
--- config eval: $::config
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_headers
Content-Type: application/json
--- response_body eval
qq({"authorization_servers":["https://as.example"],"bearer_methods_supported":["header"],"resource":"$::resource","scopes_supported":["mcp:tools","mcp:read"]})



=== TEST 2: HEAD gets the headers; another method 405; other paths under the well-known one are not the module's
--- config eval: $::config
--- request eval
["HEAD /.well-known/oauth-protected-resource/mcp", "POST /.well-known/oauth-protected-resource/mcp",
 "GET /.well-known/oauth-protected-resource/other", "GET /.well-known/oauth-protected-resource"]
--- error_code eval
[200, 405, 404, 404]



=== TEST 3: a request without a token learns the scopes and where the metadata is
--- config eval: $::config
--- request
GET /mcp/index.html
--- error_code: 401
--- response_headers eval
qq{WWW-Authenticate: Bearer realm="mcp", scope="mcp:tools", resource_metadata="$::metadata"}



=== TEST 4: the token must name the resource in aud; each refusal points at the metadata
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /mcp/index.html", "GET /mcp/index.html", "GET /mcp/index.html", "GET /mcp/index.html",
 "GET /mcp/index.html"]
--- more_headers eval
[main::token(aud => $::resource, scope => 'mcp:tools'),
 main::token(aud => ['other', $::resource], scope => 'mcp:tools'),
 main::token(aud => 'https://other.example/mcp', scope => 'mcp:tools'),
 main::token(scope => 'mcp:tools'),
 main::token(aud => $::resource, scope => 'mcp:read')]
--- error_code eval
[200, 200, 401, 401, 403]
--- response_headers eval
["", "",
 qq{WWW-Authenticate: Bearer realm="mcp", error="invalid_token", resource_metadata="$::metadata"},
 qq{WWW-Authenticate: Bearer realm="mcp", error="invalid_token", resource_metadata="$::metadata"},
 qq{WWW-Authenticate: Bearer realm="mcp", error="insufficient_scope", scope="mcp:tools", resource_metadata="$::metadata"}]



=== TEST 5: without auth_jwt_scope, the 401 names the scopes the resource supports; a URI without a path has its metadata at the bare well-known path
--- config
    auth_jwt "api";
    auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
    auth_jwt_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT scopes=read;
--- request eval
["GET /index.html", "GET /.well-known/oauth-protected-resource"]
--- error_code eval
[401, 200]
--- response_headers eval
[qq{WWW-Authenticate: Bearer realm="api", scope="read", resource_metadata="http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/.well-known/oauth-protected-resource"}, "Content-Type: application/json"]



=== TEST 6: each server answers the metadata of its own resources only
--- http_config
    server {
        listen 127.0.0.1:$TEST_NGINX_SERVER_PORT;
        server_name other.test;
        location /api/ {
            auth_jwt "api";
            auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
            auth_jwt_resource https://api.example/api/;
        }
    }
--- config eval: $::config
--- request eval
["GET /.well-known/oauth-protected-resource/api", "GET /.well-known/oauth-protected-resource/mcp"]
--- more_headers eval
["Host: other.test", "Host: other.test"]
--- error_code eval
[200, 404]
--- response_body_like eval
['"resource":"https://api\\.example/api/"', '404']



=== TEST 7: nginx -t refuses a resource clients could not trust
--- config
    location / {
        auth_jwt_resource http://mcp.example/mcp;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_resource": "http:\/\/mcp\.example\/mcp" must be https in \S+nginx\.conf:\d+/



=== TEST 8: nginx -t refuses an unknown parameter
--- config
    location / {
        auth_jwt_resource https://mcp.example/mcp scope=a;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_resource": invalid parameter "scope=a" in \S+nginx\.conf:\d+/



=== TEST 9: CORS preflights go through limit_except OPTIONS; other methods need a token, and learn where the metadata is
--- config
    location /mcp {
        alias $TEST_NGINX_HTML_DIR/;
        limit_except OPTIONS {
            auth_jwt "mcp";
        }
        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt_resource http://127.0.0.1:$TEST_NGINX_SERVER_PORT/mcp
                          authorization_server=https://as.example;
        error_page 405 =204 /empty;
    }
    location = /empty {
        return 204;
    }
--- user_files
>>> index.html
ok
--- request eval
["OPTIONS /mcp/index.html", "POST /mcp/index.html", "GET /mcp/index.html"]
--- more_headers eval
["", "", main::token(aud => $::resource)]
--- error_code eval
[204, 401, 200]
--- response_headers eval
["!WWW-Authenticate", qq{WWW-Authenticate: Bearer realm="mcp", resource_metadata="$::metadata"}, "!WWW-Authenticate"]
