#!/usr/bin/env bash
# t/fuzz/make_seeds.sh: writes the seed corpora of the fuzz harnesses.
#
#   t/fuzz/make_seeds.sh [--clean]
#
# Writes small, named inputs into t/fuzz/corpus/{json,route,query,token}/:
# valid requests and the edge cases of API.md (strict JSON, field
# rules, query rules, token rules).  Existing files of the same name are
# overwritten; other files (inputs merged by `scripts/fuzz --merge`) are
# kept unless --clean is given.  Valid raw tokens are signed here with
# openssl under the harness's fixed keys and clock (see fuzz_token.c).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
corpus="$here/corpus"
if [ "${1:-}" = "--clean" ]; then
    rm -rf "${corpus:?}/json" "$corpus/route" "$corpus/query" "$corpus/token"
fi
mkdir -p "$corpus/json" "$corpus/route" "$corpus/query" "$corpus/token"

dir=
# seed NAME TEXT: writes TEXT exactly (no newline added)
seed() { printf '%s' "$2" >"$corpus/$dir/$1"; }
# seedx NAME FORMAT: writes printf FORMAT (escapes such as \xff, \n)
seedx() { printf "$2" >"$corpus/$dir/$1"; }

UUID=0e8a3c1f-5b7d-4c2a-9f1e-abcdef012345
UUID_UP=0E8A3C1F-5B7D-4C2A-9F1E-ABCDEF012345
SID=5f0c6b1e-2d3a-4e5f-8a9b-0c1d2e3f4a5b

# ---- json: request bodies --------------------------------------------------
dir=json
seed valid-register '{"email":"ada@example.com","password":"correct horse","name":"Ada Lovelace","company":"Analytical","phone":"+44 (20) 7946-0958","jobTitle":"Engineer"}'
seed valid-register-nulls '{"email":" Ada@Example.COM ","password":"12345678","name":"A","company":null,"phone":null,"jobTitle":null}'
seed valid-login '{"email":"ADA@example.com","password":"x"}'
seed valid-profile-bio '{"name":"Ada","bio":"line one\nline\ttwo","company":null}'
seed valid-user-update '{"role":"ADMIN","isActive":false,"email":"new@example.org"}'
seed valid-change-password '{"currentPassword":"old secret","newPassword":"n\u00e9w p\u00e4ssw\u00f6rd"}'
seed valid-lead-create '{"name":"Grace","email":"grace@navy.mil","phone":"555-0100","company":"USN","jobTitle":"RADM","message":"Hello,\nplease call.","source":"REFERRAL","utmSource":"google","utmMedium":"cpc","utmCampaign":"spring","utmTerm":"crm","utmContent":"ad1","referrer":"https://example.com/a?b=c","landingPage":"http://example.com/"}'
seed valid-lead-update '{"status":"LOST","lostReason":"budget","score":100,"estimatedValue":1234.5,"assignedToId":"'$UUID_UP'","notes":"n\u00f6tes \ud83d\ude00"}'
seed valid-lead-update-nulls '{"score":null,"estimatedValue":null,"assignedToId":null,"phone":null,"notes":null}'
seed valid-consultation '{"name":"Linus","email":"l@example.fi","topic":"Demo","scheduledAt":"2026-11-24T06:40:36.123+02:00","durationMinutes":45,"timezone":"Europe/Helsinki","meetingType":"IN_PERSON","consultantId":"'$UUID'","leadId":null}'
seed valid-consultation-update '{"status":"CANCELLED","cancellationReason":"ill","meetingLink":"https://meet.example.com/x","followUpRequired":true,"followUpAt":null,"followUpNotes":"call\tback"}'
seed valid-edge '{"delta":-1000,"balance":-12.34,"token":"abc","label":"abcde"}'
seed valid-unicode-escapes '{"name":"\u00c5ngstr\u00f6m \u2603","company":"\/slash"}'
seed empty-object '{}'
seed spaces '  {  "name" : "x" }  '
seed bad-trailing '{"name":"x"} x'
seed bad-array '[{"name":"x"}]'
seed bad-string '"name"'
seed bad-empty ''
seed bad-nan '{"estimatedValue":NaN}'
seed bad-infinity '{"estimatedValue":-Infinity}'
seed bad-big-exponent '{"estimatedValue":1e400}'
seed bad-dup '{"name":"a","name":"b"}'
seed bad-dup-nested '{"x":{"a":1,"b":[{"c":1,"c":2}]}}'
seed bad-dup-escaped '{"name":"a","n\u0061me":"b"}'
seed depth-16 '{"a":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}'
seed bad-depth-17 '{"a":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}'
seedx bad-utf8 '{"name":"\xff\xfe"}'
seedx bad-overlong '{"name":"\xc0\xaf"}'
seedx bad-surrogate-raw '{"name":"\xed\xa0\x80"}'
seedx bad-above-10ffff '{"name":"\xf4\x90\x80\x80"}'
seed bad-lone-surrogate '{"name":"\ud800"}'
seed bad-nul-escape '{"name":"a\u0000b"}'
seedx bad-raw-nul '{"name":"a\x00b"}'
seedx bad-raw-tab '{"name":"a\tb"}'
seed bad-newline-in-name '{"name":"a\nb"}'
seed bad-control-in-bio '{"bio":"a\u0007b"}'
seed bad-c1-control '{"name":"a\u0085b"}'
seed bad-single-quotes "{'name':'x'}"
seed bad-trailing-comma '{"name":"x",}'
seedx bad-bom '\xef\xbb\xbf{"name":"x"}'
seed bad-score-string '{"score":"2"}'
seed bad-score-float '{"score":1.5,"delta":2.0}'
seed bad-int-overflow '{"score":9223372036854775808,"delta":-9223372036854775809}'
seed bad-money-decimals '{"estimatedValue":0.001,"balance":1e-2}'
seed bad-money-range '{"estimatedValue":1000000000000.01,"balance":-0.0}'
seed bad-password-short '{"email":"a@b.co","password":"1234567","name":"x"}'
seed bad-password-long '{"newPassword":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}'
seed bad-password-multibyte '{"newPassword":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}'
seed bad-emails '{"email":"a@b","name":"x@y@z.com","password":"nope"}'
seed bad-email-dots '{"email":".a..b@example..com"}'
seed bad-phone '{"phone":"call me","name":"x"}'
seed bad-urls '{"referrer":"javascript:alert(1)","landingPage":"http:///x","meetingLink":"http://insecure.example.com"}'
seed bad-uuid '{"assignedToId":"0e8a3c1f5b7d4c2a9f1eabcdef012345","leadId":"'$UUID'x"}'
seed bad-enum '{"role":"admin","status":"new","source":"","meetingType":"ZOOM"}'
seed bad-bool '{"isActive":"true","followUpRequired":1}'
seed bad-timestamps '{"scheduledAt":"2026-11-24 06:40:36Z","followUpAt":"2026-02-29T10:00:00.1234Z"}'
seed bad-mass-assignment '{"id":"'$UUID'","role":"SUPER_ADMIN","passwordHash":"$2b$x","deletedAt":null}'
seed bad-null-required '{"email":null,"password":null,"name":null}'
seed bad-types '{"name":{},"email":[],"phone":true,"company":1}'

# ---- route: "METHOD PATH" ------------------------------------------------------
dir=route
seed get-leads 'GET /api/leads'
seed post-leads 'POST /api/leads'
seed get-stats 'GET /api/leads/stats'
seed get-lead "GET /api/leads/$UUID"
seed head-lead "HEAD /api/leads/$UUID"
seed delete-lead-upper "DELETE /api/leads/$UUID_UP"
seed patch-lead "PATCH /api/leads/$UUID"
seed post-stats 'POST /api/leads/stats'
seed change-password "POST /api/users/$UUID/change-password"
seed change-password-get "GET /api/users/$UUID/change-password"
seed put-user 'PUT /api/users/not-a-uuid'
seed get-users 'GET /api/users'
seed health 'GET /health'
seed head-health 'HEAD /health'
seed login 'POST /auth/login'
seed login-get 'GET /auth/login'
seed logout-all 'POST /auth/logout-all'
seed profile-put 'PUT /auth/profile'
seed availability 'GET /api/consultations/availability'
seed consultation "DELETE /api/consultations/$UUID"
seed two-params 'GET /api/things/42'
seed options 'OPTIONS /api/leads'
seed lowercase-method 'get /api/leads'
seed trailing-slash 'GET /api/leads/'
seed double-slash 'GET //api/leads'
seed empty-segment 'GET /api//leads'
seed too-deep 'GET /api/leads/stats/x'
seed dot-dot 'GET /api/leads/../users'
seed percent 'GET /api/leads/%2e%2e'
seed query-in-path 'GET /api/leads?page=1'
seed literal-colon 'GET /api/users/:id'
seed root 'GET /'
seed empty-path 'GET '
seed no-path 'GET'
seed no-method '/api/leads/stats'
seed relative 'GET api/leads'
seedx nul-in-path 'GET /api/leads/\x00x'
seed space-in-path 'GET /api/leads/a b'
seed many-segments 'GET /a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z'
seed empty ''

# ---- query: r->args ----------------------------------------------------------------
dir=query
seed page-limit 'page=1&limit=20'
seed page-zero 'page=0'
seed page-max 'page=1000000&limit=100'
seed page-over 'page=1000001&limit=101'
seed page-signs 'page=-1&limit=+5'
seed page-leading-zero 'page=007'
seed page-exponent 'page=1e3'
seed page-space 'page=%201'
seed page-empty 'page=&limit'
seed page-huge 'page=99999999999999999999999'
seed search 'search=a%20b+c%25_'
seed search-utf8 'search=%C3%A9t%C3%A9'
seed bad-search-truncated-utf8 'search=%C3'
seed bad-search-ff 'search=%ff'
seed bad-search-nul 'search=a%00b'
seed bad-search-newline 'search=a%0Ab'
seed bad-escape 'search=%zz'
seed bad-escape-short 'search=%4'
seed bad-escape-end 'search=%'
seed filters 'status=NEW&source=ADS&assignedToId='"$UUID"'&sort=-createdAt'
seed users 'role=ADMIN&isActive=true&sort=lastLoginAt'
seed created 'createdFrom=2026-11-24T06:40:36.123Z&createdTo=2026-11-25T00:00:00Z'
seed stats-offsets 'from=2026-11-24T06:40:36%2B02:00&to=2026-11-24T06:40:36.5-05:30'
seed bad-micro 'from=2026-11-24T06:40:36.1234Z'
seed bad-not-leap 'from=2026-02-29T00:00:00Z'
seed leap 'from=2024-02-29T23:59:59.999Z'
seed bad-offset 'to=2026-11-24T06:40:36+24:00'
seed year-10000 'to=9999-12-31T23:59:59.999-23:59'
seed before-epoch 'from=1970-01-01T00:00:00.000+01:00'
seed lowercase-tz 'from=2026-11-24t06:40:36z'
seed date 'date=2026-11-24&durationMinutes=30&consultantId='"$UUID"
seed bad-date-month 'date=2026-13-01'
seed bad-date-trailing 'date=2026-11-24x'
seed consultations 'status=SCHEDULED&from=2026-01-01T00:00:00Z&leadId='"$UUID"'&page=2'
seed bad-repeated 'page=1&page=2'
seed bad-unknown 'foo=1'
seed bad-empty-first '&page=1'
seed bad-empty-last 'page=1&'
seed bad-empty-middle 'page=1&&limit=2'
seed bad-empty-name '=1'
seed encoded-name 'pa%67e=2'
seed bad-encoded-nul-name 'page%00=1'
seed plus-in-name 'sort+=name'
seed equals-in-value 'search=a=b'
seed bad-long-value "search=$(printf 'x%.0s' $(seq 1 2049))"
seed empty ''
seed raw-datetime '2026-11-24T06:40:36.123Z'
seed raw-date '2026-11-24'

# ---- token -------------------------------------------------------------------
dir=token
KEY=fuzz-current-key-0123456789abcdefghijklmnopqrstu
PREV=fuzz-previous-key-0123456789abcdefghijklmnopqrst
NOW=1795502436
IAT=$((NOW - 60))
EXP=$((IAT + 900))
IDS='"iss":"leadcrm","aud":"leadcrm-api"'
CLAIMS='{"sub":"'$UUID'","role":"ADMIN","sid":"'$SID'","jti":"j1",'$IDS',"iat":'$IAT',"exp":'$EXP'}'
H_PLAIN='{"alg":"HS256","typ":"JWT"}'
H_CUR='{"alg":"HS256","typ":"JWT","kid":"k2026"}'
H_PREV='{"alg":"HS256","typ":"JWT","kid":"k2025"}'

b64u() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
# jwt KEY HEADER CLAIMS: a signed compact token
jwt() {
    local input
    input="$(printf '%s' "$2" | b64u).$(printf '%s' "$3" | b64u)"
    printf '%s.%s' "$input" \
        "$(printf '%s' "$input" | openssl dgst -sha256 -hmac "$1" -binary | b64u)"
}

if command -v openssl >/dev/null; then
    seed raw-valid-plain "$(jwt "$KEY" "$H_PLAIN" "$CLAIMS")"
    seed raw-valid-kid "$(jwt "$KEY" "$H_CUR" "$CLAIMS")"
    seed raw-valid-previous "$(jwt "$PREV" "$H_PREV" "$CLAIMS")"
    seed raw-previous-wrong-kid "$(jwt "$PREV" "$H_CUR" "$CLAIMS")"
    seed raw-alg-hs512 "$(jwt "$KEY" '{"alg":"HS512","typ":"JWT"}' "$CLAIMS")"
    seed raw-alg-lowercase "$(jwt "$KEY" '{"alg":"hs256","typ":"JWT"}' "$CLAIMS")"
    seed raw-expired "$(jwt "$KEY" "$H_PLAIN" '{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":1795500000,"exp":1795500900}')"
    seed raw-unknown-kid "$(jwt "$KEY" '{"alg":"HS256","typ":"JWT","kid":"k1999"}' "$CLAIMS")"
    valid=$(jwt "$KEY" "$H_PLAIN" "$CLAIMS")
    seed raw-truncated "${valid%?????}"
    seed raw-padded "$valid=="
    seed raw-four-parts "$valid.x"
    seed raw-empty-signature "${valid%.*}."
fi
seed raw-alg-none "$(printf '%s' '{"alg":"none","typ":"JWT"}' | b64u).$(printf '%s' "$CLAIMS" | b64u).x"
seed raw-dots '..'
seed raw-one-dot 'abc.def'
seed raw-bad-base64 'eyJ!.eyJ.abc'
seed raw-header-len1 'e.eyJ.abc'
seed raw-empty ''
seed raw-too-long "$(printf 'a%.0s' $(seq 1 4097)).b.c"
seedx raw-nul 'eyJhbGciOiJIUzI1NiJ9\x00.e30.x'
# signing modes: S/P/W, then HEADER "\n" PAYLOAD or only PAYLOAD
seed sign-valid "S$CLAIMS"
seed sign-valid-kid "S$H_CUR
$CLAIMS"
seed sign-previous "P$CLAIMS"
seed sign-previous-no-kid "P$H_PLAIN
$CLAIMS"
seed sign-wrong-key "W$H_CUR
$CLAIMS"
seed sign-user 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j2",'$IDS',"iat":'$NOW',"exp":'$((NOW + 900))'}'
seed sign-exp-string 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":"'$EXP'"}'
seed sign-exp-float 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP'.0}'
seed sign-exp-missing 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT'}'
seed sign-exp-max 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":9223372036854775807}'
seed sign-lifetime-overflow 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":-9223372036854775808,"exp":9223372036854775807}'
seed sign-iat-negative 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":-1,"exp":'$EXP'}'
seed sign-iat-future 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$((NOW + 31))',"exp":'$((NOW + 900))'}'
seed sign-nbf-future 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP',"nbf":'$((NOW + 31))'}'
seed sign-nbf-string 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP',"nbf":"0"}'
seed sign-lifetime-901 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$((IAT + 901))'}'
seed sign-leeway-edge 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$((NOW - 899))',"exp":'$((NOW - 29))'}'
seed sign-no-jti 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'",'$IDS',"iat":'$IAT',"exp":'$EXP'}'
seed sign-bad-role 'S{"sub":"'$UUID'","role":"ROOT","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP'}'
seed sign-upper-sub 'S{"sub":"'$UUID_UP'","role":"SUPER_ADMIN","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP'}'
seed sign-bad-sub 'S{"sub":"42","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP'}'
seed sign-wrong-iss 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j","iss":"evil","aud":"leadcrm-api","iat":'$IAT',"exp":'$EXP'}'
seed sign-aud-array 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j","iss":"leadcrm","aud":["leadcrm-api"],"iat":'$IAT',"exp":'$EXP'}'
seed sign-dup-claims 'S{"sub":"'$UUID'","role":"USER","role":"ADMIN","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP'}'
seed sign-nested 'S{"sub":"'$UUID'","role":"USER","sid":"'$SID'","jti":"j",'$IDS',"iat":'$IAT',"exp":'$EXP',"x":[[[[{}]]]]}'
seed sign-claims-array 'S[1,2,3]'
seed sign-hs512-header 'S{"alg":"HS512","typ":"JWT"}
'"$CLAIMS"
seed sign-no-typ 'S{"alg":"HS256"}
'"$CLAIMS"
seed sign-typ-lower 'S{"alg":"HS256","typ":"jwt"}
'"$CLAIMS"
seed sign-kid-number 'S{"alg":"HS256","typ":"JWT","kid":2026}
'"$CLAIMS"
seed sign-header-dup 'S{"alg":"HS256","alg":"none","typ":"JWT"}
'"$CLAIMS"
seed sign-header-deep 'S{"alg":"HS256","typ":"JWT","x":{"y":{}}}
'"$CLAIMS"
seed sign-bad-json 'S{"sub":'

for d in json route query token; do
    printf '%s: %s seeds\n' "$d" "$(ls "$corpus/$d" | wc -l)"
done
