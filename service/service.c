/* SPDX-License-Identifier: MPL-2.0 */
/*
 * service.c - the service's run time, the same on every platform: options,
 * the configuration (loaded from a file only administrators control, or the
 * built-in defaults), the order of start and stop, reloads, and the timer
 * that gives back the commit of sections that are gone. All I/O with the
 * system goes through platform.h.
 *
 * Start: log open -> config loaded -> broker -> config regions -> server
 * listening -> RUNNING. Any failure before RUNNING stops the service with
 * the reason in the log (and the Event Log), so a service that reports
 * RUNNING serves exactly its configuration. Stop: the server stops
 * accepting and closes every connection, then the broker frees regions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "broker.h"
#include "platform.h"
#include "server.h"
#include "service.h"
#include "shmb_proto.h"
#include "shmb_version.h"
#include "sweeper.h"

#define SWEEP_INTERVAL_MS 1000
#define REASON_MAX (SHMB_CONFIG_ERR_MAX + SERVICE_PATH_MAX)

struct service {
    service_options opt;
    shmb_config cfg; /* as loaded at start: pipe and config regions */
    shmb_logger log;
    plat_log *sink;
    uv_loop_t loop;
    uv_async_t stop;
    uv_async_t reload;
    sweeper sweep; /* retired regions, looked at in steps */
    int sweeping;  /* sweep started (its handles need closing) */
    broker *b;
    server *srv;
    uv_mutex_t ctl_lock; /* orders service_control against the run's end */
    int accepting_ctl;   /* the asyncs exist; guarded by ctl_lock */
};

/* ---- options ---------------------------------------------------------- */

void service_usage(FILE *f)
{
    char path[SERVICE_PATH_MAX];
    plat_default_config_path(path, sizeof(path));
    fprintf(f,
            "usage: shmbroker [--console] [--config FILE] [--pipe NAME]\n"
            "                 [--log FILE] [--service-name NAME] [--verbose]\n"
            "       shmbroker --check-config [--config FILE]\n"
            "  --console        run in the foreground (Ctrl+C stops);\n"
            "                   without it the service manager must have "
            "started us\n"
            "  --config FILE    configuration (default %s;\n"
            "                   built-in defaults if that file is absent)\n"
            "  --check-config   validate the configuration and exit\n"
            "  --pipe NAME      control pipe, overriding the config (default\n"
            "                   %s)\n"
            "  --log FILE       append structured log lines to FILE\n"
            "  --service-name N name registered with the service manager "
            "(default\n"
            "                   shmbroker)\n"
            "  --verbose        log debug lines too\n"
            "  --version        print the version\n",
            path, plat_conventions()->default_pipe);
}

const char *service_version(void)
{
#define STR_(x) #x
#define STR(x) STR_(x)
    return "shmbroker " SHMB_VERSION_STRING
           " (protocol " STR(SHMB_PROTOCOL_VERSION) ")";
#undef STR
#undef STR_
}

static int copy_arg(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n == 0 || n >= cap)
        return 0;
    memcpy(dst, src, n + 1);
    return 1;
}

int service_options_parse(int argc, char **argv, service_options *o)
{
    static const struct {
        const char *flag;
        size_t offset, cap;
    } valued[] = {
        {"--config", offsetof(service_options, config_path),
         sizeof(o->config_path)},
        {"--pipe", offsetof(service_options, pipe), sizeof(o->pipe)},
        {"--log", offsetof(service_options, log_path), sizeof(o->log_path)},
        {"--service-name", offsetof(service_options, service_name),
         sizeof(o->service_name)},
    };
    int i;
    size_t k;

    memset(o, 0, sizeof(*o));
    strcpy(o->service_name, "shmbroker");
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--console") == 0) {
            o->console = 1;
        } else if (strcmp(a, "--verbose") == 0) {
            o->verbose = 1;
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            o->help = 1;
        } else if (strcmp(a, "--version") == 0) {
            o->version = 1;
        } else if (strcmp(a, "--check-config") == 0) {
            o->check_config = 1;
        } else {
            for (k = 0; k < sizeof(valued) / sizeof(valued[0]); k++) {
                if (strcmp(a, valued[k].flag) == 0)
                    break;
            }
            if (k == sizeof(valued) / sizeof(valued[0]) || i + 1 >= argc ||
                !copy_arg((char *)o + valued[k].offset, valued[k].cap,
                          argv[i + 1]))
                goto bad;
            i++;
        }
    }
    return 0;
bad:
    fprintf(stderr, "shmbroker: bad or incomplete option at argument %d\n", i);
    service_usage(stderr);
    return -1;
}

/* ---- configuration ---------------------------------------------------- */

/* Loads the configuration into cfg. An explicit --config must exist and be
 * valid; the default location may be absent (built-in defaults then).
 * Returns 0 with a summary in why, or -1 with the reason. */
static int config_load(const service_options *o, shmb_config *cfg, char *why,
                       size_t whycap)
{
    char path[SERVICE_PATH_MAX];
    size_t len = 0;
    char *text = NULL;
    int rc;

    if (o->config_path[0] != '\0')
        snprintf(path, sizeof(path), "%s", o->config_path);
    else
        plat_default_config_path(path, sizeof(path));
    rc = plat_file_read_trusted(path, SHMB_CONFIG_MAX_BYTES, &text, &len, why,
                                whycap);
    if (rc == SHMB_E_NOT_FOUND && o->config_path[0] == '\0') {
        shmb_config_defaults(cfg, plat_conventions());
        snprintf(why, whycap, "no file at %s; using built-in defaults", path);
        return 0;
    }
    if (rc != SHMB_OK)
        return -1;
    rc = shmb_config_parse(text, len, path, plat_conventions(), cfg, why,
                           whycap);
    free(text);
    if (rc != SHMB_OK)
        return -1;
    snprintf(why, whycap, "%s: %zu rules, %zu regions", path, cfg->nrules,
             cfg->nregions);
    return 0;
}

int service_check_config(const service_options *o, char *msg, size_t cap)
{
    shmb_config cfg;
    char why[REASON_MAX];
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    rc = config_load(o, &cfg, why, sizeof(why));
    snprintf(msg, cap, "%s%s", rc == 0 ? "ok: " : "invalid: ", why);
    shmb_config_free(&cfg);
    return rc == 0 ? 0 : -1;
}

/* ---- the loop's handlers --------------------------------------------- */

static void close_controls(service *s)
{
    uv_mutex_lock(&s->ctl_lock);
    s->accepting_ctl = 0;
    uv_mutex_unlock(&s->ctl_lock);
    if (s->sweeping)
        sweeper_close(&s->sweep);
    s->sweeping = 0;
    uv_close((uv_handle_t *)&s->reload, NULL);
    uv_close((uv_handle_t *)&s->stop, NULL);
}

static void on_stop(uv_async_t *a)
{
    service *s = a->data;
    shmb_log_event(&s->log, SHMB_LOG_INFO, SHMB_EV_STOPPING, NULL);
    if (s->srv != NULL) {
        server_stop(s->srv);
        s->srv = NULL;
    }
    close_controls(s);
}

/* Reloads the policy from the same file. A bad file changes nothing: the
 * running policy stays, and the log says why. The pipe and the config
 * regions are what the service started with; only a restart changes them. */
static void on_reload(uv_async_t *a)
{
    service *s = a->data;
    shmb_config fresh;
    char why[REASON_MAX];
    size_t i;
    int same;

    if (config_load(&s->opt, &fresh, why, sizeof(why)) != 0) {
        shmb_log_event(&s->log, SHMB_LOG_ERROR, SHMB_EV_RELOAD_FAILED,
                       "reason=\"%s\" kept=running_policy", why);
        return;
    }
    same = fresh.nregions == s->cfg.nregions &&
           strcmp(fresh.pipe_sddl, s->cfg.pipe_sddl) == 0 &&
           (s->opt.pipe[0] != '\0' ||
            strcmp(fresh.pipe_name, s->cfg.pipe_name) == 0);
    for (i = 0; same && i < fresh.nregions; i++)
        same = memcmp(&fresh.regions[i], &s->cfg.regions[i],
                      sizeof(fresh.regions[i])) == 0;
    if (!same)
        shmb_log_event(&s->log, SHMB_LOG_WARN, SHMB_EV_RELOAD_PARTIAL,
                       "reason=\"the pipe and the config "
                       "regions change only at a restart\"");
    /* The broker owns the rules and limits; the server reads its limits
     * from there, so this is the one place a reload lands. */
    (void)broker_reconfigure(s->b, &fresh);
    plat_log_rotation(s->sink, fresh.limits.log_max_bytes,
                      fresh.limits.log_keep);
    shmb_config_free(&fresh);
}

/* ---- start, run, stop ------------------------------------------------- */

service *service_new(const service_options *o)
{
    service *s = calloc(1, sizeof(*s));
    if (s == NULL)
        return NULL;
    s->opt = *o;
    if (uv_mutex_init(&s->ctl_lock) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void service_free(service *s)
{
    if (s == NULL)
        return;
    uv_mutex_destroy(&s->ctl_lock);
    free(s);
}

void service_control(service *s, service_ctl ctl)
{
    uv_mutex_lock(&s->ctl_lock);
    if (s->accepting_ctl) {
        if (ctl == SERVICE_CTL_STOP) {
            plat_report_state(PLAT_STATE_STOPPING, 0);
            uv_async_send(&s->stop);
        } else {
            uv_async_send(&s->reload);
        }
    }
    uv_mutex_unlock(&s->ctl_lock);
}

/* Opens the log and loads the configuration; -1 when either fails (then
 * the reason has been logged where it can be). */
static int service_prepare(service *s)
{
    char why[REASON_MAX];

    s->log.max_level = s->opt.verbose ? SHMB_LOG_DEBUG : SHMB_LOG_INFO;
    if (plat_log_open(s->opt.service_name,
                      s->opt.log_path[0] ? s->opt.log_path : NULL,
                      s->opt.console, &s->sink, why, sizeof(why)) != SHMB_OK) {
        fprintf(stderr, "shmbroker: %s\n", why);
        return -1;
    }
    s->log.sink = plat_log_write;
    s->log.ctx = s->sink;
    if (config_load(&s->opt, &s->cfg, why, sizeof(why)) != 0) {
        /* Refuse to start on a bad config, and say why: stderr in console
         * mode, the log file and the Event Log always. */
        shmb_log_event(&s->log, SHMB_LOG_ERROR, SHMB_EV_CONFIG_INVALID,
                       "reason=\"%s\"", why);
        if (!s->opt.console)
            fprintf(stderr, "shmbroker: %s\n", why);
        return -1;
    }
    plat_log_rotation(s->sink, s->cfg.limits.log_max_bytes,
                      s->cfg.limits.log_keep);
    shmb_log_event(&s->log, SHMB_LOG_INFO, SHMB_EV_CONFIG_LOADED,
                   "source=\"%s\"", why);
    if (s->opt.pipe[0] != '\0')
        snprintf(s->cfg.pipe_name, sizeof(s->cfg.pipe_name), "%s", s->opt.pipe);
    return 0;
}

/* Broker, config regions, server. Returns SHMB_OK or the failure. */
static int service_start(service *s)
{
    char why[512] = "out of memory";
    int rc = SHMB_E_NOMEM;

    s->b = broker_new(&s->cfg, &s->log);
    if (s->b != NULL) {
        broker_set_process_probe(s->b, plat_process_alive);
        rc = broker_create_config_regions(s->b, why, sizeof(why));
        if (rc == SHMB_OK)
            rc =
                server_start(&s->loop, s->b, s->cfg.pipe_name, s->cfg.pipe_sddl,
                             &s->log, &s->srv, why, sizeof(why));
    }
    if (rc != SHMB_OK) {
        shmb_log_event(&s->log, SHMB_LOG_ERROR, SHMB_EV_START_FAILED,
                       "reason=\"%s\"", why);
        return rc;
    }
    sweeper_start(&s->sweep, &s->loop, s->b, SWEEP_INTERVAL_MS);
    s->sweeping = 1;
    shmb_log_event(&s->log, SHMB_LOG_INFO, SHMB_EV_STARTED,
                   "pipe=%s pid=%u mode=%s", s->cfg.pipe_name,
                   (unsigned)plat_self_pid(),
                   s->opt.console ? "console" : "service");
    return SHMB_OK;
}

int service_run(service *s)
{
    int rc;

    plat_report_state(PLAT_STATE_STARTING, 0);
    if (service_prepare(s) != 0) {
        rc = PLAT_EXIT_BAD_CONFIG;
        goto out;
    }
    if (uv_loop_init(&s->loop) != 0) {
        rc = SHMB_E_NOMEM;
        goto out;
    }
    uv_async_init(&s->loop, &s->stop, on_stop);
    uv_async_init(&s->loop, &s->reload, on_reload);
    s->stop.data = s->reload.data = s;
    uv_mutex_lock(&s->ctl_lock);
    s->accepting_ctl = 1;
    uv_mutex_unlock(&s->ctl_lock);
    rc = service_start(s);
    if (rc == SHMB_OK)
        plat_report_state(PLAT_STATE_RUNNING, 0);
    else
        close_controls(s);
    uv_run(&s->loop, UV_RUN_DEFAULT);
    broker_free(s->b);
    s->b = NULL;
    uv_loop_close(&s->loop);
    shmb_log_event(&s->log, SHMB_LOG_INFO, SHMB_EV_STOPPED, "exit=%d", rc);
out:
    shmb_config_free(&s->cfg);
    plat_log_close(s->sink);
    s->sink = NULL;
    s->log.sink = NULL;
    plat_report_state(PLAT_STATE_STOPPED, rc);
    return rc;
}
