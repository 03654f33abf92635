# Single flight for slow password checks: identical credentials arriving together are hashed
# once in the thread pool, and the requests that waited get that verdict; a verdict is not
# kept for requests that come after.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# A bcrypt user made now by the real tool: cost 10, about 60 ms a hash, so a burst lands
# within one; under valgrind, which runs one thread at a time, cost 14, a few seconds.
our $cost = $ENV{TEST_NGINX_USE_VALGRIND} ? 14 : 10;
our $users = `htpasswd -nbB -C $cost burst burst-pw`;
die "htpasswd -B failed (apt-get install apache2-utils)" unless $users =~ /^burst:\$2y\$$cost\$/;

sub basic { 'Authorization: Basic ' . encode_base64(join(':', @_), '') }

# Sends $n requests at once, each on its own connection; their status codes.
sub burst {
    my ($n, $user, $password) = @_;
    my @socks = map {
        IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port(), Proto => 'tcp')
            or die "connect: $!"
    } 1 .. $n;
    my $auth = basic($user, $password);
    print {$_} "GET /p/index.html HTTP/1.0\r\nHost: localhost\r\n$auth\r\n\r\n" for @socks;
    return join ' ', map {
        local $/;
        my $response = readline($_) // '';
        $response =~ m{\AHTTP/1\.\d (\d{3})} ? $1 : 'none';
    } @socks;
}

# Lines of error.log that match.
sub count_log {
    my ($re) = @_;
    open my $f, '<', server_root() . '/logs/error.log' or die "error.log: $!";
    return scalar grep { /$re/ } <$f>;
}

our $hashed = qr/user "burst": password checked in a thread pool/;
our $waited = qr/user "burst": waiting for the same check/;

no_shuffle();
run_tests();

__DATA__

=== TEST 1: eight identical bcrypt logins at once cost one hash; the seven others wait for its verdict
--- http_config
    auth_htpasswd_cache off;
--- user_files eval
[["users", $::users]]
--- config
    location /p/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "r";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
    }
--- log_level: debug
--- init
Test::More::is(main::burst(8, 'burst', 'burst-pw'), join(' ', (200) x 8), 'TEST 1: the burst passes');
Test::More::is(main::count_log($main::hashed), 1, 'TEST 1: one hash for the burst');
Test::More::is(main::count_log($main::waited), 7, 'TEST 1: seven requests waited for it');
--- request
GET /p/index.html
--- more_headers eval
main::basic('burst', 'burst-pw')
--- error_code: 200
--- error_log eval
qr/user "burst": verdict of the same check by another request/



=== TEST 2: a wrong password is shared only with the requests that waited for it
--- http_config
    auth_htpasswd_cache off;
--- user_files eval
[["users", $::users]]
--- config
    location /p/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "r";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
    }
--- log_level: debug
--- init
Test::More::is(main::burst(4, 'burst', 'wrong'), join(' ', (401) x 4), 'TEST 2: the burst is refused');
Test::More::is(main::count_log($main::hashed), 1, 'TEST 2: one hash for the burst');
Test::More::is(main::burst(1, 'burst', 'wrong'), '401', 'TEST 2: a later request is refused');
Test::More::is(main::count_log($main::hashed), 2, 'TEST 2: after its own hash');
Test::More::is(main::burst(2, 'burst', 'burst-pw'), '200 200', 'TEST 2: the right password passes');
--- request
GET /p/index.html
--- more_headers eval
main::basic('burst', 'wrong')
--- error_code: 401
