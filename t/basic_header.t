# Hostile and malformed Authorization headers: always 401 with the challenge and an info line
# naming the reason; never 500, never the password in the log.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

my $config = <<'_EOC_';
    location /secret/ {
        alias $TEST_NGINX_FIXTURES/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_FIXTURES/all-formats.htpasswd;
    }
_EOC_

sub b64 { encode_base64($_[0], '') }

my @cases = (
    ['a scheme alone',           'X',                                       'authorization scheme is not Basic'],
    ['another scheme',           'Bearer ' . b64('plain:s3cret-pw'),        'authorization scheme is not Basic'],
    ['a scheme prefix',          'Basicx ' . b64('plain:s3cret-pw'),        'authorization scheme is not Basic'],
    ['Basic without credentials', 'Basic',                                  'no credentials after the Basic scheme'],
    ['invalid base64',           'Basic !!!!',                              'credentials are not valid base64'],
    ['trailing junk',            'Basic ' . b64('plain:s3cret-pw') . ' junk', 'credentials are not valid base64'],
    ['junk after padding',       'Basic ' . b64('plain:s3cret-pw1') . 'junk', 'credentials are not valid base64'],
    ['no colon',                 'Basic ' . b64('plains3cret-pw'),          'credentials have no colon'],
    ['empty user',               'Basic ' . b64(':s3cret-pw'),              'user name is empty'],
    ['NUL in the password',      'Basic ' . b64("plain:s3cret-pw\0"),       'credentials contain a control character'],
    ['NUL in the user',          'Basic ' . b64("pl\0ain:s3cret-pw"),       'credentials contain a control character'],
    ['CR LF in the password',    'Basic ' . b64("plain:s3cret-pw\r\nX: y"), 'credentials contain a control character'],
    ['a long token',             'Basic ' . ('A' x 6000),                   'credentials contain a control character'],
    ['a password over the limit', 'Basic ' . b64('sha512:' . ('p' x 4000)), 'user "sha512": password mismatch'],
);

my $spec = '';
my $n = 0;
for my $case (@cases) {
    my ($title, $header, $reason) = @$case;
    $n++;
    my $level = $reason =~ /^user "/ ? 'error' : 'info';
    my $log = $reason =~ /^user "/ ? $reason
        : "client sent invalid basic authentication credentials: $reason";
    $spec .= <<"_EOB_";
=== TEST $n: $title
--- config
$config
--- request
GET /secret/utf8.htpasswd
--- more_headers
Authorization: $header
--- error_code: 401
--- response_headers
WWW-Authenticate: Basic realm="Restricted", charset="UTF-8"
--- error_log
[$level]
$log
--- no_error_log
[crit]
[alert]
s3cret-pw


_EOB_
}

spec_string($spec);
run_tests();
