# Renaming auth_basic to auth_htpasswd keeps every verdict: the same locations, once with each
# directive, answer the same requests with the same status.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();
$ENV{TEST_NGINX_FIXTURES} = "$FindBin::Bin/fixtures";

my $locations = <<'_EOC_';
    location /%DIR%/plain/ {
        alias $TEST_NGINX_HTML_DIR/;
        %AUTH% "Restricted";
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
    }
    location /%DIR%/any-allow/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        allow 127.0.0.1;
        deny all;
        %AUTH% "Restricted";
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
    }
    location /%DIR%/any-deny/ {
        alias $TEST_NGINX_HTML_DIR/;
        satisfy any;
        deny all;
        %AUTH% "Restricted";
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
    }
    location /%DIR%/all-deny/ {
        alias $TEST_NGINX_HTML_DIR/;
        deny all;
        %AUTH% "Restricted";
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
    }
    location /%DIR%/error-page/ {
        alias $TEST_NGINX_HTML_DIR/;
        %AUTH% "Restricted";
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
        error_page 401 = @login;
    }
    location /%DIR%/nested/ {
        alias $TEST_NGINX_HTML_DIR/;
        %AUTH% "Restricted";
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
        location /%DIR%/nested/off/ {
            alias $TEST_NGINX_HTML_DIR/;
            %AUTH% off;
        }
    }
    location /%DIR%/limit/ {
        alias $TEST_NGINX_HTML_DIR/;
        %AUTH%_user_file $TEST_NGINX_FIXTURES/shared.htpasswd;
        limit_except GET {
            %AUTH% "Writers";
        }
    }
_EOC_

my $config = "    location \@login {\n        return 302 /login;\n    }\n";
for my $pair (['basic', 'auth_basic'], ['htpasswd', 'auth_htpasswd']) {
    my ($dir, $directive) = @$pair;
    (my $text = $locations) =~ s/%DIR%/$dir/g;
    $text =~ s/%AUTH%/$directive/g;
    $config .= $text;
}

my %credentials = (
    none      => '',
    good      => 'Authorization: Basic ' . encode_base64('apr1:s3cret-pw', ''),
    good_sha  => 'Authorization: Basic ' . encode_base64('sha512:s3cret-pw', ''),
    wrong     => 'Authorization: Basic ' . encode_base64('apr1:S3cret-pw', ''),
    unknown   => 'Authorization: Basic ' . encode_base64('nobody:s3cret-pw', ''),
    malformed => 'Authorization: Basic !!!',
);

# location => { credentials => status }, what both directives must answer.
my %expected = (
    'plain/'       => { none => 401, good => 200, good_sha => 200, wrong => 401, unknown => 401, malformed => 401 },
    'any-allow/'   => { none => 200, good => 200, good_sha => 200, wrong => 200, unknown => 200, malformed => 200 },
    'any-deny/'    => { none => 401, good => 200, good_sha => 200, wrong => 401, unknown => 401, malformed => 401 },
    'all-deny/'    => { none => 403, good => 403, good_sha => 403, wrong => 403, unknown => 403, malformed => 403 },
    'error-page/'  => { none => 302, good => 200, good_sha => 200, wrong => 302, unknown => 302, malformed => 302 },
    'nested/off/'  => { none => 200, good => 200, good_sha => 200, wrong => 200, unknown => 200, malformed => 200 },
    'limit/'       => { none => 200, good => 200, good_sha => 200, wrong => 200, unknown => 200, malformed => 200 },
);

our (@requests, @headers, @codes);
for my $location (sort keys %expected) {
    for my $cred (sort keys %{ $expected{$location} }) {
        for my $dir ('basic', 'htpasswd') {
            push @requests, "GET /$dir/${location}index.html";
            push @headers, $credentials{$cred};
            push @codes, $expected{$location}{$cred};
        }
    }
}

# A user file of the cases where readers of htpasswd files differ, read by both directives:
# [credentials, status] pairs, what both must answer.
my $long = 'x' x 3000;
our $user_file = join '',
    "u1:!{PLAIN}old\n", "u1:{PLAIN}old\n",           # a broken first hash disables the user
    "u2:\$apr1\$\n", "u2:{PLAIN}old\n",
    "u3:{SHA}not base64!\n", "u3:{PLAIN}old\n",
    "u4:\n", "u4:{PLAIN}old\n",                       # an empty hash too
    "  w:{PLAIN}pw\n",                                # the name starts at the line's first byte
    "#c:{PLAIN}pw\n", "\n", "\r\n", "\rr:{PLAIN}pw\n", # comments, blank lines, a CR first
    "cr:{PLAIN}pw\r\n",                               # CR ends the hash
    "ts:{PLAIN}pw  \n",                               # trailing blanks belong to it
    "co:{PLAIN}a:b\n",                                # a colon ends it
    "ep:{PLAIN}\n",                                   # an empty password
    "# $long\n", "long$long:{PLAIN}pw\n",             # long lines
    "lp:{PLAIN}$long\n",
    "last:{PLAIN}pw";                                 # no newline at the end
my @cases = (
    ['u1:old', 401], ['u2:old', 401], ['u3:old', 401], ['u4:old', 401], ['u4:', 401],
    ['w:pw', 401], ['  w:pw', 200],
    ['#c:pw', 401], ['r:pw', 401], ["\rr:pw", 401],
    ['cr:pw', 200], ["cr:pw\r", 401],
    ['ts:pw', 401], ['ts:pw  ', 200],
    ['co:a', 200], ['co:a:b', 401],
    ['ep:', 200], ['ep:x', 401],
    ["long$long:pw", 200], ["lp:$long", 401],
    ['last:pw', 200], ['last:pwx', 401],
);
our (@file_requests, @file_headers, @file_codes);
for my $case (@cases) {
    for my $dir ('basic', 'htpasswd') {
        push @file_requests, "GET /$dir/index.html";
        push @file_headers, 'Authorization: Basic ' . encode_base64($case->[0], '');
        push @file_codes, $case->[1];
    }
}

spec_string(<<"_EOB_");
=== TEST 1: auth_basic and auth_htpasswd give the same verdicts
--- config
$config
--- request eval
\\\@main::requests
--- more_headers eval
\\\@main::headers
--- error_code eval
\\\@main::codes
--- no_error_log
[crit]
[alert]



=== TEST 2: user files: each case gets auth_basic's verdict
--- config
    location /basic/ {
        alias \$TEST_NGINX_HTML_DIR/;
        auth_basic "Restricted";
        auth_basic_user_file \$TEST_NGINX_HTML_DIR/users;
    }
    location /htpasswd/ {
        alias \$TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file \$TEST_NGINX_HTML_DIR/users;
    }
--- user_files eval
[['users', \$main::user_file]]
--- request eval
\\\@main::file_requests
--- more_headers eval
\\\@main::file_headers
--- error_code eval
\\\@main::file_codes
--- no_error_log
[crit]
[alert]
_EOB_

run_tests();
