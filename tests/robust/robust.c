/* SPDX-License-Identifier: MPL-2.0 */
/*
 * robust.c - the service under abuse and faults (issue 13, docs/robustness.md):
 * client processes killed at random points, a crowd of connections, the
 * service stopped and killed under its clients, clients that stall. Runs
 * against the installed "shmb-robust" instance
 * (tests/robust/robust-config.json) and ends every scenario with the same leak
 * check: the broker's stats back to the baseline of a fresh instance, and the
 * service process's handle count and working set not growing from one
 * repetition to the next.
 *
 * `shmb-robust SCENARIO` runs a scenario; `shmb-robust child-* ...` are the
 * client processes it starts (this program again). Counts are the CI ones
 * times $SHMB_ROBUST_SCALE (default 1).
 */
#define PSAPI_VERSION 2
#include <windows.h>

#include <psapi.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "shmb.h"
#include "shmb_dataplane.h"

#define SHMB_TEST(name, label) int test_##name(void);
#include "test-list.h"
#undef SHMB_TEST

#define SVC_NAME "shmb-robust"
#define SVC_NAME_W L"shmb-robust"
#define PIPE "\\\\.\\pipe\\shmb-robust"

/* How far the service process may grow from one repetition to the next
 * (and from the first to the last) before it counts as a leak: Wine's own
 * bookkeeping and the allocator's free lists move a little. */
#define TOL_HANDLES 16
#define TOL_WS_BYTES (4u << 20)
/* How long the broker has to notice that clients are gone (it checks
 * draining commit every second). */
#define SETTLE_MS 30000

/* ---- small helpers ------------------------------------------------------ */

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static int scaled(int ci)
{
    const char *s = getenv("SHMB_ROBUST_SCALE");
    double f = s != NULL ? atof(s) : 1.0;
    int n = (int)(ci * (f > 0 ? f : 1.0) + 0.5);
    return n < 1 ? 1 : n;
}

static shmb_client *robust_connect(uint32_t flags, uint32_t timeout_ms)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    int rc;
    memset(&o, 0, sizeof(o));
    o.pipe_name = PIPE;
    o.service_name = SVC_NAME;
    o.client_name = "shmb-robust";
    o.timeout_ms = timeout_ms;
    o.flags = flags;
    rc = shmb_connect(&o, &c);
    if (rc != SHMB_OK) {
        fprintf(stderr, "connect: %s: %s\n", shmb_err_name(rc),
                shmb_client_message(c));
        shmb_disconnect(c);
        return NULL;
    }
    return c;
}

/* A raw connection (no library): for clients that misbehave on purpose. */
static HANDLE raw_open(DWORD flags)
{
    int i;
    for (i = 0; i < 200; i++) {
        HANDLE h = CreateFileA(PIPE, GENERIC_READ | GENERIC_WRITE, 0, NULL,
                               OPEN_EXISTING, flags, NULL);
        if (h != INVALID_HANDLE_VALUE)
            return h;
        if (GetLastError() == ERROR_PIPE_BUSY)
            WaitNamedPipeA(PIPE, 100);
        else
            Sleep(20);
    }
    return INVALID_HANDLE_VALUE;
}

static int raw_write(HANDLE h, const void *buf, DWORD len)
{
    DWORD n = 0;
    return WriteFile(h, buf, len, &n, NULL) && n == len;
}

static int raw_frame(HANDLE h, const char *json)
{
    uint32_t len = (uint32_t)strlen(json);
    unsigned char hdr[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                            (unsigned char)(len >> 16),
                            (unsigned char)(len >> 24)};
    return raw_write(h, hdr, 4) && raw_write(h, json, len);
}

/* Reads until end of file (the service closed us), up to `ms`. Returns 1 at
 * EOF, 0 if still open. Reads on a PIPE_NOWAIT-less byte pipe block, so
 * peek first. */
static int raw_eof_within(HANDLE h, DWORD ms)
{
    DWORD end = GetTickCount() + ms;
    char buf[4096];
    for (;;) {
        DWORD avail = 0, n = 0;
        if (!PeekNamedPipe(h, NULL, 0, NULL, &avail, NULL))
            return 1; /* broken pipe: closed and drained */
        if (avail > 0) {
            if (!ReadFile(h, buf, sizeof(buf), &n, NULL) || n == 0)
                return 1;
            continue;
        }
        if ((LONG)(GetTickCount() - end) > 0)
            return 0;
        Sleep(20);
    }
}

/* ---- the service as the SCM sees it ------------------------------------- */

static SC_HANDLE svc_open(SC_HANDLE *scm)
{
    *scm = OpenSCManagerW(NULL, NULL, SC_MANAGER_CONNECT);
    if (*scm == NULL)
        return NULL;
    return OpenServiceW(*scm, SVC_NAME_W,
                        SERVICE_START | SERVICE_STOP | SERVICE_QUERY_STATUS |
                            SERVICE_CHANGE_CONFIG);
}

static void svc_close(SC_HANDLE scm, SC_HANDLE svc)
{
    if (svc != NULL)
        CloseServiceHandle(svc);
    if (scm != NULL)
        CloseServiceHandle(scm);
}

static DWORD svc_status(SC_HANDLE svc, DWORD *pid)
{
    SERVICE_STATUS_PROCESS st;
    DWORD n = 0;
    if (!QueryServiceStatusEx(svc, SC_STATUS_PROCESS_INFO, (LPBYTE)&st,
                              sizeof(st), &n))
        return 0;
    if (pid != NULL)
        *pid = st.dwProcessId;
    return st.dwCurrentState;
}

static int svc_wait(SC_HANDLE svc, DWORD state, DWORD ms)
{
    DWORD end = GetTickCount() + ms;
    while (svc_status(svc, NULL) != state) {
        if ((LONG)(GetTickCount() - end) > 0)
            return 0;
        Sleep(50);
    }
    return 1;
}

/* Wine's ntdll exports wine_get_version; Windows' does not. Wine 8's SCM
 * takes failure actions but never notices a killed service process, so
 * its recovery cannot be checked there. */
static int running_under_wine(void)
{
    return GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "wine_get_version") !=
           NULL;
}

/* SYSTEM_HANDLE_INFORMATION (NtQuerySystemInformation class 16). */
typedef struct sys_handle_entry {
    ULONG pid;
    BYTE type;
    BYTE flags;
    USHORT value;
    PVOID object;
    ACCESS_MASK access;
} sys_handle_entry;

typedef LONG(NTAPI *nt_query_system_fn)(ULONG, PVOID, ULONG, PULONG);

/* The handles `pid` holds, counted from the system's handle table: Wine 8
 * answers GetProcessHandleCount for another process with 0. */
static DWORD handles_of(DWORD pid)
{
    nt_query_system_fn q = (nt_query_system_fn)(void (*)(void))GetProcAddress(
        GetModuleHandleW(L"ntdll.dll"), "NtQuerySystemInformation");
    ULONG cap = 1u << 20, n = 0, i, count = 0;
    BYTE *buf = NULL;
    LONG st;
    if (q == NULL)
        return 0;
    for (;;) {
        buf = malloc(cap);
        if (buf == NULL)
            return 0;
        st = q(16, buf, cap, &n);
        if (st != (LONG)0xC0000004) /* STATUS_INFO_LENGTH_MISMATCH */
            break;
        free(buf);
        cap *= 2;
    }
    if (st == 0) {
        ULONG total = *(ULONG *)buf;
        sys_handle_entry *e = (sys_handle_entry *)(buf + sizeof(ULONG_PTR));
        for (i = 0; i < total; i++)
            count += e[i].pid == pid;
    }
    free(buf);
    return count;
}

/* The service process's handle count and working set. */
typedef struct usage {
    int valid;
    DWORD handles;
    SIZE_T ws;
} usage;

static int svc_usage(SC_HANDLE svc, usage *u)
{
    DWORD pid = 0;
    PROCESS_MEMORY_COUNTERS pmc;
    HANDLE p;
    int ok;
    if (svc_status(svc, &pid) != SERVICE_RUNNING || pid == 0)
        return 0;
    p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION | PROCESS_VM_READ, FALSE,
                    pid);
    if (p == NULL)
        return 0;
    memset(&pmc, 0, sizeof(pmc));
    pmc.cb = sizeof(pmc);
    ok = GetProcessHandleCount(p, &u->handles) &&
         GetProcessMemoryInfo(p, &pmc, sizeof(pmc));
    if (ok && u->handles == 0)
        u->handles = handles_of(pid);
    u->ws = pmc.WorkingSetSize;
    u->valid = ok;
    CloseHandle(p);
    return ok;
}

/* ---- the leak check ------------------------------------------------------ */

/* What stats says about things a client can leave behind. */
typedef struct counts {
    double conns, regions, draining, commit, commit_draining, grantees,
        server_conns, principals, users;
} counts;

static double num_at(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);
    if (b != NULL)
        x = cJSON_GetObjectItemCaseSensitive(x, b);
    return cJSON_IsNumber(x) ? x->valuedouble : -1;
}

static int stats_read(shmb_client *c, counts *k, double *limit)
{
    char *reply = NULL;
    cJSON *doc = NULL;
    const cJSON *r;
    int ok = 0;
    if (shmb_request_json(c, "{\"op\":\"stats\"}", &reply) != SHMB_OK)
        goto out;
    doc = cJSON_Parse(reply);
    r = cJSON_GetObjectItemCaseSensitive(doc, "result");
    if (!cJSON_IsObject(r))
        goto out;
    k->conns = num_at(r, "connections", "total");
    k->regions = num_at(r, "regions", "total");
    k->draining = num_at(r, "regions", "draining");
    k->commit = num_at(r, "commit", "total");
    k->commit_draining = num_at(r, "commit", "draining");
    k->grantees = num_at(r, "grantee_handles", NULL);
    k->server_conns = num_at(r, "server", "connections");
    k->principals =
        cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "principals"));
    k->users = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, "users"));
    if (limit != NULL)
        *limit = num_at(r, "connections", "limit");
    ok = 1;
out:
    if (!ok && reply != NULL)
        fprintf(stderr, "stats: %s\n", reply);
    cJSON_Delete(doc);
    shmb_free(reply);
    return ok;
}

static int counts_equal(const counts *a, const counts *b)
{
    return a->conns == b->conns && a->regions == b->regions &&
           a->draining == b->draining && a->commit == b->commit &&
           a->commit_draining == b->commit_draining &&
           a->grantees == b->grantees && a->server_conns == b->server_conns &&
           a->principals == b->principals && a->users == b->users;
}

static void counts_say(const char *what, const counts *k)
{
    say("%s: connections=%.0f server.connections=%.0f regions=%.0f "
        "draining=%.0f commit=%.0f commit_draining=%.0f grantee_handles=%.0f "
        "principals=%.0f users=%.0f",
        what, k->conns, k->server_conns, k->regions, k->draining, k->commit,
        k->commit_draining, k->grantees, k->principals, k->users);
}

/* The baseline of a fresh instance, read through one connection of ours:
 * config regions only, nothing draining, no grantee handles. Every
 * instance of the service starts from the same counts, so the check after
 * a restart compares against it too. */
static counts g_base;
static DWORD g_settle_ms = SETTLE_MS;
static usage g_first, g_prev;
static int g_leaks;

static int baseline(void)
{
    shmb_client *c = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    int ok = c != NULL && stats_read(c, &g_base, NULL);
    shmb_disconnect(c);
    if (ok)
        counts_say("baseline", &g_base);
    return ok;
}

/* Waits until stats reads as the baseline, then compares the service
 * process with the previous repetition (and the first). 1 if nothing
 * leaked. */
static int leak_check(SC_HANDLE svc, const char *what, int repetition)
{
    DWORD end = GetTickCount() + g_settle_ms;
    counts now;
    usage u;
    int ok = 0;
    memset(&now, 0, sizeof(now));
    for (;;) {
        shmb_client *c = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
        int got = c != NULL && stats_read(c, &now, NULL);
        shmb_disconnect(c);
        if (got && counts_equal(&now, &g_base)) {
            ok = 1;
            break;
        }
        if ((LONG)(GetTickCount() - end) > 0)
            break;
        Sleep(250);
    }
    counts_say(what, &now);
    if (!ok) {
        say("LEAK after %s: stats did not come back to the baseline", what);
        g_leaks++;
        return 0;
    }
    if (!repetition)
        return 1;
    /* Our stats connection has gone (the broker learns it at EOF): let the
     * service close it before counting its handles. */
    Sleep(300);
    if (!svc_usage(svc, &u)) {
        say("cannot read the service process's usage after %s", what);
        return 0;
    }
    say("%s: service handles=%lu working_set=%lu KiB", what,
        (unsigned long)u.handles, (unsigned long)(u.ws / 1024));
    if (g_prev.valid && (u.handles > g_prev.handles + TOL_HANDLES ||
                         u.ws > g_prev.ws + TOL_WS_BYTES)) {
        say("LEAK after %s: service grew from handles=%lu ws=%lu KiB", what,
            (unsigned long)g_prev.handles, (unsigned long)(g_prev.ws / 1024));
        g_leaks++;
        ok = 0;
    }
    if (g_first.valid && (u.handles > g_first.handles + TOL_HANDLES ||
                          u.ws > g_first.ws + 2 * TOL_WS_BYTES)) {
        say("LEAK after %s: service grew since the first repetition "
            "(handles=%lu ws=%lu KiB)",
            what, (unsigned long)g_first.handles,
            (unsigned long)(g_first.ws / 1024));
        g_leaks++;
        ok = 0;
    }
    if (!g_first.valid)
        g_first = u;
    g_prev = u;
    return ok;
}

/* Every scenario starts from the running service at its baseline, with
 * nothing left over from the one before. */
static int scenario_start(SC_HANDLE svc)
{
    if (svc == NULL) {
        say("cannot open the service %s", SVC_NAME);
        return 0;
    }
    return baseline() && leak_check(svc, "start", 0);
}

/* ---- child processes ---------------------------------------------------- */

typedef struct child {
    HANDLE process;
    HANDLE stdin_w; /* closing it tells the child to finish */
} child;

static int child_start(child *ch, const char *args, int suspended)
{
    char cmd[1024];
    WCHAR self[MAX_PATH], wcmd[1200];
    STARTUPINFOW si;
    PROCESS_INFORMATION pi;
    SECURITY_ATTRIBUTES sa = {sizeof(sa), NULL, TRUE};
    HANDLE rd = NULL, wr = NULL;
    BOOL ok = FALSE;
    int tries;

    memset(ch, 0, sizeof(*ch));
    if (!CreatePipe(&rd, &wr, &sa, 0))
        return 0;
    SetHandleInformation(wr, HANDLE_FLAG_INHERIT, 0);
    GetModuleFileNameW(NULL, self, MAX_PATH);
    snprintf(cmd, sizeof(cmd), "shmb-robust %s", args);
    MultiByteToWideChar(CP_UTF8, 0, cmd, -1, wcmd, 1200);
    memset(&si, 0, sizeof(si));
    si.cb = sizeof(si);
    si.dwFlags = STARTF_USESTDHANDLES;
    si.hStdInput = rd;
    si.hStdOutput = GetStdHandle(STD_OUTPUT_HANDLE);
    si.hStdError = GetStdHandle(STD_ERROR_HANDLE);
    /* A loaded Wine may fail to start a process now and then; a few tries
     * keep that from passing for the broker's fault. */
    for (tries = 0; tries < 5; tries++) {
        ok = CreateProcessW(self, wcmd, NULL, NULL, TRUE,
                            suspended ? CREATE_SUSPENDED : 0, NULL, NULL, &si,
                            &pi);
        if (ok)
            break;
        say("starting '%s' failed (error %lu)", cmd,
            (unsigned long)GetLastError());
        Sleep(200);
    }
    CloseHandle(rd);
    if (!ok) {
        CloseHandle(wr);
        return 0;
    }
    CloseHandle(pi.hThread);
    ch->process = pi.hProcess;
    ch->stdin_w = wr;
    return 1;
}

static int child_running(const child *ch)
{
    return ch->process != NULL &&
           WaitForSingleObject(ch->process, 0) == WAIT_TIMEOUT;
}

/* Writes one byte to the child's stdin. */
static int child_tell(child *ch, char b)
{
    DWORD n = 0;
    return WriteFile(ch->stdin_w, &b, 1, &n, NULL) && n == 1;
}

/* Tells the child to finish and returns its exit code (-1: it did not end
 * within `ms` and was killed). */
static int child_finish(child *ch, DWORD ms)
{
    DWORD code = (DWORD)-1;
    if (ch->stdin_w != NULL)
        CloseHandle(ch->stdin_w);
    ch->stdin_w = NULL;
    if (ch->process == NULL)
        return -1;
    if (WaitForSingleObject(ch->process, ms) != WAIT_OBJECT_0) {
        TerminateProcess(ch->process, 99);
        WaitForSingleObject(ch->process, 5000);
        code = (DWORD)-1;
    } else {
        GetExitCodeProcess(ch->process, &code);
    }
    CloseHandle(ch->process);
    ch->process = NULL;
    return (int)code;
}

/* In a child: 1 once the parent closed our stdin (or died). */
static int told_to_finish(void)
{
    DWORD avail = 0;
    return !PeekNamedPipe(GetStdHandle(STD_INPUT_HANDLE), NULL, 0, NULL, &avail,
                          NULL);
}

static void wait_told(void)
{
    char b;
    DWORD n;
    while (ReadFile(GetStdHandle(STD_INPUT_HANDLE), &b, 1, &n, NULL) && n > 0) {
    }
}

/* Fills a view with a pattern only `seed` gives. */
static void pattern_fill(unsigned char *p, size_t n, uint32_t seed)
{
    size_t i;
    for (i = 0; i < n; i++)
        p[i] = (unsigned char)((i * 31u + seed * 7u) ^ (i >> 8));
}

static int pattern_ok(const unsigned char *p, size_t n, uint32_t seed)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i] != (unsigned char)((i * 31u + seed * 7u) ^ (i >> 8)))
            return 0;
    return 1;
}

/* The event a mid-frame victim sets once its half frame is written: made by
 * the parent before it tells the child to send, so the child never looks
 * for it too early. */
static void midframe_event_name(WCHAR *buf, size_t n, DWORD pid)
{
    _snwprintf(buf, n, L"Local\\shmb-robust-midframe-%lu", (unsigned long)pid);
    buf[n - 1] = 0;
}

/* In a mid-frame victim: half of a frame that announces 200 bytes, on a
 * connection that said hello, then the parent's event set - from here the
 * broker holds a partial frame, and its frame_timeout_ms runs. */
static int victim_half_frame(void)
{
    static const char part[] = "{\"id\":2,\"op\":\"create\",\"na";
    unsigned char hdr[4] = {200, 0, 0, 0};
    WCHAR name[64];
    HANDLE h = raw_open(0), ev;
    if (h == INVALID_HANDLE_VALUE ||
        !raw_frame(h, "{\"id\":1,\"op\":\"hello\",\"versions\":[1]}") ||
        !raw_write(h, hdr, 4) || !raw_write(h, part, (DWORD)strlen(part)))
        return 3;
    midframe_event_name(name, 64, GetCurrentProcessId());
    ev = OpenEventW(EVENT_MODIFY_STATE, FALSE, name);
    if (ev == NULL || !SetEvent(ev))
        return 4;
    Sleep(INFINITE);
    return 0;
}

/* child-victim SEED MIDFRAME: creates, opens, maps and releases regions in
 * a loop until killed; with MIDFRAME, once the parent writes 'h' to our
 * stdin, it sends half a frame, says so and waits to be killed with the
 * frame incomplete. The parent picks the moment: the kill must come well
 * inside frame_timeout_ms of the half frame, or the broker has already
 * dropped the connection and nothing is killed mid-frame. */
static int child_victim(uint32_t seed, int midframe)
{
    shmb_client *c = NULL;
    unsigned i;
    char name[96];
    srand(seed);
    for (i = 0;; i++) {
        shmb_region r;
        int rc;
        DWORD avail = 0;
        if (midframe &&
            PeekNamedPipe(GetStdHandle(STD_INPUT_HANDLE), NULL, 0, NULL, &avail,
                          NULL) &&
            avail > 0)
            return victim_half_frame();
        if (c == NULL)
            c = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
        if (c == NULL) {
            Sleep(20);
            continue;
        }
        snprintf(name, sizeof(name), "rb/v/%lu-%u",
                 (unsigned long)GetCurrentProcessId(), i % 4);
        switch (rand() % 3) {
        case 0:
            rc = shmb_region_create(c, name, 65536, SHMB_ACCESS_RW,
                                    SHMB_LIFETIME_CLIENT, &r);
            if (rc == SHMB_OK) {
                if (shmb_region_map(&r) == SHMB_OK)
                    pattern_fill(r.view, 4096, i);
                shmb_region_close(&r);
                if (rand() % 2)
                    shmb_region_release(c, name);
            } else if (rc == SHMB_E_EXISTS) {
                shmb_region_release(c, name);
            }
            break;
        case 1:
            rc = shmb_region_open(c, "cfg/robust", SHMB_ACCESS_RW, &r);
            if (rc == SHMB_OK) {
                shmb_region_map(&r);
                shmb_region_close(&r);
                shmb_region_release(c, "cfg/robust");
            }
            break;
        default:
            if (rand() % 4 == 0) { /* goes away without a word */
                shmb_disconnect(c);
                c = NULL;
            } else {
                shmb_ping(c);
            }
            break;
        }
    }
}

/* child-crowd N REGION: N connections at once, each with a grant of REGION
 * mapped and checked; held until told; exit code = errors (capped). */
static int child_crowd(int n, const char *region)
{
    shmb_client **cs = calloc((size_t)n, sizeof(*cs));
    shmb_region *rs = calloc((size_t)n, sizeof(*rs));
    int i, errors = 0;
    if (cs == NULL || rs == NULL)
        return 100;
    for (i = 0; i < n; i++) {
        int rc;
        cs[i] = robust_connect(SHMB_CONNECT_NO_RECONNECT, 60000);
        if (cs[i] == NULL) {
            errors++;
            continue;
        }
        rc = shmb_region_open(cs[i], region, SHMB_ACCESS_RO, &rs[i]);
        if (rc != SHMB_OK) {
            fprintf(stderr, "crowd open: %s: %s\n", shmb_err_name(rc),
                    shmb_client_message(cs[i]));
            errors++;
            continue;
        }
        if (shmb_region_map(&rs[i]) != SHMB_OK ||
            !pattern_ok(rs[i].view, 4096, 7))
            errors++;
    }
    wait_told();
    for (i = 0; i < n; i++) {
        if (rs[i].handle != 0)
            shmb_region_close(&rs[i]);
        shmb_disconnect(cs[i]);
    }
    free(cs);
    free(rs);
    return errors > 90 ? 90 : errors;
}

/* child-maker NAME: a persistent region with the crowd's pattern, made by
 * a process that then exits - the test process itself must not be a
 * grantee, or the region's commit would stay charged (draining) as long as
 * the test runs (docs/protocol.md, section 7). */
static int child_maker(const char *name)
{
    shmb_client *c = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    shmb_region r;
    if (c == NULL ||
        shmb_region_create(c, name, 4096, SHMB_ACCESS_RW,
                           SHMB_LIFETIME_PERSISTENT, &r) != SHMB_OK)
        return 3;
    if (shmb_region_map(&r) != SHMB_OK)
        return 4;
    pattern_fill(r.view, 4096, 7);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

/* child-holders N: N clients each with a region of its own, mapped and
 * filled. When told: the views still hold their bytes, each client goes on
 * (the library reconnects it) and creates, maps and releases a new region.
 * Exit 0, or the step that failed. */
static int child_holders(int n)
{
    shmb_client **cs = calloc((size_t)n, sizeof(*cs));
    shmb_region *rs = calloc((size_t)n, sizeof(*rs));
    char name[96];
    int i, rc = 0;
    if (cs == NULL || rs == NULL)
        return 100;
    for (i = 0; i < n; i++) {
        cs[i] = robust_connect(0, 60000);
        snprintf(name, sizeof(name), "rb/h/%lu-%d",
                 (unsigned long)GetCurrentProcessId(), i);
        if (cs[i] == NULL ||
            shmb_region_create(cs[i], name, 65536, SHMB_ACCESS_RW,
                               SHMB_LIFETIME_CLIENT, &rs[i]) != SHMB_OK ||
            shmb_region_map(&rs[i]) != SHMB_OK)
            return 3;
        pattern_fill(rs[i].view, 65536, (uint32_t)i);
    }
    wait_told();
    for (i = 0; i < n && rc == 0; i++) {
        shmb_region r2;
        if (!pattern_ok(rs[i].view, 65536, (uint32_t)i)) {
            fprintf(stderr, "holder %d: bytes changed\n", i);
            rc = 4;
            break;
        }
        /* A ping changes nothing, so the library sends it again on the new
         * connection (a create would come back "went away during it"). */
        if (shmb_ping(cs[i]) != SHMB_OK) {
            fprintf(stderr, "holder %d: ping after the restart: %s\n", i,
                    shmb_client_message(cs[i]));
            rc = 5;
            break;
        }
        snprintf(name, sizeof(name), "rb/h2/%lu-%d",
                 (unsigned long)GetCurrentProcessId(), i);
        if (shmb_region_create(cs[i], name, 4096, SHMB_ACCESS_RW,
                               SHMB_LIFETIME_CLIENT, &r2) != SHMB_OK ||
            shmb_region_map(&r2) != SHMB_OK) {
            fprintf(stderr, "holder %d: after the restart: %s\n", i,
                    shmb_client_message(cs[i]));
            rc = 5;
            break;
        }
        shmb_region_close(&r2);
        shmb_region_release(cs[i], name);
        if (shmb_client_reconnects(cs[i]) < 1) {
            fprintf(stderr, "holder %d: never reconnected\n", i);
            rc = 6;
        }
    }
    for (i = 0; i < n; i++) {
        shmb_region_close(&rs[i]);
        shmb_disconnect(cs[i]);
    }
    free(cs);
    free(rs);
    return rc;
}

#define RING_REGION "rb/ring"
#define RING_SIZE 65536
#define RECORD 200
#define RING_END UINT64_MAX

static void record_fill(unsigned char *b, uint64_t seq)
{
    memcpy(b, &seq, 8);
    pattern_fill(b + 8, RECORD - 8, (uint32_t)seq);
}

/* In the consumer: the parent writes 'd' to our stdin once the service is
 * down and 'u' once it is back; remember how far the ring had come. */
static void note_marks(uint64_t seq, uint64_t *down, uint64_t *up)
{
    DWORD avail = 0, n = 0;
    char b;
    HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
    while (PeekNamedPipe(in, NULL, 0, NULL, &avail, NULL) && avail > 0 &&
           ReadFile(in, &b, 1, &n, NULL) && n == 1) {
        if (b == 'd')
            *down = seq;
        else if (b == 'u')
            *up = seq;
    }
}

/* child-producer / child-consumer: a ring over a region with doorbells.
 * The producer writes numbered records until told, then an end record;
 * the consumer checks every record's number and bytes. Both, at the end,
 * make a request so the library has to reconnect to the new service. */
static int child_ring(int producer)
{
    shmb_client *c = robust_connect(0, 60000);
    shmb_region r;
    shmb_ring ring;
    shmb_wait_ops ops;
    shmb_doorbell_ctx ctx;
    unsigned char buf[RECORD];
    uint64_t seq = 0, seq_down = UINT64_MAX, seq_up = UINT64_MAX;
    int rc, i;

    memset(&r, 0, sizeof(r));
    if (c == NULL)
        return 3;
    if (producer) {
        if (shmb_region_create_ex(c, RING_REGION, RING_SIZE, SHMB_ACCESS_RW,
                                  SHMB_LIFETIME_CLIENT, 2, &r) != SHMB_OK ||
            shmb_region_map(&r) != SHMB_OK ||
            shmb_ring_format(r.view, RING_SIZE, 0) != SHMB_OK)
            return 4;
    } else {
        for (i = 0; i < 500; i++) {
            if (shmb_region_open(c, RING_REGION, SHMB_ACCESS_RW, &r) == SHMB_OK)
                break;
            Sleep(20);
        }
        if (r.handle == 0 || shmb_region_map(&r) != SHMB_OK)
            return 4;
    }
    if (shmb_wait_ops_ring(&ops, &ctx, &r,
                           producer ? SHMB_RING_PRODUCER
                                    : SHMB_RING_CONSUMER) != SHMB_OK ||
        shmb_ring_attach(&ring, r.view, RING_SIZE,
                         producer ? SHMB_RING_PRODUCER : SHMB_RING_CONSUMER,
                         &ops) != SHMB_OK)
        return 5;
    if (producer) {
        while (!told_to_finish()) {
            record_fill(buf, seq);
            rc = shmb_ring_write(&ring, buf, RECORD, 100);
            if (rc == SHMB_OK)
                seq++;
            else if (rc != SHMB_E_TIMEOUT)
                return 6;
        }
        memset(buf, 0xff, 8);
        while ((rc = shmb_ring_write(&ring, buf, 8, 1000)) == SHMB_E_TIMEOUT) {
        }
        if (rc != SHMB_OK)
            return 6;
    } else {
        for (;;) {
            size_t len = 0;
            uint64_t got;
            if (seq % 64 == 0)
                note_marks(seq, &seq_down, &seq_up);
            rc = shmb_ring_read(&ring, buf, sizeof(buf), &len, 1000);
            if (rc == SHMB_E_TIMEOUT) {
                note_marks(seq, &seq_down, &seq_up);
                continue;
            }
            if (rc != SHMB_OK || len < 8)
                return 6;
            memcpy(&got, buf, 8);
            if (got == RING_END)
                break;
            if (got != seq || len != RECORD ||
                !pattern_ok(buf + 8, RECORD - 8, (uint32_t)seq)) {
                fprintf(stderr, "consumer: record %llu wrong (want %llu)\n",
                        (unsigned long long)got, (unsigned long long)seq);
                return 7;
            }
            seq++;
        }
    }
    if (shmb_ping(c) != SHMB_OK || shmb_client_reconnects(c) < 1) {
        fprintf(stderr, "%s: no reconnect: %s\n",
                producer ? "producer" : "consumer", shmb_client_message(c));
        return 8;
    }
    say("%s: %llu records through the ring, reconnects=%u",
        producer ? "producer" : "consumer", (unsigned long long)seq,
        (unsigned)shmb_client_reconnects(c));
    if (!producer) {
        say("consumer: %llu records while the service was down",
            (unsigned long long)(seq_up - seq_down));
        if (seq_down == UINT64_MAX || seq_up == UINT64_MAX ||
            seq_up <= seq_down)
            return 9;
    }
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

static int child_main(int argc, char **argv)
{
    if (strcmp(argv[1], "child-victim") == 0 && argc == 4)
        return child_victim((uint32_t)strtoul(argv[2], NULL, 10),
                            atoi(argv[3]));
    if (strcmp(argv[1], "child-crowd") == 0 && argc == 4)
        return child_crowd(atoi(argv[2]), argv[3]);
    if (strcmp(argv[1], "child-maker") == 0 && argc == 3)
        return child_maker(argv[2]);
    if (strcmp(argv[1], "child-holders") == 0 && argc == 3)
        return child_holders(atoi(argv[2]));
    if (strcmp(argv[1], "child-producer") == 0)
        return child_ring(1);
    if (strcmp(argv[1], "child-consumer") == 0)
        return child_ring(0);
    fprintf(stderr, "unknown child %s\n", argv[1]);
    return 2;
}

/* ---- scenarios ------------------------------------------------------------
 */

/* The service log, as this Wine process opens it; NULL if unknown. */
static FILE *log_open(void)
{
    const char *dir = getenv("SHMB_BUILD_DIR");
    char path[1024];
    if (dir == NULL)
        return NULL;
    snprintf(path, sizeof(path), "%s%s/service-" SVC_NAME ".log",
             dir[0] == '/' ? "Z:" : "", dir);
    return fopen(path, "r");
}

/* The number of lines of the service log that contain `needle`. */
static int log_count(const char *needle)
{
    char line[2048];
    FILE *f = log_open();
    int n = 0;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL)
        if (strstr(line, needle) != NULL)
            n++;
    fclose(f);
    return n;
}

/* 1 if `line` names process `pid` ("pid=548 ", not "pid=5480"). */
static int line_has_pid(const char *line, DWORD pid)
{
    char key[32];
    const char *p = line;
    size_t len;
    snprintf(key, sizeof(key), " pid=%lu", (unsigned long)pid);
    len = strlen(key);
    while ((p = strstr(p, key)) != NULL) {
        p += len;
        if (*p < '0' || *p > '9')
            return 1;
    }
    return 0;
}

/* Lines after the first `from` that contain `needle` and name one of
 * `pids`; -1 if the log cannot be read. */
static int log_count_pids(int from, const char *needle, const DWORD *pids,
                          int npids)
{
    char line[2048];
    FILE *f = log_open();
    int n = 0, at = 0, i;
    if (f == NULL)
        return -1;
    while (fgets(line, sizeof(line), f) != NULL) {
        if (at++ < from || strstr(line, needle) == NULL)
            continue;
        for (i = 0; i < npids; i++)
            if (line_has_pid(line, pids[i])) {
                line[strcspn(line, "\r\n")] = 0;
                say("killed too late: %s", line);
                n++;
                break;
            }
    }
    fclose(f);
    return n;
}

/* A mid-frame victim: told to send its half frame, waited for, killed at
 * once. 1 if it was killed with its half frame sent; the time from the
 * word to the kill in *ms. */
static int kill_mid_frame(child *ch, HANDLE ev, DWORD *ms)
{
    DWORD t0 = GetTickCount();
    HANDLE both[2] = {ev, ch->process};
    DWORD w;
    if (!child_tell(ch, 'h'))
        return 0;
    /* Bounded: fifty victims may wait their turn for a pipe instance. */
    w = WaitForMultipleObjects(2, both, FALSE, 30000);
    if (w != WAIT_OBJECT_0) {
        say("mid-frame victim %lu: no half frame (wait %lu)",
            (unsigned long)GetProcessId(ch->process), (unsigned long)w);
        return 0;
    }
    if (!TerminateProcess(ch->process, 9))
        return 0;
    *ms = GetTickCount() - t0;
    return 1;
}

/* Client processes killed at random points, in waves. */
int test_killed_clients(void)
{
    SC_HANDLE scm = NULL, svc = svc_open(&scm);
    int total = scaled(500), wave = 50, w, killed = 0, midframe = 0,
        mf_killed = 0, mf_late = 0, selfexit = 0;
    DWORD mf_worst = 0;
    child *kids = calloc((size_t)wave, sizeof(child));
    HANDLE *evs = calloc((size_t)wave, sizeof(HANDLE));
    DWORD *mf_pids = calloc((size_t)wave, sizeof(DWORD));
    CHECK(kids != NULL && evs != NULL && mf_pids != NULL);
    CHECK(scenario_start(svc));
    srand(GetTickCount());
    for (w = 0; w * wave < total; w++) {
        int n = total - w * wave < wave ? total - w * wave : wave, i, nmf = 0,
            from = log_count(""), late;
        char args[64], what[64];
        CHECK(from >= 0);
        for (i = 0; i < n; i++) {
            int mf = rand() % 5 == 0;
            snprintf(args, sizeof(args), "child-victim %u %d", (unsigned)rand(),
                     mf);
            CHECK(child_start(&kids[i], args, 0));
            if (mf) {
                WCHAR name[64];
                mf_pids[nmf++] = GetProcessId(kids[i].process);
                midframe_event_name(name, 64, GetProcessId(kids[i].process));
                evs[i] = CreateEventW(NULL, TRUE, FALSE, name);
                CHECK(evs[i] != NULL);
            }
            midframe += mf;
        }
        /* Give them time to start (a Wine process takes tens of ms, more
         * when fifty start at once), then kill each at its own moment; a
         * mid-frame victim sends its half frame only when told, right
         * before its kill. */
        Sleep(1000);
        for (i = 0; i < n; i++) {
            DWORD ms = 0;
            Sleep((DWORD)(rand() % 40));
            if (child_running(&kids[i]) && evs[i] != NULL) {
                if (kill_mid_frame(&kids[i], evs[i], &ms)) {
                    killed++;
                    mf_killed++;
                    if (ms > mf_worst)
                        mf_worst = ms;
                }
            } else if (child_running(&kids[i])) {
                TerminateProcess(kids[i].process, 9);
                killed++;
            }
            /* A mid-frame victim that never sent its half frame is still
             * running: it must not outlive the test (it counts as not
             * killed mid-frame). */
            if (child_running(&kids[i]))
                TerminateProcess(kids[i].process, 98);
            if (WaitForSingleObject(kids[i].process, 5000) == WAIT_OBJECT_0) {
                DWORD code = 0;
                GetExitCodeProcess(kids[i].process, &code);
                if (code != 9 && code != 98) {
                    say("victim exited by itself with %lu",
                        (unsigned long)code);
                    selfexit++;
                }
            }
            CloseHandle(kids[i].process);
            CloseHandle(kids[i].stdin_w);
            if (evs[i] != NULL)
                CloseHandle(evs[i]);
            evs[i] = NULL;
            memset(&kids[i], 0, sizeof(kids[i]));
        }
        snprintf(what, sizeof(what), "wave %d (%d killed so far)", w + 1,
                 killed);
        CHECK(leak_check(svc, what, 1));
        /* The leak check saw every connection gone, so a frame_timeout
         * of this wave is in the log by now: one there means a victim was
         * dropped for its half frame before it was killed. */
        late = log_count_pids(from, "event=frame_timeout", mf_pids, nmf);
        CHECK(late >= 0);
        mf_late += late;
    }
    say("FIGURES killed_clients: killed=%d midframe=%d "
        "killed_mid_frame=%d frame_timeouts_before_kill=%d "
        "worst_word_to_kill_ms=%lu exited_early=%d waves=%d leaks=%d",
        killed, midframe, mf_killed, mf_late, (unsigned long)mf_worst, selfexit,
        w, g_leaks);
    CHECK_INT(selfexit, 0);
    CHECK_INT(mf_killed, midframe);
    CHECK_INT(mf_late, 0);
    CHECK_INT(g_leaks, 0);
done:
    /* A failed check mid-wave: the victims started so far loop until
     * killed, and hold the test's output open. */
    for (w = 0; kids != NULL && w < wave; w++) {
        if (kids[w].process != NULL)
            child_finish(&kids[w], 0);
        if (evs != NULL && evs[w] != NULL)
            CloseHandle(evs[w]);
    }
    free(kids);
    free(evs);
    free(mf_pids);
    svc_close(scm, svc);
    return TEST_RESULT;
}

/* A crowd of connections with grants, then the limit. */
static int crowd_once(int unused)
{
    SC_HANDLE scm = NULL, svc = svc_open(&scm);
    int want = scaled(1000), procs, per, i, errors = 0, extra_ok = 0;
    child *kids = NULL, maker = {NULL, NULL};
    shmb_client *me = NULL, **extra = NULL;
    counts k;
    double limit = 0, peak = 0;
    DWORD t0;
    int refused = 0, rc = 0;

    (void)unused;
    CHECK(scenario_start(svc));
    CHECK(child_start(&maker, "child-maker rb/crowd", 0));
    CHECK_INT(child_finish(&maker, 60000), 0);
    me = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    CHECK(me != NULL);
    per = 100;
    procs = (want + per - 1) / per;
    kids = calloc((size_t)procs, sizeof(child));
    CHECK(kids != NULL);
    t0 = GetTickCount();
    for (i = 0; i < procs; i++) {
        char args[64];
        int n = want - i * per < per ? want - i * per : per;
        snprintf(args, sizeof(args), "child-crowd %d rb/crowd", n);
        CHECK(child_start(&kids[i], args, 0));
    }
    /* All connected, each with its grant: 1 + want connections. */
    for (;;) {
        CHECK(stats_read(me, &k, &limit));
        if (k.conns > peak)
            peak = k.conns;
        if (k.conns >= 1 + want)
            break;
        for (i = 0; i < procs; i++)
            if (!child_running(&kids[i]))
                FAIL("a crowd process ended early");
        if (GetTickCount() - t0 > 180000)
            FAIL("only %.0f of %d connections after 180 s", k.conns, want);
        Sleep(200);
    }
    say("crowd: %d connections with grants in %lu ms (limit %.0f)", want,
        (unsigned long)(GetTickCount() - t0), limit);
    /* Fill up to max_clients, then one more: refused as documented. */
    extra = calloc((size_t)(limit + 2), sizeof(*extra));
    CHECK(extra != NULL);
    for (i = 0; i < (int)limit - (int)k.conns + 1; i++) {
        shmb_connect_options o;
        memset(&o, 0, sizeof(o));
        o.pipe_name = PIPE;
        o.service_name = SVC_NAME;
        o.flags = SHMB_CONNECT_NO_RECONNECT;
        rc = shmb_connect(&o, &extra[i]);
        if (rc == SHMB_OK) {
            extra_ok++;
            continue;
        }
        if (rc == SHMB_E_LIMIT_REACHED &&
            strstr(shmb_client_message(extra[i]), "max_clients") != NULL)
            refused++;
        else
            say("extra connection %d: %s: %s", i, shmb_err_name(rc),
                shmb_client_message(extra[i]));
    }
    CHECK(stats_read(me, &k, NULL));
    if (k.conns > peak)
        peak = k.conns;
    say("crowd: %d more accepted, %d refused (limit_reached, max_clients); "
        "connections now %.0f",
        extra_ok, refused, k.conns);
    CHECK_INT(refused, 1);
    CHECK_INT((int)k.conns, (int)limit);
    CHECK(shmb_ping(me) == SHMB_OK); /* alive */
    for (i = 0; i < (int)limit + 2; i++)
        shmb_disconnect(extra[i]);
    free(extra);
    extra = NULL;
    for (i = 0; i < procs; i++) {
        int code = child_finish(&kids[i], 60000);
        if (code != 0) {
            say("crowd process %d: exit %d (errors)", i, code);
            errors += code < 0 ? 1 : code;
        }
    }
    say("FIGURES crowd: connections=%d peak=%.0f refused_beyond_limit=%d "
        "errors=%d",
        want, peak, refused, errors);
    CHECK_INT(errors, 0);
    CHECK(shmb_region_delete(me, "rb/crowd") == SHMB_OK);
    shmb_disconnect(me);
    me = NULL;
    CHECK(leak_check(svc, "crowd", 1));
done:
    if (extra != NULL) {
        for (i = 0; i < (int)limit + 2; i++)
            shmb_disconnect(extra[i]);
        free(extra);
    }
    if (kids != NULL) {
        for (i = 0; i < procs; i++)
            child_finish(&kids[i], 10000);
        free(kids);
    }
    child_finish(&maker, 10000);
    if (me != NULL)
        shmb_region_delete(me, "rb/crowd");
    shmb_disconnect(me);
    svc_close(scm, svc);
    return TEST_RESULT;
}

/* Holders and a ring pair across a restart; `kill` ends the service with
 * TerminateProcess instead of a stop. */
static int restart_under_clients(int kill)
{
    SC_HANDLE scm = NULL, svc = svc_open(&scm);
    int n = scaled(50), per = 10, procs = (n + per - 1) / per, i, bad = 0;
    child *kids = calloc((size_t)procs + 2, sizeof(child));
    shmb_client *me = NULL;
    counts k;
    DWORD pid = 0, t0;
    int restarts = 0, scm_recovers = 0;

    CHECK(kids != NULL);
    CHECK(scenario_start(svc));
    for (i = 0; i < procs; i++) {
        char args[64];
        snprintf(args, sizeof(args), "child-holders %d",
                 n - i * per < per ? n - i * per : per);
        CHECK(child_start(&kids[i], args, 0));
    }
    CHECK(child_start(&kids[procs], "child-producer", 0));
    CHECK(child_start(&kids[procs + 1], "child-consumer", 0));
    me = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    CHECK(me != NULL);
    t0 = GetTickCount();
    for (;;) {
        CHECK(stats_read(me, &k, NULL));
        if (k.conns >= 1 + n + 2 && k.regions >= g_base.regions + n + 1)
            break;
        for (i = 0; i < procs + 2; i++)
            if (!child_running(&kids[i]))
                FAIL("client process %d ended early", i);
        if (GetTickCount() - t0 > 60000)
            FAIL("clients not ready after 60 s (%.0f connections)", k.conns);
        Sleep(100);
    }
    shmb_disconnect(me);
    me = NULL;
    Sleep(500); /* the ring runs */
    svc_status(svc, &pid);
    if (kill) {
        HANDLE p = OpenProcess(PROCESS_TERMINATE | SYNCHRONIZE, FALSE, pid);
        SERVICE_FAILURE_ACTIONSW fa;
        SC_ACTION act = {SC_ACTION_RESTART, 500};
        /* Ask the SCM to restart it. */
        memset(&fa, 0, sizeof(fa));
        fa.cActions = 1;
        fa.lpsaActions = &act;
        if (ChangeServiceConfig2W(svc, SERVICE_CONFIG_FAILURE_ACTIONS, &fa))
            scm_recovers = !running_under_wine();
        else
            say("no SCM recovery here (ChangeServiceConfig2W error %lu): the "
                "test restarts the service",
                (unsigned long)GetLastError());
        if (!scm_recovers)
            say("SCM recovery is not checked here%s: the test restarts "
                "the service",
                running_under_wine()
                    ? " (Wine 8's SCM does not notice the killed process)"
                    : "");
        CHECK(p != NULL);
        CHECK(TerminateProcess(p, 1));
        WaitForSingleObject(p, 10000);
        CloseHandle(p);
    } else {
        SERVICE_STATUS st;
        CHECK(ControlService(svc, SERVICE_CONTROL_STOP, &st));
    }
    if (scm_recovers) {
        /* The process is gone: the service is down from here until the
         * SCM's restart, which must come (500 ms asked, 60 s allowed). */
        DWORD now = 0;
        CHECK(child_tell(&kids[procs + 1], 'd'));
        t0 = GetTickCount();
        while (svc_status(svc, &now) != SERVICE_RUNNING || now == pid ||
               now == 0) {
            if (GetTickCount() - t0 > 60000)
                FAIL("the SCM did not restart the killed service within 60 s "
                     "(state %lu, pid %lu)",
                     (unsigned long)svc_status(svc, NULL), (unsigned long)now);
            Sleep(50);
        }
        restarts++;
        say("the SCM's recovery restarted the service (pid %lu -> %lu)",
            (unsigned long)pid, (unsigned long)now);
        Sleep(1000); /* clients go on under the new instance */
        for (i = 0; i < procs + 2; i++)
            if (!child_running(&kids[i]))
                FAIL("client process %d died with the service", i);
    } else {
        /* Wait for the SCM to see it gone. Wine 8's SCM does not watch
         * the process: after a kill it keeps reporting RUNNING with the
         * dead pid; then the test restarts it below. */
        t0 = GetTickCount();
        for (;;) {
            DWORD now = 0, state = svc_status(svc, &now);
            if (state == SERVICE_STOPPED)
                break;
            if (GetTickCount() - t0 > (kill ? 5000u : 30000u)) {
                if (!kill)
                    FAIL("service did not stop (state %lu)",
                         (unsigned long)state);
                say("the SCM still says state %lu for the dead pid %lu",
                    (unsigned long)state, (unsigned long)pid);
                break;
            }
            Sleep(50);
        }
        CHECK(child_tell(&kids[procs + 1], 'd'));
        Sleep(1000); /* clients live on without the service; the ring runs */
        for (i = 0; i < procs + 2; i++)
            if (!child_running(&kids[i]))
                FAIL("client process %d died with the service", i);
    }
    if (restarts == 0) {
        DWORD now = 0;
        if (svc_status(svc, NULL) != SERVICE_STOPPED) {
            /* Wine 8: a stop request makes its SCM let go of the dead
             * process, after which a start runs a new one. */
            SERVICE_STATUS st;
            ControlService(svc, SERVICE_CONTROL_STOP, &st);
            svc_wait(svc, SERVICE_STOPPED, 5000);
        }
        if (!StartServiceW(svc, 0, NULL) &&
            GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
            FAIL("StartService: error %lu", (unsigned long)GetLastError());
        t0 = GetTickCount();
        while (svc_status(svc, &now) != SERVICE_RUNNING || now == pid) {
            if (GetTickCount() - t0 > 30000)
                FAIL("no new service process after 30 s");
            Sleep(50);
        }
        restarts++;
        say("restarted by the test");
    }
    CHECK(child_tell(&kids[procs + 1], 'u'));
    Sleep(500);
    /* Holders check their bytes and go on; the producer ends the ring. */
    for (i = 0; i < procs; i++) {
        int code = child_finish(&kids[i], 120000);
        if (code != 0) {
            say("holders %d: exit %d", i, code);
            bad++;
        }
    }
    for (i = procs; i < procs + 2; i++) {
        int code = child_finish(&kids[i], 60000);
        if (code != 0) {
            say("%s: exit %d", i == procs ? "producer" : "consumer", code);
            bad++;
        }
    }
    say("FIGURES %s: holders=%d ring_pair=1 restarts=%d restarted_by=%s "
        "failed_clients=%d",
        kill ? "service_killed" : "service_stopped", n, restarts,
        scm_recovers ? "scm-recovery" : "test", bad);
    CHECK_INT(bad, 0);
    CHECK(leak_check(svc, "new instance", 1));
done:
    if (kids != NULL) {
        for (i = 0; i < procs + 2; i++)
            child_finish(&kids[i], 10000);
        free(kids);
    }
    shmb_disconnect(me);
    if (svc != NULL && svc_status(svc, NULL) == SERVICE_STOPPED) {
        StartServiceW(svc, 0, NULL);
        svc_wait(svc, SERVICE_RUNNING, 30000);
    }
    svc_close(scm, svc);
    return TEST_RESULT;
}

/* Repeats a scenario: the service process after each repetition is
 * compared with the one after the previous (a new process after a restart,
 * under the same load). */
static int repeat(int (*fn)(int), int arg)
{
    int i, n = scaled(2);
    for (i = 0; i < n && TEST_RESULT == 0; i++) {
        say("-- repetition %d of %d", i + 1, n);
        fn(arg);
    }
    say("FIGURES repetitions=%d leaks=%d", i, g_leaks);
    return TEST_RESULT;
}

int test_service_stopped(void)
{
    return repeat(restart_under_clients, 0);
}

int test_service_killed(void)
{
    return repeat(restart_under_clients, 1);
}

/* Clients that stall: never speak, half a frame, never read. */
static int stalled_once(int unused)
{
    SC_HANDLE scm = NULL, svc = svc_open(&scm);
    int n = scaled(10), i, closed = 0;
    HANDLE *silent = NULL, *half = NULL, *deaf = NULL;
    OVERLAPPED *ov = NULL;
    static char flood[64 * 1024];
    size_t flen = 0;
    int hello0, frame0, write0, hello1, frame1, write1;
    shmb_client *c = NULL;

    (void)unused;
    CHECK(scenario_start(svc));
    hello0 = log_count("event=hello_timeout");
    frame0 = log_count("event=frame_timeout");
    write0 = log_count("event=write_timeout");
    CHECK(hello0 >= 0);
    silent = calloc((size_t)n, sizeof(HANDLE));
    half = calloc((size_t)n, sizeof(HANDLE));
    deaf = calloc((size_t)n, sizeof(HANDLE));
    ov = calloc((size_t)n, sizeof(OVERLAPPED));
    CHECK(silent && half && deaf && ov);
    /* Many stats requests whose replies (~1 KiB each) outgrow the pipe's
     * buffer when nobody reads them. */
    while (flen + 64 < sizeof(flood)) {
        static const char req[] = "{\"id\":7,\"op\":\"stats\"}";
        uint32_t len = (uint32_t)strlen(req);
        memcpy(flood + flen, &len, 4);
        memcpy(flood + flen + 4, req, len);
        flen += 4 + len;
    }
    for (i = 0; i < n; i++) {
        static const char part[] = {(char)100, 0, 0, 0, '{', '"', 'i'};
        silent[i] = raw_open(0);
        half[i] = raw_open(0);
        deaf[i] = raw_open(FILE_FLAG_OVERLAPPED);
        CHECK(silent[i] != INVALID_HANDLE_VALUE &&
              half[i] != INVALID_HANDLE_VALUE &&
              deaf[i] != INVALID_HANDLE_VALUE);
        CHECK(
            raw_frame(half[i], "{\"id\":1,\"op\":\"hello\",\"versions\":[1]}"));
        CHECK(raw_write(half[i], part, sizeof(part)));
    }
    for (i = 0; i < n; i++) {
        static const char hello[] =
            "\x24\0\0\0{\"id\":1,\"op\":\"hello\",\"versions\":[1]}";
        DWORD wn;
        ov[i].hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
        if (!WriteFile(deaf[i], hello, sizeof(hello) - 1, &wn, &ov[i]) &&
            GetLastError() == ERROR_IO_PENDING)
            GetOverlappedResult(deaf[i], &ov[i], &wn, TRUE);
        ResetEvent(ov[i].hEvent);
        /* Left pending if the pipe is full: the buffer is static. */
        WriteFile(deaf[i], flood, (DWORD)flen, NULL, &ov[i]);
    }
    /* Every one of them closed by its deadline, with the log's account. */
    WAIT_UNTIL(log_count("event=hello_timeout") - hello0 >= n &&
                   log_count("event=frame_timeout") - frame0 >= n &&
                   log_count("event=write_timeout") - write0 >= n,
               30000);
    hello1 = log_count("event=hello_timeout") - hello0;
    frame1 = log_count("event=frame_timeout") - frame0;
    write1 = log_count("event=write_timeout") - write0;
    for (i = 0; i < n; i++) {
        closed += raw_eof_within(silent[i], 5000);
        closed += raw_eof_within(half[i], 5000);
    }
    say("FIGURES stalled_clients: each_kind=%d hello_timeout=%d "
        "frame_timeout=%d write_timeout=%d closed_seen=%d",
        n, hello1, frame1, write1, closed);
    CHECK_INT(hello1, n);
    CHECK_INT(frame1, n);
    CHECK_INT(write1, n);
    CHECK_INT(closed, 2 * n);
    c = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    CHECK(c != NULL && shmb_ping(c) == SHMB_OK); /* alive */
    shmb_disconnect(c);
    c = NULL;
    for (i = 0; i < n; i++) {
        CancelIo(deaf[i]);
        CloseHandle(silent[i]);
        CloseHandle(half[i]);
        CloseHandle(deaf[i]);
        CloseHandle(ov[i].hEvent);
        silent[i] = half[i] = deaf[i] = ov[i].hEvent = NULL;
    }
    CHECK(leak_check(svc, "stalled clients", 1));
done:
    shmb_disconnect(c);
    if (deaf != NULL)
        for (i = 0; i < n; i++) {
            if (deaf[i] != NULL && deaf[i] != INVALID_HANDLE_VALUE) {
                CancelIo(deaf[i]);
                CloseHandle(deaf[i]);
            }
            if (silent[i] != NULL && silent[i] != INVALID_HANDLE_VALUE)
                CloseHandle(silent[i]);
            if (half[i] != NULL && half[i] != INVALID_HANDLE_VALUE)
                CloseHandle(half[i]);
        }
    free(silent);
    free(half);
    free(deaf);
    free(ov);
    svc_close(scm, svc);
    return TEST_RESULT;
}

#define SHMB_TEST(name, label) {#name, test_##name},
static const shmb_test tests[] = {
#include "test-list.h"
    {NULL, NULL},
};
#undef SHMB_TEST

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc >= 2 && strncmp(argv[1], "child-", 6) == 0)
        return child_main(argc, argv);
    return shmb_test_main(tests, argc, argv);
}

int test_crowd(void)
{
    return repeat(crowd_once, 0);
}

int test_stalled_clients(void)
{
    return repeat(stalled_once, 0);
}

/* The check itself can fail: a persistent region left behind by a client
 * that exited, and a connection left open, are both reported. */
int test_leak_check_detects(void)
{
    SC_HANDLE scm = NULL, svc = svc_open(&scm);
    child maker = {NULL, NULL};
    shmb_client *idle = NULL, *me = NULL;
    usage clean, held;
    int before;

    CHECK(scenario_start(svc));
    Sleep(300);
    CHECK(svc_usage(svc, &clean));
    g_settle_ms = 2000;
    CHECK(child_start(&maker, "child-maker rb/left-behind", 0));
    CHECK_INT(child_finish(&maker, 60000), 0);
    before = g_leaks;
    CHECK(!leak_check(svc, "a persistent region left behind", 0));
    CHECK_INT(g_leaks, before + 1);
    /* The handle count sees it too: the region's section and the handle to
     * the exited grantee (let go of at the next grant or when freed). */
    Sleep(300);
    CHECK(svc_usage(svc, &held));
    say("with the region left behind: service handles=%lu (was %lu)",
        (unsigned long)held.handles, (unsigned long)clean.handles);
    CHECK(held.handles >= clean.handles + 2);
    me = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    CHECK(me != NULL);
    CHECK(shmb_region_delete(me, "rb/left-behind") == SHMB_OK);
    shmb_disconnect(me);
    me = NULL;
    g_settle_ms = SETTLE_MS;
    CHECK(leak_check(svc, "region deleted", 0));
    g_settle_ms = 2000;
    idle = robust_connect(SHMB_CONNECT_NO_RECONNECT, 30000);
    CHECK(idle != NULL);
    CHECK(!leak_check(svc, "a connection left open", 0));
    shmb_disconnect(idle);
    idle = NULL;
    g_settle_ms = SETTLE_MS;
    CHECK(leak_check(svc, "connection closed", 0));
    g_leaks = 0;
done:
    g_settle_ms = SETTLE_MS;
    child_finish(&maker, 10000);
    shmb_disconnect(idle);
    if (me != NULL)
        shmb_region_delete(me, "rb/left-behind");
    shmb_disconnect(me);
    svc_close(scm, svc);
    return TEST_RESULT;
}
