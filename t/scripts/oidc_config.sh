#!/usr/bin/env bash
# `apache2 -t` rules for sign-in with an OpenID Connect provider: the
# LeadCRMOIDC* directives, and SetHandler leadcrm-oidc only where
# mod_auth_openidc protects it (AuthType openid-connect + Require) with a
# landing URL on the server's own origin or an allowed CORS origin.  TAP.
# Usage: t/scripts/oidc_config.sh REPO_ROOT
set -u
ROOT=${1:?repo root}
T=$(mktemp -d /tmp/lcrm-oidc-conf.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

head -c 48 /dev/urandom | base64 -w0 > "$T/good.key"; chmod 600 "$T/good.key"

base() {
    cat <<CONF
ServerRoot "$T"
ServerName app.example.com
PidFile "$T/httpd.pid"
DefaultRuntimeDir "$T"
ErrorLog "$T/error.log"
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule authz_user_module /usr/lib/apache2/modules/mod_authz_user.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule leadcrm_module "$ROOT/.libs/mod_leadcrm.so"
LoadModule auth_openidc_module /usr/lib/apache2/modules/mod_auth_openidc.so
LeadCRMJWTSecretFile $T/good.key
LeadCRMCORSOrigin https://www.example.org
CONF
}

# check NAME EXPECT(pass|fail) PATTERN LINES...
check() {
    local name=$1 expect=$2 pattern=$3; shift 3
    { base; printf '%s\n' "$@"; } > "$T/httpd.conf"
    out=$("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1); rc=$?
    if [ "$expect" = pass ]; then
        if [ $rc -eq 0 ]; then ok "$name"; else nok "$name: $out"; fi
    else
        if [ $rc -ne 0 ] && grep -q -- "$pattern" <<<"$out"; then ok "$name"
        else nok "$name (rc=$rc): $out"; fi
    fi
}

L="LeadCRMOIDCLandingURL https://www.example.org/signed-in"
check "protected handler"            pass "" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "SetHandler leadcrm-oidc" "$L" "</Location>"
check "quoted, any case"             pass "" "<Location \"/auth/oidc\">" "AuthType OpenID-Connect" "Require claim hd:example.org" "SetHandler \"leadcrm-oidc\"" "$L" "</Location>"
check "no AuthType"                  fail "SetHandler leadcrm-oidc (.*httpd.conf:[0-9]*) needs AuthType openid-connect" "<Location /auth/oidc>" "Require valid-user" "SetHandler leadcrm-oidc" "$L" "</Location>"
check "another AuthType"             fail "needs AuthType openid-connect" "<Location /auth/oidc>" "AuthType Basic" "Require valid-user" "SetHandler leadcrm-oidc" "$L" "</Location>"
check "AuthType elsewhere only"      fail "needs AuthType openid-connect" "<Location /other>" "AuthType openid-connect" "</Location>" "<Location /auth/oidc>" "Require valid-user" "SetHandler leadcrm-oidc" "$L" "</Location>"
check "handler at server level"      fail "needs AuthType openid-connect" "SetHandler leadcrm-oidc"
check "handler inside <If>"          fail "needs AuthType openid-connect" "<If \"%{HTTP:X} == 'y'\">" "SetHandler leadcrm-oidc" "</If>"
check "no Require"                   fail "needs Require valid-user" "<Location /auth/oidc>" "AuthType openid-connect" "SetHandler leadcrm-oidc" "$L" "</Location>"
check "Require all granted"          fail "needs Require valid-user" "<Location /auth/oidc>" "AuthType openid-connect" "Require all granted" "SetHandler leadcrm-oidc" "$L" "</Location>"
check "no landing URL"               fail "needs LeadCRMOIDCLandingURL" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "SetHandler leadcrm-oidc" "</Location>"
check "parent Location protects"     pass "" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "$L" "</Location>" "<Location /auth/oidc/login>" "SetHandler leadcrm-oidc" "</Location>"
check "If inside a protected one"    pass "" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "$L" "<If \"-T reqenv('X')\">" "SetHandler leadcrm-oidc" "</If>" "</Location>"
check "in a VirtualHost"             fail "needs AuthType openid-connect" "<VirtualHost 127.0.0.1:1>" "<Location /auth/oidc>" "SetHandler leadcrm-oidc" "</Location>" "</VirtualHost>"
check "landing on own origin"        pass "" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "SetHandler leadcrm-oidc" "LeadCRMOIDCLandingURL https://app.example.com/" "</Location>"
check "landing on a foreign origin"  fail "LeadCRMOIDCLandingURL .*must be on the server's own https origin or a LeadCRMCORSOrigin" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "SetHandler leadcrm-oidc" "LeadCRMOIDCLandingURL https://evil.example/" "</Location>"
check "landing: a prefix is not an origin" fail "must be on the server's own https origin" "<Location /auth/oidc>" "AuthType openid-connect" "Require valid-user" "SetHandler leadcrm-oidc" "LeadCRMOIDCLandingURL https://www.example.org.evil.example/" "</Location>"
check "landing http"                 fail "LeadCRMOIDCLandingURL must be an https URL" "LeadCRMOIDCLandingURL http://app.example.com/"
check "landing fragment"             fail "LeadCRMOIDCLandingURL must not have a fragment" "LeadCRMOIDCLandingURL https://app.example.com/#x"
check "landing userinfo"             fail "LeadCRMOIDCLandingURL must not carry user information" "LeadCRMOIDCLandingURL https://user@app.example.com/"
check "landing no host"              fail "LeadCRMOIDCLandingURL must name a host" "LeadCRMOIDCLandingURL https:///x"
check "landing quote"                fail "LeadCRMOIDCLandingURL must not contain" "LeadCRMOIDCLandingURL https://app.example.com/\\\"x"
check "link flag"                    fail "LeadCRMOIDCLinkByEmail" "LeadCRMOIDCLinkByEmail maybe"
check "provision flag"               fail "LeadCRMOIDCProvision" "LeadCRMOIDCProvision yes-please"
check "flags ok"                     pass "" "<Location /auth/oidc>" "LeadCRMOIDCLinkByEmail On" "LeadCRMOIDCProvision Off" "</Location>"

# the shipped conf's example block, uncommented, passes
if true; then
    sed -n '/^    # --- Sign-in with an OpenID Connect provider/,/^    # --- end of OIDC/p' "$ROOT/conf/leadcrm.conf" \
        | sed -n 's/^    #\([^ ]\|    \)/\1/p' > "$T/oidc-example.conf"
    if grep -q 'SetHandler leadcrm-oidc' "$T/oidc-example.conf"; then
        check "shipped example block" pass "" "$(cat "$T/oidc-example.conf")"
    else nok "shipped example block not found in conf/leadcrm.conf"; fi
fi

echo "1..$n"
[ "$fails" -eq 0 ]
