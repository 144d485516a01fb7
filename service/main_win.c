/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main_win.c - shmbroker.exe: the Windows service and its console mode.
 *
 *   shmbroker.exe [options]            run under the SCM (sc start)
 *   shmbroker.exe --console [options]  run in the foreground; Ctrl+C stops
 *
 * Options are read from the process command line in both modes (the SCM
 * starts the binPath command line), so ServiceMain needs no globals for
 * them. The one global is the SCM status (status handle + record).
 */
#include <windows.h>

#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "broker.h"
#include "peer_win.h"
#include "server_win.h"
#include "shmb_config.h"
#include "shmb_log.h"
#include "trust_win.h"

#define SERVICE_NAME_MAX 128
#define START_WAIT_HINT_MS 10000
#define STOP_WAIT_HINT_MS 10000

typedef struct options {
    int console;
    int help;
    int version;
    int verbose;
    int check_config;
    char service_name[SERVICE_NAME_MAX];
    char pipe[SHMB_PIPE_NAME_MAX];
    char log_path[MAX_PATH * 3];
    char config_path[MAX_PATH * 3]; /* "" = the default location */
} options;

typedef struct runtime {
    options opt;
    shmb_config cfg;
    shmb_logger log;
    FILE *log_file;
    HANDLE event_source;
    uv_loop_t loop;
    uv_async_t stop;
    uv_async_t reload; /* SERVICE_CONTROL_PARAMCHANGE */
    uv_timer_t sweep;  /* gives back the commit of sections that are gone */
    broker *b;
    server *srv;
    CRITICAL_SECTION log_lock;
} runtime;

/* The one global: the process's run state as the SCM (or, in console mode,
 * the console control handler, which has no context parameter) sees it. */
static struct {
    SERVICE_STATUS_HANDLE handle;
    SERVICE_STATUS status;
    CRITICAL_SECTION lock;
    DWORD specific_code; /* -shmb_err of a failed start */
    uv_async_t *volatile console_stop;
    CRITICAL_SECTION console_lock;
} g_svc;

/* ---- SCM status ------------------------------------------------------- */

/* Called from the service thread and from the control handler; the SCM
 * status record is shared, hence the lock. `exit_code` may be a shmb_err
 * (negative): it is then reported as a service-specific error. */
static void svc_report(DWORD state, DWORD exit_code, DWORD wait_hint)
{
    if (g_svc.handle == NULL)
        return;
    EnterCriticalSection(&g_svc.lock);
    g_svc.status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    g_svc.status.dwCurrentState = state;
    g_svc.status.dwWin32ExitCode = exit_code;
    g_svc.status.dwServiceSpecificExitCode =
        exit_code == ERROR_SERVICE_SPECIFIC_ERROR ? g_svc.specific_code : 0;
    g_svc.status.dwWaitHint = wait_hint;
    g_svc.status.dwControlsAccepted = state == SERVICE_RUNNING
                                          ? SERVICE_ACCEPT_STOP |
                                                SERVICE_ACCEPT_SHUTDOWN |
                                                SERVICE_ACCEPT_PARAMCHANGE
                                          : 0;
    if (state == SERVICE_RUNNING || state == SERVICE_STOPPED)
        g_svc.status.dwCheckPoint = 0;
    else
        g_svc.status.dwCheckPoint++;
    SetServiceStatus(g_svc.handle, &g_svc.status);
    LeaveCriticalSection(&g_svc.lock);
}

/* ---- logging ---------------------------------------------------------- */

static void log_sink(void *ctx, shmb_log_level level, const char *line)
{
    runtime *rt = ctx;
    SYSTEMTIME t;
    char stamp[32];

    GetSystemTime(&t);
    snprintf(stamp, sizeof(stamp), "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ",
             t.wYear, t.wMonth, t.wDay, t.wHour, t.wMinute, t.wSecond,
             t.wMilliseconds);
    EnterCriticalSection(&rt->log_lock);
    if (rt->opt.console)
        fprintf(stderr, "%s level=%s %s\n", stamp, shmb_log_level_name(level),
                line);
    if (rt->log_file != NULL) {
        fprintf(rt->log_file, "%s level=%s %s\n", stamp,
                shmb_log_level_name(level), line);
        fflush(rt->log_file);
    }
    if (rt->event_source != NULL && level <= SHMB_LOG_WARN) {
        const char *strs[1];
        strs[0] = line;
        ReportEventA(rt->event_source,
                     level == SHMB_LOG_ERROR ? EVENTLOG_ERROR_TYPE
                                             : EVENTLOG_WARNING_TYPE,
                     0, 1, NULL, 1, 0, strs, NULL);
    }
    LeaveCriticalSection(&rt->log_lock);
}

/* ---- options ---------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: shmbroker [--console] [--config FILE] [--pipe NAME]\n"
            "                 [--log FILE] [--service-name NAME] [--verbose]\n"
            "       shmbroker --check-config [--config FILE]\n"
            "  --console        run in the foreground (Ctrl+C stops);\n"
            "                   without it the SCM must have started us\n"
            "  --config FILE    configuration (default "
            "%%ProgramData%%\\shmbroker\\config.json;\n"
            "                   built-in defaults if that file is absent)\n"
            "  --check-config   validate the configuration and exit\n"
            "  --pipe NAME      control pipe, overriding the config (default "
            "%s)\n"
            "  --log FILE       append structured log lines to FILE\n"
            "  --service-name N name registered with the SCM (default "
            "shmbroker)\n"
            "  --verbose        log debug lines too\n"
            "  --version        print the version\n",
            shmb_conventions_windows.default_pipe);
}

static int copy_arg(char *dst, size_t cap, const WCHAR *src)
{
    return win_utf8(src, dst, cap) && dst[0] != '\0';
}

/* Parses the process command line; returns 0 or prints why and returns -1. */
static int options_parse(options *o)
{
    int argc = 0, i, ok = 0;
    LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);

    memset(o, 0, sizeof(*o));
    strcpy(o->service_name, "shmbroker");
    if (argv == NULL)
        return -1;
    for (i = 1; i < argc; i++) {
        const WCHAR *a = argv[i];
        const WCHAR *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (wcscmp(a, L"--console") == 0) {
            o->console = 1;
        } else if (wcscmp(a, L"--verbose") == 0) {
            o->verbose = 1;
        } else if (wcscmp(a, L"--help") == 0 || wcscmp(a, L"-h") == 0) {
            o->help = 1;
        } else if (wcscmp(a, L"--version") == 0) {
            o->version = 1;
        } else if (wcscmp(a, L"--check-config") == 0) {
            o->check_config = 1;
        } else if (wcscmp(a, L"--config") == 0 && v != NULL) {
            if (!copy_arg(o->config_path, sizeof(o->config_path), v))
                goto bad;
            i++;
        } else if (wcscmp(a, L"--pipe") == 0 && v != NULL) {
            if (!copy_arg(o->pipe, sizeof(o->pipe), v))
                goto bad;
            i++;
        } else if (wcscmp(a, L"--log") == 0 && v != NULL) {
            if (!copy_arg(o->log_path, sizeof(o->log_path), v))
                goto bad;
            i++;
        } else if (wcscmp(a, L"--service-name") == 0 && v != NULL) {
            if (!copy_arg(o->service_name, sizeof(o->service_name), v))
                goto bad;
            i++;
        } else {
            goto bad;
        }
        continue;
    bad:
        fprintf(stderr, "shmbroker: bad or incomplete option at argument %d\n",
                i);
        usage(stderr);
        goto done;
    }
    ok = 1;
done:
    LocalFree(argv);
    return ok ? 0 : -1;
}

/* ---- configuration ---------------------------------------------------- */

/* Reads a whole file (bounded); returns NULL with *err set on failure. */
static char *read_file(const char *path, size_t *len, DWORD *err)
{
    WCHAR wpath[MAX_PATH * 2];
    HANDLE f;
    LARGE_INTEGER size;
    char *buf = NULL;
    DWORD n = 0;

    *err = 0;
    if (!MultiByteToWideChar(CP_UTF8, 0, path, -1, wpath, MAX_PATH * 2)) {
        *err = GetLastError();
        return NULL;
    }
    f = CreateFileW(wpath, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING,
                    FILE_ATTRIBUTE_NORMAL, NULL);
    if (f == INVALID_HANDLE_VALUE) {
        *err = GetLastError();
        return NULL;
    }
    if (!GetFileSizeEx(f, &size) || size.QuadPart > SHMB_CONFIG_MAX_BYTES) {
        *err = ERROR_FILE_TOO_LARGE;
    } else {
        buf = malloc((size_t)size.QuadPart + 1);
        if (buf == NULL)
            *err = ERROR_NOT_ENOUGH_MEMORY;
        else if (!ReadFile(f, buf, (DWORD)size.QuadPart, &n, NULL)) {
            *err = GetLastError();
            free(buf);
            buf = NULL;
        }
    }
    CloseHandle(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = n;
    }
    return buf;
}

static void default_config_path(char *out, size_t cap)
{
    WCHAR dir[MAX_PATH];
    char udir[MAX_PATH * 3];
    DWORD n = GetEnvironmentVariableW(L"ProgramData", dir, MAX_PATH);
    if (n == 0 || n >= MAX_PATH || !win_utf8(dir, udir, sizeof(udir)))
        strcpy(udir, "C:\\ProgramData");
    snprintf(out, cap, "%s\\shmbroker\\config.json", udir);
}

/* Loads the configuration into cfg. An explicit --config must exist and be
 * valid; the default location may be absent (built-in defaults then).
 * Returns 0, or -1 with the reason in why. */
static int config_load(const options *o, shmb_config *cfg, char *why,
                       size_t whycap)
{
    char path[MAX_PATH * 3];
    size_t len = 0;
    DWORD err;
    char *text;
    int rc;

    if (o->config_path[0] != '\0')
        snprintf(path, sizeof(path), "%s", o->config_path);
    else
        default_config_path(path, sizeof(path));
    /* Absent file: defaults (below). Present: it is our policy, so it must
     * be under administrators' control before we read a byte of it. */
    if (!win_path_trusted(path, 0, why, whycap)) {
        if (o->config_path[0] != '\0' || win_path_exists(path))
            return -1;
    }
    text = read_file(path, &len, &err);
    if (text == NULL) {
        if (o->config_path[0] == '\0' &&
            (err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND)) {
            shmb_config_defaults(cfg, &shmb_conventions_windows);
            snprintf(why, whycap, "no file at %s; using built-in defaults",
                     path);
            return 0;
        }
        snprintf(why, whycap, "%s: cannot read (system error %lu)", path, err);
        return -1;
    }
    rc = shmb_config_parse(text, len, path, &shmb_conventions_windows, cfg, why,
                           whycap);
    free(text);
    if (rc != SHMB_OK)
        return -1;
    snprintf(why, whycap, "%s: %zu rules, %zu regions", path, cfg->nrules,
             cfg->nregions);
    return 0;
}

/* ---- running ---------------------------------------------------------- */

static void on_stop(uv_async_t *a)
{
    runtime *rt = a->data;
    shmb_logf(&rt->log, SHMB_LOG_INFO, "event=stopping");
    if (rt->srv != NULL) {
        server_stop(rt->srv);
        rt->srv = NULL;
    }
    uv_close((uv_handle_t *)&rt->sweep, NULL);
    uv_close((uv_handle_t *)&rt->reload, NULL);
    uv_close((uv_handle_t *)&rt->stop, NULL);
}

/* Reloads the policy from the same file. A bad file changes nothing: the
 * running policy stays, and the log says why. */
static void on_reload(uv_async_t *a)
{
    runtime *rt = a->data;
    shmb_config fresh;
    char why[SHMB_CONFIG_ERR_MAX + MAX_PATH * 3];
    size_t i;
    int same_regions;

    if (rt->b == NULL)
        return;
    if (config_load(&rt->opt, &fresh, why, sizeof(why)) != 0) {
        shmb_logf(&rt->log, SHMB_LOG_ERROR,
                  "event=reload_failed reason=\"%s\" kept=running_policy", why);
        return;
    }
    same_regions = fresh.nregions == rt->cfg.nregions;
    for (i = 0; same_regions && i < fresh.nregions; i++)
        same_regions = memcmp(&fresh.regions[i], &rt->cfg.regions[i],
                              sizeof(fresh.regions[i])) == 0;
    if (!same_regions || strcmp(fresh.pipe_sddl, rt->cfg.pipe_sddl) != 0 ||
        (rt->opt.pipe[0] == '\0' &&
         strcmp(fresh.pipe_name, rt->cfg.pipe_name) != 0))
        shmb_logf(&rt->log, SHMB_LOG_WARN,
                  "event=reload_partial reason=\"the pipe and the config "
                  "regions change only at a restart\"");
    if (broker_reconfigure(rt->b, &fresh) == SHMB_OK)
        rt->cfg.limits = fresh.limits; /* frame size, hello deadline */
    shmb_config_free(&fresh);
}

static void on_sweep(uv_timer_t *t)
{
    runtime *rt = t->data;
    broker_sweep(rt->b);
}

static int runtime_init(runtime *rt)
{
    char why[SHMB_CONFIG_ERR_MAX + MAX_PATH * 3];

    InitializeCriticalSection(&rt->log_lock);
    rt->log.sink = log_sink;
    rt->log.ctx = rt;
    rt->log.max_level = rt->opt.verbose ? SHMB_LOG_DEBUG : SHMB_LOG_INFO;
    if (rt->opt.log_path[0] != '\0') {
        /* LocalSystem appends to this file: a folder others can write to
         * could hold a link to anything. Refuse such a log path. */
        if (!win_path_trusted(rt->opt.log_path, 1, why, sizeof(why))) {
            fprintf(stderr, "shmbroker: log file: %s\n", why);
            if (rt->event_source == NULL && !rt->opt.console)
                rt->event_source =
                    RegisterEventSourceA(NULL, rt->opt.service_name);
            if (rt->event_source != NULL) {
                const char *strs[1];
                strs[0] = why;
                ReportEventA(rt->event_source, EVENTLOG_ERROR_TYPE, 0, 1, NULL,
                             1, 0, strs, NULL);
            }
            return -1;
        }
        rt->log_file = fopen(rt->opt.log_path, "a");
        if (rt->log_file == NULL) {
            fprintf(stderr, "shmbroker: cannot open log file %s\n",
                    rt->opt.log_path);
            return -1;
        }
    }
    if (!rt->opt.console)
        rt->event_source = RegisterEventSourceA(NULL, rt->opt.service_name);
    if (config_load(&rt->opt, &rt->cfg, why, sizeof(why)) != 0) {
        /* The service refuses to start on a bad config, and says why:
         * stderr in console mode, the log file and the Event Log always. */
        shmb_logf(&rt->log, SHMB_LOG_ERROR,
                  "event=config_invalid reason=\"%s\"", why);
        if (!rt->opt.console)
            fprintf(stderr, "shmbroker: %s\n", why);
        return -1;
    }
    shmb_logf(&rt->log, SHMB_LOG_INFO, "event=config_loaded source=\"%s\"",
              why);
    if (rt->opt.pipe[0] != '\0')
        snprintf(rt->cfg.pipe_name, sizeof(rt->cfg.pipe_name), "%s",
                 rt->opt.pipe);
    return 0;
}

static void runtime_close(runtime *rt)
{
    shmb_config_free(&rt->cfg);
    if (rt->log_file != NULL)
        fclose(rt->log_file);
    if (rt->event_source != NULL)
        DeregisterEventSource(rt->event_source);
    DeleteCriticalSection(&rt->log_lock);
}

/* Runs the broker until stopped. Returns a Win32 exit code. */
static DWORD broker_run(runtime *rt)
{
    broker *b = NULL;
    char why[512] = "";
    DWORD exit_code = NO_ERROR;
    int rc;

    if (uv_loop_init(&rt->loop) != 0)
        return ERROR_NOT_ENOUGH_MEMORY;
    uv_async_init(&rt->loop, &rt->stop, on_stop);
    rt->stop.data = rt;
    uv_async_init(&rt->loop, &rt->reload, on_reload);
    rt->reload.data = rt;
    uv_timer_init(&rt->loop, &rt->sweep);
    rt->sweep.data = rt;
    b = broker_new(&rt->cfg, &rt->log);
    rt->b = b;
    if (b == NULL) {
        exit_code = ERROR_NOT_ENOUGH_MEMORY;
        uv_close((uv_handle_t *)&rt->sweep, NULL);
        uv_close((uv_handle_t *)&rt->reload, NULL);
        uv_close((uv_handle_t *)&rt->stop, NULL);
    } else {
        rc = broker_create_config_regions(b, why, sizeof(why));
        if (rc == SHMB_OK)
            rc = server_start(&rt->loop, b, &rt->cfg, &rt->log, &rt->srv, why,
                              sizeof(why));
        if (rc != SHMB_OK) {
            shmb_logf(&rt->log, SHMB_LOG_ERROR,
                      "event=start_failed reason=\"%s\"", why);
            exit_code = ERROR_SERVICE_SPECIFIC_ERROR;
            g_svc.specific_code = (DWORD)-rc; /* sc query shows the code */
            uv_close((uv_handle_t *)&rt->sweep, NULL);
            uv_close((uv_handle_t *)&rt->reload, NULL);
            uv_close((uv_handle_t *)&rt->stop, NULL);
        } else {
            uv_timer_start(&rt->sweep, on_sweep, 1000, 1000);
            shmb_logf(&rt->log, SHMB_LOG_INFO,
                      "event=started pipe=%s pid=%lu mode=%s",
                      rt->cfg.pipe_name, GetCurrentProcessId(),
                      rt->opt.console ? "console" : "service");
            svc_report(SERVICE_RUNNING, NO_ERROR, 0);
        }
    }
    uv_run(&rt->loop, UV_RUN_DEFAULT);
    broker_free(b);
    uv_loop_close(&rt->loop);
    shmb_logf(&rt->log, SHMB_LOG_INFO, "event=stopped exit=%lu", exit_code);
    return exit_code;
}

static DWORD WINAPI svc_control(DWORD control, DWORD type, LPVOID data,
                                LPVOID ctx)
{
    runtime *rt = ctx;
    (void)type;
    (void)data;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        svc_report(SERVICE_STOP_PENDING, NO_ERROR, STOP_WAIT_HINT_MS);
        uv_async_send(&rt->stop);
        return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
        uv_async_send(&rt->reload);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI svc_main(DWORD argc, LPWSTR *argv)
{
    runtime *rt = calloc(1, sizeof(*rt));
    DWORD exit_code = ERROR_INVALID_PARAMETER;
    WCHAR wname[SERVICE_NAME_MAX];

    (void)argc;
    (void)argv;
    if (rt == NULL || options_parse(&rt->opt) != 0)
        goto done_early;
    MultiByteToWideChar(CP_UTF8, 0, rt->opt.service_name, -1, wname,
                        SERVICE_NAME_MAX);
    g_svc.handle = RegisterServiceCtrlHandlerExW(wname, svc_control, rt);
    if (g_svc.handle == NULL)
        goto done_early;
    svc_report(SERVICE_START_PENDING, NO_ERROR, START_WAIT_HINT_MS);
    if (runtime_init(rt) != 0) {
        runtime_close(rt);
        svc_report(SERVICE_STOPPED, ERROR_BAD_CONFIGURATION, 0);
        free(rt);
        return;
    }
    exit_code = broker_run(rt);
    runtime_close(rt);
    free(rt);
    svc_report(SERVICE_STOPPED, exit_code, 0);
    return;
done_early:
    free(rt);
}

/* Console mode: Ctrl+C, Ctrl+Break and console close stop the broker. */
static BOOL WINAPI console_ctrl(DWORD type)
{
    (void)type;
    /* The lock orders this against run_console clearing console_stop, so a
     * late Ctrl+C never touches a closed async handle. */
    EnterCriticalSection(&g_svc.console_lock);
    if (g_svc.console_stop != NULL) {
        uv_async_send(g_svc.console_stop);
        g_svc.console_stop = NULL; /* one stop request is enough */
    }
    LeaveCriticalSection(&g_svc.console_lock);
    return TRUE;
}

static int run_console(runtime *rt)
{
    DWORD code;
    if (runtime_init(rt) != 0) {
        runtime_close(rt);
        return 2;
    }
    g_svc.console_stop = &rt->stop;
    SetConsoleCtrlHandler(console_ctrl, TRUE);
    code = broker_run(rt);
    EnterCriticalSection(&g_svc.console_lock);
    g_svc.console_stop = NULL;
    LeaveCriticalSection(&g_svc.console_lock);
    SetConsoleCtrlHandler(console_ctrl, FALSE);
    runtime_close(rt);
    return code == NO_ERROR ? 0 : 1;
}

int main(void)
{
    static SERVICE_TABLE_ENTRYW table[] = {
        {L"shmbroker", svc_main},
        {NULL, NULL},
    };
    runtime *rt = calloc(1, sizeof(*rt));
    int rc;

    InitializeCriticalSection(&g_svc.lock);
    InitializeCriticalSection(&g_svc.console_lock);
    if (rt == NULL || options_parse(&rt->opt) != 0)
        return 2;
    if (rt->opt.help) {
        usage(stdout);
        return 0;
    }
    if (rt->opt.version) {
        printf("shmbroker 0.1.0 (protocol 1)\n");
        return 0;
    }
    if (rt->opt.check_config) {
        char why[SHMB_CONFIG_ERR_MAX + MAX_PATH * 3];
        rc = config_load(&rt->opt, &rt->cfg, why, sizeof(why)) == 0 ? 0 : 1;
        fprintf(rc ? stderr : stdout, "%s%s\n", rc ? "invalid: " : "ok: ", why);
        shmb_config_free(&rt->cfg);
        free(rt);
        return rc;
    }
    if (rt->opt.console) {
        rc = run_console(rt);
        free(rt);
        return rc;
    }
    free(rt);
    if (!StartServiceCtrlDispatcherW(table)) {
        if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
            fprintf(stderr, "shmbroker: not started by the service control "
                            "manager; use --console to run in the "
                            "foreground\n");
        else
            fprintf(stderr,
                    "shmbroker: StartServiceCtrlDispatcher failed "
                    "(%lu)\n",
                    GetLastError());
        return 1;
    }
    return 0;
}
