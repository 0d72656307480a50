package LeadCRM::JWT;
# Builds JWTs in the test process (HMAC from Digest::SHA) to forge every
# kind of bad token, and a correctly signed one to prove the forging code
# itself is right.
use strict;
use warnings;
use Exporter 'import';
use Digest::SHA qw(hmac_sha256 hmac_sha384 hmac_sha512);
use JSON::PP ();
use MIME::Base64 qw(encode_base64);

our @EXPORT = qw(b64url jwt_sign test_key);

sub b64url {
    my $s = encode_base64($_[0], '');
    $s =~ tr{+/}{-_};
    $s =~ s/=+$//;
    return $s;
}

# The signing key the test server uses (file content minus newlines).
sub test_key {
    my $file = $ENV{LEADCRM_TEST_KEY} or die 'LEADCRM_TEST_KEY not set';
    open my $fh, '<', $file or die "$file: $!";
    local $/;
    my $k = <$fh>;
    $k =~ s/[\r\n]+$//;
    return $k;
}

# jwt_sign(header => {...} | 'raw json', claims => {...} | 'raw json',
#          alg => 'HS256'|'HS384'|'HS512'|'none', key => ...)
sub jwt_sign {
    my (%o) = @_;
    my $json = JSON::PP->new->canonical;
    my $h = ref $o{header} ? $json->encode($o{header}) : $o{header};
    my $c = ref $o{claims} ? $json->encode($o{claims}) : $o{claims};
    my $input = b64url($h) . '.' . b64url($c);
    my $alg = $o{alg} // 'HS256';
    my $key = $o{key} // test_key();
    my $sig = $alg eq 'HS256' ? hmac_sha256($input, $key)
            : $alg eq 'HS384' ? hmac_sha384($input, $key)
            : $alg eq 'HS512' ? hmac_sha512($input, $key)
            : '';
    return $input . '.' . b64url($sig);
}

1;
