package LeadCRM::TOTP;
# RFC 6238 TOTP (SHA-1, 6 digits, 30 s) computed in the tests from the
# secret the server handed out, independently of the module's liboath, and
# helpers for the account-security tests.
use strict;
use warnings;
use Exporter 'import';
use Digest::SHA qw(hmac_sha1);
use Time::HiRes ();

our @EXPORT = qw(base32_decode totp_code totp_step safe_step);

sub base32_decode {
    my ($s) = @_;
    my $bits = join '', map {
        sprintf '%05b', index('ABCDEFGHIJKLMNOPQRSTUVWXYZ234567', uc $_)
    } split //, $s;
    $bits = substr($bits, 0, length($bits) - length($bits) % 8);
    return pack 'B*', $bits;
}

# The code of base32 secret $b32 for time step $step (RFC 4226 truncation).
sub totp_code {
    my ($b32, $step) = @_;
    my $mac = hmac_sha1(pack('NN', int($step / 2**32), $step % 2**32),
                        base32_decode($b32));
    my $off = ord(substr($mac, -1)) & 0x0f;
    my $bin = unpack('N', substr($mac, $off, 4)) & 0x7fffffff;
    return sprintf '%06d', $bin % 1_000_000;
}

sub totp_step { int(time / 30) }

# The current step, after waiting out the last 6 seconds of a step so that
# the server computes "now" in the same step as the test (no assertion on
# time: this only avoids a step boundary between two clocks' reads).
sub safe_step {
    while (time % 30 >= 24) { Time::HiRes::sleep(0.5) }
    return totp_step();
}

1;
