#!/usr/bin/python3
"""The mail drill (see t/scripts/mail.sh): TAP on stdout.

Runs httpd nodes with the module just built against the PostgreSQL that
mail.sh started, and a real SMTP server (aiosmtpd) on 127.0.0.1 that
writes each accepted message to a directory as .eml.  Every wait is a
bounded poll for a state (never a timed assertion).
"""
import asyncio
import base64
import email
import email.policy
import glob
import http.client
import json
import os
import re
import socket
import ssl
import subprocess
import sys
import threading
import time
import uuid

from aiosmtpd.controller import Controller

ROOT = os.environ["LEADCRM_ROOT"]
T = os.environ["LEADCRM_MAIL_T"]
HTTPD = os.environ.get("LCRM_HTTPD", "/usr/sbin/apache2")
MODS = "/usr/lib/apache2/modules"
PUBLIC = "https://app.example.com"

n_tests = 0
n_failed = 0


def ok(cond, name):
    global n_tests, n_failed
    n_tests += 1
    if not cond:
        n_failed += 1
    print(("ok" if cond else "not ok") + " %d - %s" % (n_tests, name),
          flush=True)
    return cond


def diag(msg):
    print("# " + str(msg).replace("\n", "\n# "), flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for(pred, timeout=60.0, step=0.2):
    """Polls pred() until it is truthy (returns it) or timeout (None)."""
    end = time.time() + timeout
    while time.time() < end:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def psql(sql, *args):
    """Runs sql (psql variables :'a1'...); returns rows of |-split text."""
    cmd = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1"]
    for i, a in enumerate(args):
        cmd += ["-v", "a%d=%s" % (i + 1, a)]
    out = subprocess.run(cmd, input=sql, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(out.stderr)
    return [l.split("|") for l in out.stdout.splitlines() if l]


# ---- SMTP sink ------------------------------------------------------------

class Sink:
    """aiosmtpd handler: mode 'ok' stores, '4xx'/'5xx' refuse DATA."""

    def __init__(self, directory, store=True):
        self.dir = directory
        self.mode = "ok"
        self.store = store
        self.count = 0
        self.ids = {}
        self.peers = set()
        self.lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        if self.mode == "4xx":
            return "451 4.3.0 try again later"
        if self.mode == "5xx":
            return "550 5.1.1 mailbox unavailable"
        data = envelope.content
        m = re.search(rb"^Message-ID: (\S+)", data, re.M)
        mid = m.group(1).decode() if m else "?"
        with self.lock:
            self.peers.add(session.peer)
            self.count += 1
            self.ids[mid] = self.ids.get(mid, 0) + 1
            n = self.count
        if self.store:
            with open(os.path.join(self.dir, "%06d.eml" % n), "wb") as f:
                f.write(b"X-Rcpt: " + ",".join(envelope.rcpt_tos).encode()
                        + b"\r\n" + data)
        return "250 2.0.0 queued"

    def messages(self):
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, "*.eml"))):
            with open(path, "rb") as f:
                out.append(email.message_from_bytes(
                    f.read(), policy=email.policy.default))
        return out

    def to(self, addr, subject_part=None):
        return [m for m in self.messages() if m["X-Rcpt"] == addr
                and (subject_part is None or subject_part in m["Subject"])]


class Smtp:
    def __init__(self, sink, port=None, tls=None):
        self.sink = sink
        self.port = port or free_port()
        self.tls = tls
        self.ctl = None

    def start(self):
        kw = {}
        if self.tls:
            kw = {"tls_context": self.tls, "require_starttls": True}
        self.ctl = Controller(self.sink, hostname="127.0.0.1", port=self.port,
                              server_hostname="localhost", **kw)
        self.ctl.start()

    def stop(self):
        if self.ctl:
            self.ctl.stop()
            self.ctl = None


# ---- httpd nodes ------------------------------------------------------------

class Node:
    def __init__(self, name, extra, mail_lines=True):
        self.mail_lines = mail_lines
        self.name = name
        self.dir = os.path.join(T, "node-" + name)
        self.port = free_port()
        self.extra = extra
        os.makedirs(self.dir, exist_ok=True)

    def conf(self):
        return """ServerRoot "{d}"
PidFile "{d}/httpd.pid"
DefaultRuntimeDir "{d}"
ErrorLog "{d}/error.log"
LogLevel warn leadcrm:info
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
ThreadsPerChild 10
MinSpareThreads 5
MaxSpareThreads 20
MaxRequestWorkers 20
Define LEADCRM_DBD_PARAMS "host={pg} dbname=leadcrm user=leadcrm connect_timeout=2"
Define LEADCRM_KEY_FILE "{t}/jwt.key"
Include "{root}/conf/leadcrm.conf"
DBDMax 10
<Location /metrics>
    SetHandler leadcrm-metrics
</Location>
LeadCRMDataKeyFile "{t}/data.key"
LeadCRMCookieSecure Off
LeadCRMRateLimit general 0 1m
LeadCRMRateLimit auth 0 1m
LeadCRMRateLimit public-write 0 1m
LeadCRMRateLimit mail 0 1m
LeadCRMRateLimit mail-target 0 1m
{mail}
{extra}
""".format(d=self.dir, port=self.port, m=MODS, root=ROOT, t=T,
           pg=os.environ["PGHOST"], extra=self.extra,
           mail=("LeadCRMMailFrom \"Acme Consulting <noreply@example.com>\"\n"
                 "LeadCRMPublicURL %s\nLeadCRMMailRetryDelay 1s" % PUBLIC)
           if self.mail_lines else "")

    def write(self):
        path = os.path.join(self.dir, "httpd.conf")
        with open(path, "w") as f:
            f.write(self.conf())
        return path

    def check(self):
        r = subprocess.run([HTTPD, "-t", "-f", self.write()],
                           capture_output=True, text=True)
        return r.returncode, r.stderr

    def start(self):
        subprocess.run([HTTPD, "-f", self.write(), "-k", "start"], check=True)
        return wait_for(lambda: self.up(), 30)

    def up(self):
        try:
            return self.req("GET", "/health")[0] == 200
        except OSError:
            return False

    def stop(self):
        pidf = os.path.join(self.dir, "httpd.pid")
        if not os.path.exists(pidf):
            return
        pid = int(open(pidf).read().strip() or 0)
        subprocess.run([HTTPD, "-f", self.write(), "-k", "stop"])
        wait_for(lambda: not os.path.exists("/proc/%d" % pid), 30)

    def req(self, method, path, body=None, token=None, headers=None,
            raw=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if token:
            h["Authorization"] = "Bearer " + token
        c.request(method, path, body=data, headers=h)
        r = c.getresponse()
        text = r.read().decode("utf-8", "replace")
        c.close()
        try:
            j = json.loads(text) if text else None
        except ValueError:
            j = None
        return r.status, j, r

    def rss_kb(self):
        pidf = os.path.join(self.dir, "httpd.pid")
        parent = open(pidf).read().strip()
        kids = subprocess.run(["pgrep", "-P", parent], capture_output=True,
                              text=True).stdout.split()
        total = 0
        for pid in kids:
            try:
                for line in open("/proc/%s/status" % pid):
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
            except OSError:
                pass
        return total


# ---- helpers over the API and the mails ------------------------------------

def token_from(msg, path):
    body = msg.get_body(("plain",)).get_content()
    m = re.search(re.escape(PUBLIC + path) + r"#token=([A-Za-z0-9_-]+)", body)
    return m.group(1) if m else None


def outbox(where="true", *args):
    return psql("SELECT kind, to_addr, status, attempts, coalesce(last_error,"
                " ''), payload IS NULL AND sealed IS NULL FROM mail_outbox"
                " WHERE " + where + " ORDER BY created_at", *args)


def register(node, email_addr, password="correct horse 1", name="Mail User"):
    return node.req("POST", "/auth/register",
                    {"email": email_addr, "password": password, "name": name})


def next_weekday_slot(node, days_ahead=3, hour=10):
    """A bookable start (UTC, business hours) days_ahead or later."""
    t = time.gmtime(time.time() + days_ahead * 86400)
    d = time.mktime(t)
    for i in range(10):
        day = time.gmtime(time.time() + (days_ahead + i) * 86400)
        if day.tm_wday < 5:
            return time.strftime("%Y-%m-%dT", day) + "%02d:00:00.000Z" % hour
    return None


def ics_of(msg):
    for part in msg.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_content()
    return None


# ---- scenarios ----------------------------------------------------------------

def check_mime(msg, to):
    ok(msg["To"] == to and msg["Message-ID"] and msg["Date"]
       and msg.get_content_type() in ("multipart/alternative",
                                      "multipart/mixed"),
       "mail to %s has To, Message-ID, Date and is multipart" % to)
    alt = [p for p in msg.walk()
           if p.get_content_type() == "multipart/alternative"]
    kinds = [p.get_content_type() for p in alt[0].iter_parts()] if alt else []
    ok(kinds == ["text/plain", "text/html"]
       and all(p.get_content_charset() == "utf-8"
               for p in alt[0].iter_parts()),
       "multipart/alternative with UTF-8 text/plain and text/html")


def scenario_verify_and_reset(a, sink):
    addr = "verify-%s@example.com" % uuid.uuid4().hex[:8]
    st, j, _ = register(a, addr)
    ok(st == 201, "register answers 201")
    msgs = wait_for(lambda: sink.to(addr, "Confirm"), 30)
    ok(msgs and len(msgs) == 1, "one verification mail arrives")
    if not msgs:
        return None
    msg = msgs[0]
    check_mime(msg, addr)
    raw = msg.as_bytes()
    ok(b"Subject: Confirm your email address" in raw,
       "ASCII subject stays plain")
    tok = token_from(msg, "/verify-email")
    ok(tok and len(tok) == 43, "the link is {PublicURL}/verify-email#token=")
    html = msg.get_body(("html",)).get_content()
    ok(PUBLIC + "/verify-email#token=" + tok in html,
       "the HTML part carries the same link")
    sealed = psql("SELECT count(*) FROM mail_outbox WHERE kind ="
                  " 'email_verification' AND (sealed IS NOT NULL OR payload"
                  " IS NOT NULL) AND status <> 'QUEUED'")
    ok(sealed[0][0] == "0", "a sent mail keeps no body or sealed token")
    st, j, _ = a.req("POST", "/auth/verify-email", {"token": "x" * 43})
    ok(st == 400 and j["code"] == "invalid_or_expired_token",
       "an unknown token -> 400 invalid_or_expired_token")
    st, j, _ = a.req("POST", "/auth/verify-email", {"token": tok})
    ok(st == 200 and j["user"]["emailVerified"] is True,
       "verify-email -> 200 with emailVerified true")
    st, j, _ = a.req("POST", "/auth/verify-email", {"token": tok})
    ok(st == 200, "a used token answers 200 again")
    login = a.req("POST", "/auth/login", {"email": addr,
                                           "password": "correct horse 1"})
    access = login[1]["accessToken"]
    st, j, _ = a.req("POST", "/auth/verify-email/resend", token=access)
    ok(st == 409 and j["code"] == "email_already_verified",
       "resend when verified -> 409 email_already_verified")

    # forgot: 202 for known and unknown, only the known address gets mail
    for target in (addr, "nobody-%s@example.com" % uuid.uuid4().hex[:6]):
        st, j, _ = a.req("POST", "/auth/password/forgot", {"email": target})
        ok(st == 202 and j == {"status": "accepted"},
           "forgot -> 202 {status: accepted}")
    st, j, _ = a.req("POST", "/auth/password/forgot", {"email": addr})
    resets = wait_for(lambda: len(sink.to(addr, "Reset")) == 2
                      and sink.to(addr, "Reset"), 30)
    ok(resets, "two forgot requests, two reset mails")
    if not resets:
        return addr
    old_tok = token_from(resets[0], "/reset-password")
    new_tok = token_from(resets[1], "/reset-password")
    st, j, _ = a.req("POST", "/auth/password/reset",
                     {"token": old_tok, "newPassword": "brand new pass 2"})
    ok(st == 400 and j["code"] == "invalid_or_expired_token",
       "only the newest reset token works")
    st, j, _ = a.req("POST", "/auth/password/reset",
                     {"token": new_tok, "newPassword": "short"})
    ok(st == 400 and j["code"] == "validation_failed",
       "a refused password does not use the token")
    st, j, _ = a.req("POST", "/auth/password/reset",
                     {"token": new_tok, "newPassword": "brand new pass 2"})
    ok(st == 204, "reset -> 204")
    st, j, _ = a.req("GET", "/auth/profile", token=access)
    ok(st == 401, "the reset revoked the sessions and their access tokens")
    st, j, _ = a.req("POST", "/auth/password/reset",
                     {"token": new_tok, "newPassword": "brand new pass 3"})
    ok(st == 400, "a used reset token -> 400")
    st, j, _ = a.req("POST", "/auth/login", {"email": addr,
                                              "password": "brand new pass 2"})
    ok(st == 200, "login with the new password")
    ok(wait_for(lambda: sink.to(addr, "password was changed"), 30),
       "a 'password was changed' mail follows the reset")
    nobody = psql("SELECT count(*) FROM mail_outbox WHERE to_addr LIKE"
                  " 'nobody-%%'")
    ok(nobody[0][0] == "0", "an unknown address gets no mail and no row")
    return addr


def make_admin(a, sink):
    addr = "boss-%s@example.com" % uuid.uuid4().hex[:8]
    register(a, addr, name="Boss")
    psql("UPDATE users SET role = 'SUPER_ADMIN', email_verified = true"
         " WHERE email = :'a1'", addr)
    st, j, _ = a.req("POST", "/auth/login", {"email": addr,
                                              "password": "correct horse 1"})
    return addr, psql("SELECT id FROM users WHERE email = :'a1'", addr)[0][0],\
        j["accessToken"]


def scenario_booking(a, sink, admin_id, admin_token, admin_addr):
    addr = "booker-%s@example.com" % uuid.uuid4().hex[:8]
    start = next_weekday_slot(a)
    evil = {"name": "Eve\r\nBcc: victim@example.com", "email": addr,
            "topic": "x", "scheduledAt": start}
    st, j, _ = a.req("POST", "/api/consultations", evil)
    ok(st == 400, "a name with CR/LF is refused (no header injection)")
    evil = {"name": "Eve", "email": addr + "\r\nBcc: victim@example.com",
            "topic": "x", "scheduledAt": start}
    st, j, _ = a.req("POST", "/api/consultations", evil)
    ok(st == 400, "an email with CR/LF is refused")
    name = "Zoë <b>=?UTF-8?B?QmNjOg==?= O'Neil"
    st, c, _ = a.req("POST", "/api/consultations",
                     {"name": name, "email": addr, "topic": "SECRET TOPIC",
                      "notes": "SECRET NOTES", "scheduledAt": start,
                      "consultantId": admin_id})
    ok(st == 201, "anonymous booking -> 201")
    if st != 201:
        diag(c)
        return
    cid = c["id"]
    msgs = wait_for(lambda: sink.to(addr, "booked"), 30)
    ok(msgs and len(msgs) == 1, "the booker gets one confirmation")
    if not msgs:
        return
    msg = msgs[0]
    check_mime(msg, addr)
    raw = msg.as_bytes()
    ok(b"=?UTF-8?B?" in raw.split(b"\r\n\r\n")[0].split(b"Subject:")[1][:200],
       "a non-ASCII subject is RFC 2047 encoded")
    ok(msg["Subject"] == "Consultation booked – confirmation",
       "and decodes to the UTF-8 subject")
    headers = raw.split(b"\r\n\r\n")[0]
    ok(b"victim" not in raw and b"Bcc" not in headers,
       "no Bcc header, no injected recipient")
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    ok("SECRET" not in text and "SECRET" not in html
       and "SECRET" not in (ics_of(msg) or ""),
       "an anonymous booker's mail never quotes topic or notes")
    ok(name in text and "<b>" not in html
       and "Zo\u00eb &lt;b&gt;" in html and "O&#39;Neil" in html,
       "the name is quoted in text and HTML-escaped in HTML")
    ics = ics_of(msg) or ""
    host = PUBLIC.split("//")[1]
    ok("METHOD:REQUEST" in ics and "UID:%s@%s" % (cid, host) in ics
       and "SEQUENCE:0" in ics and "ORGANIZER;CN=\"Acme Consulting\":"
       "mailto:noreply@example.com" in ics,
       "the .ics: METHOD:REQUEST, UID {id}@{host}, SEQUENCE:0, ORGANIZER")
    ok(wait_for(lambda: sink.to(admin_addr, "booked"), 30),
       "the consultant gets a copy")
    later = start.replace("T10:", "T11:")
    st, j, _ = a.req("PATCH", "/api/consultations/" + cid,
                     {"scheduledAt": later}, token=admin_token)
    ok(st == 200, "reschedule -> 200")
    msgs = wait_for(lambda: sink.to(addr, "rescheduled"), 30)
    ics = ics_of(msgs[0]) if msgs else ""
    ok("METHOD:REQUEST" in ics and "SEQUENCE:1" in ics
       and "UID:%s@%s" % (cid, host) in ics,
       "reschedule: METHOD:REQUEST, same UID, SEQUENCE:1")
    st, j, _ = a.req("PATCH", "/api/consultations/" + cid,
                     {"status": "CONFIRMED"}, token=admin_token)
    st, j, _ = a.req("DELETE", "/api/consultations/" + cid,
                     token=admin_token)
    ok(st == 204, "cancel -> 204")
    msgs = wait_for(lambda: sink.to(addr, "cancelled"), 30)
    ics = ics_of(msgs[0]) if msgs else ""
    ok("METHOD:CANCEL" in ics and "STATUS:CANCELLED" in ics
       and "SEQUENCE:2" in ics,
       "cancellation: METHOD:CANCEL, STATUS:CANCELLED, SEQUENCE:2")
    ok(len(sink.to(addr)) == 3, "CONFIRMED sent nothing (3 mails in all)")


def scenario_rollback(a):
    before = psql("SELECT count(*) FROM mail_outbox")[0][0]
    psql("BEGIN; INSERT INTO leads (name, email) VALUES ('R', 'r@example.com');"
         " ROLLBACK;")
    after = psql("SELECT count(*) FROM mail_outbox")[0][0]
    ok(before == after, "a rolled-back change queues nothing")


def scenario_leads_users(a, sink, admin_token, admin_id, admin_addr):
    st, lead, _ = a.req("POST", "/api/leads",
                        {"name": "Lead <i>x</i>", "email": "lead@example.com"})
    ok(st == 201, "lead capture -> 201")
    ok(wait_for(lambda: [m for m in sink.to("alerts@example.com", "New lead")
                         if lead["id"] in m.get_body(("plain",))
                         .get_content()], 30),
       "LeadCRMNotifyAdmins gets a new-lead alert")
    st, j, _ = a.req("PATCH", "/api/leads/" + lead["id"],
                     {"assignedToId": admin_id}, token=admin_token)
    ok(st == 200 and wait_for(lambda: sink.to(admin_addr, "assigned"), 30),
       "the assignee gets 'a lead was assigned to you'")
    old = "old-%s@example.com" % uuid.uuid4().hex[:8]
    new = "new-%s@example.com" % uuid.uuid4().hex[:8]
    st, u, _ = register(a, old)
    uid = u["user"]["id"]
    wait_for(lambda: sink.to(old, "Confirm"), 30)
    st, j, _ = a.req("PATCH", "/api/users/" + uid, {"email": new},
                     token=admin_token)
    ok(st == 200 and j["emailVerified"] is False,
       "admin email change -> emailVerified false")
    ok(wait_for(lambda: sink.to(old, "email address was changed"), 30),
       "the old address gets a notice")
    msgs = wait_for(lambda: sink.to(new, "Confirm"), 30)
    ok(msgs, "the new address gets a verification mail")
    old_tok = token_from(sink.to(old, "Confirm")[0], "/verify-email")
    st, j, _ = a.req("POST", "/auth/verify-email", {"token": old_tok})
    ok(st == 400, "the old address's token no longer verifies")
    if msgs:
        st, j, _ = a.req("POST", "/auth/verify-email",
                         {"token": token_from(msgs[0], "/verify-email")})
        ok(st == 200 and j["user"]["email"] == new
           and j["user"]["emailVerified"], "the new address verifies")


def scenario_notifications(a, admin_token, user_token):
    st, j, _ = a.req("GET", "/api/notifications?limit=5", token=admin_token)
    ok(st == 200 and len(j["data"]) == 5 and j["pagination"]["total"] > 5,
       "GET /api/notifications lists outbox entries")
    ok(all(set(e) == {"id", "kind", "to", "subject", "status", "attempts",
                      "lastError", "createdAt", "sentAt"} for e in j["data"]),
       "entries carry exactly the contract fields (never a body)")
    st, j, _ = a.req("GET", "/api/notifications?kind=lead_alert&status=SENT"
                     "&recipient=ALERTS@example.com", token=admin_token)
    ok(st == 200 and j["data"] and all(e["kind"] == "lead_alert"
                                       and e["to"] == "alerts@example.com"
                                       for e in j["data"]),
       "kind, status and recipient (case-insensitive) filter")
    st, j, _ = a.req("GET", "/api/notifications?kind=nope", token=admin_token)
    ok(st == 400 and j["code"] == "invalid_query", "a bad kind -> 400")
    st, j, _ = a.req("GET", "/api/notifications", token=user_token)
    ok(st == 403, "a USER -> 403")


def bulk_alerts(n, tag):
    """n new leads in one statement: n lead_alert rows; their mail ids."""
    psql("INSERT INTO leads (name, email) SELECT 'Bulk ' || g,"
         " :'a1' || g || '@example.com' FROM generate_series(1, %d) g" % n,
         tag)
    return [r[0] for r in psql(
        "SELECT o.id FROM mail_outbox o JOIN leads l ON l.id = o.ref_id"
        " WHERE o.kind = 'lead_alert' AND l.email LIKE :'a1' || '%%'", tag)]


def mid(oid):
    return "<%s@%s>" % (oid, PUBLIC.split("//")[1])


def status_of(ids):
    """Status counts of ids, or of the lead_alert rows of a bulk tag."""
    if isinstance(ids, str):
        rows = psql("SELECT o.status, count(*) FROM mail_outbox o JOIN leads l"
                    " ON l.id = o.ref_id WHERE o.kind = 'lead_alert'"
                    " AND l.email LIKE :'a1' || '%%' GROUP BY o.status", ids)
    else:
        rows = psql("SELECT status, count(*) FROM mail_outbox WHERE id = ANY("
                    "string_to_array(:'a1', ',')::uuid[]) GROUP BY status",
                    ",".join(ids))
    return {r[0]: int(r[1]) for r in rows}


def all_sent(ids):
    return status_of(ids).get("SENT", 0) == len(ids)


def exactly_once(sink, ids):
    return all(sink.ids.get(mid(i), 0) == 1 for i in ids)


def scenario_smtp_down(a, smtp, sink):
    smtp.stop()
    ids = bulk_alerts(5, "down-%s-" % uuid.uuid4().hex[:6])
    ok(wait_for(lambda: int(psql(
        "SELECT min(attempts) FROM mail_outbox WHERE id = ANY("
        "string_to_array(:'a1', ',')::uuid[])", ",".join(ids))[0][0]) >= 1
        and all(r[4] for r in outbox("id = ANY(string_to_array(:'a1', ',')"
                                     "::uuid[])", ",".join(ids))), 30),
       "SMTP down: the mails are tried and stay QUEUED with an error")
    ok(status_of(ids) == {"QUEUED": 5}, "nothing is lost or failed")
    smtp.start()
    ok(wait_for(lambda: all_sent(ids), 60), "SMTP back: all 5 are sent")
    ok(exactly_once(sink, ids), "each exactly once (by Message-ID)")


def scenario_4xx_5xx(a, sink):
    sink.mode = "4xx"
    ids = bulk_alerts(1, "tempfail-%s-" % uuid.uuid4().hex[:6])
    w = "id = :'a1'"
    ok(wait_for(lambda: (lambda r: r and r[0][2] == "QUEUED"
                         and int(r[0][3]) >= 2 and r[0][4].startswith("451"))
                (outbox(w, ids[0])), 30),
       "a 4xx reply is retried (lastError is the reply)")
    sink.mode = "5xx"
    ok(wait_for(lambda: (lambda r: r and r[0][2] == "FAILED"
                         and r[0][4].startswith("550") and r[0][5] == "t")
                (outbox(w, ids[0])), 30),
       "then a 5xx reply fails it at once, its body erased")
    sink.mode = "ok"
    ok(sink.ids.get(mid(ids[0]), 0) == 0, "a refused mail was never stored")
    c = http.client.HTTPConnection("127.0.0.1", a.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    ok(re.search(r"^leadcrm_mail_failed_total [1-9]", text, re.M)
       and re.search(r"^leadcrm_mail_sent_total [1-9]", text, re.M)
       and re.search(r"^leadcrm_mail_queued \d+", text, re.M),
       "metrics: leadcrm_mail_queued, _sent_total, _failed_total")


def scenario_restart(a, smtp, sink):
    smtp.stop()
    ids = bulk_alerts(5, "restart-%s-" % uuid.uuid4().hex[:6])
    a.stop()
    ok(status_of(ids) == {"QUEUED": 5}, "httpd stopped with 5 mails queued")
    smtp.start()
    ok(a.start(), "httpd starts again")
    ok(wait_for(lambda: all_sent(ids), 60) and exactly_once(sink, ids),
       "the queued mails go out, each exactly once")


def scenario_two_nodes(a, b, sink, admin_id):
    sink.store = False
    ids = bulk_alerts(500, "pair-%s-" % uuid.uuid4().hex[:6])
    ok(wait_for(lambda: all_sent(ids), 180), "two nodes send 500 mails")
    ok(exactly_once(sink, ids), "each exactly once across the two nodes")
    diag("SMTP connections so far: %d" % len(sink.peers))
    sink.store = True
    # reminders: due at once for an upcoming booking, sent once
    addr = "remind-%s@example.com" % uuid.uuid4().hex[:8]
    st, c, _ = b.req("POST", "/api/consultations",
                     {"name": "Rita", "email": addr, "topic": "t",
                      "scheduledAt": next_weekday_slot(b, 4, 14)})
    ok(st == 201 and wait_for(lambda: sink.to(addr, "booked"), 30),
       "a booking through node B is confirmed")
    psql("UPDATE mail_state SET reminder_before = interval '30 days'")
    ok(wait_for(lambda: sink.to(addr, "Reminder"), 30),
       "the reminder goes out when due")
    time.sleep(3)
    n = psql("SELECT count(*) FROM mail_outbox WHERE kind ="
             " 'booking_reminder' AND to_addr = :'a1'", addr)[0][0]
    ok(len(sink.to(addr, "Reminder")) == 1 and n == "1",
       "exactly one reminder per scheduledAt with two nodes")
    psql("UPDATE mail_state SET reminder_before = interval '1 day'")


def scenario_bulk(a, b, sink):
    sink.store = False
    tag = "bulk-%s-" % uuid.uuid4().hex[:6]
    ids = bulk_alerts(10000, tag)
    ok(len(ids) == 10000, "10,000 mails queued")
    wait_for(lambda: status_of(tag).get("SENT", 0) >= 1500, 120, 1)
    rss0 = a.rss_kb() + b.rss_kb()
    done = wait_for(lambda: status_of(tag).get("SENT", 0) == 10000, 600, 1)
    rss1 = a.rss_kb() + b.rss_kb()
    diag("RSS of both nodes' children: %d kB after 1500, %d kB after 10000"
         % (rss0, rss1))
    ok(done, "the workers keep up: all 10,000 sent")
    ok(exactly_once(sink, ids), "each exactly once")
    ok(rss1 - rss0 < 32 * 1024, "memory stays flat (growth under 32 MB)")
    sink.store = True


def make_cert():
    key, crt = os.path.join(T, "smtp.key"), os.path.join(T, "smtp.crt")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", crt, "-days", "2",
                    "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost"], check=True,
                   capture_output=True)
    os.chmod(crt, 0o644)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(crt, key)
    return crt, ctx


class Auth:
    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult
        good = (auth_data.login == b"leadcrm"
                and auth_data.password == b"s3cret pass")
        return AuthResult(success=good)


def scenario_tls(a, sink, plain_port):
    crt, ctx = make_cert()
    tls_sink = Sink(os.path.join(T, "mail-tls"))
    tls = Smtp(tls_sink, tls=ctx)
    tls.ctl = Controller(tls_sink, hostname="127.0.0.1", port=tls.port,
                         server_hostname="localhost", tls_context=ctx,
                         require_starttls=True, authenticator=Auth(),
                         auth_required=True, auth_require_tls=True)
    tls.ctl.start()
    pw = os.path.join(T, "smtp.password")
    with open(pw, "w") as f:
        f.write("s3cret pass\n")
    # STARTTLS required but not offered: nothing in clear
    a.stop()
    a.extra = "LeadCRMSMTPServer smtp://127.0.0.1:%d\n" % plain_port
    a.start()
    ids = bulk_alerts(1, "notls-%s-" % uuid.uuid4().hex[:6])
    ok(wait_for(lambda: (lambda r: r and int(r[0][3]) >= 1
                         and "TLS" in r[0][4])(outbox("id = :'a1'", ids[0])),
                30) and sink.ids.get(mid(ids[0]), 0) == 0,
       "STARTTLS not offered: nothing sent in clear, retried later")
    # a self-signed certificate is refused
    a.stop()
    a.extra = ("LeadCRMSMTPServer smtp://localhost:%d\n"
               "LeadCRMSMTPAuth leadcrm %s\n" % (tls.port, pw))
    a.start()
    ok(wait_for(lambda: (lambda r: r and "not trusted" in r[0][4])
                (outbox("id = :'a1'", ids[0])), 30)
       and tls_sink.count == 0,
       "a self-signed certificate is refused (nothing sent)")
    # trusted through LeadCRMSMTPCAFile, with AUTH
    a.stop()
    a.extra += "LeadCRMSMTPCAFile %s\n" % crt
    a.start()
    ok(wait_for(lambda: tls_sink.ids.get(mid(ids[0]), 0) == 1, 60),
       "with LeadCRMSMTPCAFile the same mail goes out over STARTTLS + AUTH")
    tls.stop()


def scenario_require_verified(a, sink, smtp):
    a.stop()
    a.extra = ("LeadCRMSMTPServer smtp://127.0.0.1:%d\nLeadCRMSMTPTLS off\n"
               "LeadCRMRequireVerifiedEmail On\n" % smtp.port)
    ok(a.start(), "node A with LeadCRMRequireVerifiedEmail On")
    addr = "strict-%s@example.com" % uuid.uuid4().hex[:8]
    st, j, r = register(a, addr)
    if not ok(st == 201 and set(j) == {"user"}
              and not r.getheader("Set-Cookie"),
              "register -> 201 {user}, no tokens, no cookie"):
        diag("%s %s %s" % (st, j, r.getheader("Set-Cookie")))
    st, j, _ = a.req("POST", "/auth/login", {"email": addr,
                                              "password": "correct horse 1"})
    ok(st == 403 and j["code"] == "email_not_verified",
       "login of an unverified account -> 403 email_not_verified")
    msgs = wait_for(lambda: sink.to(addr, "Confirm"), 30)
    if msgs:
        a.req("POST", "/auth/verify-email",
              {"token": token_from(msgs[0], "/verify-email")})
    st, j, _ = a.req("POST", "/auth/login", {"email": addr,
                                              "password": "correct horse 1"})
    ok(st == 200 and j.get("accessToken"), "after verifying, login works")


def scenario_config_checks():
    bad = [
        ("LeadCRMRequireVerifiedEmail On", True, "needs LeadCRMSMTPServer"),
        ("LeadCRMSMTPServer smtp://127.0.0.1:25", False, "LeadCRMMailFrom"),
        ("LeadCRMSMTPServer smtp://mail.example.com:25\nLeadCRMSMTPTLS off\n"
         "LeadCRMSMTPAuth u /etc/hostname", True, "loopback"),
        ("LeadCRMSMTPServer ftp://x", True, "smtp://host:port"),
        ("LeadCRMMailFrom \"Eve <a@example.com>\\r\\nBcc: b@example.com\"",
         True, "LeadCRMMailFrom"),
    ]
    for extra, mail_lines, want in bad:
        rc, err = Node("t", extra, mail_lines).check()
        ok(rc != 0 and want in err, "apache2 -t refuses: %s" % want)
    off = Node("off", "", False)
    ok(off.start(), "a node without LeadCRMSMTPServer starts")
    st, j, _ = off.req("POST", "/auth/password/forgot",
                       {"email": "x@example.com"})
    ok(st == 503 and j["code"] == "mail_unavailable",
       "without LeadCRMSMTPServer forgot -> 503 mail_unavailable")
    st, j, _ = off.req("POST", "/auth/verify-email/resend",
                       {"email": "x@example.com"})
    ok(st == 503 and j["code"] == "mail_unavailable",
       "and resend -> 503 mail_unavailable")
    off.stop()


def timed(fn, *args):
    t0 = time.time()
    out = fn(*args)
    diag("%s: %.1f s" % (fn.__name__, time.time() - t0))
    return out


def main():
    import logging
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    sink = Sink(os.path.join(T, "mail"))
    smtp = Smtp(sink)
    smtp.start()
    base = ("LeadCRMSMTPServer smtp://127.0.0.1:%d\nLeadCRMSMTPTLS off\n"
            "LeadCRMNotifyAdmins alerts@example.com\n" % smtp.port)
    timed(scenario_config_checks)
    a = Node("a", base)
    ok(a.start(), "node A starts with mail configured")
    ok(wait_for(lambda: psql("SELECT enabled FROM mail_state")[0][0] == "t",
                30), "the worker publishes the mail settings")
    admin_addr, admin_id, admin_token = timed(make_admin, a, sink)
    user_addr = timed(scenario_verify_and_reset, a, sink)
    timed(scenario_booking, a, sink, admin_id, admin_token, admin_addr)
    timed(scenario_rollback, a)
    timed(scenario_leads_users, a, sink, admin_token, admin_id, admin_addr)
    user_token = (a.req("POST", "/auth/login", {
        "email": user_addr, "password": "brand new pass 2"})[1]
        or {}).get("accessToken")
    timed(scenario_notifications, a, admin_token, user_token)
    timed(scenario_smtp_down, a, smtp, sink)
    timed(scenario_4xx_5xx, a, sink)
    timed(scenario_restart, a, smtp, sink)
    b = Node("b", base)
    ok(b.start(), "node B starts on the same database")
    timed(scenario_two_nodes, a, b, sink, admin_id)
    if os.environ.get("LCRM_MAIL_BULK", "10000") != "0":
        timed(scenario_bulk, a, b, sink)
    b.stop()
    timed(scenario_tls, a, sink, smtp.port)
    timed(scenario_require_verified, a, sink, smtp)
    a.stop()
    smtp.stop()
    print("1..%d" % n_tests)
    return 1 if n_failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        for d in glob.glob(os.path.join(T, "node-*")):
            pidf = os.path.join(d, "httpd.pid")
            if os.path.exists(pidf):
                subprocess.run([HTTPD, "-f", os.path.join(d, "httpd.conf"),
                                "-k", "stop"], capture_output=True)
