"""Client side of t/scripts/monitoring.sh (TAP).  Environment: MON_URL,
MON_DIR (receivers in MON_DIR/recv), MON_HTTPD, MON_PG_STOP, MON_PG_START.
Waits for receivers are bounded polls, never latency assertions."""
import datetime
import http.client
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

URL = urllib.parse.urlparse(os.environ["MON_URL"])
DIR = os.environ["MON_DIR"]
RECV = os.path.join(DIR, "recv")
N = 0
FAILED = 0


def ok(cond, msg):
    global N, FAILED
    N += 1
    if not cond:
        FAILED += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (N, msg), flush=True)


def req(method, path, body=None, headers=None, timeout=30):
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=timeout)
    h = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        h["Content-Type"] = "application/json"
    c.request(method, path, body=data, headers=h)
    r = c.getresponse()
    raw = r.read()
    c.close()
    try:
        j = json.loads(raw)
    except ValueError:
        j = None
    return r, j


def records(name):
    try:
        with open(os.path.join(RECV, name + ".jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def spans():
    out = []
    for rec in records("otlp"):
        doc = json.loads(rec["body"])
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                out.extend(ss["spans"])
    return out


def events():
    out = []
    for rec in records("sentry"):
        lines = rec["body"].split("\n")
        head, item, payload = (json.loads(lines[0]), json.loads(lines[1]),
                               lines[2])
        out.append((rec, head, item, payload, json.loads(payload)))
    return out


def wait_for(pred, secs=20):
    end = time.time() + secs
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def trace_of(resp):
    m = re.match(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0([01])$",
                 resp.getheader("traceparent") or "")
    return m.groups() if m else (None, None, None)


def sh(cmd):
    subprocess.run(["bash", "-c", cmd], check=True, stdout=subprocess.DEVNULL)


def metric(name):
    c = http.client.HTTPConnection(URL.hostname, URL.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    m = re.search("^" + re.escape(name) + r" (\d+)$", text, re.M)
    return int(m.group(1)) if m else -1


def attrs(span):
    return {a["key"]: list(a["value"].values())[0]
            for a in span.get("attributes", [])}


# ---- phase 1: ratio 1, a healthy receiver ---------------------------------
email = "mon-%s@example.com" % uuid.uuid4().hex[:10]
password = "monitor secret pw %s" % uuid.uuid4().hex[:6]
r, j = req("POST", "/auth/register",
           {"email": email, "password": password, "name": "Mon"})
ok(r.status == 201, "register")
cookie = re.search(r"leadcrm_refresh=([^;]+)", r.getheader("Set-Cookie") or "")
refresh = cookie.group(1) if cookie else "none"
reg_trace = trace_of(r)[0]

TP = "00-%s-%s-01" % (uuid.uuid4().hex, uuid.uuid4().hex[:16])
r, j = req("POST", "/auth/login", {"email": email, "password": password},
           {"traceparent": TP, "tracestate": "vendor=abc"})
token = (j or {}).get("accessToken", "none")
login_trace, login_span, sampled = trace_of(r)
ok(r.status == 200 and login_trace == TP[3:35] and login_span != TP[36:52]
   and sampled == "1",
   "login continues the incoming trace (same trace id, own span id)")

date = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
r, j = req("GET", "/api/consultations/availability?date=" + date)
slots = (j or {}).get("slots") or [{}]
r, j = req("POST", "/api/consultations",
           {"name": "Mon", "email": email, "topic": "monitoring",
            "scheduledAt": slots[0].get("start")},
           {"Authorization": "Bearer " + token})
book_trace = trace_of(r)[0]
ok(r.status == 201, "booking (%d)" % r.status)

# a 5xx for an authenticated user: the table is locked, statement timeout
locker = subprocess.Popen(
    ["psql", "-X", "-q", "-c",
     "BEGIN; LOCK consultations IN ACCESS EXCLUSIVE MODE; "
     "SELECT pg_sleep(9); COMMIT;"], stdout=subprocess.DEVNULL)
wait_for(lambda: subprocess.run(
    ["psql", "-X", "-qAt", "-c", "SELECT count(*) FROM pg_locks WHERE "
     "relation = 'consultations'::regclass AND granted AND "
     "mode = 'AccessExclusiveLock'"], capture_output=True,
    text=True).stdout.strip() == "1", 10)
r5, j5 = req("GET", "/api/consultations?limit=5",
             headers={"Authorization": "Bearer " + token,
                      "Cookie": "leadcrm_refresh=" + refresh})
locker.wait()
ok(r5.status == 503 and (j5 or {}).get("code") == "service_unavailable",
   "locked table: 503 problem (%d)" % r5.status)
t5 = trace_of(r5)[0]
ok((j5 or {}).get("instance", "").endswith(";trace=%s" % t5)
   and (j5 or {}).get("instance", "").startswith(
       "urn:request:%s;" % r5.getheader("X-Request-Id")),
   "problem+json instance carries request id and trace id")

# PostgreSQL down: 503s whose bodies would hold secrets if anything leaked
sh(os.environ["MON_PG_STOP"])
r6, j6 = req("POST", "/api/leads", {"name": "Leak", "email": email,
                                    "message": password},
             {"Authorization": "Bearer " + token})
sh(os.environ["MON_PG_START"])
ok(r6.status in (401, 503), "PostgreSQL down: %d" % r6.status)

ev = wait_for(lambda: [e for e in events()
                       if e[4].get("contexts", {}).get("trace", {})
                       .get("trace_id") == t5])
ok(bool(ev), "a Sentry envelope for the 503 arrived")
if ev:
    rec, head, item, payload, e = ev[0]
    auth = rec["headers"].get("X-Sentry-Auth", "")
    ok(rec["path"] == "/api/7/envelope/" and "sentry_key=0123456789abcdef"
       in auth and "sentry_version=7" in auth,
       "envelope POSTed to /api/PROJECT/envelope/ with X-Sentry-Auth")
    ok(head.get("event_id") == e.get("event_id") and item.get("type") ==
       "event" and item.get("length") == len(payload.encode()),
       "envelope headers: event id, item type and length")
    ok(e.get("release") == "leadcrm@test"
       and e.get("environment") == "monitoring-test"
       and e.get("transaction") == "GET /api/consultations"
       and e.get("tags", {}).get("request_id") == r5.getheader("X-Request-Id")
       and e.get("tags", {}).get("status") == "503"
       and e.get("level") == "error",
       "event: release, environment, route, request id, status")
    ok(e.get("user", {}).get("role") == "USER" and
       re.match(r"^[0-9a-f-]{36}$", e.get("user", {}).get("id", "")) and
       "ip_address" not in e.get("user", {}),
       "event: user id and role, no address (SendPII Off)")
    ok(any("LCRM" in b.get("message", "") for b in
           e.get("breadcrumbs", {}).get("values", [])),
       "event: the module's error log lines of the request")

# every document, both receivers: no secret, no e-mail
wait_for(lambda: any(s["traceId"] == book_trace for s in spans()))
blob = "\n".join(x["body"] + json.dumps(x["headers"])
                 for x in records("sentry") + records("otlp"))
for what, val in (("password", password), ("access token", token),
                  ("refresh token", refresh), ("e-mail", email),
                  ("e-mail local part", email.split("@")[0])):
    ok(val not in blob, "no %s in any exported document" % what)
ok("Bearer" not in blob and "leadcrm_refresh" not in blob
   and "Cookie" not in blob, "no Authorization or Cookie header exported")

# span trees
sp = wait_for(lambda: [s for s in spans() if s["traceId"] == login_trace])
root = [s for s in sp if s.get("parentSpanId") == TP[36:52]]
ok(len(root) == 1 and root[0]["name"] == "POST /auth/login"
   and root[0]["kind"] == 2 and root[0]["spanId"] == login_span
   and root[0].get("traceState") == "vendor=abc",
   "login: one server span, child of the caller's span, tracestate kept")
kids = [s for s in sp if root and s.get("parentSpanId") == root[0]["spanId"]]
names = [s["name"] for s in kids]
ok("bcrypt verify" in names and any(n.startswith("db ") for n in names)
   and len(kids) == len(sp) - 1,
   "login: children db and bcrypt under the request span (%s)"
   % ", ".join(sorted(set(names))))
ok(all(attrs(s).get("db.system") == "postgresql"
       and "$" not in attrs(s).get("db.statement", "$")
       for s in kids if s["name"].startswith("db ")),
   "db spans carry the statement text with placeholders only")
ok(all(int(s["startTimeUnixNano"]) >= int(root[0]["startTimeUnixNano"])
       and int(s["endTimeUnixNano"]) <= int(root[0]["endTimeUnixNano"])
       for s in kids) if root else False,
   "child spans lie inside the request span")
bs = [s for s in spans() if s["traceId"] == book_trace]
broot = [s for s in bs if "parentSpanId" not in s]
ok(len(broot) == 1 and broot[0]["name"] == "POST /api/consultations"
   and attrs(broot[0]).get("http.response.status_code") == "201"
   and any(s["name"] == "db INSERT" or s["name"].startswith("db ")
           for s in bs if s.get("parentSpanId") == broot[0]["spanId"]),
   "booking: a root server span with db children")
ok(any(s["traceId"] == reg_trace for s in spans()),
   "ratio 1: a request without traceparent is exported")
rs = [s for s in spans() if s["traceId"] == t5 and "parentSpanId" not in s]
ok(rs and rs[0]["status"]["code"] == 2, "the 503 request span is an error")
with open(os.path.join(DIR, "traced.log")) as f:
    log = f.read()
ok(login_trace in log and book_trace in log, "trace ids in the access log")
ok(metric('leadcrm_export_total{kind="otlp",result="sent"}') > 0
   and metric('leadcrm_export_total{kind="sentry",result="sent"}') > 0,
   "export counters in /metrics")

# ---- phase 2: ratio 0 ---------------------------------------------------
def reconfigure(ratio, flag):
    """graceful restart; returns once 3 answers in a row show the new
    generation's sampling flag"""
    sh("write_conf %s && %s -k graceful" % (ratio, os.environ["MON_HTTPD"]))
    seen = 0
    end = time.time() + 30
    while seen < 3 and time.time() < end:
        try:
            seen = seen + 1 if trace_of(req("GET", "/health")[0])[2] == flag \
                else 0
        except OSError:
            seen = 0
        time.sleep(0.2)


reconfigure(0, "0")
unsampled = []
for i in range(20):
    r, _ = req("GET", "/health")
    t, _, flag = trace_of(r)
    if flag == "0":
        unsampled.append(t)
marker = uuid.uuid4().hex
r, _ = req("GET", "/health",
           headers={"traceparent": "00-%s-%s-01" % (marker, "a" * 16)})
got = wait_for(lambda: any(s["traceId"] == marker for s in spans()))
ok(len(unsampled) == 20, "ratio 0: new traces are not sampled (flag 00)")
ok(got and not any(s["traceId"] in unsampled for s in spans()),
   "ratio 0: nothing exported for them; a sampled parent is still followed")

# ---- phase 3: receivers that hang, then refuse ---------------------------
for name in ("sentry", "otlp"):
    with open(os.path.join(RECV, name + ".mode"), "w") as f:
        f.write("hang")
reconfigure(1, "1")


def load(n, results):
    def one(i):
        try:
            kind = i % 3
            if kind == 0:
                r, j = req("GET", "/health", timeout=30)
                results.append(r.status == 200)
            elif kind == 1:
                r, j = req("POST", "/auth/login",
                           {"email": email, "password": password}, timeout=30)
                results.append(r.status == 200)
            else:
                r, j = req("GET", "/auth/profile",
                           headers={"Authorization": "Bearer " + token},
                           timeout=30)
                results.append(r.status == 200)
        except Exception:
            results.append(False)
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


res = []
load(60, res)
ok(len(res) == 60 and all(res),
   "receivers hang: 60 requests all answered correctly (%d ok)" % sum(res))
sh(os.environ["MON_PG_STOP"])
codes = [req("GET", "/health", timeout=30)[0].status for _ in range(30)]
sh(os.environ["MON_PG_START"])
ok(codes.count(503) == 30, "receivers hang: 30 errors answered 503 promptly")
ok(metric('leadcrm_export_total{kind="sentry",result="dropped"}') > 0,
   "a full queue drops and counts (sentry dropped > 0)")
for pid in os.environ["MON_RPIDS"].split():
    os.kill(int(pid), 15)
time.sleep(1)
failed_before = metric('leadcrm_export_total{kind="otlp",result="failed"}')
res = []
load(60, res)
sh(os.environ["MON_PG_STOP"])
codes = [req("GET", "/health", timeout=30)[0].status for _ in range(10)]
sh(os.environ["MON_PG_START"])
ok(len(res) == 60 and all(res) and codes.count(503) == 10,
   "receivers refuse: every request answered correctly")
ok(wait_for(lambda: metric('leadcrm_export_total{kind="otlp",result="failed"}')
            > failed_before), "refused exports are counted as failed")
print("1..%d" % N)
sys.exit(1 if FAILED else 0)
