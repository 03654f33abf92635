# auth_jwt_mtls_binding: certificate-bound tokens (RFC 8705). A token whose cnf."x5t#S256" names
# a client certificate passes only on a connection where nginx verified that certificate. The
# clients here are this nginx itself, proxying to its own https server with or without a
# client certificate made for the test.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use Digest::SHA ();
use File::Temp ();
use IO::Socket::INET;
use MIME::Base64 ();
use JwtFixtures;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

my $pki = File::Temp::tempdir(CLEANUP => 1);
chmod 0755, $pki;
$ENV{TEST_NGINX_PKI} = $pki;

sub openssl {
    system('openssl', @_) == 0 or die "openssl @_ failed";
}

{
    open my $null, '>', '/dev/null' or die $!;
    open my $saved, '>&', \*STDERR or die $!;
    open STDERR, '>&', $null or die $!;
    for my $ca (qw(ca stranger-ca)) {
        openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-days', '2', '-subj', "/CN=$ca", '-keyout', "$pki/$ca.key", '-out', "$pki/$ca.crt");
    }
    for my $cert (['server', 'ca'], ['alice', 'ca'], ['bob', 'ca'], ['mallory', 'stranger-ca']) {
        my ($name, $ca) = @$cert;
        openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
            '-subj', "/CN=$name", '-keyout', "$pki/$name.key", '-out', "$pki/$name.csr");
        openssl('x509', '-req', '-in', "$pki/$name.csr", '-CA', "$pki/$ca.crt", '-CAkey',
            "$pki/$ca.key", '-CAcreateserial', '-days', '2', '-out', "$pki/$name.crt");
    }
    open STDERR, '>&', $saved or die $!;
}

# The x5t#S256 of a client certificate: the SHA-256 of its DER.
sub x5t {
    my ($name) = @_;
    my $der = `openssl x509 -in $pki/$name.crt -outform DER`;
    return MIME::Base64::encode_base64url(Digest::SHA::sha256($der));
}

sub bound_to {
    my ($name) = @_;
    JwtFixtures::hs256_bearer(cnf => { 'x5t#S256' => x5t($name) });
}

my $s = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1', LocalPort => 0) or die $!;
$ENV{TEST_NGINX_TLS_PORT} = $s->sockport;
close $s;

our $http_config = <<'_EOC_';
    server {
        listen 127.0.0.1:$TEST_NGINX_TLS_PORT ssl;
        ssl_certificate $TEST_NGINX_PKI/server.crt;
        ssl_certificate_key $TEST_NGINX_PKI/server.key;
        ssl_client_certificate $TEST_NGINX_PKI/ca.crt;
        ssl_verify_client optional_no_ca;

        auth_jwt_key_file $TEST_NGINX_KEYS/hmac.secret hmac;
        auth_jwt "api";
        auth_jwt_mtls_binding on;

        location /api/ {
            alias $TEST_NGINX_HTML_DIR/;
        }
        location /unchecked/ {
            alias $TEST_NGINX_HTML_DIR/;
            auth_jwt_mtls_binding off;
        }
    }
_EOC_

# Without session reuse: nginx keeps an upstream's TLS session past exit (valgrind's leak).
our $config = <<'_EOC_';
    proxy_ssl_session_reuse off;
    location /alice/ {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
        proxy_ssl_certificate $TEST_NGINX_PKI/alice.crt;
        proxy_ssl_certificate_key $TEST_NGINX_PKI/alice.key;
    }
    location /bob/ {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
        proxy_ssl_certificate $TEST_NGINX_PKI/bob.crt;
        proxy_ssl_certificate_key $TEST_NGINX_PKI/bob.key;
    }
    location /mallory/ {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
        proxy_ssl_certificate $TEST_NGINX_PKI/mallory.crt;
        proxy_ssl_certificate_key $TEST_NGINX_PKI/mallory.key;
    }
    location /nobody/ {
        proxy_pass https://127.0.0.1:$TEST_NGINX_TLS_PORT/;
    }
_EOC_

no_shuffle();
run_tests();

__DATA__

=== TEST 1: a token bound to alice's certificate passes on alice's connection
--- http_config eval: $::http_config
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request
GET /alice/api/index.html
--- more_headers eval
main::bound_to('alice')
--- response_body
ok



=== TEST 2: on bob's connection it is refused
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /bob/api/index.html
--- more_headers eval
main::bound_to('alice')
--- error_code: 401
--- response_headers
WWW-Authenticate: Bearer realm="api", error="invalid_token"
--- error_log
JWT refused: a token bound to another client certificate



=== TEST 3: without a certificate it is refused
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /nobody/api/index.html
--- more_headers eval
main::bound_to('alice')
--- error_code: 401
--- error_log
JWT refused: a token bound to a certificate, without a verified client certificate



=== TEST 4: with a certificate nginx could not verify it is refused, though it is the one named
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /mallory/api/index.html
--- more_headers eval
main::bound_to('mallory')
--- error_code: 401
--- error_log
JWT refused: a token bound to a certificate, without a verified client certificate



=== TEST 5: a token bound to no certificate passes on any connection
--- http_config eval: $::http_config
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request eval
["GET /nobody/api/index.html", "GET /bob/api/index.html"]
--- more_headers eval
[JwtFixtures::hs256_bearer(), JwtFixtures::hs256_bearer()]
--- response_body eval
["ok\n", "ok\n"]



=== TEST 6: where the binding is off, the location below does not check it
--- http_config eval: $::http_config
--- config eval: $::config
--- user_files
>>> index.html
ok
--- request
GET /bob/unchecked/index.html
--- more_headers eval
main::bound_to('alice')
--- response_body
ok



=== TEST 7: a cnf."x5t#S256" that is not a string is refused
--- http_config eval: $::http_config
--- config eval: $::config
--- request
GET /alice/api/index.html
--- more_headers eval
JwtFixtures::hs256_bearer(cnf => { 'x5t#S256' => [main::x5t('alice')] })
--- error_code: 401
--- error_log
JWT refused: cnf.x5t#S256 is not a string
