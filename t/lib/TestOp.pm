package TestOp;

# The OpenID Provider of the tests of auth_oidc: oidc-provider (t/oidc-provider), one per test
# file, on a free port behind the test's own nginx, which terminates TLS with a certificate of
# TestIdp's CA (`$TestOp::front`). `login` walks a browser's way through a login with curl: the
# provider's cookies in a jar, the relying party's handed over by the caller, so that each
# step's cookies are the ones the test means.

use strict;
use warnings;

use FindBin;
use MIME::Base64 ();
use TestIdp;

my $Dir = $ENV{TEST_NGINX_PKI};
my $Node;
my $Owner = $$;
my $Log = "$Dir/op.log";

our $Port = TestIdp::port(0);
our $TlsPort = TestIdp::port(0);
our $RpPort = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
our $Issuer = "https://127.0.0.1:$TlsPort";
$ENV{TEST_NGINX_OP_TLS_PORT} = $TlsPort;
# A port for tests of the relying party over https.
our $RpTlsPort = TestIdp::port(0);
$ENV{TEST_NGINX_RP_TLS_PORT} = $RpTlsPort;

# The provider's metadata as it would be if it took client_secret_post only, at
# /post-only/.well-known/openid-configuration of the front: oidc-provider lists both methods.
my $PostOnly = qq({"issuer":"$Issuer","authorization_endpoint":"$Issuer/auth",)
    . qq("token_endpoint":"$Issuer/token","jwks_uri":"$Issuer/jwks",)
    . qq("response_types_supported":["code"],"subject_types_supported":["public"],)
    . qq("id_token_signing_alg_values_supported":["RS256"],)
    . qq("code_challenge_methods_supported":["S256"],)
    . qq("authorization_response_iss_parameter_supported":true,)
    . qq("token_endpoint_auth_methods_supported":["client_secret_post"]});

# The TLS front of the provider, for --- http_config.
our $front = <<"_EOC_";
    server {
        listen 127.0.0.1:$TlsPort ssl;
        ssl_certificate $Dir/idp.crt;
        ssl_certificate_key $Dir/idp.key;
        access_log logs/op_access.log;
        location = /post-only/.well-known/openid-configuration {
            default_type application/json;
            return 200 '$PostOnly';
        }
        location / {
            proxy_pass http://127.0.0.1:$Port;
            proxy_set_header X-Forwarded-Proto https;
            proxy_set_header X-Forwarded-Host \$http_host;
        }
    }
_EOC_

# The provider's front, the session key and `oidc_provider idp` for client rp, with $extra
# directives in the block, for --- http_config.
sub http_config {
    my ($extra) = @_;
    return $front . provider_config($extra);
}

# The session key and `oidc_provider idp`, without the provider's front: for another nginx.
sub provider_config {
    my ($extra) = @_;
    $extra //= '';
    return <<"_EOC_";
    oidc_session_key $Dir/session.key;
    oidc_provider idp {
        issuer $Issuer;
        client_id rp;
        client_secret rp-secret;
        ssl_trusted_certificate $Dir/ca.crt;
$extra    }
_EOC_
}

# A client of the provider; $callbacks: a path on the relying party, or a list of them, or of
# absolute URIs.
sub client {
    my ($id, $callbacks, %extra) = @_;
    my $extra = join '', map { qq(,"$_":$extra{$_}) } sort keys %extra;
    my $uris = join ',', map { m{^https?://} ? qq("$_") : qq("http://127.0.0.1:$RpPort$_") }
        ref $callbacks ? @$callbacks : ($callbacks);
    return qq({"client_id":"$id","client_secret":"$id-secret",)
        . qq("redirect_uris":[$uris],)
        . qq("post_logout_redirect_uris":["http://127.0.0.1:$RpPort/bye"]$extra});
}

# `start(rotated => 1)`: the provider signs with an RSA key made now, under a kid of its own,
# and publishes only that one (with the EC key), as after an emergency rotation.
sub start {
    my (%opt) = @_;
    unless (-e "$Dir/session.key") {
        open my $key, '>', "$Dir/session.key" or die $!;
        print $key join '', map { chr(int(rand(256))) } 1 .. 48;
        close $key;
    }
    my $clients = join ',',
        client('rp', [map { "$_/oidc_callback" } '', qw(/short /big /info /var)],
            backchannel_logout_uri => qq("http://127.0.0.1:$RpPort/backchannel"),
            backchannel_logout_session_required => 'true'),
        client('rp-es', '/es/oidc_callback', id_token_signed_response_alg => '"ES256"'),
        client('rp-post', '/post/oidc_callback', token_endpoint_auth_method => '"client_secret_post"'),
        client('rp-tls', "https://127.0.0.1:$RpTlsPort/tls/oidc_callback"),
        client('rp-sso', "http://login.example.localhost:$RpPort/oidc_callback"),
        # A machine client (t/mcp.t): the client credentials grant only.
        qq({"client_id":"machine","client_secret":"machine-secret","redirect_uris":[],)
            . qq("response_types":[],"grant_types":["client_credentials"]});
    open my $cfg, '>', "$Dir/op.json" or die $!;
    # A test file sets TEST_OP_ACCESS_TOKEN_TTL (seconds) before it uses TestOp for tokens
    # that expire soon.
    my $ttl = $ENV{TEST_OP_ACCESS_TOKEN_TTL} ? qq("accessTokenTTL":$ENV{TEST_OP_ACCESS_TOKEN_TTL},) : '';
    # TEST_OP_RESOURCE: access tokens become JWTs (RFC 9068) for that audience.
    $ttl .= qq("resource":"$ENV{TEST_OP_RESOURCE}","accessTokenClaims":["email"],) if $ENV{TEST_OP_RESOURCE};
    # TEST_OP_RESOURCE_SCOPE: the scopes of that resource.
    $ttl .= qq("resourceScope":"$ENV{TEST_OP_RESOURCE_SCOPE}",) if $ENV{TEST_OP_RESOURCE_SCOPE};
    print $cfg qq({"port":$Port,"issuer":"$Issuer","clients":[$clients],"skipConsent":true,$ttl)
        . qq("ca":"$Dir/ca.crt","jwks":) . jwks(%opt) . ','
        . qq("claims":{"bio":["bio"]},)
        . qq("accounts":{"alice":{"email":"alice\@example.test","groups":["admins"]},)
        . qq("big":{"bio":") . ('a long story. ' x 400) . qq("}}});
    close $cfg;
    # A log of the run before says "ready" too.
    open my $log, '>', $Log or die $!;
    close $log;
    $Node = fork() // die "TestOp: fork: $!";
    if (!$Node) {
        open STDOUT, '>', $Log or die $!;
        open STDERR, '>', "$Dir/op.err" or die $!;
        chdir "$FindBin::Bin/oidc-provider" or die $!;
        exec 'node', 'provider.mjs', "$Dir/op.json";
        die "TestOp: cannot run node: $!";
    }
    for (1 .. 100) {
        return if log_text() =~ /^ready$/m;
        select undef, undef, undef, 0.1;
    }
    die "TestOp: the provider did not start (npm ci --prefix t/oidc-provider?): "
        . `cat $Dir/op.err`;
}

# The provider signs with keys of t/fixtures/jwt, so that tests can make tokens it could have
# made (`mint`).
my $Keys = "$FindBin::Bin/fixtures/jwt";

sub jwks {
    my (%opt) = @_;
    my ($rsa, $kid) = ("$Keys/rsa.key", 'op-rsa');
    if ($opt{rotated}) {
        ($rsa, $kid) = ("$Dir/rotated.key", 'op-rsa-rotated');
        system("openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $rsa 2>/dev/null") == 0
            or die "TestOp: cannot make a new key";
    }
    my $js = q{
        const crypto = require("node:crypto"), fs = require("node:fs");
        const jwk = (file, kid, alg) => ({ ...crypto.createPrivateKey(fs.readFileSync(file))
            .export({ format: "jwk" }), kid, alg, use: "sig" });
        process.stdout.write(JSON.stringify({ keys: [
            jwk(process.argv[1], process.argv[3], "RS256"), jwk(process.argv[2], "op-ec", "ES256")] }));
    };
    my $out = `node -e '$js' '$rsa' '$Keys/ec256.key' '$kid'`;
    die "TestOp: cannot make the provider's keys" unless $out =~ /^\{"keys"/;
    return $out;
}

sub b64url {
    my $s = MIME::Base64::encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

# A JWT with the provider's RSA key (or $key, a PEM file of t/fixtures/jwt).
sub mint {
    my ($header, $claims, $key) = @_;
    my $input = b64url($header) . '.' . b64url($claims);
    my $file = "$Dir/mint.$$";
    open my $fh, '>', $file or die $!;
    print $fh $input;
    close $fh;
    my $sig = `openssl dgst -sha256 -sign $Keys/@{[$key // 'rsa.key']} -binary $file`;
    unlink $file;
    return "$input." . b64url($sig);
}

sub log_text {
    open my $fh, '<', $Log or return '';
    local $/;
    return <$fh> // '';
}

# How many token requests of this grant type the provider answered.
sub grants {
    my ($type) = @_;
    my @lines = log_text() =~ /^token grant_type=\Q$type\E /mg;
    return scalar @lines;
}

# Arguments for every curl of `http`, such as `--resolve` for host names of a test.
our @Curl;

# One HTTP request with curl: (status, headers as one string, body).
sub http {
    my (@args) = @_;
    my $out = `curl -s -g --max-time 20 --cacert $Dir/ca.crt -D - @Curl @args`;
    my ($head, $body) = split /\r\n\r\n/, $out, 2;
    my ($status) = ($head // '') =~ m{^HTTP/\S+ (\d+)};
    return ($status // 0, $head // '', $body // '');
}

sub header {
    my ($head, $name) = @_;
    my ($value) = $head =~ /^\Q$name\E:\s*([^\r\n]*)/mi;
    return $value;
}

sub quote { my ($s) = @_; $s =~ s/'/'\\''/g; return "'$s'" }

# The `name=value` pairs of the Set-Cookie headers of $head whose value is not empty.
sub set_cookies {
    my ($head) = @_;
    return join '; ', grep { !/=$/ } map { (split /;/)[0] } $head =~ /^Set-Cookie:\s*([^\r\n]*)/mgi;
}

# The provider's cookies of the last authorize, for its logout.
our $LastJar;

# Logs out at the provider, as the browser does when the relying party's logout_uri sends it
# to end_session_endpoint at $url: the provider's confirmation form, then its back-channel
# logout of the session's clients. Returns where the provider sends the browser.
sub provider_logout {
    my ($url, $jar) = @_;
    my ($st, $head, $body) = http('-b', $jar, '-c', $jar, quote($url));
    my ($xsrf) = $body =~ /name="xsrf" value="([^"]+)"/;
    die "TestOp: no logout form at $url ($st)" unless $xsrf;
    ($st, $head) = http('-b', $jar, '-c', $jar, '--data-urlencode', "xsrf=$xsrf",
        '--data-urlencode', 'logout=yes', quote("$Issuer/session/end/confirm"));
    return header($head, 'Location');
}

# Logs in as $user from $path of the relying party; returns the callback URL the provider
# sent the browser to and the relying party's login cookie, without calling the callback.
#
# %opt: `base`, the relying party's scheme, host and port (http://127.0.0.1:$RpPort); `back`,
# those of its callback when they differ; and `rewrite`, a function that may change the
# authorization request's URL before it is sent.
sub authorize {
    my ($path, $user, %opt) = @_;
    my $base = $opt{base} // "http://127.0.0.1:$RpPort";
    my $back = $opt{back} // $base;
    my ($st, $head) = http('-H', quote('Accept: text/html'), quote("$base$path"));
    die "TestOp: $path answered $st, not 302" unless $st == 302;
    my $login_cookie = set_cookies($head);
    my $jar = "$Dir/jar.$$." . int(rand(1e9));
    my $url = header($head, 'Location');
    $url = $opt{rewrite}->($url) if $opt{rewrite};
    for my $step (1 .. 6) {
        my @form = $url =~ m{/interaction/}
            ? ('--data-urlencode', 'prompt=login', '--data-urlencode', "login=$user",
               '--data-urlencode', 'password=x')
            : ();
        my ($s, $h) = http('-b', $jar, '-c', $jar, @form, quote($url));
        my $next = header($h, 'Location') // die "TestOp: $url answered $s without Location";
        $next = "$Issuer$next" if $next =~ m{^/};
        if (index($next, "$back/") == 0) {
            $LastJar = $jar;
            return ($next, $login_cookie);
        }
        # The login form is shown by a GET of the interaction, posted by a POST of it.
        $url = $next;
        if ($url =~ m{/interaction/} && !@form) {
            http('-b', $jar, '-c', $jar, quote($url));
        }
    }
    die "TestOp: no way back to the relying party";
}

# A whole login: the session cookies, the status and Location of the callback's answer.
sub login {
    my ($path, $user, %opt) = @_;
    my ($callback, $login_cookie) = authorize($path, $user, %opt);
    my ($st, $head) = http('-H', quote("Cookie: $login_cookie"), quote($callback));
    return (set_cookies($head), $st, header($head, 'Location'), $callback, $login_cookie);
}

# The access token of a login as $user through $path, a location that shows
# $oidc_access_token in X-Access-Token.
sub access_token {
    my ($path, $user) = @_;
    my ($cookie) = login($path, $user);
    my ($st, $head) = http('-H', quote("Cookie: $cookie"), quote("http://127.0.0.1:$RpPort$path"));
    return header($head, 'X-Access-Token') // die "TestOp: no access token at $path ($st)";
}

# Stops the provider, for tests of a provider that is down.
sub stop {
    if ($Node && $$ == $Owner) {
        kill 'TERM', $Node;
        waitpid $Node, 0;
        $Node = undef;
    }
}

# Starts the provider again, as `start` takes it.
sub restart {
    stop();
    start(@_);
}

END { stop() }

start();

1;
