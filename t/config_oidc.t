# Configuration errors of oidc_provider, auth_oidc and oidc_session_key fail the start (and
# `nginx -t`) with the reason, file and line; a provider without a session key gets a warning.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

no_shuffle();
run_tests();

__DATA__

=== TEST 1: auth_oidc names a provider that does not exist
--- config
    location /t/ {
        auth_oidc nobody;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_oidc": no oidc_provider "nobody" in \S+nginx\.conf:\d+/



=== TEST 2: a provider without an issuer
--- http_config
    oidc_provider idp {
        client_id rp;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider": "idp" has no "issuer" in \S+nginx\.conf:\d+/



=== TEST 3: a provider without a client_id
--- http_config
    oidc_provider idp {
        issuer https://idp.example;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider": "idp" has no "client_id" in \S+nginx\.conf:\d+/



=== TEST 4: an issuer over http on a host that is not loopback
--- http_config
    oidc_provider idp {
        issuer http://idp.example;
        client_id rp;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"issuer": "http:\/\/idp\.example" must be https \(http only on a loopback address\) in \S+nginx\.conf:\d+/



=== TEST 5: an unknown directive in the block
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        client_secert s;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"client_secert": unknown directive "client_secert" in \S+nginx\.conf:\d+/



=== TEST 6: two providers with one name
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
    }
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider": "idp" is duplicate in \S+nginx\.conf:\d+/



=== TEST 6a: two providers with one cookie name
--- http_config
    oidc_provider one {
        issuer https://127.0.0.1:9;
        client_id rp;
    }
    oidc_provider two {
        issuer https://127.0.0.1:9;
        client_id rp;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider" "two": cookie_name "NGX_OIDC_SESSION" is the one of "one"; each provider needs its own in \S+nginx\.conf:\d+/



=== TEST 7: a host name to resolve without a resolver
--- http_config
    oidc_provider idp {
        issuer https://idp.example;
        client_id rp;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider" "idp": no resolver defined to resolve "idp\.example"; add "resolver" to the http block in \S+nginx\.conf:\d+/



=== TEST 8: bad values
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        pkce maybe;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"pkce": invalid value "maybe"; it must be "on" or "off" in \S+nginx\.conf:\d+/



=== TEST 9: session_store names no oidc_session_zone
--- http_config
    oidc_session_zone zone=sessions:1m;
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        session_store keyval;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider" "idp": session_store "keyval": no oidc_session_zone or auth_redis "keyval" in \S+nginx\.conf:\d+/



=== TEST 10: oidc_session_zone without zone=
--- http_config
    oidc_session_zone sessions:1m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_session_zone": invalid parameter "sessions:1m"; it must be zone=name:size in \S+nginx\.conf:\d+/



=== TEST 11: an oidc_session_zone too small
--- http_config
    oidc_session_zone zone=sessions:4k;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_session_zone": zone "sessions" is too small; at least \d+k in \S+nginx\.conf:\d+/



=== TEST 12: a duplicate oidc_session_zone
--- http_config
    oidc_session_zone zone=sessions:1m;
    oidc_session_zone zone=sessions:2m;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_session_zone": zone "sessions" is duplicate in \S+nginx\.conf:\d+/



=== TEST 13: ssl_crl with a file that is no CRL
--- user_files
>>> not.crl
not a CRL
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        ssl_crl $TEST_NGINX_HTML_DIR/not.crl;
    }
--- config
--- must_die
--- error_log eval
[qr/\[emerg\] .*(?:X509_LOOKUP_load_file\("\S+not\.crl"\)|cannot load CRL "\S+not\.crl": PEM_read_bio_X509_CRL\(\)) failed/,
 qr/\[emerg\] .*"oidc_provider" "idp": cannot load the CRL "\S+not\.crl" in \S+nginx\.conf:\d+/]



=== TEST 14: a session key that is too short
--- user_files
>>> short.key
0123456789
--- http_config
    oidc_session_key $TEST_NGINX_HTML_DIR/short.key;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_session_key": the secret has 11 bytes; at least 32 are required in \S+nginx\.conf:\d+/



=== TEST 15: a session key file that cannot be read
--- http_config
    oidc_session_key /nonexistent/oidc.key;
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_session_key": cannot read "\/nonexistent\/oidc\.key": No such file or directory .* in \S+nginx\.conf:\d+/



=== TEST 16: a Plus configuration starts; without oidc_session_key a warning says what it costs
--- http_config
    oidc_provider my_idp {
        issuer        "https://127.0.0.1:9";
        client_id     "unique_id";
        client_secret "unique_secret";
        config_url    https://127.0.0.1:9/custom/.well-known/openid-configuration;
        redirect_uri  /custom_callback;
        scope         openid email profile;
        extra_auth_args "prompt=login";
        cookie_name   my_oidc_session;
        session_timeout 12h;
        logout_uri    /logout;
        post_logout_uri /logged_out.html;
        logout_token_hint on;
        pkce          on;
        userinfo      off;
    }
--- config
    location /app/ {
        auth_oidc my_idp;
    }
    location = /logged_out.html {
        auth_oidc off;
        return 200 "bye";
    }
--- request
GET /logged_out.html
--- response_body: bye
--- error_log eval
qr/\[warn\] .*no "oidc_session_key": OpenID Connect sessions end when nginx restarts, for the oidc_provider in \S+nginx\.conf:\d+/



=== TEST 18: cookie_domain takes a domain name, not an address
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        cookie_domain 10.0.0.1;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"cookie_domain": invalid domain "10\.0\.0\.1" in \S+nginx\.conf:\d+/



=== TEST 19: cookie_domain takes nothing but a name
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        cookie_domain "example.com; SameSite=None";
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"cookie_domain": invalid domain "example\.com; SameSite=None" in \S+nginx\.conf:\d+/



=== TEST 20: a __Host- cookie has no domain
--- http_config
    oidc_provider idp {
        issuer https://127.0.0.1:9;
        client_id rp;
        cookie_name __Host-session;
        cookie_domain example.com;
    }
--- config
--- must_die
--- error_log eval
qr/\[emerg\] .*"oidc_provider": "idp": a "__Host-" cookie_name cannot have a cookie_domain in \S+nginx\.conf:\d+/



=== TEST 21: auth_oidc_cache_control takes on or off
--- config
    location / {
        auth_oidc_cache_control private;
    }
--- must_die
--- error_log eval
qr/\[emerg\] .*"auth_oidc_cache_control": invalid value "private"; it must be "on" or "off" in \S+nginx\.conf:\d+/
