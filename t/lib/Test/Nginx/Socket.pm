package Test::Nginx::Socket;

# A small stand-in for Test::Nginx::Socket (the CPAN module), used only when that module is not
# installed: the .t files push t/lib to the end of @INC. It runs the subset of the data-block
# format that this project's tests use, with the same sections, environment variables, nginx.conf
# template and servroot layout.

use strict;
use warnings;

use Test::Base ();
use Cwd qw(getcwd);
use File::Path qw(make_path remove_tree);
use File::Spec;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep time);

our @ISA = ('Test::Base');
our @EXPORT = (qw(
    run_tests repeat_each no_shuffle no_long_string no_root_location log_level
    workers master_on master_off html_dir server_port server_root env_to_nginx
    check_accum_error_log
));

my $NginxBinary = $ENV{TEST_NGINX_BINARY} || 'nginx';
my $LoadModules = $ENV{TEST_NGINX_LOAD_MODULES} || '';
my $ServerPort  = $ENV{TEST_NGINX_SERVER_PORT} || $ENV{TEST_NGINX_PORT} || 1984;
my $ServRoot    = $ENV{TEST_NGINX_SERVROOT} || File::Spec->rel2abs('t/servroot');
my $LogLevel    = $ENV{TEST_NGINX_LOG_LEVEL} || 'debug';
my $Timeout     = $ENV{TEST_NGINX_TIMEOUT} || 3;
my $Workers     = 1;
my $MasterProcess = 'off';
my $RootLocation = 1;
my $AccumErrorLog = 0;
my @EnvToNginx;

# TEST_NGINX_USE_VALGRIND=1 runs nginx under valgrind's memcheck, in one process, with the
# suppressions in valgrind.suppress if that file is in the current directory. Any report fails
# the block that was running.
my $Valgrind = $ENV{TEST_NGINX_USE_VALGRIND};
if ($Valgrind) {
    $Timeout = $ENV{TEST_NGINX_TIMEOUT} || 30;
}

$ENV{TEST_NGINX_SERVER_PORT} = $ServerPort;
$ENV{TEST_NGINX_SERVER_ROOT} = $ServRoot;

sub repeat_each { }
sub no_shuffle { }
sub no_long_string { }
sub no_root_location { $RootLocation = 0 }
sub log_level { $LogLevel = shift }
sub workers { $Workers = shift }
sub master_on { $MasterProcess = 'on' }
sub master_off { $MasterProcess = 'off' }
sub env_to_nginx { push @EnvToNginx, @_ }
sub check_accum_error_log { $AccumErrorLog = 1 }
sub html_dir { "$ServRoot/html" }
sub server_root { $ServRoot }
sub server_port { $ServerPort }

my $Running;       # the config the running nginx was started with
# As in Test::Nginx, each block reads error.log from its start: a block without --- config runs
# in the nginx of the block before and sees that block's lines too. Requests of one block read on
# from where the request before them stopped, unless check_accum_error_log is in force.
my $ErrLogPos = 0;

sub expand_env {
    my ($text) = @_;
    return $text unless defined $text;
    $text =~ s{\$(TEST_NGINX_[_A-Z0-9]+)}{
        defined $ENV{$1} ? $ENV{$1} : Test::More::BAIL_OUT("No environment $1 defined.")
    }ge;
    return $text;
}

sub pid_file { "$ServRoot/logs/nginx.pid" }

# A process that exited but was not reaped yet (a daemon's parent is init) counts as gone.
sub alive {
    my ($pid) = @_;
    return 0 unless kill 0, $pid;
    open my $stat, '<', "/proc/$pid/stat" or return 1;
    my $line = <$stat> // '';
    return $line !~ /^\d+ \(.*\) Z/;
}

sub stop_nginx {
    return unless -f pid_file();
    open my $fh, '<', pid_file() or return;
    my $pid = <$fh>;
    close $fh;
    chomp $pid if defined $pid;
    if ($pid && alive($pid)) {
        kill 'TERM', $pid;
        for (1 .. ($Valgrind ? 6000 : 200)) {
            last unless alive($pid);
            sleep 0.01;
        }
        kill 'KILL', $pid if alive($pid);
    }
    unlink pid_file();
    undef $Running;
    1 while waitpid(-1, WNOHANG) > 0;
    check_valgrind();
}

my $RunningBlock;    # the name of the block that started the running nginx

# valgrind writes nothing with -q unless it has something to report.
sub check_valgrind {
    return unless $Valgrind;
    for my $file (glob "$ServRoot/logs/valgrind.*.log") {
        my $size = -s $file;
        next unless $size;
        open my $in, '<', $file or next;
        local $/;
        my $report = <$in>;
        close $in;
        Test::More::fail(($RunningBlock // 'nginx') . " - valgrind reported errors ($file)");
        Test::More::diag($report);
        unlink $file;
    }
}

sub write_config {
    my ($block) = @_;

    my $main_config = expand_env($block->main_config // '');
    $main_config .= join ' ', map { "load_module $_;" } grep { $_ } split /\s+/, $LoadModules;
    my $http_config = expand_env($block->http_config // '');
    my $config = expand_env($block->config // '');
    my $level = $block->log_level // $LogLevel;
    my $env = join '', map { "env $_;\n" } @EnvToNginx;
    my $daemon = $Valgrind ? "daemon off;\nmaster_process off;\n" : "daemon on;\nmaster_process $MasterProcess;\n";
    my $root = $RootLocation
        ? "        location / {\n            root $ServRoot/html;\n            index index.html index.htm;\n        }\n"
        : '';
    my $user = $> == 0 ? "user root;\n" : '';

    open my $out, '>', "$ServRoot/conf/nginx.conf" or die "cannot write nginx.conf: $!";
    print $out <<"_EOC_";
worker_processes  $Workers;
$daemon
error_log $ServRoot/logs/error.log $level;
pid       $ServRoot/logs/nginx.pid;
$env
$main_config

http {
    access_log $ServRoot/logs/access.log;

    default_type text/plain;
    keepalive_timeout  68;

$http_config

    server {
        listen          $ServerPort;
        server_name     'localhost';

        client_max_body_size 30M;
        # Begin test case config...
$config
        # End test case config.

$root    }
}

events {
    accept_mutex off;
    worker_connections  64;
}
$user
_EOC_
    close $out;
}

sub write_user_files {
    my ($block) = @_;
    my $files = $block->user_files;
    return unless defined $files;

    my @files;
    if (ref $files eq 'ARRAY') {
        @files = @$files;
    } else {
        while ($files =~ /^>>> (\S+)(?:[ \t]+(\S[^\n]*))?\n(.*?)(?=^>>> |\z)/msg) {
            push @files, [$1, $3, $2];
        }
    }

    for my $file (@files) {
        my ($name, $body, $date) = @$file;
        my $path = File::Spec->file_name_is_absolute($name) ? $name : "$ServRoot/html/$name";
        my ($vol, $dir) = File::Spec->splitpath($path);
        make_path($dir) unless -d $dir;
        open my $out, '>:raw', $path or die "cannot write $path: $!";
        print $out expand_env($body);
        close $out;
        system('touch', '-t', $date, $path) if $date;
    }
}

sub setup_server_root {
    remove_tree($ServRoot);
    make_path(map { "$ServRoot/$_" } qw(conf html logs));
    open my $out, '>', "$ServRoot/html/index.html" or die $!;
    print $out '<html><head><title>It works!</title></head><body>It works!</body></html>';
    close $out;
}

sub start_nginx {
    my ($block) = @_;
    stop_nginx();
    setup_server_root();
    write_config($block);
    write_user_files($block);
    $ErrLogPos = 0;

    # -e: what nginx logs while it starts goes to error.log too, as Test::Nginx has it.
    my $cmd = "$NginxBinary -e $ServRoot/logs/error.log -p $ServRoot/ -c $ServRoot/conf/nginx.conf"
        . " > /dev/null 2> $ServRoot/logs/stderr";
    $RunningBlock = $block->name;
    if ($Valgrind) {
        my $suppress = -f 'valgrind.suppress' ? ' --suppressions=valgrind.suppress' : '';
        # --fair-sched: threads take turns at valgrind's lock, so a thread pool hashing a
        # password does not keep the event loop from reading the requests that follow.
        $cmd = "valgrind -q --tool=memcheck --leak-check=full --show-possibly-lost=no --fair-sched=yes"
            . " --num-callers=50 --gen-suppressions=all$suppress"
            . " --log-file=$ServRoot/logs/valgrind.%p.log $cmd";
        # Without daemon mode, nginx stays in the foreground: a failed start is seen by its exit.
        my $pid = fork // die "fork: $!";
        if ($pid == 0) {
            exec $cmd;
            exit 127;
        }
        for (1 .. 600) {
            last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort);
            if (waitpid($pid, WNOHANG) == $pid) {
                check_valgrind();
                return ($? >> 8) || 1;
            }
            sleep 0.05;
        }
        $Running = $block->config;
        return 0;
    }
    my $status = system($cmd);
    return $status >> 8 if $status != 0;

    for (1 .. 100) {
        last if IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $ServerPort);
        sleep 0.05;
    }
    $Running = $block->config;
    return 0;
}

sub error_log_data {
    sleep 0.05;
    open my $in, '<', "$ServRoot/logs/error.log" or return '';
    local $/;
    my $text = <$in> // '';
    close $in;
    $ErrLogPos = 0 if $ErrLogPos > length $text;
    $text = substr($text, $ErrLogPos);
    $ErrLogPos += length $text unless $AccumErrorLog;
    return $text;
}

sub patterns {
    my ($spec) = @_;
    return () unless defined $spec;
    return @$spec if ref $spec eq 'ARRAY';
    return ($spec) if ref $spec eq 'Regexp';
    return grep { length } split /\n+/, $spec;
}

sub check_error_log {
    my ($block, $name, $log) = @_;

    for my $pat (patterns($block->error_log)) {
        if (ref $pat eq 'Regexp') {
            Test::More::like($log, $pat, "$name - pattern \"$pat\" matches a line in error.log");
        } else {
            Test::More::ok(index($log, $pat) >= 0,
                "$name - pattern \"$pat\" matches a line in error.log")
                or Test::More::diag("error.log:\n$log");
        }
    }

    for my $pat (patterns($block->no_error_log)) {
        my $hit = ref $pat eq 'Regexp' ? $log =~ $pat : index($log, $pat) >= 0;
        Test::More::ok(!$hit, "$name - pattern \"$pat\" should not match any line in error.log")
            or Test::More::diag("error.log:\n$log");
    }

    # As in nginx's own test suite, an alert that no section mentions is a failure; so are
    # crit and emerg lines. A section that names the level ("[alert]") takes over the check.
    my @sections = (patterns($block->error_log), patterns($block->no_error_log));
    for my $level (qw(alert crit emerg)) {
        next if grep { !ref $_ && index($_, "[$level") >= 0 } @sections;
        for my $line (split /\n/, $log) {
            next unless index($line, "[$level]") >= 0;
            next if grep { ref $_ ? $line =~ $_ : index($line, $_) >= 0 } patterns($block->error_log);
            Test::More::fail("$name - unexpected [$level] in error.log: $line");
        }
    }
}

sub send_request {
    my ($raw, $timeout) = @_;
    my $sock = IO::Socket::INET->new(
        PeerAddr => '127.0.0.1',
        PeerPort => $ServerPort,
        Timeout  => $timeout,
    ) or return (undef, "cannot connect: $!");
    binmode $sock;
    print $sock $raw;
    my $resp = '';
    my $deadline = time + $timeout;
    $sock->blocking(0);
    while (time < $deadline) {
        my $n = sysread($sock, my $buf, 65536);
        if (defined $n) {
            last if $n == 0;
            $resp .= $buf;
            next;
        }
        sleep 0.01;
    }
    close $sock;
    return ($resp, undef);
}

sub parse_response {
    my ($resp) = @_;
    my ($head, $body) = split /\r\n\r\n/, $resp, 2;
    $body //= '';
    my ($status_line, @lines) = split /\r\n/, $head // '';
    my ($code) = ($status_line // '') =~ m{^HTTP/\d\.\d (\d{3})};
    my %headers;
    for my $line (@lines) {
        my ($k, $v) = split /:\s*/, $line, 2;
        push @{ $headers{lc $k} }, $v // '';
    }
    if (($headers{'transfer-encoding'}[0] // '') =~ /chunked/i) {
        my $decoded = '';
        while ($body =~ s/^([0-9a-fA-F]+)[^\r]*\r\n//) {
            my $len = hex $1;
            last if $len == 0;
            $decoded .= substr($body, 0, $len, '');
            $body =~ s/^\r\n//;
        }
        $body = $decoded;
    }
    return ($code, $head, \%headers, $body);
}

# A section's value (undef when absent; Test::Base returns an empty list for those).
sub section {
    my ($block, $name) = @_;
    my $value = $block->$name;
    return $value;
}

# The value for request $i of $count: an element of an array section, or the section itself.
# As in Test::Nginx, the checks of a block with several requests must be arrays.
sub nth {
    my ($block, $name, $i, $count) = @_;
    my $value = section($block, $name);
    return $value unless defined $value;
    return $value->[$i] if ref $value eq 'ARRAY';
    Test::More::BAIL_OUT($block->name . " - You asked for many requests, the expected results"
        . " should be arrays as well.") if ($count // 1) > 1 && $name ne 'more_headers';
    return $value;
}

sub build_request {
    my ($spec, $more_headers) = @_;
    $spec =~ s/^\s+//;
    $spec =~ s/^#[^\n]*\n//mg;
    my ($line, $body) = split /\n/, $spec, 2;
    my ($method, $uri, $version) = split ' ', $line;
    $uri //= '/';
    $version //= 'HTTP/1.1';
    my $raw = "$method $uri $version\r\n";
    my %seen;
    for my $h (split /\n+/, $more_headers // '') {
        next if $h =~ /^\s*#/ || $h !~ /\S/;
        my ($k, $v) = split /:\s*/, $h, 2;
        $seen{lc $k} = 1;
        $raw .= "$k: " . ($v // '') . "\r\n";
    }
    $raw .= "Host: localhost\r\n" unless $seen{host};
    $raw .= "Connection: close\r\n" unless $seen{connection};
    if (defined $body && length $body) {
        $body =~ s/\s+\z//;
        $raw .= "Content-Length: " . length($body) . "\r\n" unless $seen{'content-length'};
    }
    $raw .= "\r\n";
    $raw .= $body if defined $body;
    return $raw;
}

sub run_block {
    my ($block) = @_;
    my $name = $block->name;

    if (defined $block->config) {
        my $rc = start_nginx($block);
        if (defined $block->must_die) {
            Test::More::isnt($rc, 0, "$name - die as expected");
            check_error_log($block, $name, error_log_data());
            stop_nginx() if $rc == 0;
            return;
        }
        if ($rc != 0) {
            Test::More::fail("$name - nginx failed to start (exit $rc)");
            Test::More::diag(error_log_data() . `cat $ServRoot/logs/stderr`);
            return;
        }
    } elsif (!defined $Running) {
        Test::More::BAIL_OUT("$name - no --- config and no nginx running");
    }

    if (defined(my $init = $block->init)) {
        eval $init;
        Test::More::BAIL_OUT("$name - init failed: $@") if $@;
    }
    $ErrLogPos = 0;

    # Test::Nginx checks a *_like section only when its exact sibling is absent.
    for my $kind (qw(response_headers response_body)) {
        Test::More::BAIL_OUT("$name - --- ${kind}_like is not checked by Test::Nginx when"
            . " --- $kind is given")
            if defined section($block, $kind) && defined section($block, "${kind}_like");
    }

    my $requests = $block->request;
    return unless defined $requests;
    my @requests = ref $requests eq 'ARRAY' ? @$requests : ($requests);
    my $timeout = $block->timeout // $Timeout;
    $timeout =~ s/s$//;

    for my $i (0 .. $#requests) {
        my $label = @requests > 1 ? "$name - req $i" : $name;
        my $more = section($block, 'more_headers');
        Test::More::BAIL_OUT("--- more_headers lacks data for the ${i}th request")
            if ref $more eq 'ARRAY' && !defined $more->[$i];
        my $raw = build_request($requests[$i], nth($block, 'more_headers', $i));
        my ($resp, $err) = send_request($raw, $timeout);
        if (!defined $resp) {
            Test::More::fail("$label - $err");
            next;
        }
        if (defined $block->ignore_response) {
            check_error_log($block, $label, error_log_data());
            next;
        }

        my ($code, $head, $headers, $body) = parse_response($resp);

        Test::More::is($code, nth($block, 'error_code', $i, scalar @requests) // 200, "$label - status code ok");

        if (defined(my $spec = nth($block, 'response_headers', $i, scalar @requests))) {
            for my $line (split /\n/, $spec) {
                $line =~ s/^\s+|\s+$//g;
                next unless length $line;
                if ($line =~ /^!\s*(\S+)/) {
                    my $key = $1;
                    Test::More::ok(!exists $headers->{lc $key}, "$label - header $key not present");
                } else {
                    my ($key, $val) = split /\s*:\s*/, $line, 2;
                    my $got = $headers->{lc $key} ? $headers->{lc $key}[0] : '';
                    Test::More::is($got, $val // '', "$label - header $key ok");
                }
            }
        }

        if (defined(my $spec = nth($block, 'response_headers_like', $i, scalar @requests))) {
            for my $line (split /\n/, $spec) {
                $line =~ s/^\s+|\s+$//g;
                next unless length $line;
                my ($key, $val) = split /\s*:\s*/, $line, 2;
                my $got = $headers->{lc $key} ? $headers->{lc $key}[0] : '';
                Test::More::like($got, qr/^$val$/, "$label - header $key like ok");
            }
        }

        if (defined(my $want = nth($block, 'raw_response_headers_like', $i, scalar @requests))) {
            Test::More::like("$head\r\n", ref $want ? $want : qr/$want/s,
                "$label - raw_response_headers_like");
        }

        if (defined(my $want = nth($block, 'response_body', $i, scalar @requests))) {
            if (ref $want eq 'Regexp') {
                Test::More::like($body, $want, "$label - response_body - like");
            } else {
                Test::More::is($body, $want, "$label - response_body - response is expected");
            }
        }

        if (defined(my $want = nth($block, 'response_body_like', $i, scalar @requests))) {
            Test::More::like($body, ref $want ? $want : qr/$want/s, "$label - response_body_like");
        }

        check_error_log($block, $label, error_log_data());
    }
}

sub run_tests {
    Test::More::BAIL_OUT("cannot run $NginxBinary -V")
        if system("$NginxBinary -V > /dev/null 2>&1") != 0;

    for my $block (Test::Base::blocks()) {
        run_block($block);
    }
    stop_nginx();
}

END { stop_nginx() if $Running }

1;
