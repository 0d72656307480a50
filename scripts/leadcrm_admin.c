/*
 * leadcrm-admin: the administrator's command line tool for mod_leadcrm.
 *
 * It creates the first ADMIN or SUPER_ADMIN account (the HTTP API can
 * only register USERs), and offers two helpers the tests use to prove
 * that hashes written by the module and by this tool are interchangeable.
 *
 *   leadcrm-admin create-admin --email E --name N [--role ADMIN|SUPER_ADMIN]
 *                              [--password-stdin] [--cost 10..17]
 *   leadcrm-admin verify-password --email E [--password-stdin]
 *   leadcrm-admin hash-password [--cost 10..17] [--password-stdin]
 *
 * The default role is ADMIN; the default bcrypt cost is 10.
 *
 * Passwords never come from argv or the environment.  With
 * --password-stdin exactly one line is read from standard input (a
 * trailing "\n" or "\r\n" is removed); otherwise, when standard input is
 * a terminal, the password is typed twice (once for verify-password) on
 * /dev/tty with echo off; otherwise the tool refuses (exit 5).
 *
 * Values are checked with the same core functions as the HTTP API:
 * email trimmed, lowercased, valid and <= 254 bytes; name 1..100 code
 * points without control characters; password 8 code points .. 72 bytes
 * of UTF-8 without NUL.  The hash is bcrypt ($2y$) from lcrm_password.
 *
 * The database is reached through libpq's environment only (PGHOST,
 * PGPORT, PGDATABASE, PGUSER, PGPASSWORD or ~/.pgpass, PGSSLMODE, ...);
 * every statement is parameterised.  Neither the password nor its hash is
 * ever printed by create-admin; server error details (which may quote a
 * failing row) are not printed either, only the primary message.
 *
 * Exit status:
 *   0  success (verify-password: the password verifies)
 *   1  bad usage or arguments (unknown option, bad --role or --cost,
 *      missing required option); verify-password: also "does not verify"
 *      (wrong password or no live user with that email)
 *   2  invalid input (email, name or password fails validation)
 *   3  the email is already taken by a live user
 *   4  database error (cannot connect, or a query failed)
 *   5  no password (no terminal and no --password-stdin, empty standard
 *      input) or the two typed passwords did not match
 *   6  internal error (APR initialisation, random source)
 *   7  no live user has the email (set-password, revoke-sessions)
 *
 * Operator commands (issue 16): set-password, list-users,
 * revoke-sessions, seed-demo, prepare-db (runs the prepare-db script
 * installed next to the migrations), --version.  PGDATABASE defaults to
 * "leadcrm".  New commands: one function and one row in admin_cmds.
 */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_strings.h>
#include <libpq-fe.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <termios.h>
#include <unistd.h>

#include "lcrm_password.h"
#include "lcrm_role.h"
#include "lcrm_validate.h"

#define ADMIN_PROG "leadcrm-admin"

enum {
    ADMIN_EXIT_OK = 0,
    ADMIN_EXIT_USAGE = 1,
    ADMIN_EXIT_INVALID = 2,
    ADMIN_EXIT_TAKEN = 3,
    ADMIN_EXIT_DB = 4,
    ADMIN_EXIT_NO_PASSWORD = 5,
    ADMIN_EXIT_INTERNAL = 6,
    ADMIN_EXIT_NO_USER = 7
};

/* A verify-password mismatch shares exit status 1 with usage errors. */
#define ADMIN_EXIT_MISMATCH 1

/* Longer password lines are consumed but refused as too long. */
#define ADMIN_SECRET_MAX 256

#define ADMIN_NAME_MAX 100

/* Option bits, one per option in admin_options. */
#define OPT_EMAIL 0x01u
#define OPT_NAME 0x02u
#define OPT_ROLE 0x04u
#define OPT_COST 0x08u
#define OPT_PASSWORD_STDIN 0x10u
#define OPT_HELP 0x20u
#define OPT_KEY_ID 0x40u

typedef struct {
    unsigned seen; /* OPT_* bits given */
    const char *email, *name, *role, *cost, *key_id;
} admin_args_t;

typedef struct {
    const char *name;  /* "--email" */
    unsigned bit;
    size_t value_off;  /* offset of the value in admin_args_t, 0: a flag */
} admin_option_t;

static const admin_option_t admin_options[] = {
    {"--email", OPT_EMAIL, offsetof(admin_args_t, email)},
    {"--name", OPT_NAME, offsetof(admin_args_t, name)},
    {"--role", OPT_ROLE, offsetof(admin_args_t, role)},
    {"--cost", OPT_COST, offsetof(admin_args_t, cost)},
    {"--password-stdin", OPT_PASSWORD_STDIN, 0},
    {"--help", OPT_HELP, 0},
    {"--key-id", OPT_KEY_ID, offsetof(admin_args_t, key_id)},
    {NULL, 0, 0}
};

/* A password being read: at most ADMIN_SECRET_MAX bytes kept. */
typedef struct {
    char buf[ADMIN_SECRET_MAX + 1];
    apr_size_t len;
    int too_long;
} admin_secret_t;

typedef struct admin_cmd admin_cmd_t;

typedef struct {
    apr_pool_t *pool;
    const admin_cmd_t *cmd;
    admin_args_t args;
    const char *email; /* normalised */
    int role;
    int cost;
} admin_ctx_t;

struct admin_cmd {
    const char *name;
    unsigned allowed, required; /* OPT_* bits */
    int (*run)(admin_ctx_t *ctx);
    const char *usage;
};

static const char sql_email_live[] =
    "SELECT 1 FROM users WHERE lower(email) = lower($1) "
    "AND deleted_at IS NULL";
static const char sql_insert_admin[] =
    "INSERT INTO users (email, password_hash, name, role, email_verified) "
    "VALUES ($1, $2, $3, $4::lcrm_role, true) "
    "ON CONFLICT ((lower(email))) WHERE deleted_at IS NULL DO NOTHING "
    "RETURNING id";
static const char sql_stored_hash[] =
    "SELECT password_hash FROM users WHERE lower(email) = lower($1) "
    "AND deleted_at IS NULL";

/* The terminal whose echo is off, for the signal handler. */
static int tty_fd = -1;
static struct termios tty_saved;

static void admin_err(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

/* Prints "leadcrm-admin: <message>" and a newline on stderr. */
static void admin_err(const char *fmt, ...)
{
    va_list ap;

    fputs(ADMIN_PROG ": ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* ---- arguments ------------------------------------------------------- */

/*
 * Finds the option arg names ("--x" or "--x=value").  Returns it or NULL;
 * *inline_value gets the text after '=' (NULL without one).
 */
static const admin_option_t *find_option(const char *arg,
                                         const char **inline_value)
{
    const admin_option_t *o;
    size_t n;

    for (o = admin_options; o->name; o++) {
        n = strlen(o->name);
        if (!strncmp(arg, o->name, n) && (arg[n] == '\0' || arg[n] == '=')) {
            *inline_value = arg[n] == '=' ? arg + n + 1 : NULL;
            return o;
        }
    }
    return NULL;
}

/*
 * Explains an argument that is not an option of this command; returns 1.
 * Only the option name is echoed, never a value (it might be a password).
 */
static int unknown_argument(const admin_cmd_t *cmd, const char *arg)
{
    size_t n = strcspn(arg, "=");

    if (!strncmp(arg, "--password", 10)) {
        admin_err("--password: passwords are never taken from the command "
                  "line; use --password-stdin or type it at the prompt");
    }
    else if (arg[0] == '-') {
        admin_err("%.*s: unknown option for %s (see --help)", (int)n, arg,
                  cmd->name);
    }
    else {
        admin_err("unexpected argument for %s: values follow their option, "
                  "e.g. --name N (see --help)", cmd->name);
    }
    return ADMIN_EXIT_USAGE;
}

/*
 * Stores one option (and its value, from inline_value or argv[*i + 1]).
 * Returns 0 or an exit status after printing why.
 */
static int take_option(admin_ctx_t *ctx, const admin_option_t *o,
                       const char *inline_value, char **argv, int *i)
{
    const char *value = inline_value;

    if (!(ctx->cmd->allowed & o->bit)) {
        return unknown_argument(ctx->cmd, argv[*i]);
    }
    if (ctx->args.seen & o->bit) {
        admin_err("%s: given more than once", o->name);
        return ADMIN_EXIT_USAGE;
    }
    ctx->args.seen |= o->bit;
    if (!o->value_off) {
        if (inline_value) {
            admin_err("%s: takes no value", o->name);
            return ADMIN_EXIT_USAGE;
        }
        return 0;
    }
    if (!value) {
        if (!argv[*i + 1]) {
            admin_err("%s: needs a value", o->name);
            return ADMIN_EXIT_USAGE;
        }
        value = argv[++*i];
    }
    *(const char **)((char *)&ctx->args + o->value_off) = value;
    return 0;
}

/* Parses argv[first..argc) into ctx->args; 0 or an exit status. */
static int parse_args(admin_ctx_t *ctx, int argc, char **argv, int first)
{
    const admin_option_t *o;
    const char *inline_value;
    int i, rc;

    for (i = first; i < argc; i++) {
        if (!(o = find_option(argv[i], &inline_value))) {
            return unknown_argument(ctx->cmd, argv[i]);
        }
        if ((rc = take_option(ctx, o, inline_value, argv, &i))) {
            return rc;
        }
    }
    return 0;
}

/* Parses --cost (10..17, default 10) and --role (ADMIN, SUPER_ADMIN). */
static int check_role_and_cost(admin_ctx_t *ctx)
{
    char *end;
    apr_int64_t v;

    ctx->cost = LCRM_BCRYPT_COST_DEFAULT;
    if (ctx->args.cost) {
        errno = 0;
        v = apr_strtoi64(ctx->args.cost, &end, 10);
        if (errno || end == ctx->args.cost || *end
            || v < LCRM_BCRYPT_COST_MIN || v > LCRM_BCRYPT_COST_MAX) {
            admin_err("--cost: must be an integer from %d to %d",
                      LCRM_BCRYPT_COST_MIN, LCRM_BCRYPT_COST_MAX);
            return ADMIN_EXIT_USAGE;
        }
        ctx->cost = (int)v;
    }
    ctx->role = LCRM_ROLE_ADMIN;
    if (ctx->args.role) {
        ctx->role = lcrm_role_parse(ctx->args.role);
        if (ctx->role != LCRM_ROLE_ADMIN
            && ctx->role != LCRM_ROLE_SUPER_ADMIN) {
            admin_err("--role: must be ADMIN or SUPER_ADMIN");
            return ADMIN_EXIT_USAGE;
        }
    }
    return 0;
}

/* Reports the first required option of the command that is missing. */
static int check_required(const admin_ctx_t *ctx)
{
    const admin_option_t *o;
    unsigned missing = ctx->cmd->required & ~ctx->args.seen;

    for (o = admin_options; o->name; o++) {
        if (missing & o->bit) {
            admin_err("%s is required for %s (see --help)", o->name,
                      ctx->cmd->name);
            return ADMIN_EXIT_USAGE;
        }
    }
    return 0;
}

/* ---- field validation ------------------------------------------------ */

/* Normalises and checks --email into ctx->email; 0 or 2. */
static int check_email(admin_ctx_t *ctx)
{
    const char *raw = ctx->args.email, *msg;

    if (!(msg = lcrm_check_text(raw, strlen(raw), 0, NULL))) {
        ctx->email = lcrm_normalize_email(ctx->pool, raw, strlen(raw));
        msg = lcrm_check_email(ctx->email);
    }
    if (msg) {
        admin_err("email: %s", msg);
        return ADMIN_EXIT_INVALID;
    }
    return 0;
}

/* Checks --name: 1..100 code points, no control characters; 0 or 2. */
static int check_name(const char *name)
{
    apr_size_t cps = 0;
    const char *msg = lcrm_check_text(name, strlen(name), 0, &cps);

    if (!msg && cps < 1) {
        msg = "must not be empty";
    }
    else if (!msg && cps > ADMIN_NAME_MAX) {
        msg = "is too long (at most 100 characters)";
    }
    if (msg) {
        admin_err("name: %s", msg);
        return ADMIN_EXIT_INVALID;
    }
    return 0;
}

/* Checks a password read into s against the API's rule; 0 or 2. */
static int check_password(const admin_secret_t *s)
{
    const char *msg = s->too_long ? "must be at most 72 bytes"
                                  : lcrm_check_password(s->buf, s->len);

    if (msg) {
        admin_err("password: %s", msg);
        return ADMIN_EXIT_INVALID;
    }
    return 0;
}

/* ---- reading the password -------------------------------------------- */

/*
 * Reads one line from fd byte by byte (never past its end) into s,
 * without the trailing "\n" or "\r\n".  Returns 1 for a line (possibly
 * empty), 0 at end of input before any byte, -1 on a read error.
 */
static int read_line(int fd, admin_secret_t *s)
{
    char c;
    ssize_t n;
    int any = 0;

    s->len = 0;
    s->too_long = 0;
    while ((n = read(fd, &c, 1)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        any = 1;
        if (c == '\n') {
            break;
        }
        if (s->len < ADMIN_SECRET_MAX) {
            s->buf[s->len++] = c;
        }
        else {
            s->too_long = 1;
        }
    }
    if (!s->too_long && s->len && s->buf[s->len - 1] == '\r') {
        s->len--;
    }
    s->buf[s->len] = '\0';
    return any;
}

/* Restores the terminal's echo, then dies of the same signal. */
static void tty_signal(int sig)
{
    if (tty_fd >= 0) {
        tcsetattr(tty_fd, TCSAFLUSH, &tty_saved);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Installs (handler) or restores (old) the handlers of fatal signals. */
static void tty_signals(struct sigaction *old, int install)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = tty_signal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
        if (install) {
            sigaction(sigs[i], &sa, &old[i]);
        }
        else {
            sigaction(sigs[i], &old[i], NULL);
        }
    }
}

/*
 * Prints prompt on the terminal fd and reads one line with echo off.
 * Returns like read_line.
 */
static int tty_read(int fd, const char *prompt, admin_secret_t *s)
{
    struct sigaction old[4];
    struct termios quiet;
    int rc;

    if (tcgetattr(fd, &tty_saved)) {
        return -1;
    }
    quiet = tty_saved;
    quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHOE | ECHOK);
    quiet.c_lflag |= ECHONL;
    tty_signals(old, 1);
    tty_fd = fd;
    /* Echo off before the prompt: only type-ahead before it is flushed. */
    if (tcsetattr(fd, TCSAFLUSH, &quiet)
        || write(fd, prompt, strlen(prompt)) < 0) {
        rc = -1;
    }
    else {
        rc = read_line(fd, s);
    }
    tcsetattr(fd, TCSAFLUSH, &tty_saved);
    tty_fd = -1;
    tty_signals(old, 0);
    return rc;
}

/* Reads the password (twice when confirm) on /dev/tty; 0 or 5. */
static int prompt_password(admin_secret_t *s, int confirm)
{
    admin_secret_t again;
    int fd, rc = 0;

    if ((fd = open("/dev/tty", O_RDWR | O_CLOEXEC)) < 0) {
        admin_err("password: cannot open the terminal: %s", strerror(errno));
        return ADMIN_EXIT_NO_PASSWORD;
    }
    if (tty_read(fd, "Password: ", s) != 1) {
        admin_err("password: none was entered");
        rc = ADMIN_EXIT_NO_PASSWORD;
    }
    else if (confirm && tty_read(fd, "Repeat password: ", &again) != 1) {
        admin_err("password: none was entered");
        rc = ADMIN_EXIT_NO_PASSWORD;
    }
    else if (confirm && (again.len != s->len || again.too_long != s->too_long
                         || memcmp(again.buf, s->buf, s->len))) {
        admin_err("password: the two passwords did not match");
        rc = ADMIN_EXIT_NO_PASSWORD;
    }
    explicit_bzero(&again, sizeof(again));
    close(fd);
    return rc;
}

/* Fails early when there is no way to get a password; 0 or 5. */
static int password_source_ok(const admin_ctx_t *ctx)
{
    if (!(ctx->args.seen & OPT_PASSWORD_STDIN) && !isatty(STDIN_FILENO)) {
        admin_err("password: standard input is not a terminal; "
                  "use --password-stdin");
        return ADMIN_EXIT_NO_PASSWORD;
    }
    return 0;
}

/* Gets the password from stdin or the terminal into s; 0 or 5. */
static int get_password(const admin_ctx_t *ctx, admin_secret_t *s,
                        int confirm)
{
    int rc;

    if (!(ctx->args.seen & OPT_PASSWORD_STDIN)) {
        return prompt_password(s, confirm);
    }
    if ((rc = read_line(STDIN_FILENO, s)) == 1) {
        return 0;
    }
    if (rc < 0) {
        admin_err("password: cannot read standard input: %s",
                  strerror(errno));
    }
    else {
        admin_err("password: standard input is empty");
    }
    return ADMIN_EXIT_NO_PASSWORD;
}

/* ---- database -------------------------------------------------------- */

/* Connects through the PG* environment, client encoding UTF8; 0 or 4. */
static int db_connect(PGconn **conn)
{
    static const char *const keys[] = {"fallback_application_name", NULL};
    static const char *const values[] = {ADMIN_PROG, NULL};
    const char *msg;
    size_t n;

    *conn = PQconnectdbParams(keys, values, 0);
    if (*conn && PQstatus(*conn) == CONNECTION_OK
        && PQsetClientEncoding(*conn, "UTF8") == 0) {
        return 0;
    }
    msg = *conn ? PQerrorMessage(*conn) : "out of memory";
    n = strlen(msg);
    while (n && (msg[n - 1] == '\n' || msg[n - 1] == ' ')) {
        n--;
    }
    admin_err("database: cannot connect: %.*s", (int)n, msg);
    PQfinish(*conn);
    *conn = NULL;
    return ADMIN_EXIT_DB;
}

/*
 * Reports a failed query by its primary message and SQLSTATE only (the
 * detail may quote the row, hash included).  Clears res; returns 4.
 */
static int db_fail(PGconn *conn, PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

    if (!msg) {
        msg = PQstatus(conn) == CONNECTION_OK ? "query failed"
                                              : "connection lost";
    }
    admin_err("database: %s%s%s%s", msg, state ? " (SQLSTATE " : "",
              state ? state : "", state ? ")" : "");
    if (state && (!strcmp(state, "42P01") || !strcmp(state, "42704"))) {
        admin_err("hint: apply the migrations first (scripts/migrate)");
    }
    PQclear(res);
    return ADMIN_EXIT_DB;
}

/*
 * Runs sql with n text parameters; *res gets a tuples result with at most
 * one row.  Returns 0 or 4 (reported, *res NULL).
 */
static int db_query(PGconn *conn, const char *sql, int n,
                    const char *const *params, PGresult **res)
{
    *res = PQexecParams(conn, sql, n, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(*res) == PGRES_TUPLES_OK) {
        return 0;
    }
    db_fail(conn, *res);
    *res = NULL;
    return ADMIN_EXIT_DB;
}

/* 0 when no live user has email, 3 (reported) when one has, or 4. */
static int db_email_free(PGconn *conn, const char *email)
{
    PGresult *res;
    int rc;

    if ((rc = db_query(conn, sql_email_live, 1, &email, &res))) {
        return rc;
    }
    rc = PQntuples(res) ? ADMIN_EXIT_TAKEN : 0;
    PQclear(res);
    if (rc) {
        admin_err("email: is already taken");
    }
    return rc;
}

/* Inserts the admin with hash and prints the success line; 0, 3 or 4. */
static int db_insert_admin(PGconn *conn, const admin_ctx_t *ctx,
                           const char *hash)
{
    const char *params[4];
    PGresult *res;

    params[0] = ctx->email;
    params[1] = hash;
    params[2] = ctx->args.name;
    params[3] = lcrm_role_name(ctx->role);
    if (db_query(conn, sql_insert_admin, 4, params, &res)) {
        return ADMIN_EXIT_DB;
    }
    if (PQntuples(res) != 1) {
        PQclear(res);
        admin_err("email: is already taken");
        return ADMIN_EXIT_TAKEN;
    }
    printf("created %s %s (id %s)\n", params[3], ctx->email,
           PQgetvalue(res, 0, 0));
    PQclear(res);
    return 0;
}

/* ---- commands -------------------------------------------------------- */

/* Hashes the password in s at ctx->cost into *hash; 0 or 6. */
static int hash_secret(const admin_ctx_t *ctx, const admin_secret_t *s,
                       const char **hash)
{
    apr_status_t rv = lcrm_password_hash(ctx->pool, s->buf, s->len,
                                         ctx->cost, hash);
    char buf[120];

    if (rv != APR_SUCCESS) {
        admin_err("password: cannot hash: %s",
                  apr_strerror(rv, buf, sizeof(buf)));
        return ADMIN_EXIT_INTERNAL;
    }
    return 0;
}

/*
 * create-admin: checks everything that needs no password first, then
 * connects, refuses a taken email before asking for the password, hashes
 * it and inserts (ON CONFLICT catches a concurrent insert).
 */
static int cmd_create_admin(admin_ctx_t *ctx)
{
    admin_secret_t secret;
    PGconn *conn = NULL;
    const char *hash;
    int rc;

    if ((rc = check_role_and_cost(ctx)) || (rc = check_email(ctx))
        || (rc = check_name(ctx->args.name))
        || (rc = password_source_ok(ctx)) || (rc = db_connect(&conn))
        || (rc = db_email_free(conn, ctx->email))) {
        PQfinish(conn);
        return rc;
    }
    if (!(rc = get_password(ctx, &secret, 1))
        && !(rc = check_password(&secret))
        && !(rc = hash_secret(ctx, &secret, &hash))) {
        rc = db_insert_admin(conn, ctx, hash);
    }
    explicit_bzero(&secret, sizeof(secret));
    PQfinish(conn);
    return rc;
}

/* Looks up the live user's hash and verifies s against it; 0, 1 or 4. */
static int verify_stored(PGconn *conn, const admin_ctx_t *ctx,
                         const admin_secret_t *s)
{
    PGresult *res;
    int rc;

    if ((rc = db_query(conn, sql_stored_hash, 1, &ctx->email, &res))) {
        return rc;
    }
    if (PQntuples(res) != 1) {
        admin_err("email: no live user has this email");
        rc = ADMIN_EXIT_MISMATCH;
    }
    else if (s->too_long
             || lcrm_password_verify(s->buf, s->len, PQgetvalue(res, 0, 0))
                    != APR_SUCCESS) {
        admin_err("password: does not verify against the stored hash");
        rc = ADMIN_EXIT_MISMATCH;
    }
    PQclear(res);
    return rc;
}

/* verify-password: 0 when the stored hash of --email verifies. */
static int cmd_verify_password(admin_ctx_t *ctx)
{
    admin_secret_t secret;
    PGconn *conn = NULL;
    int rc;

    if ((rc = check_email(ctx)) || (rc = password_source_ok(ctx))
        || (rc = get_password(ctx, &secret, 0))) {
        return rc;
    }
    if (!(rc = db_connect(&conn))) {
        rc = verify_stored(conn, ctx, &secret);
    }
    explicit_bzero(&secret, sizeof(secret));
    PQfinish(conn);
    return rc;
}

/* hash-password: prints a bcrypt hash of a valid password. */
static int cmd_hash_password(admin_ctx_t *ctx)
{
    admin_secret_t secret;
    const char *hash;
    int rc;

    if ((rc = check_role_and_cost(ctx)) || (rc = password_source_ok(ctx))) {
        return rc;
    }
    if (!(rc = get_password(ctx, &secret, 1))
        && !(rc = check_password(&secret))
        && !(rc = hash_secret(ctx, &secret, &hash))) {
        printf("%s\n", hash);
    }
    explicit_bzero(&secret, sizeof(secret));
    return rc;
}

/* ---- operator commands (issue 16) ----------------------------------- */

static const char sql_set_password[] =
    "WITH u AS (UPDATE users SET password_hash = $2, updated_at = now() "
    "WHERE lower(email) = lower($1) AND deleted_at IS NULL RETURNING id), "
    "s AS (UPDATE sessions SET revoked_at = now(), "
    "revoked_reason = 'password_change' WHERE user_id IN (SELECT id FROM u) "
    "AND revoked_at IS NULL RETURNING 1) "
    "SELECT u.id, (SELECT count(*) FROM s) FROM u";
static const char sql_list_users[] =
    "SELECT id, email, role, CASE WHEN is_active THEN 'active' "
    "ELSE 'inactive' END, to_char(created_at AT TIME ZONE 'UTC', "
    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"') FROM users "
    "WHERE deleted_at IS NULL AND ($1::lcrm_role IS NULL OR role = $1::lcrm_role) "
    "ORDER BY created_at, id";
/* Demo leads: fixed emails under a reserved domain, inserted once. */
static const char sql_seed_demo[] =
    "INSERT INTO leads (name, email, company, source, status, lost_reason, "
    "converted_at, message) "
    "SELECT d.name, d.email, d.company, d.source::lcrm_lead_source, "
    "d.status::lcrm_lead_status, d.lost, "
    "CASE WHEN d.status = 'CONVERTED' THEN now() END, 'Demo lead' "
    "FROM (VALUES "
    "('Ada Lovelace', 'ada@demo.leadcrm.invalid', 'Analytical Ltd', 'WEBSITE', 'NEW', NULL), "
    "('Grace Hopper', 'grace@demo.leadcrm.invalid', 'Compilers Inc', 'REFERRAL', 'CONTACTED', NULL), "
    "('Alan Turing', 'alan@demo.leadcrm.invalid', 'Bletchley', 'EVENT', 'QUALIFIED', NULL), "
    "('Edsger Dijkstra', 'edsger@demo.leadcrm.invalid', 'Structured BV', 'ADS', 'PROPOSAL', NULL), "
    "('Barbara Liskov', 'barbara@demo.leadcrm.invalid', 'Substitution LLC', 'SOCIAL', 'CONVERTED', NULL), "
    "('Ken Thompson', 'ken@demo.leadcrm.invalid', 'Unix Labs', 'EMAIL', 'LOST', 'Chose another vendor')"
    ") AS d(name, email, company, source, status, lost) "
    "WHERE NOT EXISTS (SELECT 1 FROM leads l WHERE l.email = d.email "
    "AND l.deleted_at IS NULL) RETURNING id";

/* Prints "<what> <email> (id <id>, <n> sessions revoked)" or reports 7. */
static int report_user_row(PGresult *res, const char *what,
                           const char *email)
{
    if (PQntuples(res) != 1) {
        admin_err("email: no live user has this email");
        return ADMIN_EXIT_NO_USER;
    }
    printf("%s %s (id %s, %s sessions revoked)\n", what, email,
           PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1));
    return 0;
}

/* set-password: new password for a live user; revokes their sessions. */
static int cmd_set_password(admin_ctx_t *ctx)
{
    admin_secret_t secret;
    PGconn *conn = NULL;
    PGresult *res;
    const char *hash, *params[2];
    int rc;

    if ((rc = check_role_and_cost(ctx)) || (rc = check_email(ctx))
        || (rc = password_source_ok(ctx)) || (rc = db_connect(&conn))) {
        PQfinish(conn);
        return rc;
    }
    if (!(rc = get_password(ctx, &secret, 1))
        && !(rc = check_password(&secret))
        && !(rc = hash_secret(ctx, &secret, &hash))) {
        params[0] = ctx->email;
        params[1] = hash;
        if (!(rc = db_query(conn, sql_set_password, 2, params, &res))) {
            rc = report_user_row(res, "password set for", ctx->email);
            PQclear(res);
        }
    }
    explicit_bzero(&secret, sizeof(secret));
    PQfinish(conn);
    return rc;
}

/* list-users: live users, tab-separated, oldest first. */
static int cmd_list_users(admin_ctx_t *ctx)
{
    PGconn *conn = NULL;
    PGresult *res;
    const char *role = NULL;
    int rc, i;

    if (ctx->args.role) {
        ctx->role = lcrm_role_parse(ctx->args.role);
        if (ctx->role < 0) {
            admin_err("--role: must be USER, ADMIN or SUPER_ADMIN");
            return ADMIN_EXIT_USAGE;
        }
        role = lcrm_role_name(ctx->role);
    }
    if ((rc = db_connect(&conn))) {
        return rc;
    }
    if (!(rc = db_query(conn, sql_list_users, 1, &role, &res))) {
        for (i = 0; i < PQntuples(res); i++) {
            printf("%s\t%s\t%s\t%s\t%s\n", PQgetvalue(res, i, 0),
                   PQgetvalue(res, i, 1), PQgetvalue(res, i, 2),
                   PQgetvalue(res, i, 3), PQgetvalue(res, i, 4));
        }
        PQclear(res);
    }
    PQfinish(conn);
    return rc;
}

/* seed-demo: a few demonstration leads, once. */
static int cmd_seed_demo(admin_ctx_t *ctx)
{
    PGconn *conn = NULL;
    PGresult *res;
    int rc;

    if ((rc = db_connect(&conn))) {
        return rc;
    }
    if (!(rc = db_query(conn, sql_seed_demo, 0, NULL, &res))) {
        printf("seed-demo: %d demo leads added\n", PQntuples(res));
        PQclear(res);
    }
    PQfinish(conn);
    return rc;
}

/* ---- account security: disable-mfa, revoke-sessions, revoke-key -------
 * For locked-out operators: one call of lcrm_cli_security (sql/0023),
 * which audits the change.  Exit 0 done, 1 nothing to do (no such user or
 * key, MFA already off), 2 a malformed --key-id, 4 database error. */
static const char *const sql_cli_security =
    "SELECT lcrm_cli_security($1, $2, CAST($3 AS uuid))";

static int cmd_security(admin_ctx_t *ctx)
{
    const char *params[3] = {ctx->cmd->name, NULL, ctx->args.key_id};
    const char *out;
    PGconn *conn = NULL;
    PGresult *res;
    int rc;

    if (ctx->args.key_id && !lcrm_is_uuid(ctx->args.key_id)) {
        admin_err("--key-id: must be a UUID");
        return ADMIN_EXIT_INVALID;
    }
    if (ctx->args.email && (rc = check_email(ctx))) {
        return rc;
    }
    params[1] = ctx->email;
    if ((rc = db_connect(&conn))
        || (rc = db_query(conn, sql_cli_security, 3, params, &res))) {
        PQfinish(conn);
        return rc;
    }
    out = PQgetvalue(res, 0, 0);
    rc = !strncmp(out, "ok: ", 4) ? 0
         : !strcmp(out, "no live user with that email") ? ADMIN_EXIT_NO_USER
         : ADMIN_EXIT_USAGE;
    fprintf(rc ? stderr : stdout, ADMIN_PROG " %s: %s\n", ctx->cmd->name,
            rc ? out : out + 4);
    PQclear(res);
    PQfinish(conn);
    return rc;
}

static const admin_cmd_t admin_cmds[] = {
    {"create-admin",
     OPT_EMAIL | OPT_NAME | OPT_ROLE | OPT_COST | OPT_PASSWORD_STDIN
         | OPT_HELP,
     OPT_EMAIL | OPT_NAME, cmd_create_admin,
     "create-admin --email E --name N [--role ADMIN|SUPER_ADMIN]\n"
     "                             [--password-stdin] [--cost 10..17]\n"
     "      Creates an ADMIN (default) or SUPER_ADMIN with a verified email."},
    {"verify-password", OPT_EMAIL | OPT_PASSWORD_STDIN | OPT_HELP, OPT_EMAIL,
     cmd_verify_password,
     "verify-password --email E [--password-stdin]\n"
     "      Exits 0 when the password verifies against the live user's "
     "hash,\n      1 when it does not (or there is no such user)."},
    {"hash-password", OPT_COST | OPT_PASSWORD_STDIN | OPT_HELP, 0,
     cmd_hash_password,
     "hash-password [--cost 10..17] [--password-stdin]\n"
     "      Prints a bcrypt hash of a password that passes the API's rule."},
    {"set-password", OPT_EMAIL | OPT_COST | OPT_PASSWORD_STDIN | OPT_HELP,
     OPT_EMAIL, cmd_set_password,
     "set-password --email E [--password-stdin] [--cost 10..17]\n"
     "      Sets a live user's password and revokes all their sessions."},
    {"list-users", OPT_ROLE | OPT_HELP, 0, cmd_list_users,
     "list-users [--role USER|ADMIN|SUPER_ADMIN]\n"
     "      Prints id, email, role, active, created (tab-separated)."},
    {"seed-demo", OPT_HELP, 0, cmd_seed_demo,
     "seed-demo\n"
     "      Adds six demonstration leads (@demo.leadcrm.invalid), once."},
    {"disable-mfa", OPT_EMAIL | OPT_HELP, OPT_EMAIL, cmd_security,
     "disable-mfa --email E\n"
     "      Turns two-factor authentication off and revokes the sessions."},
    {"revoke-sessions", OPT_EMAIL | OPT_HELP, OPT_EMAIL, cmd_security,
     "revoke-sessions --email E\n      Revokes every session of the user."},
    {"revoke-key", OPT_KEY_ID | OPT_HELP, OPT_KEY_ID, cmd_security,
     "revoke-key --key-id UUID\n      Revokes an API key."},
    {NULL, 0, 0, NULL, NULL}
};

/* Prints the usage of cmd, or of every command when cmd is NULL. */
static void usage(FILE *out, const admin_cmd_t *cmd)
{
    const admin_cmd_t *c;

    fputs("Usage:\n", out);
    for (c = admin_cmds; c->name; c++) {
        if (!cmd || c == cmd) {
            fprintf(out, "  " ADMIN_PROG " %s\n", c->usage);
        }
    }
    fputs("\nThe password is read from one line of standard input with\n"
          "--password-stdin, else typed twice on the terminal (never from\n"
          "argv or the environment).  The database comes from libpq's PG*\n"
          "environment variables (PGHOST, PGPORT, PGDATABASE, PGUSER, ...).\n"
          "\nExit status: 0 ok; 1 bad usage or arguments (verify-password:\n"
          "also \"does not verify\"); 2 invalid email, name or password;\n"
          "3 email already taken; 4 database error; 5 no password or the\n"
          "passwords did not match; 6 internal error; 7 no such user.\n"
          "\n  " ADMIN_PROG " prepare-db [--web-user U] [--database D] [--key F]\n"
          "      (root) Prepares the local PostgreSQL cluster: roles, database,\n"
          "      extensions, migrations, token key (" LCRM_SCRIPTSDIR "/prepare-db).\n",
          out);
}

/*
 * prepare-db is a shell script (psql, runuser): the one installed next to
 * the migrations, or scripts/prepare-db beside a checkout's build.
 */
static int run_prepare_db(char **argv)
{
    const char *script = LCRM_SCRIPTSDIR "/prepare-db";
    char local[4096];
    const char *slash = strrchr(argv[0], '/');

    if (slash && (size_t)(slash - argv[0]) < sizeof(local) - 32) {
        snprintf(local, sizeof(local), "%.*s/scripts/prepare-db",
                 (int)(slash - argv[0]), argv[0]);
        if (access(local, X_OK) == 0) {
            script = local;
        }
    }
    argv[1] = (char *)script;
    execv(script, argv + 1);
    admin_err("cannot run %s: %s", script, strerror(errno));
    return ADMIN_EXIT_INTERNAL;
}

/* Finds the command and runs it; returns the exit status. */
static int dispatch(apr_pool_t *pool, int argc, char **argv)
{
    admin_ctx_t ctx;
    int rc;

    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout, NULL);
        return argc < 2 ? ADMIN_EXIT_USAGE : 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf(ADMIN_PROG " (mod_leadcrm) %s\n", LCRM_ADMIN_VERSION);
        return 0;
    }
    if (!strcmp(argv[1], "prepare-db")) {
        return run_prepare_db(argv);
    }
    memset(&ctx, 0, sizeof(ctx));
    ctx.pool = pool;
    for (ctx.cmd = admin_cmds; ctx.cmd->name; ctx.cmd++) {
        if (!strcmp(ctx.cmd->name, argv[1])) {
            break;
        }
    }
    if (!ctx.cmd->name) {
        admin_err("%s: unknown command (see --help)", argv[1]);
        return ADMIN_EXIT_USAGE;
    }
    if ((rc = parse_args(&ctx, argc, argv, 2))) {
        return rc;
    }
    if (ctx.args.seen & OPT_HELP) {
        usage(stdout, ctx.cmd);
        return 0;
    }
    return (rc = check_required(&ctx)) ? rc : ctx.cmd->run(&ctx);
}

int main(int argc, char **argv)
{
    static const struct rlimit no_core = {0, 0};
    apr_pool_t *pool;
    int rc;

    /* A core dump would hold the password. */
    setrlimit(RLIMIT_CORE, &no_core);
    /* the database of a prepared server (prepare-db) */
    setenv("PGDATABASE", "leadcrm", 0);
    if (apr_initialize() != APR_SUCCESS
        || apr_pool_create(&pool, NULL) != APR_SUCCESS) {
        admin_err("cannot initialise APR");
        return ADMIN_EXIT_INTERNAL;
    }
    rc = dispatch(pool, argc, argv);
    fflush(stdout);
    apr_pool_destroy(pool);
    apr_terminate();
    return rc;
}
