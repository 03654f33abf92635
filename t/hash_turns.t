# Slow password checks take turns at the thread pool: a worker hashes about one password per
# CPU it may use at a time, and the others wait, in order, each for its own verdict.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use IO::Socket::INET;
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

# Two bcrypt users made now by the real tool, cost 10: about 60 ms a hash, so the logins of a
# burst arrive while the first is hashed.
our $users = `htpasswd -nbB -C 10 ann ann-pw` . `htpasswd -nbB -C 10 bob bob-pw`;
die "htpasswd -B failed (apt-get install apache2-utils)" unless $users =~ /^ann:\$2y\$10\$/;

# A user whose hash takes seconds (cost 15 here, 13 under valgrind): longer than the timer that
# keeps a worker waiting for the check at shutdown, which must be set again, not fire into
# nothing.
our $slow_cost = $ENV{TEST_NGINX_USE_VALGRIND} ? 13 : 15;
our $slow = `htpasswd -nbB -C $slow_cost slow slow-pw`;
die "htpasswd -B failed" unless $slow =~ /^slow:\$2y\$$slow_cost\$/;

# Sends one request per [user, password] at once, each on its own connection; their status
# codes.
sub burst {
    my @socks = map {
        my ($user, $password) = @$_;
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => server_port(), Proto => 'tcp')
            or die "connect: $!";
        my $auth = 'Authorization: Basic ' . encode_base64("$user:$password", '');
        print {$s} "GET /p/index.html HTTP/1.0\r\nHost: localhost\r\n$auth\r\n\r\n";
        $s;
    } @_;
    return join ' ', map {
        local $/;
        my $response = readline($_) // '';
        $response =~ m{\AHTTP/1\.\d (\d{3})} ? $1 : 'none';
    } @socks;
}

sub count_log {
    my ($re) = @_;
    open my $f, '<', server_root() . '/logs/error.log' or die "error.log: $!";
    return scalar grep { /$re/ } <$f>;
}

# A worker pinned to one CPU hashes one password at a time. Under valgrind nginx runs without
# a master and so unpinned.
our $pinned = !$ENV{TEST_NGINX_USE_VALGRIND};

master_on();
no_shuffle();
run_tests();

__DATA__

=== TEST 1: six different logins at once on a worker of one CPU: one hashed at a time, each its own verdict
--- main_config
    worker_cpu_affinity 01;
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
# The two bobs are sent one after the other: the second arrives while the first waits for its
# turn.
Test::More::is(
    main::burst([ann => 'ann-pw'], [bob => 'wrong'], [ann => 'wrong'], [bob => 'bob-pw'],
                [bob => 'bob-pw'], [ann => 'wrong-2']),
    '200 401 401 200 200 401', 'TEST 1: every login gets its own verdict');
SKIP: {
    # valgrind runs one thread at a time: a hash at idle priority that a busy machine puts off
    # holds the worker up with it, past the 30 s a request waits for another's check, and then
    # the second bob hashes too.
    Test::More::skip('under valgrind, the count depends on what else the machine runs', 2)
        if $ENV{TEST_NGINX_USE_VALGRIND};
    Test::More::is(main::count_log(qr/password checked in a thread pool/), 5,
        'TEST 1: five hashes, the second bob waits for the same check');
    Test::More::is(main::count_log(qr/user "bob": waiting for the same check/), 1,
        'TEST 1: the second bob waits for the first');
}
SKIP: {
    Test::More::skip('a worker without a master is not pinned', 1) unless $main::pinned;
    Test::More::is(main::count_log(qr/password checked in a thread pool, after the checks before it/), 4,
        'TEST 1: four waited for their turn');
}
--- request
GET /p/index.html
--- more_headers eval
'Authorization: Basic ' . MIME::Base64::encode_base64('ann:ann-pw', '')
--- error_code: 200
--- error_log eval
qr/user "ann": password checked in a thread pool/



=== TEST 2: a check that takes seconds outlasts the timer that keeps the worker for it
--- http_config
    auth_htpasswd_cache off;
--- user_files eval
[["users", $::slow]]
--- config
    location /p/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "r";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
    }
--- log_level: debug
--- timeout: 60
--- init
Test::More::is(main::burst([slow => 'slow-pw'], [slow => 'wrong']), '200 401',
    'TEST 2: both slow logins get their verdicts');
--- request
GET /p/index.html
--- more_headers eval
'Authorization: Basic ' . MIME::Base64::encode_base64('slow:slow-pw', '')
--- error_code: 200
--- no_error_log
exited on signal
[alert]
