# An MCP server behind nginx as an OAuth protected resource: the official TypeScript SDK's server
# (Streamable HTTP) behind auth_jwt and auth_jwt_resource, and its client, which finds the
# authorization server from nginx's 401 and the resource's metadata alone, gets a token for the
# resource (RFC 8707) from the test OpenID Provider with the client credentials grant, and
# calls a tool with it.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
BEGIN {
    my $port = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
    $ENV{TEST_OP_RESOURCE} = "http://127.0.0.1:$port/mcp";
    $ENV{TEST_OP_RESOURCE_SCOPE} = 'mcp:tools mcp:read';
}
use Test::Nginx::Socket 'no_plan';
use JSON::PP ();
use MIME::Base64 ();
use TestIdp;
use TestOp;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
my $pki = $ENV{TEST_NGINX_PKI};
my $mcp_dir = "$FindBin::Bin/mcp";
our $resource = $ENV{TEST_OP_RESOURCE};
our $issuer = $TestOp::Issuer;

# The MCP server, for the whole file.
our $mcp_port = TestIdp::port(0);
my $owner = $$;
my $server = fork() // die "fork: $!";
if (!$server) {
    open STDOUT, '>', "$pki/mcp.log" or die $!;
    open STDERR, '>', "$pki/mcp.err" or die $!;
    chdir $mcp_dir or die $!;
    exec 'node', 'server.mjs', $mcp_port;
    die "cannot run node: $!";
}
for (1 .. 100) {
    last if -s "$pki/mcp.log";
    select undef, undef, undef, 0.1;
}
die "the MCP server did not start (npm ci --prefix t/mcp?): " . `cat $pki/mcp.err`
    unless `cat $pki/mcp.log` =~ /^ready$/m;
END { if ($server && $$ == $owner) { kill 'TERM', $server; waitpid $server, 0 } }

# The SDK's client, as `node client.mjs URL [ISSUER CLIENT_ID SECRET [SCOPE]]`: its output.
sub client {
    my @args = map { TestOp::quote($_) } @_;
    return `cd $mcp_dir && NODE_EXTRA_CA_CERTS=$pki/ca.crt timeout 30 node client.mjs @args 2>&1`;
}

sub claims {
    my ($token) = @_;
    my $payload = (split /\./, $token)[1] // '';
    return JSON::PP::decode_json(MIME::Base64::decode_base64url($payload));
}

our $config = <<"_EOC_";
    location /mcp {
        auth_jwt "mcp";
        auth_jwt_key_url $issuer/.well-known/openid-configuration;
        auth_jwt_ssl_trusted_certificate $pki/ca.crt;
        auth_jwt_resource $resource
                          authorization_server=$issuer
                          scopes=mcp:tools,mcp:read;
        auth_jwt_scope mcp:tools;

        proxy_pass http://127.0.0.1:$mcp_port;
        proxy_http_version 1.1;
        proxy_buffering off;
        proxy_set_header X-Client \$jwt_claim_client_id;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the SDK's client finds the authorization server from the 401, gets a token for the resource, calls a tool
--- http_config eval: TestOp::http_config()
--- config eval: $::config
--- init
my $out = ::client($::resource, $::issuer, 'machine', 'machine-secret', 'mcp:tools');
Test::More::like($out, qr/^result hello, said machine$/m, 'the tool answers, with the client nginx admitted')
    or Test::More::diag($out);
my ($token) = $out =~ /^token (\S+)$/m;
my $claims = ::claims($token // '');
Test::More::is($claims->{aud}, $::resource, 'the token is for the resource (RFC 8707)');
Test::More::like($claims->{scope} // '', qr/(^| )mcp:tools( |$)/, 'with the scope the location requires');
Test::More::is(TestOp::grants('client_credentials'), 1, 'one token request');
--- request
GET /.well-known/oauth-protected-resource/mcp
--- response_body eval
qq({"authorization_servers":["$::issuer"],"bearer_methods_supported":["header"],"resource":"$::resource","scopes_supported":["mcp:tools","mcp:read"]})
--- error_log
no JWT was provided



=== TEST 2: without credentials, or with wrong ones, the client gets no further than the 401
--- http_config eval: TestOp::http_config()
--- config eval: $::config
--- init
my $out = ::client($::resource);
Test::More::like($out, qr/^error \w+ .*401 Authorization Required/ms, 'no credentials: 401') or Test::More::diag($out);
$out = ::client($::resource, $::issuer, 'machine', 'wrong', 'mcp:tools');
Test::More::like($out, qr/^error /m, 'a wrong secret: no token') or Test::More::diag($out);
Test::More::unlike($out, qr/^result/m, 'and no result');
$out = ::client($::resource, $::issuer, 'machine', 'machine-secret', 'mcp:read');
Test::More::like($out, qr/^error \w+ .*403/m, 'a token without the scope the location requires: 403')
    or Test::More::diag($out);
--- request
POST /mcp
--- more_headers
Content-Type: application/json
Accept: application/json, text/event-stream
--- request_body
{"jsonrpc":"2.0","id":1,"method":"tools/list"}
--- error_code: 401
--- response_headers eval
qq{WWW-Authenticate: Bearer realm="mcp", scope="mcp:tools", resource_metadata="http://127.0.0.1:$ENV{TEST_NGINX_SERVER_PORT}/.well-known/oauth-protected-resource/mcp"}
