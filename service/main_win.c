/* SPDX-License-Identifier: MPL-2.0 */
/*
 * main_win.c - shmbroker.exe's entry point: the service control manager's
 * glue (ServiceMain, the control handler) and the console mode. Everything
 * else is the portable run time in service.c.
 *
 *   shmbroker.exe [options]            run under the SCM (sc start)
 *   shmbroker.exe --console [options]  run in the foreground; Ctrl+C stops
 *   shmbroker.exe --init-data          make the data folder (installers)
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
#include "util_win.h"

/* The console control handler has no context parameter: the service it
 * stops, guarded so a late Ctrl+C never touches a freed service. */
static struct {
    INIT_ONCE once;
    CRITICAL_SECTION lock;
    service *svc;
} g_console = {INIT_ONCE_STATIC_INIT, {0}, NULL};

/* Parses the process command line (UTF-16) as UTF-8 arguments. */
static int parse_command_line(service_options *o)
{
    int argc = 0, i, rc = -1;
    LPWSTR *wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
    char **argv = NULL;

    if (wargv != NULL)
        argv = calloc((size_t)argc + 1, sizeof(char *));
    for (i = 0; argv != NULL && i < argc; i++) {
        int n =
            WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL, NULL);
        argv[i] = n > 0 ? malloc((size_t)n) : NULL;
        if (argv[i] == NULL || !win_utf8(wargv[i], argv[i], (size_t)n))
            goto done;
    }
    if (argv != NULL)
        rc = service_options_parse(argc, argv, o);
done:
    for (i = 0; argv != NULL && i < argc; i++)
        free(argv[i]);
    free(argv);
    LocalFree(wargv);
    return rc;
}

/* 1 if the command line is exactly "shmbroker.exe --init-data": an
 * installer's step, kept out of the service's options because it takes
 * none of them (the data folder is always the default one). */
static int is_init_data(void)
{
    int argc = 0, yes;
    LPWSTR *wargv = CommandLineToArgvW(GetCommandLineW(), &argc);
    yes = wargv != NULL && argc == 2 && wcscmp(wargv[1], L"--init-data") == 0;
    LocalFree(wargv);
    return yes;
}

/* ---- --check-config -------------------------------------------------- */

/* What only Windows can judge in a config that service_check_config
 * accepted: its SDDLs (sddl_win.c). Reads the file again the way the
 * service does. Returns 0, or -1 with the reason in msg; warnings go to
 * warn. */
static int check_config_windows(const service_options *o, char *msg, size_t cap,
                                char *warn, size_t warncap)
{
    char path[SERVICE_PATH_MAX], why[SHMB_CONFIG_ERR_MAX];
    char *text = NULL;
    size_t len = 0;
    shmb_config cfg;
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    if (o->config_path[0] != '\0')
        snprintf(path, sizeof(path), "%s", o->config_path);
    else
        plat_default_config_path(path, sizeof(path));
    rc = plat_file_read_trusted(path, SHMB_CONFIG_MAX_BYTES, &text, &len, why,
                                sizeof(why));
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
    if (parse_command_line(&opt) != 0 ||
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

    if (is_init_data())
        return win_data_dir_init(stdout) == 0 ? 0 : 1;
    if (parse_command_line(&opt) != 0)
        return 2;
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
            rc = check_config_windows(&opt, msg, sizeof(msg), warn,
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
