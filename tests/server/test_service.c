/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_service.c - the portable run time (service/service.c) natively over
 * the fake platform: options, --check-config, the order of states the
 * service manager sees, stop and reload from another thread, and a refused
 * start.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_channel.h"
#include "fake_platform.h"
#include "harness.h"
#include "service.h"

int test_service_options(void)
{
    service_options o;
    char *ok[] = {"shmbroker",      "--console", "--config", "c.json",
                  "--pipe",         "p",         "--log",    "l.log",
                  "--service-name", "svc2",      "--verbose"};
    char *missing[] = {"shmbroker", "--config"};
    char *unknown[] = {"shmbroker", "--frobnicate"};
    char *empty[] = {"shmbroker", "--pipe", ""};

    CHECK_INT(service_options_parse(11, ok, &o), 0);
    CHECK(o.console && o.verbose && !o.help && !o.check_config);
    CHECK_STR(o.config_path, "c.json");
    CHECK_STR(o.pipe, "p");
    CHECK_STR(o.log_path, "l.log");
    CHECK_STR(o.service_name, "svc2");
    CHECK_INT(service_options_parse(1, ok, &o), 0);
    CHECK_STR(o.service_name, "shmbroker");
    CHECK_STR(o.config_path, "");
    CHECK_INT(service_options_parse(2, missing, &o), -1);
    CHECK_INT(service_options_parse(2, unknown, &o), -1);
    CHECK_INT(service_options_parse(3, empty, &o), -1);
    CHECK(strstr(service_version(), "(protocol 1)") != NULL);
done:
    return TEST_RESULT;
}

int test_service_check_config(void)
{
    service_options o;
    char msg[1024];

    fake_channel_reset();
    memset(&o, 0, sizeof(o));
    /* No file at the default location: the built-in defaults. */
    CHECK_INT(service_check_config(&o, msg, sizeof(msg)), 0);
    CHECK_STR(msg, "ok: no file at /etc/shmbroker/config.json; using "
                   "built-in defaults");
    /* An explicit file must exist. */
    strcpy(o.config_path, "/x/c.json");
    CHECK_INT(service_check_config(&o, msg, sizeof(msg)), -1);
    CHECK_STR(msg, "invalid: /x/c.json: cannot read (fake error)");
    /* Untrusted is never replaced by defaults. */
    o.config_path[0] = '\0';
    g_chan.config_rc = SHMB_E_ACCESS_DENIED;
    CHECK_INT(service_check_config(&o, msg, sizeof(msg)), -1);
    g_chan.config_text = "{\"limits\":{\"max_clients\":0}}";
    CHECK_INT(service_check_config(&o, msg, sizeof(msg)), -1);
    CHECK(strncmp(msg, "invalid: /etc/shmbroker/config.json: ", 37) == 0);
    g_chan.config_text = "{\"rules\":[]}";
    CHECK_INT(service_check_config(&o, msg, sizeof(msg)), 0);
    CHECK_STR(msg, "ok: /etc/shmbroker/config.json: 0 rules, 0 regions");
done:
    return TEST_RESULT;
}

typedef struct runner {
    service *s;
    int rc;
} runner;

static void run_service(void *arg)
{
    runner *r = arg;
    r->rc = service_run(r->s);
}

/* RUNNING only once the channel listens; stop from another thread. */
int test_service_runs_and_stops(void)
{
    service_options o;
    runner r = {NULL, -99};
    uv_thread_t t;
    int running = 0;

    fake_channel_reset();
    memset(&g_fake, 0, sizeof(g_fake));
    memset(&o, 0, sizeof(o));
    strcpy(o.service_name, "shmbroker");
    r.s = service_new(&o);
    CHECK(r.s != NULL);
    CHECK_INT(uv_thread_create(&t, run_service, &r), 0);
    running = 1;
    WAIT_UNTIL(g_chan.nstates >= 2, 5000);
    CHECK_INT(g_chan.nstates, 2);
    CHECK_INT(g_chan.states[0], PLAT_STATE_STARTING);
    CHECK_INT(g_chan.states[1], PLAT_STATE_RUNNING);
    CHECK(g_chan.listening);
    /* A reload lands (defaults again: the same policy) before the stop. */
    service_control(r.s, SERVICE_CTL_RELOAD);
    WAIT_UNTIL(g_chan.reloads == 1, 5000);
    service_control(r.s, SERVICE_CTL_STOP);
    running = 0;
    CHECK_INT(uv_thread_join(&t), 0);
    CHECK_INT(r.rc, 0);
    CHECK_INT(g_chan.nstates, 4);
    CHECK_INT(g_chan.states[2], PLAT_STATE_STOPPING);
    CHECK_INT(g_chan.states[3], PLAT_STATE_STOPPED);
    CHECK_INT(g_chan.exit_codes[3], 0);
    CHECK(!g_chan.listening);
    /* After the run, a late control is ignored. */
    service_control(r.s, SERVICE_CTL_STOP);
done:
    if (running) {
        service_control(r.s, SERVICE_CTL_STOP);
        uv_thread_join(&t);
    }
    service_free(r.s);
    return TEST_RESULT;
}

/* A start that fails (the channel name is taken, the config is bad)
 * reports STOPPED with the reason's code and never RUNNING. */
int test_service_refused_start(void)
{
    service_options o;
    service *s = NULL;

    fake_channel_reset();
    memset(&o, 0, sizeof(o));
    strcpy(o.service_name, "shmbroker");
    g_chan.refuse_start = 1;
    s = service_new(&o);
    CHECK(s != NULL);
    CHECK_INT(service_run(s), SHMB_E_SYSTEM);
    CHECK_INT(g_chan.nstates, 2);
    CHECK_INT(g_chan.states[1], PLAT_STATE_STOPPED);
    CHECK_INT(g_chan.exit_codes[1], SHMB_E_SYSTEM);
    service_free(s);
    s = NULL;

    fake_channel_reset();
    g_chan.config_text = "{\"bogus\":1}";
    s = service_new(&o);
    CHECK(s != NULL);
    CHECK_INT(service_run(s), PLAT_EXIT_BAD_CONFIG);
    CHECK_INT(g_chan.states[g_chan.nstates - 1], PLAT_STATE_STOPPED);
    CHECK_INT(g_chan.exit_codes[g_chan.nstates - 1], PLAT_EXIT_BAD_CONFIG);
done:
    service_free(s);
    return TEST_RESULT;
}
