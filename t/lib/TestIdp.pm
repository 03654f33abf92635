package TestIdp;

# The identity provider's side of the tests of auth_jwt_key_url: a CA and server certificates
# made now by openssl, a port that accepts connections and never answers, a port where nothing
# listens, and a DNS server (dnsmasq) that knows idp.test and other.test. Paths and ports are
# put in TEST_NGINX_* variables for the configurations; everything ends with the test file.

use strict;
use warnings;

use File::Temp qw(tempdir);
use IO::Socket::INET;

my $Dir = tempdir('ngx-auth-rs-idp-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $Dir;
my @Listening;
my $Dnsmasq;
my $Owner = $$;

sub run {
    my @cmd = @_;
    system(@cmd) == 0 or die "TestIdp: @cmd failed";
}

# A port free now, kept open when $listen (connections are accepted by the kernel only).
sub port {
    my ($listen) = @_;
    my $s = IO::Socket::INET->new(Listen => 8, LocalAddr => '127.0.0.1', LocalPort => 0,
        Proto => 'tcp', ReuseAddr => 1) or die "TestIdp: listen: $!";
    my $port = $s->sockport;
    if ($listen) { push @Listening, $s } else { close $s }
    return $port;
}

sub cert {
    my ($name, $ca, $san) = @_;
    run('openssl', 'req', '-newkey', 'rsa:2048', '-nodes', '-subj', "/CN=$name",
        '-keyout', "$Dir/$name.key", '-out', "$Dir/$name.csr");
    open my $ext, '>', "$Dir/$name.ext" or die $!;
    print $ext "subjectAltName=$san\n";
    close $ext;
    run('openssl', 'x509', '-req', '-in', "$Dir/$name.csr", '-CA', "$Dir/$ca.crt",
        '-CAkey', "$Dir/$ca.key", '-CAcreateserial', '-days', '2', '-out', "$Dir/$name.crt",
        '-extfile', "$Dir/$name.ext");
}

sub ca {
    my ($name) = @_;
    run('openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
        '-subj', "/CN=$name", '-keyout', "$Dir/$name.key", '-out', "$Dir/$name.crt");
}

# Two CRLs of the CA `ca`: `ca-empty.crl`, which revokes nothing, and `ca-revoked.crl`, which
# revokes the certificate `$revoked`.
sub crls {
    my ($revoked) = @_;
    open my $cnf, '>', "$Dir/crl.cnf" or die $!;
    print $cnf "[ca]\ndefault_ca = d\n[d]\ndatabase = $Dir/crl.index\n"
        . "crlnumber = $Dir/crl.number\ndefault_md = sha256\ndefault_crl_days = 2\n";
    close $cnf;
    open my $index, '>', "$Dir/crl.index" or die $!;
    close $index;
    open my $number, '>', "$Dir/crl.number" or die $!;
    print $number "01\n";
    close $number;
    my @ca = ('-config', "$Dir/crl.cnf", '-keyfile', "$Dir/ca.key", '-cert', "$Dir/ca.crt");
    run('openssl', 'ca', @ca, '-gencrl', '-out', "$Dir/ca-empty.crl");
    run('openssl', 'ca', @ca, '-revoke', "$Dir/$revoked.crt");
    run('openssl', 'ca', @ca, '-gencrl', '-out', "$Dir/ca-revoked.crl");
}

sub start {
    open my $null, '>', '/dev/null' or die $!;
    open my $saved, '>&', \*STDERR or die $!;
    open STDERR, '>&', $null or die $!;
    ca('ca');
    ca('other-ca');
    cert('idp', 'ca', 'DNS:idp.test,IP:127.0.0.1');
    cert('stranger', 'other-ca', 'DNS:idp.test,IP:127.0.0.1');
    cert('misnamed', 'ca', 'DNS:other.test');
    crls('idp');
    open STDERR, '>&', $saved or die $!;

    $ENV{TEST_NGINX_PKI} = $Dir;
    $ENV{TEST_NGINX_IDP_PORT} = port(0);
    $ENV{TEST_NGINX_STRANGER_PORT} = port(0);
    $ENV{TEST_NGINX_MISNAMED_PORT} = port(0);
    $ENV{TEST_NGINX_SILENT_PORT} = port(1);
    $ENV{TEST_NGINX_CLOSED_PORT} = port(0);

    my $dns = port(0);
    $ENV{TEST_NGINX_DNS_PORT} = $dns;
    my $dnsmasq = -x '/usr/sbin/dnsmasq' ? '/usr/sbin/dnsmasq' : 'dnsmasq';
    $Dnsmasq = fork() // die "TestIdp: fork: $!";
    if (!$Dnsmasq) {
        open STDOUT, '>', '/dev/null';
        open STDERR, '>', "$Dir/dnsmasq.log";
        my @user = $> == 0 ? ('--user=root') : ();
        exec $dnsmasq, '--keep-in-foreground', '--no-resolv', '--no-hosts', '--no-poll',
            '--bind-interfaces', '--listen-address=127.0.0.1', "--port=$dns", @user,
            "--pid-file=$Dir/dnsmasq.pid", '--address=/idp.test/127.0.0.1',
            '--address=/other.test/127.0.0.1', '--log-facility=-', '--log-queries';
        die "TestIdp: cannot run dnsmasq (apt-get install dnsmasq-base): $!";
    }
    # dnsmasq answers once it is bound.
    for (1 .. 50) {
        last if -s "$Dir/dnsmasq.pid";
        select undef, undef, undef, 0.1;
    }
    die "TestIdp: dnsmasq did not start: " . `cat $Dir/dnsmasq.log` unless -s "$Dir/dnsmasq.pid";
}

END {
    if ($Dnsmasq && $$ == $Owner) {
        kill 'TERM', $Dnsmasq;
        waitpid $Dnsmasq, 0;
    }
}

start();

1;
