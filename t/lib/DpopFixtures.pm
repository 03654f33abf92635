package DpopFixtures;

# DPoP proofs (RFC 9449) made at test time with the openssl command: key pairs (EC P-256 or
# Ed25519), their public JWKs and RFC 7638 thumbprints, and proofs signed with them.
# Harness-neutral, so it serves under Test::Nginx and under the fallback alike.

use strict;
use warnings;

use Digest::SHA ();
use File::Temp ();
use JSON::PP ();
use MIME::Base64 ();

my $Dir = File::Temp::tempdir(CLEANUP => 1);
my $Made = 0;

sub b64u { MIME::Base64::encode_base64url($_[0]) }

sub slurp_bytes {
    my ($path) = @_;
    open my $f, '<:raw', $path or die "$path: $!";
    local $/;
    return scalar <$f>;
}

sub spew_bytes {
    my ($path, $data) = @_;
    open my $f, '>:raw', $path or die "$path: $!";
    print $f $data;
    close $f;
}

sub openssl {
    my ($command, @args) = @_;
    my $out = "$Dir/out";
    system('openssl', $command, '-out', $out, @args) == 0 or die "openssl @_ failed";
    return slurp_bytes($out);
}

# A new key pair: 'ec' (P-256, ES256) or 'ed25519' (EdDSA).
sub new_key {
    my ($class, $type) = @_;
    my $pem = "$Dir/key-" . ++$Made . '.pem';
    if ($type eq 'ec') {
        openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256');
    } else {
        openssl('genpkey', '-algorithm', 'ED25519');
    }
    rename "$Dir/out", $pem or die "$pem: $!";
    my $der = openssl('pkey', '-in', $pem, '-pubout', '-outform', 'DER');
    my $jwk = $type eq 'ec'
        ? { kty => 'EC', crv => 'P-256', x => b64u(substr($der, -64, 32)),
            y => b64u(substr($der, -32)) }
        : { kty => 'OKP', crv => 'Ed25519', x => b64u(substr($der, -32)) };
    return bless { type => $type, pem => $pem, jwk => $jwk }, $class;
}

sub alg { $_[0]{type} eq 'ec' ? 'ES256' : 'EdDSA' }

sub jwk { $_[0]{jwk} }

# The RFC 7638 thumbprint: the JWK's members, which are just the required ones, sorted.
sub jkt { b64u(Digest::SHA::sha256(JSON::PP->new->canonical->encode($_[0]{jwk}))) }

sub sign {
    my ($self, $message) = @_;
    my $in = "$Dir/message";
    spew_bytes($in, $message);
    if ($self->{type} eq 'ed25519') {
        return openssl('pkeyutl', '-sign', '-rawin', '-inkey', $self->{pem}, '-in', $in);
    }
    # ECDSA-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }, to JWS's r || s (RFC 7518, 3.4).
    my $der = openssl('dgst', '-sha256', '-binary', '-sign', $self->{pem}, $in);
    my ($at, @ints) = (2);
    for (1 .. 2) {
        my $len = ord substr($der, $at + 1, 1);
        my $int = substr($der, $at + 2, $len);
        $int =~ s/^\x00+//;
        push @ints, ("\x00" x (32 - length $int)) . $int;
        $at += 2 + $len;
    }
    return join '', @ints;
}

my $Jti = 0;

# A proof for `method uri` and `token`; `header` and `claims` replace or add members (undef
# removes one).
sub proof {
    my ($self, %args) = @_;
    my $json = JSON::PP->new->canonical;
    my %header = (typ => 'dpop+jwt', alg => $self->alg, jwk => $self->{jwk});
    my %claims = (
        jti => join('-', 'proof', $$, time, ++$Jti),
        htm => $args{method},
        htu => $args{uri},
        iat => time,
        ath => b64u(Digest::SHA::sha256($args{token})),
    );
    for my $pair ([\%header, $args{header}], [\%claims, $args{claims}]) {
        my ($into, $changes) = @$pair;
        while (my ($k, $v) = each %{ $changes // {} }) {
            if (defined $v) { $into->{$k} = $v } else { delete $into->{$k} }
        }
    }
    my $message = b64u($json->encode(\%header)) . '.' . b64u($json->encode(\%claims));
    return "$message." . b64u($self->sign($message));
}

1;
