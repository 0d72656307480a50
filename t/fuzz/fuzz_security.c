/*
 * fuzz_security: the parsers of account security (core lcrm_totp): the
 * otpauth:// URI parser, base32, recovery codes as typed, API key and
 * TOTP code shapes, and the scope list matcher.  The input is used as one
 * C string (up to the first NUL) by each of them.
 *
 * Invariants: a parsed otpauth URI rebuilt by lcrm_otpauth_uri parses to
 * the same issuer, account and secret; base32 that decodes re-encodes to
 * the same text (upper case); a normalised recovery code is 10 characters
 * of [a-z0-9] and normalises to itself; a key shape is "lcrm_" plus 40..123
 * alphanumerics; a code shape is 6 digits; checking a code never succeeds
 * for a malformed code.
 */
#include "fuzz.h"
#include "lcrm_totp.h"

#include <apr_general.h>
#include <apr_lib.h>
#include <apr_strings.h>
#include <string.h>

static apr_pool_t *root;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (apr_initialize() != APR_SUCCESS || lcrm_totp_init()
        || apr_pool_create(&root, NULL) != APR_SUCCESS) {
        abort();
    }
    return 0;
}

static void check_otpauth(apr_pool_t *p, const char *s)
{
    lcrm_otpauth_t a, b;
    const char *why, *uri;

    if (lcrm_otpauth_parse(p, s, &a, &why)) {
        return;
    }
    uri = lcrm_otpauth_uri(p, a.issuer, a.account, a.secret, a.secret_len);
    FUZZ_CHECK(!lcrm_otpauth_parse(p, uri, &b, &why), "rebuilt URI parses");
    FUZZ_CHECK(!strcmp(a.issuer, b.issuer) && !strcmp(a.account, b.account)
               && a.secret_len == b.secret_len
               && !memcmp(a.secret, b.secret, a.secret_len),
               "rebuilt URI has the same content");
}

static void check_base32(apr_pool_t *p, const char *s)
{
    unsigned char *raw;
    apr_size_t n, i;
    const char *again;

    if (lcrm_base32_decode(p, s, strlen(s), &raw, &n)) {
        return;
    }
    again = lcrm_base32_encode(p, raw, n);
    FUZZ_CHECK(strlen(again) == strlen(s), "base32 round trip length");
    for (i = 0; s[i]; i++) {
        FUZZ_CHECK(again[i] == apr_toupper(s[i]), "base32 round trip");
    }
}

static void check_recovery(apr_pool_t *p, const char *s)
{
    const char *canon, *twice;
    int i;

    if (lcrm_recovery_normalize(p, s, &canon)) {
        return;
    }
    FUZZ_CHECK(strlen(canon) == LCRM_RECOVERY_LEN, "recovery length");
    for (i = 0; i < LCRM_RECOVERY_LEN; i++) {
        FUZZ_CHECK(apr_isdigit(canon[i]) || apr_islower(canon[i]),
                   "recovery alphabet");
    }
    FUZZ_CHECK(!lcrm_recovery_normalize(p, canon, &twice)
               && !strcmp(canon, twice), "recovery normal form is stable");
}

static void check_shapes(const char *s)
{
    static const unsigned char seed[20] = "12345678901234567890";
    apr_int64_t step;
    apr_size_t n = strlen(s), i;

    if (lcrm_apikey_shaped(s)) {
        FUZZ_CHECK(!strncmp(s, "lcrm_", 5) && n >= 45 && n <= LCRM_APIKEY_MAX,
                   "key shape");
        for (i = 5; i < n; i++) {
            FUZZ_CHECK(apr_isalnum(s[i]), "key alphabet");
        }
    }
    if (!lcrm_totp_code_shaped(s)) {
        FUZZ_CHECK(lcrm_totp_check(seed, 20, 1111111109, s, &step)
                   == APR_EINVAL, "malformed codes never match");
    }
    else {
        FUZZ_CHECK(n == 6, "code shape");
    }
    for (i = 1; i < LCRM_SCOPE_COUNT; i++) {
        if (lcrm_scope_in(s, (int)i)) {
            FUZZ_CHECK(strstr(s, lcrm_scope_name((int)i)) != NULL,
                       "scope in list");
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    apr_pool_t *p;
    char *s;

    apr_pool_create(&p, root);
    s = apr_pstrmemdup(p, (const char *)data, size);
    check_otpauth(p, s);
    check_base32(p, s);
    check_recovery(p, s);
    check_shapes(s);
    apr_pool_destroy(p);
    return 0;
}
