# Every configuration error of auth_jwt's directives, of the key files they read, and of the
# cache directives fails the start (and `nginx -t`) with the exact reason, file and line.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_KEYS} = "$FindBin::Bin/fixtures/jwt";

no_shuffle();
run_tests();

__DATA__

=== TEST 1: auth_jwt with an unknown parameter
--- config
    location /t/ {
        auth_jwt "api" foo=1;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt": invalid parameter "foo=1" in \S+nginx\.conf:\d+/



=== TEST 2: auth_jwt token= without a variable
--- config
    location /t/ {
        auth_jwt "api" token=session;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt": token= takes a variable in \S+nginx\.conf:\d+/



=== TEST 3: auth_jwt twice in one location
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt "web";
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 4: an unknown key file format
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_KEYS/jwks.json pkcs12;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": invalid key format "pkcs12"; expected jwks, pem or hmac in \S+nginx\.conf:\d+/



=== TEST 5: an empty key file
--- user_files
>>> empty.json
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/empty.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": "\S+empty\.json": the file is empty in \S+nginx\.conf:\d+/



=== TEST 6: a key file that is neither JWKS nor PEM
--- user_files
>>> keys.txt
just some text
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys.txt;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": "\S+keys\.txt": cannot tell the key format \(expected a JWKS or a PEM public key\) in \S+nginx\.conf:\d+/



=== TEST 7: a JWK whose "alg" does not fit its key type is skipped; with no other key, the set is refused
--- user_files
>>> keys.json
{"keys":[{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA","alg":"RS256"}]}
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": "\S+keys\.json": no key usable for signature verification: key 0: "alg" RS256 does not fit a key of type oct in \S+nginx\.conf:\d+/



=== TEST 8: a JWK without a member its key type needs is skipped; with no other key, the set is refused
--- user_files
>>> keys.json
{"keys":[{"kty":"RSA","e":"AQAB"}]}
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": "\S+keys\.json": no key usable for signature verification: key 0: no "n" in \S+nginx\.conf:\d+/



=== TEST 9: a JWK Set of encryption keys only
--- user_files
>>> keys.json
{"keys":[{"kty":"oct","use":"enc","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}]}
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/keys.json;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": "\S+keys\.json": no key usable for signature verification in \S+nginx\.conf:\d+/



=== TEST 10: a PEM file of another kind
--- user_files
>>> key.pem
-----BEGIN EC PARAMETERS-----
BggqhkjOPQMBBw==
-----END EC PARAMETERS-----
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_file $TEST_NGINX_HTML_DIR/key.pem;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_file": "\S+key\.pem": PEM: expected PUBLIC KEY, RSA PUBLIC KEY or CERTIFICATE in \S+nginx\.conf:\d+/



=== TEST 11: auth_jwt_leeway that is not a time
--- config
    location /t/ {
        auth_jwt_leeway soon;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_leeway": invalid value "soon" in \S+nginx\.conf:\d+/



=== TEST 12: auth_jwt_leeway twice
--- config
    location /t/ {
        auth_jwt_leeway 10s;
        auth_jwt_leeway 20s;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_leeway" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 13: auth_jwt_type with an unknown value
--- config
    location /t/ {
        auth_jwt_type signed-ish;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_type": invalid value "signed-ish" in \S+nginx\.conf:\d+/



=== TEST 14: auth_jwt_require_exp other than on or off
--- config
    location /t/ {
        auth_jwt_require_exp maybe;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_require_exp": invalid value "maybe"; it must be "on" or "off" in \S+nginx\.conf:\d+/



=== TEST 15: auth_jwt_require with an error other than 401 or 403
--- config
    location /t/ {
        auth_jwt_require $arg_a error=402;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_require": error= must be 401 or 403 in \S+nginx\.conf:\d+/



=== TEST 16: auth_jwt_require with nothing to require
--- config
    location /t/ {
        auth_jwt_require error=403;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_require": no value to require in \S+nginx\.conf:\d+/



=== TEST 17: auth_jwt_require with an unknown variable
--- config
    location /t/ {
        auth_jwt_require $no_such_variable;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*unknown "no_such_variable" variable/



=== TEST 18: algorithm names are case-sensitive
--- config
    location /t/ {
        auth_jwt_algorithms RS256 rs256;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_algorithms": unsupported algorithm "rs256" in \S+nginx\.conf:\d+/



=== TEST 19: auth_jwt_issuer twice
--- config
    location /t/ {
        auth_jwt_issuer https://a.example;
        auth_jwt_issuer https://b.example;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_issuer" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 20: auth_jwt_claim_set with a name that is not a variable
--- http_config
    auth_jwt_claim_set email profile email;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_claim_set": invalid variable name "email" in \S+nginx\.conf:\d+/



=== TEST 21: auth_jwt_claim_set only at http level
--- config
    location /t/ {
        auth_jwt_claim_set $email email;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_claim_set" directive is not allowed here in \S+nginx\.conf:\d+/



=== TEST 22: auth_jwt_key_cache that is not a time
--- config
    location /t/ {
        auth_jwt_key_cache forever;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_key_cache": invalid value "forever" in \S+nginx\.conf:\d+/



=== TEST 23: auth_htpasswd_cache with an unknown parameter
--- http_config
    auth_htpasswd_cache max=10 size=1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_htpasswd_cache": invalid parameter "size=1m" in \S+nginx\.conf:\d+/



=== TEST 24: auth_jwt_cache with a zero lifetime
--- http_config
    auth_jwt_cache max=10 valid=0s;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_cache": invalid "valid=0s" in \S+nginx\.conf:\d+/



=== TEST 25: auth_jwt_require with a value that has no variable, which would always be true
--- config
    location /t/ {
        auth_jwt_require $arg_a iss;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_require": "iss" has no variables: it would decide the same for every request in \S+nginx\.conf:\d+/



=== TEST 26: auth_jwt_key_request with variables that cannot be compiled
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_key_request /_jwks/${arg_set;
    }
--- must_die
--- error_log eval
[qr/\[emerg\] .*the closing bracket in "arg_set" variable is missing in \S+nginx\.conf:\d+/,
 qr/\[emerg\] .*"auth_jwt_key_request": invalid URI in \S+nginx\.conf:\d+/]



=== TEST 27: auth_jwt_dpop other than off, on or required
--- config
    location /t/ {
        auth_jwt_dpop always;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_dpop": invalid value "always"; it must be "off", "on" or "required" in \S+nginx\.conf:\d+/



=== TEST 28: auth_jwt_dpop_window of no time
--- config
    location /t/ {
        auth_jwt_dpop_window 0;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_dpop_window": invalid value "0" in \S+nginx\.conf:\d+/



=== TEST 29: auth_jwt_mtls_binding twice at one level
--- config
    location /t/ {
        auth_jwt_mtls_binding on;
        auth_jwt_mtls_binding off;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_mtls_binding" directive is duplicate in \S+nginx\.conf:\d+/



=== TEST 30: auth_jwt_introspection over http to a host that is not loopback
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_introspection http://as.example/introspect;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_introspection": "http:\/\/as\.example\/introspect" must be https in \S+nginx\.conf:\d+/



=== TEST 31: auth_jwt_introspection auto without auth_jwt_key_url
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_introspection auto client_id=api client_secret=s;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_introspection": "auto" takes the endpoint of auth_jwt_key_url's discovery document, and there is no auth_jwt_key_url in \S+nginx\.conf:\d+/



=== TEST 32: auth_jwt_introspection with an unknown parameter
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_introspection https://as.example/introspect mode=sometimes;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_introspection": invalid parameter "mode=sometimes" in \S+nginx\.conf:\d+/



=== TEST 33: auth_jwt_introspection with a secret and no client
--- config
    location /t/ {
        auth_jwt "api";
        auth_jwt_introspection https://as.example/introspect client_secret=s;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_jwt_introspection": client_secret without client_id in \S+nginx\.conf:\d+/
