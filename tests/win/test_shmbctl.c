/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_shmbctl.c - shmbctl.exe against the installed service, as a user
 * runs it: every command, its --json object parsed, its exit code, and
 * --help per command. The stats right both ways: this process is an
 * administrator (under Wine every process is, WINE.md), a child whose
 * token has Administrators deny-only is not - and the leak check other
 * tests rely on: after clients have come and gone, stats reads as before.
 */
#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shmb_log.h" /* SHMB_PRINTF */
#include "util_win.h"

#define OUT_MAX 65536

typedef struct ctl_run {
    int exit_code; /* -1: could not run or did not end */
    char out[OUT_MAX];
    cJSON *json; /* out parsed, when it is one JSON object */
    int during;  /* what ctl_during's callback returned */
} ctl_run;

/* A token like ours with Administrators deny-only, or NULL. */
static HANDLE restricted_token(void)
{
    SID_IDENTIFIER_AUTHORITY nt = {SECURITY_NT_AUTHORITY};
    SID_AND_ATTRIBUTES disable;
    PSID admins = NULL;
    HANDLE tok = NULL, rtok = NULL;

    if (!AllocateAndInitializeSid(&nt, 2, SECURITY_BUILTIN_DOMAIN_RID,
                                  DOMAIN_ALIAS_RID_ADMINS, 0, 0, 0, 0, 0, 0,
                                  &admins))
        return NULL;
    disable.Sid = admins;
    disable.Attributes = 0;
    if (OpenProcessToken(GetCurrentProcess(),
                         TOKEN_DUPLICATE | TOKEN_ASSIGN_PRIMARY | TOKEN_QUERY,
                         &tok))
        CreateRestrictedToken(tok, 0, 1, &disable, 0, NULL, 0, NULL, &rtok);
    if (tok != NULL)
        CloseHandle(tok);
    FreeSid(admins);
    return rtok;
}

/* Runs `shmbctl ARGS` (as `token`, or as us when NULL) with `input` on its
 * stdin; stdout and stderr are both captured in r->out, so a --json run
 * that printed anything else does not parse. */
typedef int (*while_running_fn)(void *ctx);

/* The same as ctl() below; `during` (if not NULL) runs once the child has
 * started, before its stdin is written and closed - a `write` from stdin
 * holds its grant until then. Its result lands in r->during. */
static int ctl_v(ctl_run *r, HANDLE token, const char *input,
                 while_running_fn during, void *ctx, const char *fmt,
                 va_list ap)
{
    const char *exe = getenv("SHMB_SHMBCTL_EXE");
    char args[2048];
    WCHAR cmd[4096];
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    HANDLE out_r = NULL, out_w = NULL, in_r = NULL, in_w = NULL;
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    DWORD n, code = (DWORD)-1;
    size_t have = 0;
    BOOL ok;

    cJSON_Delete(r->json);
    memset(r, 0, sizeof(*r));
    r->exit_code = -1;
    if (exe == NULL) {
        fprintf(stderr, "SHMB_SHMBCTL_EXE is not set\n");
        return -1;
    }
    vsnprintf(args, sizeof(args), fmt, ap);
    _snwprintf(cmd, 4096, L"\"%hs\" --pipe %hs %hs", exe, itest_pipe(), args);
    cmd[4095] = 0;
    if (!CreatePipe(&out_r, &out_w, &sa, 0) ||
        !CreatePipe(&in_r, &in_w, &sa, 0))
        goto done;
    SetHandleInformation(out_r, HANDLE_FLAG_INHERIT, 0);
    SetHandleInformation(in_w, HANDLE_FLAG_INHERIT, 0);
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = in_r;
    si.hStdOutput = out_w;
    si.hStdError = out_w;
    if (token != NULL)
        ok = CreateProcessAsUserW(token, NULL, cmd, NULL, NULL, TRUE, 0, NULL,
                                  NULL, &si, &pi);
    else
        ok = CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si,
                            &pi);
    if (!ok) {
        fprintf(stderr, "cannot start shmbctl (%lu)\n", GetLastError());
        goto done;
    }
    CloseHandle(out_w);
    CloseHandle(in_r);
    out_w = in_r = NULL;
    if (during != NULL)
        r->during = during(ctx);
    if (input != NULL)
        WriteFile(in_w, input, (DWORD)strlen(input), &n, NULL);
    CloseHandle(in_w);
    in_w = NULL;
    while (have < sizeof(r->out) - 1 &&
           ReadFile(out_r, r->out + have, (DWORD)(sizeof(r->out) - 1 - have),
                    &n, NULL) &&
           n > 0)
        have += n;
    r->out[have] = '\0';
    if (WaitForSingleObject(pi.hProcess, 60000) != WAIT_OBJECT_0)
        TerminateProcess(pi.hProcess, 99);
    else if (GetExitCodeProcess(pi.hProcess, &code))
        r->exit_code = (int)code;
    CloseHandle(pi.hThread);
    CloseHandle(pi.hProcess);
    r->json = cJSON_Parse(r->out);
    if (!cJSON_IsObject(r->json)) {
        cJSON_Delete(r->json);
        r->json = NULL;
    }
done:
    if (out_r)
        CloseHandle(out_r);
    if (out_w)
        CloseHandle(out_w);
    if (in_r)
        CloseHandle(in_r);
    if (in_w)
        CloseHandle(in_w);
    return r->exit_code;
}

static int ctl(ctl_run *r, HANDLE token, const char *input, const char *fmt,
               ...) SHMB_PRINTF(4, 5);

static int ctl(ctl_run *r, HANDLE token, const char *input, const char *fmt,
               ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = ctl_v(r, token, input, NULL, NULL, fmt, ap);
    va_end(ap);
    return rc;
}

static int ctl_during(ctl_run *r, while_running_fn during, void *ctx,
                      const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = ctl_v(r, NULL, "x", during, ctx, fmt, ap);
    va_end(ap);
    return rc;
}

/* The value at a path of object keys ("a", "b", NULL), or NULL. */
static const cJSON *at(const cJSON *o, ...)
{
    va_list ap;
    const char *k;
    va_start(ap, o);
    while (o != NULL && (k = va_arg(ap, const char *)) != NULL)
        o = cJSON_GetObjectItemCaseSensitive(o, k);
    va_end(ap);
    return o;
}

static double num(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static const char *text(const cJSON *v)
{
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* Fails unless the run exited with `want` and printed one JSON object. */
#define CHECK_RUN(r, want)                                                     \
    do {                                                                       \
        if ((r)->exit_code != (want) || (r)->json == NULL)                     \
            FAIL("exit %d (want %d), output: %s", (r)->exit_code, (want),      \
                 (r)->out);                                                    \
    } while (0)

/* --help, COMMAND --help and the usage errors: exit 0 with the text, or 2
 * with the reason (as JSON with --json). */
int test_shmbctl_help_and_usage(void)
{
    static const char *const cmds[] = {"status", "ping", "list",  "stat",
                                       "create", "read", "dump",  "write",
                                       "delete", "raw",  "reload"};
    static ctl_run r;
    static char all[OUT_MAX];
    size_t i;
    char want[64];

    CHECK_INT(ctl(&r, NULL, NULL, "--help"), 0);
    CHECK(strstr(r.out, "exit codes:") != NULL);
    CHECK(strstr(r.out, "  3  cannot connect") != NULL);
    memcpy(all, r.out, sizeof(all));
    for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
        snprintf(want, sizeof(want), "\n  %s", cmds[i]);
        CHECK(strstr(all, want) != NULL);
        CHECK_INT(ctl(&r, NULL, NULL, "%s --help", cmds[i]), 0);
        snprintf(want, sizeof(want), "usage: shmbctl [OPTIONS] %s", cmds[i]);
        if (strstr(r.out, want) == NULL || strstr(r.out, "exit codes:") == NULL)
            FAIL("%s --help: %s", cmds[i], r.out);
    }
    CHECK_INT(ctl(&r, NULL, NULL, "help dump"), 0);
    CHECK(strstr(r.out, "dump NAME [OFFSET LEN]") != NULL);
    /* Usage errors: 2, before any connection. */
    CHECK_INT(ctl(&r, NULL, NULL, "fly"), 2);
    CHECK(strstr(r.out, "unknown command 'fly'") != NULL);
    CHECK_INT(ctl(&r, NULL, NULL, "--frob ping"), 2);
    CHECK_INT(ctl(&r, NULL, NULL, "%s", ""), 2);
    CHECK_INT(ctl(&r, NULL, NULL, "--json create it/ctl/x lots"), 2);
    CHECK_RUN(&r, 2);
    CHECK_STR(text(at(r.json, "error", "code", NULL)), "usage");
    CHECK_INT(num(at(r.json, "error", "exit", NULL)), 2);
    CHECK_INT(ctl(&r, NULL, NULL, "--json stat"), 2);
    CHECK_RUN(&r, 2);
    CHECK_INT(ctl(&r, NULL, NULL, "write a b c"), 2);
done:
    cJSON_Delete(r.json);
    r.json = NULL;
    return TEST_RESULT;
}

/* Every command through the installed service, its --json object and its
 * exit code: 0, 1 for the broker's refusals, 2, 3 and 4. */
int test_shmbctl_commands(void)
{
    static ctl_run r;
    const char *name = itest_name("ctl/region");
    char file[MAX_PATH], path[MAX_PATH];
    FILE *f = NULL;
    const cJSON *e;
    int found = 0;

    CHECK_INT(ctl(&r, NULL, NULL, "--json ping"), 0);
    CHECK_RUN(&r, 0);
    CHECK(cJSON_IsTrue(at(r.json, "pong", NULL)));
    CHECK_INT(num(at(r.json, "protocol", NULL)), 1);
    CHECK_INT(ctl(&r, NULL, NULL, "ping"), 0);
    CHECK(strstr(r.out, "pong (protocol 1)") != NULL);

    CHECK_INT(ctl(&r, NULL, NULL, "--json create %s 100 --persistent", name),
              0);
    CHECK_RUN(&r, 0);
    CHECK_STR(text(at(r.json, "name", NULL)), name);
    CHECK_INT(num(at(r.json, "size", NULL)), 100);
    CHECK_STR(text(at(r.json, "lifetime", NULL)), "persistent");
    CHECK_STR(text(at(r.json, "access", NULL)), "rw");
    CHECK(num(at(r.json, "handle", NULL)) > 0);
    /* The broker's refusal: 1, its code in the object. */
    CHECK_INT(ctl(&r, NULL, NULL, "--json create %s 100", name), 1);
    CHECK_RUN(&r, 1);
    CHECK_STR(text(at(r.json, "error", "code", NULL)), "exists");
    CHECK_INT(num(at(r.json, "error", "exit", NULL)), 1);

    /* write: an argument (with its NUL), stdin, a file. */
    CHECK_INT(ctl(&r, NULL, NULL, "--json write %s hello", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "written", NULL)), 6);
    CHECK_INT(ctl(&r, NULL, NULL, "--json read %s", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_STR(text(at(r.json, "text", NULL)), "hello");
    CHECK_INT(ctl(&r, NULL, "from stdin\r\n", "--json write %s", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "written", NULL)), 12);
    CHECK_INT(ctl(&r, NULL, NULL, "--json dump %s 0 12", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_STR(text(at(r.json, "hex", NULL)), "66726f6d20737464696e0d0a");
    GetTempPathA(MAX_PATH, path);
    snprintf(file, sizeof(file), "%sshmbctl-%lu.bin", path,
             GetCurrentProcessId());
    f = fopen(file, "wb");
    CHECK(f != NULL);
    fwrite("\x01\x02\x03", 1, 3, f);
    fclose(f);
    f = NULL;
    CHECK_INT(ctl(&r, NULL, NULL, "--json write %s --file %s", name, file), 0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "written", NULL)), 3);
    /* dump: bounded by the region's size. */
    CHECK_INT(ctl(&r, NULL, NULL, "--json dump %s 98 1000", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "offset", NULL)), 98);
    CHECK_INT(num(at(r.json, "length", NULL)), 2);
    CHECK_INT(ctl(&r, NULL, NULL, "--json dump %s", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "length", NULL)), 100);
    CHECK(strncmp(text(at(r.json, "hex", NULL)), "010203", 6) == 0);
    CHECK_INT(ctl(&r, NULL, NULL, "dump %s 0 20", name), 0);
    CHECK(strstr(r.out,
                 "00000000  01 02 03 6d 20 73 74 64  69 6e 0d 0a 00 00 00 "
                 "00  |...m stdin......|") != NULL);
    CHECK_INT(ctl(&r, NULL, NULL, "--json dump %s 101 1", name), 2);
    CHECK_RUN(&r, 2);
    /* Too much data for the region: 4, and nothing written. */
    {
        char big[160];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        CHECK_INT(ctl(&r, NULL, big, "--json write %s", name), 4);
        CHECK_RUN(&r, 4);
    }

    CHECK_INT(ctl(&r, NULL, NULL, "--json stat %s", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "size", NULL)), 100);
    CHECK_INT(num(at(r.json, "holders", NULL)), 0);
    CHECK(cJSON_IsTrue(at(r.json, "owner", NULL)));
    CHECK_INT(ctl(&r, NULL, NULL, "--json list"), 0);
    CHECK_RUN(&r, 0);
    cJSON_ArrayForEach(e, at(r.json, "regions", NULL)) found +=
        strcmp(text(at(e, "name", NULL)), name) == 0;
    CHECK_INT(found, 1);
    CHECK(cJSON_IsFalse(at(r.json, "truncated", NULL)));
    CHECK_INT(
        ctl(&r, NULL, NULL,
            "--json raw {\\\"op\\\":\\\"stat\\\",\\\"name\\\":\\\"%s\\\"}",
            name),
        0);
    CHECK_RUN(&r, 0);
    CHECK_INT(num(at(r.json, "result", "size", NULL)), 100);
    CHECK_INT(ctl(&r, NULL, NULL, "--json delete %s", name), 0);
    CHECK_RUN(&r, 0);
    CHECK_STR(text(at(r.json, "name", NULL)), name);
    CHECK_INT(num(at(r.json, "holders", NULL)), 0);
    CHECK_INT(ctl(&r, NULL, NULL, "--json stat %s", name), 1);
    CHECK_RUN(&r, 1);
    CHECK_STR(text(at(r.json, "error", "code", NULL)), "not_found");
    CHECK_INT(ctl(&r, NULL, NULL, "stat %s", name), 1);
    CHECK(strstr(r.out, "not_found") != NULL);
    CHECK_INT(ctl(&r, NULL, NULL, "--json read it/denied/x"), 1);
    CHECK_STR(text(at(r.json, "error", "code", NULL)), "access_denied");

    /* 3: no broker there, or one that is not trusted (under Wine the
     * service is not LocalSystem, so "system" trust refuses it). */
    CHECK_INT(ctl(&r, NULL, NULL, "--json --trust system ping"), 3);
    CHECK_RUN(&r, 3);
    CHECK_STR(text(at(r.json, "error", "code", NULL)), "server_untrusted");
done:
    if (f != NULL)
        fclose(f);
    DeleteFileA(file);
    cJSON_Delete(r.json);
    r.json = NULL;
    return TEST_RESULT;
}

/* What a leak check compares (docs/protocol.md 5.9). */
static int stats_key(const cJSON *s, char *out, size_t cap)
{
    return snprintf(out, cap,
                    "conns=%.0f regions=%.0f commit=%.0f "
                    "draining=%.0f handles=%.0f",
                    num(at(s, "connections", "total", NULL)),
                    num(at(s, "regions", "total", NULL)),
                    num(at(s, "commit", "total", NULL)),
                    num(at(s, "commit", "draining", NULL)),
                    num(at(s, "grantee_handles", NULL))) > 0;
}

static int stats_now(ctl_run *r, char *key, size_t cap)
{
    return ctl(r, NULL, NULL, "--json status") == 0 && r->json != NULL &&
           cJSON_IsObject(at(r->json, "stats", NULL)) &&
           stats_key(at(r->json, "stats", NULL), key, cap);
}

struct holding_check {
    double before;
};

/* While a `write` waits for its stdin: more grantee handles than before. */
static int more_handles(void *ctx)
{
    static ctl_run r;
    struct holding_check *hc = ctx;
    int more = 0, i;
    /* The grant may still be on its way. */
    for (i = 0; i < 40 && !more; i++) {
        if (ctl(&r, NULL, NULL, "--json status") == 0 && r.json != NULL)
            more =
                num(at(r.json, "stats", "grantee_handles", NULL)) > hc->before;
        if (!more)
            Sleep(100);
    }
    cJSON_Delete(r.json);
    r.json = NULL;
    return more;
}

/* status: the service manager's state and, for an administrator, stats;
 * a child with Administrators deny-only gets access_denied (exit 0 for
 * status, 1 for the op itself) and no number. Then the leak check: clients
 * create, grant and exit; stats comes back to where it was. */
int test_shmbctl_status_and_stats(void)
{
    static ctl_run r;
    HANDLE rtok = NULL;
    char base[256], now[256];
    int i;

    CHECK_INT(ctl(&r, NULL, NULL, "--json --service shmbroker status"), 0);
    CHECK_RUN(&r, 0);
    CHECK_STR(text(at(r.json, "service", "state", NULL)), "running");
    CHECK(num(at(r.json, "service", "pid", NULL)) > 0);
    CHECK(cJSON_IsTrue(at(r.json, "connected", NULL)));
    CHECK(num(at(r.json, "stats", "connections", "total", NULL)) >= 1);
    CHECK(num(at(r.json, "stats", "regions", "config", NULL)) >= 1);
    CHECK(cJSON_IsArray(at(r.json, "stats", "principals", NULL)));
    CHECK(cJSON_IsArray(at(r.json, "stats", "users", NULL)));
    CHECK(cJSON_IsNumber(at(r.json, "stats", "server", "frames", NULL)));
    CHECK_INT(ctl(&r, NULL, NULL, "status"), 0);
    CHECK(strstr(r.out, "service shmbroker: running") != NULL);
    CHECK(strstr(r.out, "grantee handles:") != NULL);

    rtok = restricted_token();
    CHECK(rtok != NULL);
    CHECK_INT(ctl(&r, rtok, NULL, "--json status"), 0);
    CHECK_RUN(&r, 0);
    CHECK(cJSON_IsNull(at(r.json, "stats", NULL)));
    CHECK_STR(text(at(r.json, "stats_error", "code", NULL)), "access_denied");
    CHECK(strstr(r.out, "S-1-5-32-544") != NULL); /* it says who may */
    CHECK(strstr(r.out, "\"commit\"") == NULL);
    CHECK_INT(ctl(&r, rtok, NULL, "--json raw {\\\"op\\\":\\\"stats\\\"}"), 1);
    CHECK_STR(text(at(r.json, "error", "code", NULL)), "access_denied");

    /* Grantees are counted: the broker keeps a handle to each process it
     * granted a section to (one that exited is let go of at the next
     * grant or once the region is gone). A `write` from stdin holds its
     * grant until its input ends. */
    {
        char kept[64];
        struct holding_check hc;
        snprintf(kept, sizeof(kept), "%s", itest_name("ctl/held"));
        CHECK(ctl(&r, NULL, NULL, "--json status") == 0 && r.json != NULL);
        hc.before = num(at(r.json, "stats", "grantee_handles", NULL));
        CHECK_INT(ctl(&r, NULL, NULL, "create %s 4096 --persistent", kept), 0);
        CHECK_INT(ctl_during(&r, more_handles, &hc, "write %s", kept), 0);
        if (!r.during)
            FAIL("grantee_handles stayed at %.0f while a grantee lived",
                 hc.before);
        CHECK_INT(ctl(&r, NULL, NULL, "delete %s", kept), 0);
    }

    /* The leak check, from a settled start: what earlier tests released
     * may still drain (until their processes are seen gone). */
    for (i = 0; i < ITEST_WAIT_MS / 250; i++) {
        if (stats_now(&r, base, sizeof(base)) &&
            strstr(base, " draining=0 ") != NULL)
            break;
        Sleep(250);
    }
    CHECK(strstr(base, " draining=0 ") != NULL);
    for (i = 0; i < 3; i++) {
        char name[64], kept[64];
        snprintf(name, sizeof(name), "%s", itest_name("ctl/leak"));
        snprintf(name + strlen(name), sizeof(name) - strlen(name), "-%d", i);
        snprintf(kept, sizeof(kept), "%s-kept", name);
        CHECK_INT(ctl(&r, NULL, NULL, "create %s 65536", name), 0);
        CHECK_INT(ctl(&r, NULL, NULL, "create %s 4096 --persistent", kept), 0);
        CHECK_INT(ctl(&r, rtok, "x", "write %s", kept), 0);
        CHECK_INT(ctl(&r, NULL, NULL, "dump %s 0 16", kept), 0);
        CHECK(stats_now(&r, now, sizeof(now)));
        CHECK(strcmp(now, base) != 0); /* the persistent one is there */
        CHECK_INT(ctl(&r, NULL, NULL, "delete %s", kept), 0);
    }
    for (i = 0; i < ITEST_WAIT_MS / 250; i++) {
        if (stats_now(&r, now, sizeof(now)) && strcmp(now, base) == 0)
            break;
        Sleep(250);
    }
    if (strcmp(now, base) != 0)
        FAIL("stats did not come back: %s, was %s", now, base);
done:
    if (rtok != NULL)
        CloseHandle(rtok);
    cJSON_Delete(r.json);
    r.json = NULL;
    return TEST_RESULT;
}
