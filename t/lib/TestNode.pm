package TestNode;

# A second nginx node for the tests of several nodes: the nginx binary and module of the
# test run, two workers, its own prefix directory next to the test's, the given `http` block,
# started now and stopped (QUIT) when the test file ends. The test's own nginx is the first
# node.

use strict;
use warnings;

use FindBin;
use TestIdp;

my $Owner = $$;
my %Nodes;

sub binary { $ENV{TEST_NGINX_BINARY} || 'nginx' }

sub root {
    my ($name) = @_;
    my $servroot = $ENV{TEST_NGINX_SERVROOT} || "$FindBin::Bin/servroot";
    return "$servroot.$name";
}

# Starts the node $name with $http (the inside of the http block); returns its root.
sub start {
    my ($name, $http) = @_;
    stop($name);
    my $root = root($name);
    system('rm', '-rf', $root);
    mkdir $root;
    mkdir "$root/$_" for qw(conf logs html);
    my $modules = join '', map { "load_module $_;\n" }
        grep { length } split /\s+/, $ENV{TEST_NGINX_LOAD_MODULES} // '';
    open my $conf, '>', "$root/conf/nginx.conf" or die $!;
    print $conf $modules . <<"_EOC_";
daemon on;
master_process on;
worker_processes 2;
pid logs/nginx.pid;
error_log logs/error.log debug;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $root/tmp_body;
    proxy_temp_path $root/tmp_proxy;
    fastcgi_temp_path $root/tmp_fastcgi;
    uwsgi_temp_path $root/tmp_uwsgi;
    scgi_temp_path $root/tmp_scgi;
$http
}
_EOC_
    close $conf;
    my $bin = binary();
    my $out = `$bin -p $root/ -c conf/nginx.conf 2>&1`;
    die "TestNode: $name did not start: $out" if $?;
    $Nodes{$name} = $root;
    return $root;
}

sub pid {
    my ($name) = @_;
    my $root = $Nodes{$name} or return;
    open my $fh, '<', "$root/logs/nginx.pid" or return;
    my $pid = <$fh>;
    chomp $pid if defined $pid;
    return $pid;
}

sub error_log {
    my ($name) = @_;
    open my $fh, '<', root($name) . '/logs/error.log' or return '';
    local $/;
    return <$fh> // '';
}

sub stop {
    my ($name) = @_;
    my $pid = pid($name);
    delete $Nodes{$name};
    return unless $pid;
    kill 'QUIT', $pid;
    for (1 .. 100) {
        last unless kill 0, $pid;
        select undef, undef, undef, 0.05;
    }
}

END {
    if ($$ == $Owner) {
        stop($_) for keys %Nodes;
    }
}

1;
