package TestHooks;

# For the .t files that need a module built with the `test-hooks` feature (scripts/test builds
# one for the vendored flavour): `use TestHooks;` skips the whole file unless
# TEST_NGINX_AUTH_RS_TEST_HOOKS=1 says the module has them.

use strict;
use warnings;

use Test::More;

sub import {
    plan skip_all => 'needs a module built with --features test-hooks (TEST_NGINX_AUTH_RS_TEST_HOOKS=1)'
        unless $ENV{TEST_NGINX_AUTH_RS_TEST_HOOKS};
}

1;
