# Several nginx nodes as one through auth_redis: the test's nginx is node A, TestNode's "b"
# node B, two workers each, one OpenID Provider and one Redis (Debian's redis-server) for
# both. A login at one node admits at the other; a logout at either ends the session on both;
# a session's tokens are refreshed once across the nodes; with Redis gone, what a node knows
# goes on and what it does not gets 503; Redis holds nothing readable.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
BEGIN { $ENV{TEST_OP_ACCESS_TOKEN_TTL} = 6 }
use Test::Nginx::Socket 'no_plan';
use Time::HiRes ();
use TestIdp;
use TestOp;
use TestRedis;
use TestNode;

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
our $Redis = TestRedis::start();
$ENV{TEST_NGINX_REDIS_PORT} = $Redis;
our $PortB = TestIdp::port(0);
my $Pki = $ENV{TEST_NGINX_PKI};

# Over TLS, for the ACL user nginx only.
our %Acl = (tls => 1, user => 'nginx', password => 's3cret');
our $Tls = TestRedis::start(tls => 1, args => ['--user', 'default', 'off',
    '--user', 'nginx', 'on', '>s3cret', '~ngx-auth:*', '&ngx-auth:*', '+@all']);
for my $name (qw(redis.pass wrong.pass)) {
    open my $fh, '>', "$Pki/$name" or die $!;
    print $fh $name eq 'redis.pass' ? "s3cret\n" : "guess\n";
    close $fh;
}
our $tls_store = "        server 127.0.0.1:$Tls;\n        username nginx;\n"
    . "        password_file $Pki/redis.pass;\n        tls on;\n"
    . "        ssl_trusted_certificate $Pki/ca.crt;\n        timeout 500ms;\n";

# A primary, its replica and three sentinels.
our $Primary = TestRedis::start();
our $Replica = TestRedis::start(args => ['--replicaof', '127.0.0.1', $Primary]);
our @Sentinels = map { TestRedis::sentinel($Primary) } 1 .. 3;
# A server that answers the first GET with garbage, the next one with a bulk string that
# never ends, and anything else with garbage.
our $Junk = TestIdp::port(0);
our $JunkPid = fork() // die $!;
if (!$JunkPid) {
    exec 'perl', '-MIO::Socket::INET', '-e', <<'_PL_', $Junk;
my $s = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1', LocalPort => $ARGV[0],
    ReuseAddr => 1) or die $!;
my $gets = 0;
while (my $c = $s->accept) {
    sysread $c, my $buf, 4096;
    if ($buf =~ /GET/ && $gets++ % 2 == 1) {
        syswrite $c, "\$2000000000\r\n";
        syswrite $c, 'x' x 65536 for 1 .. 20;
    } else {
        syswrite $c, "?garbage\r\n";
    }
    sysread $c, $buf, 4096;
    close $c;
}
_PL_
}
my $Owner = $$;
END { kill 'TERM', $JunkPid if $$ == $Owner && $JunkPid }

our $sentinel_store = "        sentinel " . join(' ', map { "127.0.0.1:$_" } @Sentinels) . ";\n"
    . "        sentinel_master mymaster;\n        timeout 500ms;\n";

# The store and the provider of both nodes; $store: the inside of auth_redis; $extra: more of
# the provider's directives.
sub common {
    my ($store, $extra) = @_;
    return <<"_EOC_" . TestOp::provider_config($extra);
    auth_redis shared {
$store    }
_EOC_
}

our $store = "        server 127.0.0.1:$Redis;\n        timeout 500ms;\n";
our $stored = "        session_store shared;\n        logout_uri /logout;\n"
    . "        backchannel_logout_uri /backchannel;\n        frontchannel_logout_uri /frontchannel;\n";
our $cookies = "        cluster shared;\n        logout_uri /logout;\n"
    . "        backchannel_logout_uri /backchannel;\n";

our $locations = <<'_EOC_';
    location /app/ {
        auth_oidc idp;
        add_header X-User "$oidc_claim_sub" always;
        add_header X-Sid "$oidc_claim_sid" always;
        add_header X-Error "$oidc_error" always;
    }
    location = /open {
        return 200 "open";
    }
_EOC_

# Node B, with the same store and provider.
sub start_b {
    my ($store, $extra) = @_;
    TestNode::start('b', common($store, $extra) . <<"_EOC_");
    server {
        listen 127.0.0.1:$::PortB;
        root $ENV{TEST_NGINX_HTML_DIR};
        auth_oidc idp;
$::locations
    }
_EOC_
}

sub rp { "http://127.0.0.1:$TestOp::RpPort$_[0]" }
sub b { "http://127.0.0.1:$::PortB$_[0]" }

sub get {
    my ($url, $cookie, @more) = @_;
    return TestOp::http('-H', TestOp::quote("Cookie: $cookie"),
        '-H', TestOp::quote('Accept: application/json'), @more, TestOp::quote($url));
}

# The status at $url with $cookie once it is $want, polled for $seconds; and how long it took.
sub until_status {
    my ($want, $url, $cookie, $seconds) = @_;
    my $start = Time::HiRes::time();
    my $s;
    while (1) {
        ($s) = get($url, $cookie);
        last if $s == $want || Time::HiRes::time() - $start > $seconds;
        Time::HiRes::sleep(0.01);
    }
    return ($s, Time::HiRes::time() - $start);
}

# The provider's back-channel logout of $sid, POSTed to $url.
sub logout_token {
    my ($sid) = @_;
    my $now = time;
    my $claims = qq({"iss":"$TestOp::Issuer","aud":"rp","iat":$now,"exp":@{[$now + 3600]},)
        . qq("jti":"jti-@{[rand()]}","sid":"$sid",)
        . qq("events":{"http://schemas.openid.net/event/backchannel-logout":{}}});
    return TestOp::mint('{"alg":"RS256","kid":"op-rsa","typ":"logout+jwt"}', $claims);
}

sub post_logout {
    my ($url, $token) = @_;
    my ($s) = TestOp::http('--data-urlencode', TestOp::quote("logout_token=$token"), TestOp::quote($url));
    return $s;
}

# The statuses of $n requests at once to each of @urls with $cookie, as "200 x50".
sub burst {
    my ($cookie, $n, @urls) = @_;
    my $all = join ' ', map { ($_) x $n } @urls;
    my @codes = grep { /^\d{3}$/ } split /\s+/,
        `curl -s --no-progress-meter -Z --parallel-immediate --parallel-max 100 -H 'Cookie: $cookie' -H 'Accept: application/json' -o /dev/null -w '%{http_code} ' $all 2>/dev/null`;
    my %seen;
    $seen{$_}++ for @codes;
    return join ' ', map { "$_ x$seen{$_}" } sort keys %seen;
}

master_on();
workers(2);
no_shuffle();
run_tests();

__DATA__

=== TEST 1: a session stored in Redis: login at A, admitted at B; Redis holds nothing readable; an RP-initiated logout at B ends it at A
--- http_config eval: $TestOp::front . ::common($::store, $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
::start_b($::store, $::stored);
my ($cookie, $st) = TestOp::login('/app/', 'alice');
Test::More::is($st, 302, 'logged in at A');
Test::More::like($cookie, qr/^NGX_OIDC_SESSION=[\w-]{64}$/, 'the cookie is a ticket');
my ($s, $h) = ::get(::b('/app/'), $cookie);
Test::More::is("$s " . (TestOp::header($h, 'X-User') // ''), '200 alice', 'admitted at B');
($s, $h) = ::get(::b('/app/'), $cookie);
Test::More::is($s, 200, 'again, from what B keeps');
kill 'HUP', TestNode::pid('b');
sleep 1;
($s) = ::get(::b('/app/'), $cookie);
Test::More::is($s, 200, 'and after a reload of B');
my $dump = TestRedis::dump($::Redis);
Test::More::like($dump, qr/^ngx-auth:session:[0-9a-f]{64} \S+$/m, 'the session is in Redis');
Test::More::unlike($dump, qr/alice|eyJ|example\.test/, 'which holds no sub, no token, no e-mail');
($s) = ::get(::b('/logout'), $cookie);
Test::More::is($s, 302, 'logged out at B');
my ($at_a, $took) = ::until_status(401, ::rp('/app/'), $cookie, 1);
Test::More::is($at_a, 401, 'the cookie is refused at A within a second');
Test::More::note(sprintf 'refused at A after %.0f ms', $took * 1000);
Test::More::unlike(TestRedis::dump($::Redis), qr/^ngx-auth:session:/m, 'and gone from Redis');
--- request
GET /open
--- response_body: open
--- error_log eval
qr/\[info\] .*auth_oidc: session ended: the provider logged it out/



=== TEST 2: back-channel logout at A: B refuses the session within a second, and the same logout token at B is refused as replayed
--- http_config eval: $TestOp::front . ::common($::store, $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
::start_b($::store, $::stored);
my ($cookie) = TestOp::login('/app/', 'alice');
my ($s, $h) = ::get(::b('/app/'), $cookie);
my $sid = TestOp::header($h, 'X-Sid');
Test::More::is($s, 200, 'admitted at B');
Test::More::ok($sid, 'with a sid');
my $token = ::logout_token($sid);
Test::More::is(::post_logout(::rp('/backchannel'), $token), 200, 'the logout is taken at A');
my ($at_b, $took) = ::until_status(401, ::b('/app/'), $cookie, 1);
Test::More::is($at_b, 401, 'B refuses the session within a second');
Test::More::note(sprintf 'refused at B after %.0f ms', $took * 1000);
Test::More::is(::post_logout(::b('/backchannel'), $token), 400, 'the same logout token at B: 400');
Test::More::like(TestNode::error_log('b'), qr/back-channel logout refused: the logout token was used already/,
    'as used already');
--- request
GET /open
--- response_body: open



=== TEST 3: cookie sessions with cluster: 50 requests at once across a refresh, split over A and B, make one refresh at the provider and all are admitted
--- http_config eval: $TestOp::front . ::common($::store, $::cookies)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
::start_b($::store, $::cookies);
my ($cookie) = TestOp::login('/app/', 'alice');
my ($s) = ::get(::b('/app/'), $cookie);
Test::More::is($s, 200, 'the cookie session admits at B');
my $before = TestOp::grants('refresh_token');
sleep 7;
Test::More::is(::burst($cookie, 25, ::rp('/app/'), ::b('/app/')), '200 x50', 'all 50 admitted');
Test::More::is(TestOp::grants('refresh_token') - $before, 1, 'after one refresh at the provider');
Test::More::unlike(TestRedis::dump($::Redis), qr/alice|eyJ/, 'whose outcome in Redis is sealed');
--- request
GET /open
--- response_body: open
--- no_error_log
refreshing the tokens at "idp" failed



=== TEST 4: Redis down: known sessions go on, unknown ones get 503 naming the store, an open location answers, a back-channel logout is taken and reaches B once Redis is back with its data, across a reload of A
--- http_config eval: $TestOp::front . ::common($::store, $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
::start_b($::store, $::stored);
my ($known) = TestOp::login('/app/', 'alice');
my ($s, $h) = ::get(::b('/app/'), $known);
my $sid = TestOp::header($h, 'X-Sid');
Test::More::is($s, 200, 'a session that B has seen');
my ($unseen) = TestOp::login('/app/', 'alice');
TestRedis::kill($::Redis);
($s) = ::get(::b('/app/'), $known);
Test::More::is($s, 200, 'Redis down: the session B knows is admitted');
my $t0 = Time::HiRes::time();
($s, $h) = ::get(::b('/app/'), $unseen);
my $took = Time::HiRes::time() - $t0;
Test::More::is("$s " . (TestOp::header($h, 'X-Error') // ''), '503 store_unavailable', 'one it does not know: 503');
Test::More::cmp_ok($took, '<', 1.5, 'within the timeout');
Test::More::like(TestNode::error_log('b'), qr/\[error\] .*auth_oidc: auth_redis "shared" failed: /,
    'the error names the store');
($s) = TestOp::http(TestOp::quote(::b('/open')));
Test::More::is($s, 200, 'an open location answers');
my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice');
($s) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
Test::More::is($s, 503, 'a login that needs the store: 503');
Test::More::is(::post_logout(::rp('/backchannel'), ::logout_token($sid)), 200, 'a back-channel logout at A is taken');
($s) = ::get(::rp('/app/'), $known);
Test::More::is($s, 401, 'and applied at A at once');
unless ($ENV{TEST_NGINX_USE_VALGRIND}) {
    # What A could not publish yet is kept over a reload.
    my $servroot = $ENV{TEST_NGINX_SERVROOT} // "$FindBin::Bin/servroot";
    my $master = `cat $servroot/logs/nginx.pid`;
    chomp $master;
    kill 'HUP', $master;
    sleep 1;
}
TestRedis::start(port => $::Redis);
my ($at_b) = ::until_status(401, ::b('/app/'), $known, 8);
Test::More::is($at_b, 401, 'once Redis is back, B refuses the session too');
($s) = ::until_status(200, ::b('/app/'), $unseen, 8);
Test::More::is($s, 200, 'Redis restarted with its data: the session B had not seen is admitted');
--- request
GET /open
--- response_body: open



=== TEST 5: over TLS as an ACL user: a login at A admits at B; a node with a wrong password gets 503, and says why
--- http_config eval: $TestOp::front . ::common($::tls_store, $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
::start_b($::tls_store, $::stored);
my ($cookie, $st) = TestOp::login('/app/', 'alice');
Test::More::is($st, 302, 'logged in at A');
my ($s) = ::get(::b('/app/'), $cookie);
Test::More::is($s, 200, 'admitted at B');
my $dump = TestRedis::dump($::Tls, %::Acl);
Test::More::like($dump, qr/^ngx-auth:session:[0-9a-f]{64} /m, 'the session is in Redis');
Test::More::unlike($dump, qr/alice|eyJ/, 'unreadable');
(my $wrong = $::tls_store) =~ s/redis\.pass/wrong.pass/;
::start_b($wrong, $::stored);
($s) = ::get(::b('/app/'), $cookie);
Test::More::is($s, 503, 'a node with a wrong password: 503');
Test::More::like(TestNode::error_log('b'), qr/auth_redis "shared" failed: the server answered "WRONGPASS/,
    'which it says');
--- request
GET /open
--- response_body: open



=== TEST 6: behind Sentinel: a failover of the primary is followed without a reload; logins work again within seconds and stored sessions go on
--- http_config eval: $TestOp::front . ::common($::sentinel_store, $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
# The sentinels know the replica before the primary goes.
for (1 .. 100) {
    last if TestRedis::cli($::Sentinels[0], cmd => ['SENTINEL', 'replicas', 'mymaster']) =~ /\b$::Replica\b/;
    select undef, undef, undef, 0.1;
}
::start_b($::sentinel_store, $::stored);
my ($seen) = TestOp::login('/app/', 'alice');
my ($s) = ::get(::b('/app/'), $seen);
Test::More::is($s, 200, 'admitted at B through the primary');
my ($unseen) = TestOp::login('/app/', 'alice');
for (1 .. 50) {
    last if TestRedis::cli($::Replica, cmd => ['DBSIZE']) =~ /^[2-9]/;
    select undef, undef, undef, 0.1;
}
TestRedis::kill($::Primary, 1);
my $start = time;
my $st = 0;
while (time - $start < 30) {
    my ($callback, $login_cookie) = TestOp::authorize('/app/', 'alice');
    ($st) = TestOp::http('-H', TestOp::quote("Cookie: $login_cookie"), TestOp::quote($callback));
    last if $st == 302;
    sleep 1;
}
Test::More::is($st, 302, 'a login works again after the failover');
Test::More::like(TestRedis::cli($::Replica, cmd => ['ROLE']), qr/^master/, 'at the promoted replica');
($s) = ::until_status(200, ::b('/app/'), $unseen, 5);
Test::More::is($s, 200, 'a session stored before the failover admits at a node that had not seen it');
($s) = ::get(::b('/app/'), $seen);
Test::More::is($s, 200, 'and one it had seen');
--- request
GET /open
--- response_body: open
--- timeout: 60



=== TEST 7: a store that answers garbage, or a reply larger than 1 MB: refused and logged, 503, and the worker goes on
--- http_config eval
$TestOp::front . ::common("        server 127.0.0.1:$::Junk;\n        timeout 500ms;\n", $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
my $ticket = 'NGX_OIDC_SESSION=' . ('A' x 64);
my ($s, $h) = ::get(::rp('/app/'), $ticket);
Test::More::is("$s " . (TestOp::header($h, 'X-Error') // ''), '503 store_unavailable', 'garbage: 503');
# Past the backoff of the failed connection.
select undef, undef, undef, 0.5;
($s, $h) = ::get(::rp('/app/'), $ticket);
Test::More::is($s, 503, 'an endless bulk string: 503');
($s) = TestOp::http(TestOp::quote(::rp('/open')));
Test::More::is($s, 200, 'an open location answers');
--- request
GET /open
--- response_body: open
--- error_log eval
[qr/\[error\] .*auth_redis "shared": a malformed reply/,
 qr/\[error\] .*auth_redis "shared": a reply larger than 1048576 bytes/]



=== TEST 8: front-channel logout at A, by iss and sid: B refuses the session within a second
--- http_config eval: $TestOp::front . ::common($::store, $::stored)
--- config eval: $::locations
--- user_files
>>> app/index.html
app
--- init
::start_b($::store, $::stored);
my ($cookie) = TestOp::login('/app/', 'alice');
my ($s, $h) = ::get(::b('/app/'), $cookie);
my $sid = TestOp::header($h, 'X-Sid');
Test::More::is($s, 200, 'admitted at B');
my $iss = $TestOp::Issuer;
$iss =~ s/([^A-Za-z0-9])/sprintf '%%%02X', ord $1/ge;
($s) = TestOp::http(TestOp::quote(::rp("/frontchannel?iss=$iss&sid=$sid")));
Test::More::is($s, 200, 'the front-channel logout is taken at A');
my ($at_b) = ::until_status(401, ::b('/app/'), $cookie, 1);
Test::More::is($at_b, 401, 'B refuses the session within a second');
--- request
GET /open
--- response_body: open
