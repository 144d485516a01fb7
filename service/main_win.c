/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main_win.c - shmbroker.exe's entry point: the service control manager's
 * glue (ServiceMain, the control handler) and the console mode. Everything
 * else is the portable run time in service.c.
 *
 *   shmbroker.exe [options]            run under the SCM (sc start)
 *   shmbroker.exe --console [options]  run in the foreground; Ctrl+C stops
 *   shmbroker.exe --init-data [--replace-untrusted]
 *                                      make the data folder (installers)
 *   shmbroker.exe --check-data         is the data folder trusted? (purge)
 *   shmbroker.exe --check-config [options] [--as-service]
 *                                      judge a config; --as-service judges
 *                                      trust as the service's account
 *
 * Options are read from the process command line in both modes (the SCM
 * starts the binPath command line), so ServiceMain needs no globals for
 * them.
 */
#include <windows.h>

#include <shellapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datadir_win.h"
#include "platform.h"
#include "scm_win.h"
#include "sddl_win.h"
#include "service.h"
#include "trust_win.h"
#include "util_win.h"

/* The console control handler has no context parameter: the service it
 * stops, guarded so a late Ctrl+C never touches a freed service. */
static struct {
    INIT_ONCE once;
    CRITICAL_SECTION lock;
    service *svc;
} g_console = {INIT_ONCE_STATIC_INIT, {0}, NULL};

/* Parses the process command line (UTF-16) as UTF-8 arguments. An
 * "--as-service" is taken out and reported in *as_service (NULL: left in,
 * so the service's own parser refuses it). */
static int parse_command_line(service_options *o, int *as_service)
{
    int argc = 0, i, n_in = 0, rc = -1;
    LPWSTR *wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
    char **argv = NULL;

    if (as_service != NULL)
        *as_service = 0;
    if (wargv != NULL)
        argv = calloc((size_t)argc + 1, sizeof(char *));
    for (i = 0; argv != NULL && i < argc; i++) {
        int n;
        if (as_service != NULL && i > 0 &&
            wcscmp(wargv[i], L"--as-service") == 0) {
            *as_service = 1;
            continue;
        }
        n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        argv[n_in] = n > 0 ? malloc((size_t)n) : NULL;
        if (argv[n_in] == NULL || !win_utf8(wargv[i], argv[n_in], (size_t)n))
            goto done;
        n_in++;
    }
    if (argv != NULL)
        rc = service_options_parse(n_in, argv, o);
done:
    for (i = 0; argv != NULL && i < argc; i++)
        free(argv[i]);
    free(argv);
    LocalFree(wargv);
    return rc;
}

enum data_step { DATA_NONE, DATA_INIT, DATA_INIT_REPLACE, DATA_CHECK };

/* Which installer's step the command line is exactly, if any:
 * "--init-data", "--init-data --replace-untrusted" or "--check-data".
 * Kept out of the service's options because they take none of them (the
 * data folder is always the default one). */
static enum data_step data_step(void)
{
    int argc = 0;
    enum data_step step = DATA_NONE;
    LPWSTR *wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
    if (wargv != NULL && argc == 2 && wcscmp(wargv[1], L"--init-data") == 0)
        step = DATA_INIT;
    else if (wargv != NULL && argc == 3 &&
             wcscmp(wargv[1], L"--init-data") == 0 &&
             wcscmp(wargv[2], L"--replace-untrusted") == 0)
        step = DATA_INIT_REPLACE;
    else if (wargv != NULL && argc == 2 &&
             wcscmp(wargv[1], L"--check-data") == 0)
        step = DATA_CHECK;
    LocalFree(wargv);
    return step;
}

/* ---- --check-config -------------------------------------------------- */

/* What only Windows can judge in a config that service_check_config
 * accepted: its SDDLs (sddl_win.c), and with `as_service` its trust as the
 * service's account would judge it rather than the caller's (an
 * administrator's own account is trusted when they check, not when the
 * LocalSystem service reads). Reads the file again the way the service
 * does. Returns 0, or -1 with the reason in msg; warnings go to warn. */
static int check_config_windows(const service_options *o, int as_service,
                                char *msg, size_t cap, char *warn,
                                size_t warncap)
{
    char path[SERVICE_PATH_MAX], why[SHMB_CONFIG_ERR_MAX];
    char self[SHMB_SID_MAX];
    char *text = NULL;
    size_t len = 0;
    shmb_config cfg;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    if (o->config_path[0] != '\0')
        snprintf(path, sizeof(path), "%s", o->config_path);
    else
        plat_default_config_path(path, sizeof(path));
    if (as_service)
        win_service_account_sid(self, sizeof(self));
    rc = as_service
             ? win_file_read_trusted_as(path, self, SHMB_CONFIG_MAX_BYTES,
                                        &text, &len, why, sizeof(why))
             : plat_file_read_trusted(path, SHMB_CONFIG_MAX_BYTES, &text, &len,
                                      why, sizeof(why));
    if (rc == SHMB_E_NOT_FOUND && o->config_path[0] == '\0')
        rc = shmb_config_defaults(&cfg, plat_conventions());
    else if (rc == SHMB_OK)
        rc = shmb_config_parse(text, len, path, plat_conventions(), &cfg, why,
                               sizeof(why));
    free(text);
    if (rc == SHMB_OK)
        rc = win_config_review(&cfg, why, sizeof(why), warn, warncap);
    if (rc != SHMB_OK)
        snprintf(msg, cap, "invalid: %s", why);
    shmb_config_free(&cfg);
    return rc == SHMB_OK ? 0 : -1;
}

/* ---- under the service control manager ------------------------------ */

static DWORD WINAPI svc_control(DWORD control, DWORD type, LPVOID data,
                                LPVOID ctx)
{
    (void)type;
    (void)data;
    switch (control) {
    case SERVICE_CONTROL_STOP:
    case SERVICE_CONTROL_SHUTDOWN:
        service_control(ctx, SERVICE_CTL_STOP);
        return NO_ERROR;
    case SERVICE_CONTROL_PARAMCHANGE:
        service_control(ctx, SERVICE_CTL_RELOAD);
        return NO_ERROR;
    case SERVICE_CONTROL_INTERROGATE:
        return NO_ERROR;
    default:
        return ERROR_CALL_NOT_IMPLEMENTED;
    }
}

static void WINAPI svc_main(DWORD argc, LPWSTR *argv)
{
    service_options opt;
    WCHAR wname[SERVICE_NAME_MAX];
    SERVICE_STATUS_HANDLE h;
    service *s;

    (void)argc;
    (void)argv;
    if (parse_command_line(&opt, NULL) != 0 ||
        !win_wide(opt.service_name, wname, SERVICE_NAME_MAX))
        return;
    s = service_new(&opt);
    if (s == NULL)
        return;
    h = RegisterServiceCtrlHandlerExW(wname, svc_control, s);
    if (h != NULL) {
        scm_attach(h);
        service_run(s);
    }
    /* After STOPPED the SCM sends no more controls. */
    service_free(s);
}

/* ---- console mode ---------------------------------------------------- */

static BOOL CALLBACK init_console_lock(PINIT_ONCE once, PVOID p, PVOID *ctx)
{
    (void)once;
    (void)p;
    (void)ctx;
    InitializeCriticalSection(&g_console.lock);
    return TRUE;
}

/* Ctrl+C, Ctrl+Break and console close stop the broker. */
static BOOL WINAPI console_ctrl(DWORD type)
{
    (void)type;
    EnterCriticalSection(&g_console.lock);
    if (g_console.svc != NULL)
        service_control(g_console.svc, SERVICE_CTL_STOP);
    LeaveCriticalSection(&g_console.lock);
    return TRUE;
}

static int run_console(const service_options *opt)
{
    service *s = service_new(opt);
    int rc;

    if (s == NULL)
        return 1;
    InitOnceExecuteOnce(&g_console.once, init_console_lock, NULL, NULL);
    g_console.svc = s;
    SetConsoleCtrlHandler(console_ctrl, TRUE);
    rc = service_run(s);
    EnterCriticalSection(&g_console.lock);
    g_console.svc = NULL;
    LeaveCriticalSection(&g_console.lock);
    SetConsoleCtrlHandler(console_ctrl, FALSE);
    service_free(s);
    return rc == 0 ? 0 : rc == PLAT_EXIT_BAD_CONFIG ? 2 : 1;
}

int main(void)
{
    static SERVICE_TABLE_ENTRYW table[] = {
        {L"shmbroker", svc_main},
        {NULL, NULL},
    };
    service_options opt;
    int as_service = 0;

    switch (data_step()) {
    case DATA_INIT:
        return win_data_dir_init(stdout, 0) == 0 ? 0 : 1;
    case DATA_INIT_REPLACE:
        return win_data_dir_init(stdout, 1) == 0 ? 0 : 1;
    case DATA_CHECK:
        return win_data_dir_check(stdout);
    case DATA_NONE:
        break;
    }
    if (parse_command_line(&opt, &as_service) != 0)
        return 2;
    if (as_service && !opt.check_config) {
        fprintf(stderr, "shmbroker: --as-service goes with --check-config\n");
        return 2;
    }
    if (opt.help) {
        service_usage(stdout);
        return 0;
    }
    if (opt.version) {
        printf("%s\n", service_version());
        return 0;
    }
    if (opt.check_config) {
        char msg[SHMB_CONFIG_ERR_MAX + SERVICE_PATH_MAX + 16];
        char ok[sizeof(msg)], warn[4096] = "";
        int rc = service_check_config(&opt, msg, sizeof(msg));
        if (rc == 0) {
            memcpy(ok, msg, sizeof(ok));
            rc = check_config_windows(&opt, as_service, msg, sizeof(msg), warn,
                                      sizeof(warn));
            if (rc == 0)
                memcpy(msg, ok, sizeof(msg));
        }
        fprintf(rc ? stderr : stdout, "%s\n", msg);
        if (warn[0] != '\0')
            fprintf(stderr, "%s\n", warn);
        return rc ? 1 : 0;
    }
    if (opt.console)
        return run_console(&opt);
    if (!StartServiceCtrlDispatcherW(table)) {
        if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT)
            fprintf(stderr, "shmbroker: not started by the service control "
                            "manager; use --console to run in the "
                            "foreground\n");
        else
            fprintf(stderr,
                    "shmbroker: StartServiceCtrlDispatcher failed (%lu)\n",
                    GetLastError());
        return 1;
    }
    return 0;
}
