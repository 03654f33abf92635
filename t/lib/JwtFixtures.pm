package JwtFixtures;

# The JWT keys and tokens of t/fixtures/jwt, for the .t files that need them; harness-neutral,
# so it serves under Test::Nginx and under the fallback alike.

use strict;
use warnings;

use Exporter 'import';
use File::Basename qw(dirname);
use Digest::SHA ();
use JSON::PP ();
use MIME::Base64 ();

our @EXPORT = qw(slurp bearer jwks_with hs256_bearer hs256_token);

my $Dir = dirname(__FILE__) . '/../fixtures/jwt';

# A fixture file, without its trailing blanks.
sub slurp {
    open my $f, '<', "$Dir/$_[0]" or die "$_[0]: $!";
    local $/;
    my $data = <$f>;
    $data =~ s/\s+\z//;
    return $data;
}

sub bearer { "Authorization: Bearer " . slurp($_[0]) }

# The fixture JWK Set with only the keys whose kid matches, after the extra keys given.
sub jwks_with {
    my ($pattern, @first) = @_;
    my $set = JSON::PP::decode_json(slurp('jwks.json'));
    $set->{keys} = [@first, grep { ($_->{kid} // '') =~ $pattern } @{ $set->{keys} }];
    return JSON::PP->new->canonical->encode($set);
}

# An HS256 token of hmac.secret: these claims, `sub` alice and an hour to live unless they say
# otherwise.
sub hs256_token {
    my %claims = (sub => 'alice', exp => time + 3600, @_);
    my $json = JSON::PP->new->canonical;
    my $message = MIME::Base64::encode_base64url($json->encode({ alg => 'HS256' })) . '.'
        . MIME::Base64::encode_base64url($json->encode(\%claims));
    my $mac = Digest::SHA::hmac_sha256($message, slurp('hmac.secret'));
    return "$message." . MIME::Base64::encode_base64url($mac);
}

# `Authorization: Bearer` with `hs256_token(%claims)`.
sub hs256_bearer { "Authorization: Bearer " . hs256_token(@_) }

1;
