# The user file is re-read when it changes, without a reload: edited in place, replaced by
# rename, rewritten by htpasswd, made unreadable, removed and created again. The blocks run in
# order against one nginx: only the first has a --- config.

use FindBin;
BEGIN { push @INC, "$FindBin::Bin/lib" }
use Test::Nginx::Socket 'no_plan';
use MIME::Base64 qw(encode_base64);
use File::Path qw(remove_tree);
use Digest::SHA ();

$ENV{TEST_NGINX_HTML_DIR} ||= html_dir();

sub basic { 'Authorization: Basic ' . encode_base64(join(':', @_), '') }

sub users_file { html_dir() . '/users' }

sub write_in_place {
    my ($text) = @_;
    open my $f, '+<', users_file() or die "open: $!";
    truncate $f, 0;
    print $f $text;
    close $f;
}

sub replace {
    my ($text) = @_;
    my $tmp = users_file() . '.tmp';
    open my $f, '>', $tmp or die "open: $!";
    print $f $text;
    close $f;
    rename $tmp, users_file() or die "rename: $!";
}

# A block without --- config runs in the nginx of the block before it, and Test::Nginx reads
# error.log from its start: blocks that check the log begin with an empty one.
sub fresh_error_log { truncate server_root() . '/logs/error.log', 0 or die "truncate: $!" }

no_shuffle();
run_tests();

__DATA__

=== TEST 1: the file as nginx starts
--- config
    location /secret/ {
        alias $TEST_NGINX_HTML_DIR/;
        auth_htpasswd "Restricted";
        auth_htpasswd_user_file $TEST_NGINX_HTML_DIR/users;
    }
--- user_files
>>> users
alice:{PLAIN}old
--- request eval
["GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('alice', 'old'), main::basic('alice', 'new')]
--- error_code eval
[200, 401]



=== TEST 2: edited in place: same inode, same size, new mtime
--- init
main::write_in_place("alice:{PLAIN}new\n");
--- request eval
["GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('alice', 'new'), main::basic('alice', 'old')]
--- error_code eval
[200, 401]



=== TEST 3: replaced by rename, as editors do
--- init
main::replace("alice:{PLAIN}third\nbob:{PLAIN}b\n");
--- request eval
["GET /secret/index.html", "GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('bob', 'b'), main::basic('alice', 'third'), main::basic('alice', 'new')]
--- error_code eval
[200, 200, 401]



=== TEST 4: rewritten by htpasswd
--- init
system('htpasswd', '-bB', '-C', '4', main::users_file(), 'carol', 'c') == 0 or die "htpasswd failed";
--- request eval
["GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('carol', 'c'), main::basic('bob', 'b')]
--- error_code eval
[200, 200]



=== TEST 5: a file that cannot be read any more: the last contents stay in use
--- init
main::fresh_error_log();
unlink main::users_file();
mkdir main::users_file() or die "mkdir: $!";
--- request
GET /secret/index.html
--- more_headers eval
main::basic('carol', 'c')
--- error_code: 200
--- error_log eval
qr/\[error\].*cannot re-read "\S+\/users", using the contents read before/



=== TEST 6: removed: 403, as auth_basic answers
--- init
main::fresh_error_log();
File::Path::remove_tree(main::users_file());
--- request
GET /secret/index.html
--- more_headers eval
main::basic('carol', 'c')
--- error_code: 403
--- error_log eval
qr/\[error\].*open\(\) "\S+\/users" failed \(2: No such file or directory\)/



=== TEST 7: created again
--- init
main::replace("dave:{SHA}" . MIME::Base64::encode_base64(Digest::SHA::sha1('d'), '') . "\n");
--- request eval
["GET /secret/index.html", "GET /secret/index.html"]
--- more_headers eval
[main::basic('dave', 'd'), main::basic('carol', 'c')]
--- error_code eval
[200, 401]
