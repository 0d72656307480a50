#!/usr/bin/env bash
# Directive validation: `apache2 -t` with the built module fails with one
# clear line naming the directive for every bad value, and passes for good
# ones.  Also checks the build was warning-free.  TAP output.
# Usage: t/scripts/config.sh REPO_ROOT
set -u
ROOT=${1:?repo root}
T=$(mktemp -d /tmp/lcrm-conf.XXXXXX)
trap 'rm -rf "$T"' EXIT
n=0 fails=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; }

head -c 48 /dev/urandom | base64 -w0 > "$T/good.key"; chmod 600 "$T/good.key"
printf 'short-secret' > "$T/short.key"; chmod 600 "$T/short.key"
head -c 48 /dev/urandom | base64 -w0 > "$T/loose.key"; chmod 644 "$T/loose.key"
# data keyrings (LeadCRMDataKeyFile): ID:BASE64(32 bytes) per line
{ echo "# data key"; echo "k2:$(head -c 32 /dev/urandom | base64 -w0)"
  echo "k1:$(head -c 32 /dev/urandom | base64 -w0)"; } > "$T/data.key"; chmod 600 "$T/data.key"
echo "k1:$(head -c 31 /dev/urandom | base64 -w0)" > "$T/data31.key"; chmod 600 "$T/data31.key"
{ echo "k1:$(head -c 32 /dev/urandom | base64 -w0)"; echo "k1:$(head -c 32 /dev/urandom | base64 -w0)"; } > "$T/datadup.key"; chmod 600 "$T/datadup.key"
head -c 32 /dev/urandom | base64 -w0 > "$T/dataraw.key"; echo "# x  padding to reach 32 bytes" >> "$T/dataraw.key"; chmod 600 "$T/dataraw.key"

# base config: just enough httpd to load the module (no database needed for -t)
base() {
    cat <<CONF
ServerRoot "$T"
PidFile "$T/httpd.pid"
DefaultRuntimeDir "$T"
ErrorLog "$T/error.log"
Listen 127.0.0.1:1
LoadModule mpm_event_module /usr/lib/apache2/modules/mod_mpm_event.so
LoadModule authz_core_module /usr/lib/apache2/modules/mod_authz_core.so
LoadModule authn_core_module /usr/lib/apache2/modules/mod_authn_core.so
LoadModule dbd_module /usr/lib/apache2/modules/mod_dbd.so
LoadModule leadcrm_module "$ROOT/.libs/mod_leadcrm.so"
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

K="LeadCRMJWTSecretFile $T/good.key"
check "good config"              pass "" "$K"
check "missing secret directive" fail "LeadCRMJWTSecretFile is required" "LeadCRMAccessTokenTTL 15m"
check "missing secret file"      fail "LeadCRMJWTSecretFile .*missing" "LeadCRMJWTSecretFile $T/nope.key"
check "short secret"             fail "LeadCRMJWTSecretFile .*at least 32 bytes" "LeadCRMJWTSecretFile $T/short.key"
check "bad key id"               fail "LeadCRMJWTSecretFile key id" "LeadCRMJWTSecretFile $T/good.key 'bad kid!'"
check "previous key needs kid"   fail "needs a key id" "$K" "LeadCRMJWTPreviousSecretFile $T/good.key old"
check "previous key ok"          pass "" "LeadCRMJWTSecretFile $T/good.key new" "LeadCRMJWTPreviousSecretFile $T/good.key old"
check "same kids"                fail "must differ" "LeadCRMJWTSecretFile $T/good.key k1" "LeadCRMJWTPreviousSecretFile $T/good.key k1"
check "issuer empty"             fail "LeadCRMJWTIssuer" "$K" "LeadCRMJWTIssuer ''"
check "issuer with space"        fail "LeadCRMJWTIssuer" "$K" "LeadCRMJWTIssuer 'a b'"
check "access ttl units"         pass "" "$K" "LeadCRMAccessTokenTTL 10m"
check "access ttl bad unit"      fail "LeadCRMAccessTokenTTL has an unknown unit" "$K" "LeadCRMAccessTokenTTL 10w"
check "access ttl junk"          fail "LeadCRMAccessTokenTTL" "$K" "LeadCRMAccessTokenTTL ten"
check "access ttl too short"     fail "LeadCRMAccessTokenTTL is out of range" "$K" "LeadCRMAccessTokenTTL 5s"
check "refresh <= access"        fail "LeadCRMRefreshTokenTTL must be longer" "$K" "LeadCRMAccessTokenTTL 1d" "LeadCRMRefreshTokenTTL 1h"
check "grace too long"           fail "LeadCRMRefreshGrace" "$K" "LeadCRMRefreshGrace 2m"
check "grace off"                pass "" "$K" "LeadCRMRefreshGrace 0"
check "data key ring"            pass "" "$K" "LeadCRMDataKeyFile $T/data.key"
check "data key missing"         fail "LeadCRMDataKeyFile .*missing" "$K" "LeadCRMDataKeyFile $T/nope.key"
check "data key of 31 bytes"     fail "LeadCRMDataKeyFile .*exactly 32 bytes" "$K" "LeadCRMDataKeyFile $T/data31.key"
check "data key duplicate id"    fail "LeadCRMDataKeyFile .*twice" "$K" "LeadCRMDataKeyFile $T/datadup.key"
check "data key without id"      fail "LeadCRMDataKeyFile .*ID:BASE64" "$K" "LeadCRMDataKeyFile $T/dataraw.key"
check "bcrypt cost 9"            fail "LeadCRMBcryptCost must be an integer from 10 to 17" "$K" "LeadCRMBcryptCost 9"
check "bcrypt cost 18"           fail "LeadCRMBcryptCost" "$K" "LeadCRMBcryptCost 18"
check "bcrypt cost 12"           pass "" "$K" "LeadCRMBcryptCost 12"
check "cookie name"              fail "LeadCRMCookieName may use only" "$K" "LeadCRMCookieName 'a;b'"
check "cookie secure flag"       fail "LeadCRMCookieSecure" "$K" "LeadCRMCookieSecure maybe"
check "cookie prefix unknown"    fail "LeadCRMCookiePrefix must be __Secure-, __Host- or none" "$K" "LeadCRMCookiePrefix __Evil-"
check "cookie prefix needs Secure" fail "LeadCRMCookiePrefix __Secure- or __Host- needs LeadCRMCookieSecure On" "$K" "LeadCRMCookieSecure Off" "LeadCRMCookiePrefix __Host-"
check "cookie prefix none, plain" pass "" "$K" "LeadCRMCookieSecure Off" "LeadCRMCookiePrefix none"
check "cookie prefix host"       pass "" "$K" "LeadCRMCookiePrefix __Host-"
check "CORS none"                pass "" "$K" "<Location /x>" "LeadCRMCORSOrigin none" "</Location>"
check "CORS star"                fail "LeadCRMCORSOrigin never allows" "$K" "LeadCRMCORSOrigin *"
check "CORS null"                fail "LeadCRMCORSOrigin never allows" "$K" "LeadCRMCORSOrigin null"
check "CORS path"                fail "LeadCRMCORSOrigin origin must be" "$K" "LeadCRMCORSOrigin https://a.example/path"
check "CORS scheme"              fail "LeadCRMCORSOrigin takes origins" "$K" "LeadCRMCORSOrigin ftp://a.example"
check "CORS ok"                  pass "" "$K" "LeadCRMCORSOrigin https://a.example https://b.example:8443"
check "body size"                fail "LeadCRMMaxBodySize" "$K" "LeadCRMMaxBodySize 100M"
check "body size ok"             pass "" "$K" "LeadCRMMaxBodySize 128k"
check "hours day"                fail "LeadCRMBusinessHours has an unknown day" "$K" "LeadCRMBusinessHours Mon-Fry 09:00-17:00"
check "hours order"              fail "LeadCRMBusinessHours must have an opening time" "$K" "LeadCRMBusinessHours Mon-Fri 17:00-09:00"
check "hours ok"                 pass "" "$K" "LeadCRMBusinessHours Mon,Wed,Sat 08:30-12:00"
check "time zone unknown"        fail "LeadCRMTimeZone names an unknown time zone" "$K" "LeadCRMTimeZone Mars/Olympus"
check "time zone traversal"      fail "LeadCRMTimeZone must be an IANA" "$K" "LeadCRMTimeZone ../../etc/passwd"
check "time zone ok"             pass "" "$K" "LeadCRMTimeZone Europe/Paris"
check "notice >= horizon"        fail "LeadCRMBookingNotice must be shorter" "$K" "LeadCRMBookingNotice 10d" "LeadCRMBookingHorizon 5d"
check "rate limit class"         fail "LeadCRMRateLimit class" "$K" "LeadCRMRateLimit everything 1 1m"
check "rate limit count"         fail "LeadCRMRateLimit count" "$K" "LeadCRMRateLimit general -1 1m"
check "rate limit ok"            pass "" "$K" "LeadCRMRateLimit general 0 1m" "LeadCRMRateLimit auth 5 15m"
check "rate limit new classes"  pass "" "$K" "LeadCRMRateLimit mail 5 1h" "LeadCRMRateLimit mail-target 5 1h" "LeadCRMRateLimit mfa-failures 10 15m"
check "rate limit account cap"    pass "" "$K" "LeadCRMRateLimit login-account-failures 50 15m"
check "IPv6 prefix ok"           pass "" "$K" "LeadCRMRateLimitIPv6Prefix 56"
check "IPv6 prefix too short"    fail "LeadCRMRateLimitIPv6Prefix must be a prefix length, 48 .. 128" "$K" "LeadCRMRateLimitIPv6Prefix 32"
check "IPv6 prefix in a vhost"   fail "LeadCRMRateLimitIPv6Prefix cannot occur within" "$K" "<VirtualHost 127.0.0.1:1>" "LeadCRMRateLimitIPv6Prefix 56" "</VirtualHost>"
check "IPv6 prefix junk"         fail "LeadCRMRateLimitIPv6Prefix" "$K" "LeadCRMRateLimitIPv6Prefix /64"
mc9=$(printf '127.0.0.1:%d,' $(seq 11211 11219)); mc65=$(printf '127.0.0.1:%d,' $(seq 11211 11275))
check "memcache 9 servers"       pass "" "$K" "LeadCRMRateLimitStore memcache ${mc9%,}"
check "memcache 65 servers"      fail "LeadCRMRateLimitStore memcache takes at most 64 servers" "$K" "LeadCRMRateLimitStore memcache ${mc65%,}"
check "memcache empty entry"     fail "LeadCRMRateLimitStore memcache servers must be" "$K" "LeadCRMRateLimitStore memcache 127.0.0.1:1,,127.0.0.1:2"
# LeadCRMCache (socache providers)
check "cache none"               pass "" "$K" "LeadCRMCache none"
check "cache unknown provider"   fail "LeadCRMCache: unknown socache provider 'nosuch'" "$K" "LeadCRMCache nosuch"
check "cache provider not loaded" fail "LoadModule socache_redis_module first" "$K" "LeadCRMCache redis:127.0.0.1:6379"
check "cache redis"              pass "" "$K" "LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so" "LeadCRMCache redis:127.0.0.1:6379"
check "cache redis needs servers" fail "LeadCRMCache redis:" "$K" "LoadModule socache_redis_module /usr/lib/apache2/modules/mod_socache_redis.so" "LeadCRMCache redis:"
check "cache shmcb bad size"     fail "LeadCRMCache shmcb:c(big): Invalid argument" "$K" "LoadModule socache_shmcb_module /usr/lib/apache2/modules/mod_socache_shmcb.so" "LeadCRMCache shmcb:c(big)"
check "cache in a vhost"         fail "LeadCRMCache cannot occur within" "$K" "<VirtualHost 127.0.0.1:1>" "LeadCRMCache none" "</VirtualHost>"
check "rate limit slots"         fail "LeadCRMRateLimitSlots must be a power of two" "$K" "LeadCRMRateLimitSlots 1000"
check "require unknown role"     fail "unknown role 'ROOT'" "$K" "<Location /x>" "AuthType Bearer" "Require leadcrm-role ADMIN ROOT" "</Location>"
check "require ok"               pass "" "$K" "<Location /x>" "AuthType Bearer" "Require leadcrm-role ADMIN SUPER_ADMIN" "</Location>"
# account security
check "require MFA unknown role"  fail "LeadCRMRequireMFA takes USER, ADMIN or SUPER_ADMIN" "$K" "LeadCRMDataKeyFile $T/data.key" "LeadCRMRequireMFA ROOT"
check "require MFA needs data key" fail "LeadCRMRequireMFA needs LeadCRMDataKeyFile" "$K" "LeadCRMRequireMFA ADMIN"
check "require MFA ok"            pass "" "$K" "LeadCRMDataKeyFile $T/data.key" "LeadCRMRequireMFA ADMIN"
check "MFA issuer with colon"     fail "LeadCRMMFAIssuer must not contain" "$K" "LeadCRMMFAIssuer 'a:b'"
check "key lifetime too long"     fail "LeadCRMAPIKeyMaxLifetime is out of range" "$K" "LeadCRMAPIKeyMaxLifetime 4000d"
check "audit retention < 30d"     fail "LeadCRMAuditRetention is out of range" "$K" "LeadCRMAuditRetention 10d"
check "audit settings ok"         pass "" "$K" "LeadCRMAuditRetention 30d" "LeadCRMAuditPurgeInterval 10m" "LeadCRMAPIKeyMaxLifetime 90d"

# a group/world-readable key works but warns
{ base; echo "LeadCRMJWTSecretFile $T/loose.key"; } > "$T/httpd.conf"
out=$("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1)
if grep -q "LCRM00001.*readable by group or others" <<<"$out"; then
    ok "loose key permissions warn"; else nok "loose key permissions warn: $out"; fi

# monitoring (issue 17): main server only, each value checked at parse time
check "sentry dsn ok"            pass "" "$K" "LeadCRMSentryDSN https://abc123@o1.ingest.example.com/42"
check "sentry dsn http loopback" pass "" "$K" "LeadCRMSentryDSN http://k@127.0.0.1:9/1"
check "sentry dsn http remote"   fail "LeadCRMSentryDSN must use https" "$K" "LeadCRMSentryDSN http://k@sentry.example.com/1"
check "sentry dsn secret key"    fail "LeadCRMSentryDSN must not carry a secret" "$K" "LeadCRMSentryDSN https://k:s@sentry.example.com/1"
check "sentry dsn no project"    fail "LeadCRMSentryDSN needs a project" "$K" "LeadCRMSentryDSN https://k@sentry.example.com/"
check "sentry dsn in vhost"      fail "LeadCRMSentryDSN cannot occur within" "$K" "<VirtualHost 127.0.0.1:1>" "LeadCRMSentryDSN https://k@h.example.com/1" "</VirtualHost>"
check "sentry pii flag"          fail "LeadCRMSentrySendPII" "$K" "LeadCRMSentrySendPII yes"
check "sentry environment"       fail "LeadCRMSentryEnvironment takes printable" "$K" "LeadCRMSentryEnvironment 'a\"b'"
check "otlp endpoint ok"         pass "" "$K" "LeadCRMOTLPEndpoint http://collector:4318/v1/traces" "LeadCRMTraceSampleRatio 0.25"
check "otlp endpoint no path"    fail "LeadCRMOTLPEndpoint needs a path" "$K" "LeadCRMOTLPEndpoint http://collector:4318"
check "otlp endpoint scheme"     fail "LeadCRMOTLPEndpoint must use https" "$K" "LeadCRMOTLPEndpoint grpc://collector:4317/v1/traces"
check "sample ratio range"       fail "LeadCRMTraceSampleRatio takes a number from 0 to 1" "$K" "LeadCRMTraceSampleRatio 1.5"
check "sample ratio junk"        fail "LeadCRMTraceSampleRatio" "$K" "LeadCRMTraceSampleRatio half"
check "queue size range"         fail "LeadCRMMonitorQueueSize takes a count" "$K" "LeadCRMMonitorQueueSize 0"

# the shipped config parses with the dev defines
{ base; echo "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so"
  echo "LoadModule reqtimeout_module /usr/lib/apache2/modules/mod_reqtimeout.so"
  echo "Define LEADCRM_KEY_FILE $T/good.key"; echo "Define LEADCRM_LOCAL_CONF $T/none/*.conf"
  echo "Include $ROOT/conf/leadcrm.conf"; } > "$T/httpd.conf"
if "${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" >/dev/null 2>&1; then ok "shipped leadcrm.conf parses"
else nok "shipped leadcrm.conf parses: $("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1)"; fi

# Site Defines in the local directory the shipped conf includes first
# (Debian reads conf-enabled/ after mods-enabled/): its key file wins
mkdir -p "$T/local"; echo "Define LEADCRM_KEY_FILE $T/short.key" > "$T/local/site.conf"
{ base; echo "LoadModule headers_module /usr/lib/apache2/modules/mod_headers.so"
  echo "Define LEADCRM_LOCAL_CONF $T/local/*.conf"; echo "Include $ROOT/conf/leadcrm.conf"; } > "$T/httpd.conf"
out=$("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1)
if grep -q "$T/short.key.*at least 32 bytes" <<<"$out"; then ok "a Define in the local conf directory applies"
else nok "a Define in the local conf directory applies: $out"; fi
# the shipped conf touches only the module's own locations (issue 16 item 3)
if ! grep -Eq '^\s*(ServerTokens|ServerSignature|TraceEnable|LimitRequest[A-Za-z]*|RequestReadTimeout|ErrorLogFormat|CustomLog|GlobalLog)\b' "$ROOT/conf/leadcrm.conf" \
   && ! awk '/^[[:space:]]*<(Location|LocationMatch|Directory)/{d++} /^[[:space:]]*<\/(Location|LocationMatch|Directory)>/{d--} d==0 && /^[[:space:]]*Header /{f=1} END{exit !f}' "$ROOT/conf/leadcrm.conf"; then
    ok "leadcrm.conf sets nothing server-wide (no tokens, limits, log formats, global headers)"
else nok "leadcrm.conf sets something server-wide"; fi

# DBDMax sizing warnings, with the numbers (LCRM01301, LCRM01302)
{ base; echo "$K"; echo "ThreadsPerChild 25"; echo "MaxRequestWorkers 50"; echo "DBDMax 4"; } > "$T/httpd.conf"
out=$("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1); rc=$?
if [ $rc -eq 0 ] && grep -q "LCRM01301: DBDMax 4 < ThreadsPerChild 25" <<<"$out"; then ok "DBDMax < ThreadsPerChild warns (-t still passes)"
else nok "DBDMax < ThreadsPerChild warns: rc=$rc $out"; fi
{ base; echo "$K"; echo "ThreadsPerChild 25"; echo "MaxRequestWorkers 150"; echo "<IfModule dbd_module>"; echo "DBDMax 25"; echo "</IfModule>"; } > "$T/httpd.conf"
out=$("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1)
if grep -q "LCRM01302: up to 150 PostgreSQL connections from this server (DBDMax 25 x 6 child processes) > 100" <<<"$out"; then
    ok "DBDMax x processes > 100 warns"; else nok "DBDMax x processes > 100 warns: $out"; fi
{ base; echo "$K"; echo "ThreadsPerChild 16"; echo "MaxRequestWorkers 32"; echo "DBDMax 16"; } > "$T/httpd.conf"
out=$("${LCRM_HTTPD:-/usr/sbin/apache2}" -t -f "$T/httpd.conf" 2>&1)
if ! grep -q "LCRM0130[12]" <<<"$out"; then ok "a sized config does not warn"; else nok "a sized config warns: $out"; fi

# warning-free build: the build log of this tree has no compiler warning
if [ -f "$ROOT/build.log" ] && ! grep -qi "warning:" "$ROOT/build.log"; then
    ok "build log has no warnings"; else nok "build log has warnings or is missing"; fi
# the DSO exports only leadcrm_module
exports=$(nm -D --defined-only "$ROOT/.libs/mod_leadcrm.so" | awk '$2 ~ /^[TDBR]$/ {print $3}')
if [ "$exports" = "leadcrm_module" ]; then ok "only leadcrm_module exported"
else nok "exports: $exports"; fi

# the limiter is handed its settings: no config internals in its files
if grep -nE 'LCRM_UNSET|lcrm_[sd]conf|lcrm_dir_conf_t|lcrm_server_conf_t|ap_get_module_config' \
        "$ROOT"/mod_leadcrm/httpd/lcrm_limit*.c >/dev/null; then
    nok "lcrm_limit reaches into lcrm_config internals"
else ok "lcrm_limit uses no lcrm_config internals"; fi

echo "1..$n"
[ "$fails" -eq 0 ]
