package TestRedis;

# Redis for the tests of auth_redis: Debian's redis-server and redis-sentinel, started by the
# test on loopback ports of its own, each in a directory of its own (its data, its log), and
# stopped when the test file ends. `kill` and `start` again on the same port and directory
# make a restart with the data kept (appendonly).

use strict;
use warnings;

use TestIdp;

my $Dir = $ENV{TEST_NGINX_PKI};
my $Owner = $$;
# port => { pid, args }
my %Running;

sub dir { my ($port) = @_; return "$Dir/redis-$port" }

sub spawn {
    my ($port, @cmd) = @_;
    my $pid = fork() // die "TestRedis: fork: $!";
    if (!$pid) {
        open STDOUT, '>>', dir($port) . '/stdout.log' or die $!;
        open STDERR, '>&', \*STDOUT or die $!;
        exec @cmd;
        die "TestRedis: cannot run $cmd[0]: $!";
    }
    return $pid;
}

# Starts redis-server; %opt: port (new by default), args (more of its options), tls (a port
# for TLS only, with TestIdp's certificate), password (of the user `default`).
sub start {
    my (%opt) = @_;
    my $port = $opt{port} // TestIdp::port(0);
    my $dir = dir($port);
    mkdir $dir;
    my @tls = $opt{tls}
        ? ('--port', 0, '--tls-port', $port, '--tls-cert-file', "$Dir/idp.crt",
           '--tls-key-file', "$Dir/idp.key", '--tls-ca-cert-file', "$Dir/ca.crt",
           '--tls-auth-clients', 'no')
        : ('--port', $port);
    my @args = (@tls, '--bind', '127.0.0.1', '--dir', $dir, '--save', '',
        '--appendonly', 'yes', '--logfile', "$dir/redis.log", @{ $opt{args} // [] });
    $Running{$port} = { pid => spawn($port, 'redis-server', @args), opt => \%opt };
    wait_ready($port, %opt);
    return $port;
}

# A sentinel that watches the primary at $primary as `mymaster`, quorum 2.
sub sentinel {
    my ($primary) = @_;
    my $port = TestIdp::port(0);
    my $dir = dir($port);
    mkdir $dir;
    open my $conf, '>', "$dir/sentinel.conf" or die $!;
    print $conf "port $port\nbind 127.0.0.1\ndir $dir\nlogfile $dir/sentinel.log\n"
        . "sentinel monitor mymaster 127.0.0.1 $primary 2\n"
        . "sentinel down-after-milliseconds mymaster 1000\n"
        . "sentinel failover-timeout mymaster 4000\n";
    close $conf;
    $Running{$port} = { pid => spawn($port, 'redis-sentinel', "$dir/sentinel.conf"), opt => {} };
    wait_ready($port);
    return $port;
}

sub wait_ready {
    my ($port, %opt) = @_;
    for (1 .. 100) {
        return if cli($port, %opt, cmd => ['PING']) =~ /PONG|NOAUTH|WRONGPASS/;
        select undef, undef, undef, 0.05;
    }
    die "TestRedis: nothing answers on $port: " . `tail -5 @{[dir($port)]}/*.log`;
}

# redis-cli's answer to cmd => [...]; %opt as start's.
sub cli {
    my ($port, %opt) = @_;
    my @conn = ('-p', $port);
    push @conn, '--tls', '--cacert', "$Dir/ca.crt" if $opt{tls};
    push @conn, '--user', $opt{user} if $opt{user};
    push @conn, '-a', $opt{password}, '--no-auth-warning' if $opt{password};
    my $args = join ' ', map { quote($_) } @conn, @{ $opt{cmd} };
    return `redis-cli -h 127.0.0.1 $args 2>&1`;
}

sub quote { my ($s) = @_; $s =~ s/'/'\\''/g; return "'$s'" }

# Every key of the module's with its value, as `key value` lines: what a dump of the server
# would show.
sub dump {
    my ($port, %opt) = @_;
    my @keys = grep { length } split /\n/, cli($port, %opt, cmd => ['--scan']);
    return join '', map {
        my $type = cli($port, %opt, cmd => ['TYPE', $_]);
        my $value = $type =~ /^string/ ? cli($port, %opt, cmd => ['GET', $_])
            : $type =~ /^zset/ ? cli($port, %opt, cmd => ['ZRANGE', $_, 0, -1])
            : $type;
        "$_ $value";
    } @keys;
}

# Stops the server on $port (SIGKILL with `hard`), keeping its directory.
sub kill {
    my ($port, $hard) = @_;
    my $run = delete $Running{$port} or return;
    CORE::kill $hard ? 'KILL' : 'TERM', $run->{pid};
    waitpid $run->{pid}, 0;
    return $run->{opt};
}

# The server on $port, stopped and started again with its data.
sub restart {
    my ($port) = @_;
    my $opt = TestRedis::kill($port);
    start(%$opt, port => $port);
}

END {
    if ($$ == $Owner) {
        TestRedis::kill($_) for keys %Running;
    }
}

1;
