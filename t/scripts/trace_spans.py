#!/usr/bin/python3
"""The span drill (see t/scripts/trace_spans.sh): TAP on stdout.

One httpd (two children: the mail worker's watchdog runs in one of them,
requests land in both) with the module just built, connected as the app
role to the PostgreSQL that trace_spans.sh started; a loopback OTLP
receiver (bench/receiver.py), an aiosmtpd SMTP server and a memcached,
each on a free port.  LeadCRMTraceSampleRatio 0: only requests whose
traceparent says sampled are recorded, so "untraced" is exact.  Every
wait is a bounded poll for a state, never a timed assertion.
"""
import datetime
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid

from aiosmtpd.controller import Controller

ROOT = os.environ["LEADCRM_ROOT"]
T = os.environ["LEADCRM_SPANS_T"]
HTTPD = os.environ.get("LCRM_HTTPD", "/usr/sbin/apache2")
MODS = "/usr/lib/apache2/modules"
RECV = os.path.join(T, "recv")
NODE = os.path.join(T, "node")
N = 0
FAILED = 0


def ok(cond, msg):
    global N, FAILED
    N += 1
    if not cond:
        FAILED += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (N, msg), flush=True)
    return cond


def diag(msg):
    print("# " + str(msg).replace("\n", "\n# "), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, secs=40.0):
    end = time.time() + secs
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    return pred()


def psql(sql):
    out = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                          "-c", sql], capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return [l.split("|") for l in out.stdout.splitlines() if l]


# ---- servers ----------------------------------------------------------------

class Sink:
    """aiosmtpd handler: mode 'ok' accepts, '4xx' defers DATA."""

    def __init__(self):
        self.mode = "ok"
        self.rcpts = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "4xx":
            return "451 4.3.0 try again later"
        with self.lock:
            self.rcpts.extend(envelope.rcpt_tos)
        return "250 2.0.0 queued"

    def got(self, addr):
        with self.lock:
            return self.rcpts.count(addr)


def start_receiver():
    os.makedirs(RECV, exist_ok=True)
    p = subprocess.Popen(["/usr/bin/python3",
                          os.path.join(ROOT, "bench", "receiver.py"), RECV,
                          "otlp"])
    port = wait_for(lambda: os.path.exists(os.path.join(RECV, "otlp.port")),
                    10)
    with open(os.path.join(RECV, "otlp.port")) as f:
        return p, int(f.read()) if port else 0


def start_memcached():
    port = free_port()
    cmd = ["memcached", "-l", "127.0.0.1", "-p", str(port), "-U", "0",
           "-m", "16"]
    if os.getuid() == 0:
        cmd += ["-u", "memcache"]
    p = subprocess.Popen(cmd)

    def up():
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            return False
    wait_for(up, 10)
    return p, port


CONF = """ServerRoot "{d}"
PidFile "{d}/httpd.pid"
DefaultRuntimeDir "{d}"
ErrorLog "{d}/error.log"
LogLevel warn
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
User www-data
Group www-data
LoadModule mpm_event_module {m}/mod_mpm_event.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule headers_module {m}/mod_headers.so
LoadModule dbd_module {m}/mod_dbd.so
LoadModule unique_id_module {m}/mod_unique_id.so
LoadModule leadcrm_module "{root}/.libs/mod_leadcrm.so"
StartServers 2
ServerLimit 2
ThreadsPerChild 8
MinSpareThreads 8
MaxSpareThreads 16
MaxRequestWorkers 16
Define LEADCRM_DBD_PARAMS "host={pg} dbname=leadcrm user=leadcrm_app connect_timeout=2"
Define LEADCRM_KEY_FILE "{t}/jwt.key"
Include "{root}/conf/leadcrm.conf"
DBDMax 8
LeadCRMDataKeyFile "{t}/data.key"
LeadCRMCookieSecure Off
LeadCRMSMTPServer smtp://127.0.0.1:{smtp}
LeadCRMSMTPTLS off
LeadCRMMailFrom "Acme Consulting <noreply@example.com>"
LeadCRMPublicURL https://app.example.com
LeadCRMMailRetryDelay 1s
LeadCRMBusinessHours Mon-Sun 00:00-24:00
LeadCRMBookingNotice 0
LeadCRMOTLPEndpoint http://127.0.0.1:{otlp}/v1/traces
LeadCRMTraceSampleRatio 0
LeadCRMRateLimitStore memcache 127.0.0.1:{mc}
LeadCRMRateLimit general 0 1m
LeadCRMRateLimit auth 1000 15m
LeadCRMRateLimit login-failures 1000 15m
LeadCRMRateLimit login-account-failures 1000 15m
LeadCRMRateLimit public-write 0 1m
LeadCRMRateLimit mail 0 1m
LeadCRMRateLimit mail-target 0 1m
"""


class Node:
    def __init__(self, smtp, otlp, mc):
        os.makedirs(NODE, exist_ok=True)
        self.port = free_port()
        self.conf = os.path.join(NODE, "httpd.conf")
        with open(self.conf, "w") as f:
            f.write(CONF.format(d=NODE, port=self.port, m=MODS, root=ROOT,
                                t=T, pg=os.environ["PGHOST"], smtp=smtp,
                                otlp=otlp, mc=mc))

    def start(self):
        r = subprocess.run([HTTPD, "-f", self.conf, "-k", "start"],
                           capture_output=True, text=True)
        if r.returncode:
            diag(r.stderr)
            return False
        return wait_for(lambda: self.up(), 30)

    def up(self):
        try:
            return self.req("GET", "/health")[0].status == 200
        except OSError:
            return False

    def stop(self):
        subprocess.run([HTTPD, "-f", self.conf, "-k", "stop"],
                       capture_output=True)

    def req(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
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
            j = json.loads(raw) if raw else None
        except ValueError:
            j = None
        return r, j


# ---- spans ------------------------------------------------------------------

def records():
    try:
        with open(os.path.join(RECV, "otlp.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def spans():
    out = []
    for rec in records():
        doc = json.loads(rec["body"])
        for rs in doc["resourceSpans"]:
            for ss in rs["scopeSpans"]:
                out.extend(ss["spans"])
    return out


def attrs(span):
    return {a["key"]: list(a["value"].values())[0]
            for a in span.get("attributes", [])}


def new_tp(sampled=True):
    return "00-%s-%s-0%d" % (uuid.uuid4().hex, uuid.uuid4().hex[:16],
                             1 if sampled else 0)


def span_of(resp):
    """(trace id, span id) of the request span from the response header"""
    m = re.match(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$",
                 resp.getheader("traceparent") or "")
    return m.groups() if m else (None, None)


def smtp_spans(trace):
    return [s for s in spans()
            if s["traceId"] == trace and s["name"] == "smtp send"]


def addr():
    return "span-%s@example.com" % uuid.uuid4().hex[:10]


# ---- scenarios --------------------------------------------------------------

def scenario_register(node, sink, smtp_port, emails):
    """mail_jobs path: the verification mail of a traced registration"""
    email = addr()
    emails.append(email)
    tp = new_tp()
    r, _ = node.req("POST", "/auth/register",
                    {"email": email, "password": "span drill pw 1",
                     "name": "Span"}, {"traceparent": tp})
    trace, root = span_of(r)
    ok(r.status == 201 and trace == tp[3:35],
       "traced registration: 201 in the caller's trace")
    ok(wait_for(lambda: sink.got(email)), "its verification mail arrives")
    sp = wait_for(lambda: smtp_spans(trace))
    ok(len(sp) == 1, "one 'smtp send' span in the registration's trace")
    if not sp:
        return email
    s, a = sp[0], attrs(sp[0])
    ok(s.get("parentSpanId") == root and s["spanId"] != root,
       "its parent is the registration's request span")
    ok(s["kind"] == 3 and s["status"]["code"] == 1,
       "kind CLIENT, status OK")
    ok(a.get("server.address") == "127.0.0.1"
       and a.get("server.port") == str(smtp_port)
       and a.get("leadcrm.mail.kind") == "email_verification"
       and a.get("leadcrm.smtp.result") == "sent"
       and a.get("leadcrm.mail.retry_count") == "0"
       and a.get("smtp.response.code") == "250",
       "attributes: server, mail kind, result, retries, reply code (%s)"
       % json.dumps(a, sort_keys=True))
    ok(int(s["startTimeUnixNano"]) < int(s["endTimeUnixNano"]),
       "the span has a start before its end")
    req = wait_for(lambda: [x for x in spans() if x["spanId"] == root])
    ok(req and req[0]["traceId"] == trace
       and req[0].get("parentSpanId") == tp[36:52]
       and req[0]["name"] == "POST /auth/register",
       "the request span itself was exported (parent of the delivery)")
    return email


def scenario_booking(node, sink, email, emails):
    """trigger path: a traced booking's confirmation mail"""
    r, j = node.req("POST", "/auth/login",
                    {"email": email, "password": "span drill pw 1"})
    token = (j or {}).get("accessToken", "none")
    date = (datetime.date.today() + datetime.timedelta(days=2)).isoformat()
    r, j = node.req("GET", "/api/consultations/availability?date=" + date)
    slot = ((j or {}).get("slots") or [{}])[0].get("start")
    tp = new_tp()
    r, j = node.req("POST", "/api/consultations",
                    {"name": "Span", "email": email, "topic": "tracing",
                     "scheduledAt": slot},
                    {"Authorization": "Bearer " + token, "traceparent": tp})
    trace, root = span_of(r)
    ok(r.status == 201, "traced booking: 201 (%d)" % r.status)
    sp = wait_for(lambda: [s for s in smtp_spans(trace)
                           if attrs(s).get("leadcrm.mail.kind")
                           == "booking_confirmation"])
    ok(sp and all(s.get("parentSpanId") == root for s in sp)
       and attrs(sp[0]).get("leadcrm.smtp.result") == "sent",
       "the confirmation's 'smtp send' span is a child of the booking span")
    return token


def scenario_retry(node, sink, email):
    """a deferred (4xx) delivery, then the retry: two spans, one trace"""
    sink.mode = "4xx"
    tp = new_tp()
    r, _ = node.req("POST", "/auth/password/forgot", {"email": email},
                    {"traceparent": tp})
    trace, root = span_of(r)
    ok(r.status == 202, "traced forgot-password: 202")
    first = wait_for(lambda: smtp_spans(trace))
    ok(first and first[0]["status"]["code"] == 2
       and attrs(first[0]).get("leadcrm.smtp.result") == "retry"
       and attrs(first[0]).get("smtp.response.code") == "451",
       "refused with 451: the span is an error, result retry")
    sink.mode = "ok"
    both = wait_for(lambda: len(smtp_spans(trace)) >= 2 and smtp_spans(trace))
    if not ok(both, "the retry has a span of its own"):
        return
    by = {attrs(s).get("leadcrm.mail.retry_count"): s for s in both}
    ok(set(by) == {"0", "1"} and by["1"]["status"]["code"] == 1
       and attrs(by["1"]).get("leadcrm.smtp.result") == "sent"
       and all(s.get("parentSpanId") == root for s in both)
       and by["0"]["spanId"] != by["1"]["spanId"],
       "the retry: retry_count 1, sent, same parent, own span id")


def scenario_untraced(node, sink, emails):
    """untraced requests, some on connections a traced one used before"""
    traced, plain = [], []
    for i in range(4):
        for sampled, into in ((True, traced), (False, plain)):
            e = addr()
            emails.append(e)
            tp = new_tp(sampled)
            r, _ = node.req("POST", "/auth/register",
                            {"email": e, "password": "span drill pw 1",
                             "name": "Span"}, {"traceparent": tp})
            into.append((e, tp[3:35], r.status))
    ok(all(x[2] == 201 for x in traced + plain), "8 registrations: 201")
    ok(wait_for(lambda: all(sink.got(x[0]) for x in traced + plain)),
       "all 8 verification mails arrive")
    ok(wait_for(lambda: all(smtp_spans(x[1]) for x in traced)),
       "each of the 4 traced ones has its 'smtp send' span")
    ok(not any(smtp_spans(x[1]) or [s for s in spans()
                                    if s["traceId"] == x[1]]
               for x in plain),
       "no span at all for the 4 unsampled ones")
    rows = psql("SELECT to_addr, traceparent IS NULL FROM mail_outbox"
                " WHERE to_addr LIKE 'span-%'")
    stored = {r[0]: r[1] for r in rows}
    ok(all(stored.get(x[0]) == "t" for x in plain)
       and all(stored.get(x[0]) == "f" for x in traced),
       "outbox rows: context kept for traced requests only (no leftover"
       " on a pooled connection)")
    left = psql("SELECT count(*) FROM pg_stat_activity WHERE usename ="
                " 'leadcrm_app'")
    diag("app-role sessions: %s" % left[0][0])


def scenario_memcached(node, email, mc_port):
    tp = new_tp()
    r, j = node.req("POST", "/auth/login",
                    {"email": email, "password": "span drill pw 1"},
                    {"traceparent": tp})
    trace, root = span_of(r)
    ok(r.status == 200, "traced login with the memcached store: 200")
    sp = wait_for(lambda: [s for s in spans() if s["traceId"] == trace
                           and s["name"].startswith("memcached ")])
    names = sorted(set(s["name"] for s in sp or []))
    ok(sp and "memcached INCR" in names and "memcached GET" in names,
       "memcached spans, one per command (%s)" % ", ".join(names))
    ok(sp and all(s.get("parentSpanId") == root and s["kind"] == 3
                  for s in sp),
       "each a CLIENT child of the login's request span")
    ok(sp and all(attrs(s).get("db.system") == "memcached"
                  and attrs(s).get("server.address") == "127.0.0.1"
                  and attrs(s).get("server.port") == str(mc_port)
                  and s["status"]["code"] == 1 for s in sp),
       "db.system memcached, server address and port, status OK")
    ok(sp and not any("lcrm:rl:" in json.dumps(s) for s in sp),
       "no memcached key in the spans")


def main():
    import logging
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    procs = []
    try:
        recv, otlp = start_receiver()
        procs.append(recv)
        mc, mc_port = start_memcached()
        procs.append(mc)
        sink = Sink()
        smtp_port = free_port()
        ctl = Controller(sink, hostname="127.0.0.1", port=smtp_port)
        ctl.start()
        node = Node(smtp_port, otlp, mc_port)
        if not ok(otlp and node.start(), "httpd starts (mail, OTLP,"
                  " memcached store)"):
            return 1
        ok(wait_for(lambda: psql("SELECT enabled FROM mail_state")[0][0]
                    == "t"), "the mail worker publishes its settings")
        emails = []
        email = scenario_register(node, sink, smtp_port, emails)
        scenario_booking(node, sink, email, emails)
        scenario_retry(node, sink, email)
        scenario_untraced(node, sink, emails)
        scenario_memcached(node, email, mc_port)
        blob = "\n".join(x["body"] for x in records())
        ok(emails and not any(e in blob or e.split("@")[0] in blob
                              for e in emails)
           and "example.com" not in blob,
           "no recipient address (nor its local part) in any exported span")
        node.stop()
        ctl.stop()
    finally:
        for p in procs:
            p.terminate()
            p.wait()
    print("1..%d" % N)
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
