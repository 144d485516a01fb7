/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmbctl.c - the command-line client for the broker: look at it (status,
 * list, stat, dump, read), change it (create, write, delete, reload) and
 * talk to it directly (ping, raw). `shmbctl --help` lists the commands and
 * the exit codes, `shmbctl COMMAND --help` explains one.
 *
 * With --json every command prints exactly one JSON object on stdout - its
 * result, or {"error":{"code":..,"message":..,"exit":N}} - so scripts never
 * parse prose. Without it, results go to stdout and errors to stderr.
 *
 * The bytes of a region belong to whichever process wrote them last
 * (DESIGN.md rule 9): dump and read copy them out once and never read past
 * the region's size.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shmb.h"
#include "shmb_log.h" /* SHMB_PRINTF */
#include "shmbctl_plat.h"

/* Exit codes (printed by --help; docs in usage_text). */
enum {
    EXIT_OK = 0,
    EXIT_BROKER = 1,  /* the broker refused; its code and message shown */
    EXIT_USAGE = 2,   /* bad command line */
    EXIT_CONNECT = 3, /* cannot connect, server not trusted, link lost */
    EXIT_LOCAL = 4    /* here: mapping, a file or stdin, data too large,
                         the service manager */
};

typedef struct ctl {
    shmb_connect_options o;
    shmb_client *c;
    const char *cmd;
    int json;
} ctl;

typedef struct command {
    const char *name;
    const char *synopsis;
    const char *help;
    int (*run)(ctl *x, int argc, char **argv);
} command;

static const command *find_command(const char *name);

/* ---- output ----------------------------------------------------------- */

/* Prints `o` (taken) as one line of JSON on stdout. */
static int emit(cJSON *o)
{
    char *text = o != NULL ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (text == NULL) {
        fprintf(stderr, "shmbctl: out of memory\n");
        return EXIT_LOCAL;
    }
    printf("%s\n", text);
    free(text);
    return EXIT_OK;
}

static int fail(ctl *x, int exit_code, const char *code, const char *fmt, ...)
    SHMB_PRINTF(4, 5);

/* Reports a failure (stdout as JSON with --json, else stderr) and returns
 * its exit code. */
static int fail(ctl *x, int exit_code, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (x->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON *e = o ? cJSON_AddObjectToObject(o, "error") : NULL;
        if (e != NULL) {
            cJSON_AddStringToObject(e, "code", code);
            cJSON_AddStringToObject(e, "message", msg);
            cJSON_AddNumberToObject(e, "exit", exit_code);
        }
        emit(o);
    } else {
        fprintf(stderr, "shmbctl: %s%s%s\n", x->cmd ? x->cmd : "",
                x->cmd ? ": " : "", msg);
    }
    return exit_code;
}

/* The exit code of a library or broker error. */
static int exit_of(int rc)
{
    switch (rc) {
    case SHMB_OK:
        return EXIT_OK;
    case SHMB_E_CONNECT:
    case SHMB_E_IO:
    case SHMB_E_PROTOCOL:
    case SHMB_E_SERVER_UNTRUSTED:
        return EXIT_CONNECT;
    case SHMB_E_INVALID_ARG:
        return EXIT_USAGE;
    case SHMB_E_NOMEM:
        return EXIT_LOCAL;
    default:
        return EXIT_BROKER; /* a code the broker sent */
    }
}

/* A failed library call: the broker's code and explanation. */
static int fail_rc(ctl *x, int rc)
{
    const char *m = shmb_client_message(x->c);
    return fail(x, exit_of(rc), shmb_err_name(rc), "%s (%s): %s",
                shmb_err_name(rc), shmb_strerror(rc),
                m && *m ? m : shmb_strerror(rc));
}

static int usage_error(ctl *x, const char *fmt, const char *arg)
{
    const command *k = x->cmd ? find_command(x->cmd) : NULL;
    fail(x, EXIT_USAGE, "usage", fmt, arg ? arg : "");
    if (!x->json)
        fprintf(stderr, "usage: shmbctl [OPTIONS] %s\n       (shmbctl %s%s)\n",
                k ? k->synopsis : "COMMAND ...", k ? k->name : "--help",
                k ? " --help" : "");
    return EXIT_USAGE;
}

/* ---- talking to the broker --------------------------------------------- */

/* Sends {"op":op[,"name":name]} and returns the reply's "result" (within
 * *root, to free), or NULL with the failure reported in *exit_code. */
static cJSON *call(ctl *x, const char *op, const char *name, cJSON **root,
                   int *exit_code)
{
    cJSON *req = cJSON_CreateObject();
    char *text = NULL, *reply = NULL;
    cJSON *res = NULL;
    int rc = SHMB_E_NOMEM;

    *root = NULL;
    if (req != NULL && cJSON_AddStringToObject(req, "op", op) &&
        (name == NULL || cJSON_AddStringToObject(req, "name", name)))
        text = cJSON_PrintUnformatted(req);
    cJSON_Delete(req);
    if (text != NULL)
        rc = shmb_request_json(x->c, text, &reply);
    free(text);
    if (rc != SHMB_OK) {
        *exit_code = fail_rc(x, rc);
        return NULL;
    }
    *root = cJSON_Parse(reply);
    shmb_free(reply);
    res = cJSON_GetObjectItemCaseSensitive(*root, "result");
    if (!cJSON_IsObject(res)) {
        cJSON_Delete(*root);
        *root = NULL;
        *exit_code = fail(x, EXIT_CONNECT, "protocol_error",
                          "the broker's reply has no result");
        return NULL;
    }
    return res;
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "-";
}

static int truth(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* Prints a result: as it came with --json, else through `human`. */
static int show(ctl *x, cJSON *root, cJSON *res, void (*human)(const cJSON *))
{
    if (x->json) {
        cJSON *copy = cJSON_DetachItemFromObjectCaseSensitive(root, "result");
        cJSON_Delete(root);
        return emit(copy);
    }
    (void)res;
    human(res);
    cJSON_Delete(root);
    return EXIT_OK;
}

/* An unsigned number argument (decimal, or 0x hex). */
/* Decimal, or hexadecimal after "0x": never octal, so "010" is ten. */
static int parse_u64(const char *s, unsigned long long *out)
{
    char *end;
    int hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    if (!(digits[0] >= '0' && digits[0] <= '9') &&
        !(hex && ((digits[0] >= 'a' && digits[0] <= 'f') ||
                  (digits[0] >= 'A' && digits[0] <= 'F'))))
        return 0;
    errno = 0;
    *out = strtoull(digits, &end, hex ? 16 : 10);
    return *end == '\0' && errno == 0;
}

/* ---- status ----------------------------------------------------------- */

static void print_usage_line(const char *what, const cJSON *e)
{
    printf("%s: clients %.0f/%.0f, regions %.0f/%.0f, commit %.0f/%.0f "
           "bytes (draining %.0f)\n",
           what, num(e, "clients"), num(e, "clients_limit"), num(e, "regions"),
           num(e, "regions_limit"), num(e, "commit"), num(e, "commit_limit"),
           num(e, "commit_draining"));
}

static void print_stats(const cJSON *s)
{
    const cJSON *o, *e;
    char what[512];

    o = cJSON_GetObjectItemCaseSensitive(s, "connections");
    printf("connections: %.0f of %.0f\n", num(o, "total"), num(o, "limit"));
    o = cJSON_GetObjectItemCaseSensitive(s, "regions");
    printf("regions: %.0f of %.0f (client %.0f, persistent %.0f, config "
           "%.0f; draining %.0f)\n",
           num(o, "total"), num(o, "limit"), num(o, "client"),
           num(o, "persistent"), num(o, "config"), num(o, "draining"));
    o = cJSON_GetObjectItemCaseSensitive(s, "commit");
    printf("commit: %.0f of %.0f bytes (draining %.0f)\n", num(o, "total"),
           num(o, "limit"), num(o, "draining"));
    printf("grantee handles: %.0f\n", num(s, "grantee_handles"));
    o = cJSON_GetObjectItemCaseSensitive(s, "server");
    printf("server: %.0f connections, %.0f paused, %.0f yielded, %.0f "
           "replies queued, %.0f frames answered\n",
           num(o, "connections"), num(o, "paused"), num(o, "yielded"),
           num(o, "writes"), num(o, "frames"));
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s, "principals"))
    {
        const cJSON *ac = cJSON_GetObjectItemCaseSensitive(e, "appcontainer");
        snprintf(what, sizeof(what), "principal %s %s%s%s", str(e, "user"),
                 str(e, "band"), cJSON_IsString(ac) ? " appcontainer " : "",
                 cJSON_IsString(ac) ? ac->valuestring : "");
        print_usage_line(what, e);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(s, "users"))
    {
        snprintf(what, sizeof(what), "user %s", str(e, "user"));
        print_usage_line(what, e);
    }
    if (truth(s, "truncated"))
        printf("(more principals or users than one reply holds)\n");
}

static int cmd_status(ctl *x, int argc, char **argv)
{
    const char *service = x->o.service_name ? x->o.service_name : "shmbroker";
    char state[32] = "unknown";
    uint32_t pid = 0, syserr = 0;
    int have_state, rc, reached, out = EXIT_OK;
    cJSON *o = NULL, *root = NULL, *res = NULL;
    char *reply = NULL;

    (void)argv;
    if (argc != 0)
        return usage_error(x, "status takes no arguments%s", NULL);
    have_state = ctlplat_service_state(service, state, sizeof(state), &pid,
                                       &syserr) == 0;
    rc = shmb_connect(&x->o, &x->c);
    if (rc == SHMB_OK)
        rc = shmb_request_json(x->c, "{\"op\":\"stats\"}", &reply);
    /* The broker answered (stats or its refusal), or the link is gone:
     * only an answer from the broker counts as having reached it. */
    reached = shmb_client_version(x->c) > 0 &&
              (rc == SHMB_OK || (rc < 0 && rc >= SHMB_E_INTERNAL));
    if (reply != NULL) {
        root = cJSON_Parse(reply);
        shmb_free(reply);
        res = cJSON_DetachItemFromObjectCaseSensitive(root, "result");
        cJSON_Delete(root);
    }
    if (x->json) {
        cJSON *svc, *e;
        o = cJSON_CreateObject();
        svc = cJSON_AddObjectToObject(o, "service");
        cJSON_AddStringToObject(svc, "name", service);
        cJSON_AddStringToObject(svc, "state", state);
        cJSON_AddNumberToObject(svc, "pid", pid);
        if (!have_state)
            cJSON_AddNumberToObject(svc, "system_error", syserr);
        cJSON_AddBoolToObject(o, "connected", shmb_client_version(x->c) > 0);
        cJSON_AddNumberToObject(o, "protocol", shmb_client_version(x->c));
        if (res != NULL) {
            cJSON_AddItemToObject(o, "stats", res);
            res = NULL;
        } else {
            /* "error" when the broker cannot be reached (exit 3), else
             * "stats_error": the broker refused stats (exit 0). */
            cJSON_AddNullToObject(o, "stats");
            e = cJSON_AddObjectToObject(o, reached ? "stats_error" : "error");
            cJSON_AddStringToObject(e, "code", shmb_err_name(rc));
            cJSON_AddStringToObject(e, "message", shmb_client_message(x->c));
        }
    } else {
        if (have_state)
            printf("service %s: %s (pid %u)\n", service, state, (unsigned)pid);
        else
            printf("service %s: cannot be queried (system error %u)\n", service,
                   (unsigned)syserr);
        if (shmb_client_version(x->c) > 0)
            printf("broker: connected, protocol %d\n",
                   shmb_client_version(x->c));
        if (res != NULL)
            print_stats(res);
        else if (reached)
            printf("stats: %s: %s\n", shmb_err_name(rc),
                   shmb_client_message(x->c));
    }
    /* Stats refused is an answer, not a failure: status shows what the
     * caller may see. Not reaching the broker is one. */
    if (!reached) {
        out = exit_of(rc);
        if (!x->json)
            fprintf(stderr,
                    "shmbctl: status: cannot reach the broker: %s: %s\n",
                    shmb_err_name(rc), shmb_client_message(x->c));
    }
    cJSON_Delete(res);
    if (o != NULL) {
        if (out != EXIT_OK)
            cJSON_AddNumberToObject(
                cJSON_GetObjectItemCaseSensitive(o, "error"), "exit", out);
        if (emit(o) != EXIT_OK)
            return EXIT_LOCAL;
    }
    return out;
}

/* ---- ping, list, stat, delete, raw --------------------------------------- */

static int cmd_ping(ctl *x, int argc, char **argv)
{
    int rc;
    (void)argv;
    if (argc != 0)
        return usage_error(x, "ping takes no arguments%s", NULL);
    rc = shmb_ping(x->c);
    if (rc != SHMB_OK)
        return fail_rc(x, rc);
    if (x->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddBoolToObject(o, "pong", 1);
        cJSON_AddNumberToObject(o, "protocol", shmb_client_version(x->c));
        return emit(o);
    }
    printf("pong (protocol %d)\n", shmb_client_version(x->c));
    return EXIT_OK;
}

static void human_list(const cJSON *res)
{
    const cJSON *e;
    printf("%-40s %12s %-10s %7s %s\n", "NAME", "SIZE", "LIFETIME", "HOLDERS",
           "HELD");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(res, "regions"))
    {
        printf("%-40s %12.0f %-10s %7.0f %s\n", str(e, "name"), num(e, "size"),
               str(e, "lifetime"), num(e, "holders"),
               truth(e, "held") ? "yes" : "no");
    }
    if (truth(res, "truncated"))
        printf("(more regions than one reply holds)\n");
}

static int cmd_list(ctl *x, int argc, char **argv)
{
    cJSON *root, *res;
    int code = EXIT_OK;
    (void)argv;
    if (argc != 0)
        return usage_error(x, "list takes no arguments%s", NULL);
    res = call(x, "list", NULL, &root, &code);
    return res != NULL ? show(x, root, res, human_list) : code;
}

static void human_stat(const cJSON *res)
{
    printf("name: %s\nsize: %.0f\nlifetime: %s\ncharge: %.0f\nholders: %.0f\n"
           "your_grants: %.0f\nowner: %s\n",
           str(res, "name"), num(res, "size"), str(res, "lifetime"),
           num(res, "charge"), num(res, "holders"), num(res, "your_grants"),
           truth(res, "owner") ? "yes" : "no");
}

static int cmd_stat(ctl *x, int argc, char **argv)
{
    cJSON *root, *res;
    int code = EXIT_OK;
    if (argc != 1)
        return usage_error(x, "stat takes one region name%s", NULL);
    res = call(x, "stat", argv[0], &root, &code);
    return res != NULL ? show(x, root, res, human_stat) : code;
}

static void human_delete(const cJSON *res)
{
    printf("deleted %s (%.0f connections still hold it)\n", str(res, "name"),
           num(res, "holders"));
}

static int cmd_delete(ctl *x, int argc, char **argv)
{
    cJSON *root, *res;
    int code = EXIT_OK;
    if (argc != 1)
        return usage_error(x, "delete takes one region name%s", NULL);
    res = call(x, "delete", argv[0], &root, &code);
    return res != NULL ? show(x, root, res, human_delete) : code;
}

static int cmd_raw(ctl *x, int argc, char **argv)
{
    char *reply = NULL;
    int rc;
    if (argc != 1)
        return usage_error(x, "raw takes one JSON object%s", NULL);
    rc = shmb_request_json(x->c, argv[0], &reply);
    if (rc != SHMB_OK)
        return fail_rc(x, rc);
    printf("%s\n", reply); /* already one JSON object */
    shmb_free(reply);
    return EXIT_OK;
}

/* ---- create, read, dump, write ----------------------------------------- */

static cJSON *region_json(const shmb_region *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddNumberToObject(o, "size", (double)r->size);
    cJSON_AddStringToObject(o, "lifetime", shmb_lifetime_name(r->lifetime));
    cJSON_AddStringToObject(o, "access", shmb_access_name(r->access));
    return o;
}

static int cmd_create(ctl *x, int argc, char **argv)
{
    shmb_access acc = SHMB_ACCESS_RW;
    shmb_lifetime life = SHMB_LIFETIME_CLIENT;
    unsigned long long size, handle;
    shmb_region r;
    int i, rc;

    if (argc < 2)
        return usage_error(x, "create needs NAME and SIZE%s", NULL);
    if (!parse_u64(argv[1], &size))
        return usage_error(x, "SIZE '%s' is not a number", argv[1]);
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--ro") == 0)
            acc = SHMB_ACCESS_RO;
        else if (strcmp(argv[i], "--persistent") == 0)
            life = SHMB_LIFETIME_PERSISTENT;
        else
            return usage_error(x, "unknown option '%s'", argv[i]);
    }
    rc = shmb_region_create(x->c, argv[0], size, acc, life, &r);
    if (rc != SHMB_OK)
        return fail_rc(x, rc);
    /* The handle is ours only until we exit; shown for the log's sake
     * (the broker logs the same value). */
    handle = r.handle;
    shmb_region_close(&r);
    if (x->json) {
        cJSON *o = region_json(&r);
        cJSON_AddNumberToObject(o, "handle", (double)handle);
        return emit(o);
    }
    printf("created %s size=%llu access=%s lifetime=%s handle=0x%llx\n", r.name,
           (unsigned long long)r.size, shmb_access_name(r.access),
           shmb_lifetime_name(r.lifetime), handle);
    return EXIT_OK;
}

/* Opens and maps `name` with `access`. */
static int open_mapped(ctl *x, const char *name, shmb_access access,
                       shmb_region *r)
{
    int rc = shmb_region_open(x->c, name, access, r);
    if (rc != SHMB_OK)
        return fail_rc(x, rc);
    rc = shmb_region_map(r);
    if (rc != SHMB_OK) {
        uint32_t err = r->syserr;
        shmb_region_close(r);
        return fail(x, EXIT_LOCAL, shmb_err_name(rc),
                    "mapping '%s' failed (system error %u)", name,
                    (unsigned)err);
    }
    return EXIT_OK;
}

static int cmd_read(ctl *x, int argc, char **argv)
{
    shmb_region r;
    char *copy;
    size_t n, i;
    int code;

    if (argc != 1)
        return usage_error(x, "read takes one region name%s", NULL);
    code = open_mapped(x, argv[0], SHMB_ACCESS_RO, &r);
    if (code != EXIT_OK)
        return code;
    /* One copy, bounded by the size: the bytes are another process's. */
    n = (size_t)r.size;
    copy = malloc(n + 1);
    if (copy == NULL) {
        shmb_region_close(&r);
        return fail(x, EXIT_LOCAL, "out_of_memory", "out of memory");
    }
    memcpy(copy, r.view, n);
    copy[n] = '\0';
    n = strlen(copy);
    if (x->json) {
        cJSON *o = cJSON_CreateObject();
        /* JSON text must be valid UTF-8: anything but printable ASCII,
         * tab and newline is shown as '?'. */
        for (i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)copy[i];
            if ((ch < 0x20 && ch != '\n' && ch != '\t') || ch >= 0x7f)
                copy[i] = '?';
        }
        cJSON_AddStringToObject(o, "name", r.name);
        cJSON_AddNumberToObject(o, "size", (double)r.size);
        cJSON_AddStringToObject(o, "text", copy);
        code = emit(o);
    } else {
        fwrite(copy, 1, n, stdout);
        putchar('\n');
    }
    free(copy);
    shmb_region_close(&r);
    return code;
}

static void hex_line(unsigned long long at, const unsigned char *p, size_t n)
{
    size_t i;
    printf("%08llx ", at);
    for (i = 0; i < 16; i++) {
        if (i < n)
            printf("%s%02x", i == 8 ? "  " : " ", p[i]);
        else
            printf("%s  ", i == 8 ? "  " : " ");
    }
    printf("  |");
    for (i = 0; i < n; i++)
        putchar(p[i] >= 0x20 && p[i] < 0x7f ? p[i] : '.');
    printf("|\n");
}

static int cmd_dump(ctl *x, int argc, char **argv)
{
    unsigned long long off = 0, len = 0;
    unsigned char *copy = NULL;
    shmb_region r;
    size_t i;
    int code, have_len = 0;

    if (argc != 1 && argc != 3)
        return usage_error(x, "dump takes NAME, or NAME OFFSET LEN%s", NULL);
    if (argc == 3) {
        if (!parse_u64(argv[1], &off))
            return usage_error(x, "OFFSET '%s' is not a number", argv[1]);
        if (!parse_u64(argv[2], &len))
            return usage_error(x, "LEN '%s' is not a number", argv[2]);
        have_len = 1;
    }
    code = open_mapped(x, argv[0], SHMB_ACCESS_RO, &r);
    if (code != EXIT_OK)
        return code;
    if (off > r.size) {
        shmb_region_close(&r);
        return fail(x, EXIT_USAGE, "usage",
                    "offset %llu is beyond the region's size (%llu bytes)", off,
                    (unsigned long long)r.size);
    }
    /* Bounded by the region: never a byte past its size. */
    if (!have_len || len > r.size - off)
        len = r.size - off;
    copy = malloc(len ? (size_t)len : 1);
    if (copy == NULL) {
        shmb_region_close(&r);
        return fail(x, EXIT_LOCAL, "out_of_memory", "out of memory");
    }
    memcpy(copy, (const unsigned char *)r.view + off, (size_t)len);
    if (x->json) {
        static const char digits[] = "0123456789abcdef";
        char *hex = malloc((size_t)len * 2 + 1);
        cJSON *o = cJSON_CreateObject();
        if (hex == NULL) {
            cJSON_Delete(o);
            code = fail(x, EXIT_LOCAL, "out_of_memory", "out of memory");
        } else {
            for (i = 0; i < len; i++) {
                hex[2 * i] = digits[copy[i] >> 4];
                hex[2 * i + 1] = digits[copy[i] & 15];
            }
            hex[2 * len] = '\0';
            cJSON_AddStringToObject(o, "name", r.name);
            cJSON_AddNumberToObject(o, "size", (double)r.size);
            cJSON_AddNumberToObject(o, "offset", (double)off);
            cJSON_AddNumberToObject(o, "length", (double)len);
            cJSON_AddStringToObject(o, "hex", hex);
            free(hex);
            code = emit(o);
        }
    } else {
        for (i = 0; i < len; i += 16)
            hex_line(off + i, copy + i,
                     len - i < 16 ? (size_t)(len - i) : (size_t)16);
    }
    free(copy);
    shmb_region_close(&r);
    return code;
}

/* Reads all of `f` up to `max` bytes; *n = max + 1 if there was more. */
static unsigned char *slurp(FILE *f, size_t max, size_t *n)
{
    size_t cap = max + 1, got = 0, k;
    unsigned char *buf = malloc(cap ? cap : 1);
    if (buf == NULL)
        return NULL;
    while (got < cap && (k = fread(buf + got, 1, cap - got, f)) > 0)
        got += k;
    if (ferror(f)) {
        free(buf);
        return NULL;
    }
    *n = got;
    return buf;
}

static int cmd_write(ctl *x, int argc, char **argv)
{
    const char *name = NULL, *text = NULL, *file = NULL, *from;
    unsigned char *data = NULL;
    size_t n = 0;
    shmb_region r;
    int i, code;

    for (i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--file") == 0 && i + 1 < argc && file == NULL)
            file = argv[++i];
        else if (strcmp(argv[i], "--file") == 0)
            return usage_error(x, "--file needs one file name%s", NULL);
        else if (name == NULL)
            name = argv[i];
        else if (text == NULL)
            text = argv[i];
        else
            return usage_error(x, "unexpected argument '%s'", argv[i]);
    }
    if (name == NULL)
        return usage_error(x, "write needs a region name%s", NULL);
    if (text != NULL && file != NULL)
        return usage_error(x, "give TEXT or --file, not both%s", NULL);
    code = open_mapped(x, name, SHMB_ACCESS_RW, &r);
    if (code != EXIT_OK)
        return code;
    if (text != NULL) {
        /* With its NUL, so that `read` stops where the text ends. */
        from = "the argument";
        n = strlen(text) + 1;
        data = malloc(n);
        if (data != NULL)
            memcpy(data, text, n);
    } else if (file != NULL) {
        FILE *f = fopen(file, "rb");
        from = file;
        if (f == NULL) {
            shmb_region_close(&r);
            return fail(x, EXIT_LOCAL, "io_error", "cannot open '%s': %s", file,
                        strerror(errno));
        }
        data = slurp(f, (size_t)r.size, &n);
        fclose(f);
    } else {
        from = "standard input";
        ctlplat_binary_stdin();
        data = slurp(stdin, (size_t)r.size, &n);
    }
    if (data == NULL) {
        shmb_region_close(&r);
        return fail(x, EXIT_LOCAL, "io_error", "cannot read %s", from);
    }
    if (n > r.size) {
        free(data);
        shmb_region_close(&r);
        return fail(x, EXIT_LOCAL, "too_large",
                    "%s holds more than the region's %llu bytes", from,
                    (unsigned long long)r.size);
    }
    memcpy(r.view, data, n);
    free(data);
    if (x->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", r.name);
        cJSON_AddNumberToObject(o, "size", (double)r.size);
        cJSON_AddNumberToObject(o, "written", (double)n);
        code = emit(o);
    } else {
        printf("wrote %zu bytes to %s\n", n, r.name);
    }
    shmb_region_close(&r);
    return code;
}

/* ---- reload ----------------------------------------------------------- */

static int cmd_reload(ctl *x, int argc, char **argv)
{
    const char *service = x->o.service_name ? x->o.service_name : "shmbroker";
    uint32_t err = 0;
    int rc;

    (void)argv;
    if (argc != 0)
        return usage_error(x, "reload takes no arguments%s", NULL);
    /* Through the service control manager, not the pipe. */
    rc = shmb_service_reload(x->o.service_name, &err);
    if (rc != SHMB_OK)
        return fail(x, EXIT_LOCAL, shmb_err_name(rc),
                    "the service manager refused: %s (system error %u)",
                    shmb_strerror(rc), (unsigned)err);
    if (x->json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "service", service);
        cJSON_AddBoolToObject(o, "requested", 1);
        return emit(o);
    }
    printf("reload requested; the service log says whether the new config "
           "was taken\n");
    return EXIT_OK;
}

/* ---- the command table and help ---------------------------------------- */

static const command commands[] = {
    {"status", "status",
     "The service's state from the service manager (with --service NAME), "
     "whether the broker answers,\nand its statistics when the policy lets "
     "you read them (administrators, by default).\nA refused stats is shown, "
     "not an error; exit 3 if the broker cannot be reached.",
     cmd_status},
    {"ping", "ping", "Connects, says hello and pings.", cmd_ping},
    {"list", "list",
     "The regions you can see: name, size, lifetime, holders, whether you "
     "hold it.",
     cmd_list},
    {"stat", "stat NAME", "One region: size, lifetime, charge, holders.",
     cmd_stat},
    {"create", "create NAME SIZE [--ro] [--persistent]",
     "Creates a region of SIZE bytes (decimal or 0x hex). Without "
     "--persistent it is a `client`\nregion and goes away when shmbctl "
     "exits; --ro asks for a read-only grant.",
     cmd_create},
    {"read", "read NAME",
     "Prints the region's bytes up to the first NUL (read-only grant).",
     cmd_read},
    {"dump", "dump NAME [OFFSET LEN]",
     "Hex dump of the region, or of LEN bytes from OFFSET; never past the "
     "region's size\n(LEN is cut there; an OFFSET beyond it is a usage "
     "error). --json gives the bytes as \"hex\".",
     cmd_dump},
    {"write", "write NAME [TEXT | --file F]",
     "Writes into the region from offset 0 (read-write grant): TEXT with a "
     "terminating NUL,\nor the bytes of file F, or of standard input when "
     "neither is given. Exit 4 if they do\nnot fit in the region.",
     cmd_write},
    {"delete", "delete NAME",
     "Deletes a region (its creator, or whom a rule allows). Holders keep "
     "their mappings.",
     cmd_delete},
    {"raw", "raw JSON",
     "Sends one request object (the id is added) and prints the reply.",
     cmd_raw},
    {"reload", "reload",
     "Asks the service manager to have the service (--service NAME) re-read "
     "its config\n(administrators). Exit 4 if the service manager refuses.",
     cmd_reload},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static const command *find_command(const char *name)
{
    size_t i;
    for (i = 0; i < NCOMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    }
    return NULL;
}

static const char exit_codes[] =
    "exit codes:\n"
    "  0  success\n"
    "  1  the broker refused (its error code and message are printed)\n"
    "  2  usage: bad command line or argument\n"
    "  3  cannot connect to the broker, the pipe's server is not trusted, "
    "or the connection failed\n"
    "  4  local failure: mapping a region, reading a file or stdin, data "
    "larger than the region,\n"
    "     or the service manager refused\n";

static int help_all(void)
{
    size_t i;
    printf("usage: shmbctl [OPTIONS] COMMAND [ARGS]\n"
           "       shmbctl COMMAND --help | --help | --version\n\n"
           "options (before the command; --json anywhere):\n"
           "  --pipe NAME      the broker's pipe (default %s)\n"
           "  --service NAME   the broker's service (default shmbroker): "
           "trust, status, reload\n"
           "  --trust system|service|any\n"
           "                   how the pipe's server is verified (default "
           "system, or\n"
           "                   $SHMB_SERVER_TRUST=service; any = no check, "
           "development only)\n"
           "  --json           print one JSON object on stdout: the result, "
           "or {\"error\":{..}}\n\n"
           "commands:\n",
           SHMB_DEFAULT_PIPE);
    for (i = 0; i < NCOMMANDS; i++)
        printf("  %s\n", commands[i].synopsis);
    printf("\n%s", exit_codes);
    return EXIT_OK;
}

static int help_one(const command *k)
{
    printf("usage: shmbctl [OPTIONS] %s\n\n%s\n\n%s", k->synopsis, k->help,
           exit_codes);
    return EXIT_OK;
}

/* ---- main ------------------------------------------------------------- */

static int set_trust(ctl *x, const char *v)
{
    if (strcmp(v, "system") == 0)
        x->o.trust = SHMB_TRUST_SYSTEM;
    else if (strcmp(v, "service") == 0)
        x->o.trust = SHMB_TRUST_SERVICE;
    else if (strcmp(v, "any") == 0)
        x->o.trust = SHMB_TRUST_ANY;
    else
        return 0;
    return 1;
}

int main(int argc, char **argv)
{
    ctl x;
    const command *k;
    char **args;
    int i = 1, n = 0, j, code;

    memset(&x, 0, sizeof(x));
    x.o.client_name = "shmbctl";
    /* --json may come anywhere; it changes how everything is reported. */
    for (j = 1; j < argc; j++)
        x.json |= strcmp(argv[j], "--json") == 0;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--json") == 0)
            continue;
        if (strcmp(argv[i], "--help") == 0)
            return help_all();
        if (strcmp(argv[i], "--version") == 0) {
            printf("shmbctl %s\n", shmb_version());
            return EXIT_OK;
        }
        if (i + 1 >= argc)
            return usage_error(&x, "option '%s' needs a value", argv[i]);
        if (strcmp(argv[i], "--pipe") == 0)
            x.o.pipe_name = argv[++i];
        else if (strcmp(argv[i], "--service") == 0)
            x.o.service_name = argv[++i];
        else if (strcmp(argv[i], "--trust") == 0 && set_trust(&x, argv[i + 1]))
            i++;
        else
            return usage_error(&x, "unknown option or value '%s'", argv[i]);
    }
    if (i >= argc)
        return usage_error(&x, "no command given%s", NULL);
    if (strcmp(argv[i], "help") == 0) {
        k = i + 1 < argc ? find_command(argv[i + 1]) : NULL;
        return k != NULL ? help_one(k) : help_all();
    }
    k = find_command(argv[i]);
    if (k == NULL)
        return usage_error(&x, "unknown command '%s'", argv[i]);
    x.cmd = k->name;
    args = calloc((size_t)argc, sizeof(char *));
    if (args == NULL)
        return fail(&x, EXIT_LOCAL, "out_of_memory", "out of memory");
    for (j = i + 1; j < argc; j++) {
        if (strcmp(argv[j], "--help") == 0) {
            free(args);
            return help_one(k);
        }
        if (strcmp(argv[j], "--json") != 0)
            args[n++] = argv[j];
    }
    if (k->run == cmd_status || k->run == cmd_reload) {
        code = k->run(&x, n, args); /* they reach the service themselves */
    } else {
        int rc = shmb_connect(&x.o, &x.c);
        code = rc != SHMB_OK ? fail_rc(&x, rc) : k->run(&x, n, args);
    }
    shmb_disconnect(x.c);
    free(args);
    return code;
}
