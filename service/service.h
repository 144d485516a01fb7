/* SPDX-License-Identifier: MPL-2.0 */
/*
 * service.h - the broker service's run time, portable: options, loading and
 * reloading the configuration, the start and stop order, the sweep timer.
 * The platform's entry point (main_win.c) parses the command line with
 * service_options_parse, then runs service_run on a thread of its choice
 * and forwards the service manager's (or the console's) requests with
 * service_control.
 */
#ifndef SHMB_SERVICE_H
#define SHMB_SERVICE_H

#include <stddef.h>
#include <stdio.h>

#include "shmb_config.h"

#define SERVICE_NAME_MAX 128
#define SERVICE_PATH_MAX 1024

typedef struct service_options {
    int console;
    int help;
    int version;
    int verbose;
    int check_config;
    char service_name[SERVICE_NAME_MAX];
    char pipe[SHMB_PIPE_NAME_MAX]; /* "" = the config's */
    char log_path[SERVICE_PATH_MAX];
    char config_path[SERVICE_PATH_MAX]; /* "" = the default location */
} service_options;

typedef struct service service;

typedef enum service_ctl {
    SERVICE_CTL_STOP,  /* stop (also: the system shuts down) */
    SERVICE_CTL_RELOAD /* reload the policy from the same file */
} service_ctl;

/* Parses UTF-8 arguments (argv[0] is the program). Returns 0, or prints the
 * problem and the usage to stderr and returns -1. */
int service_options_parse(int argc, char **argv, service_options *o);
void service_usage(FILE *f);
/* "shmbroker X.Y.Z (protocol N)" */
const char *service_version(void);

/* --check-config: validates the configuration the options point at. Writes
 * "ok: ..." or the reason into msg; returns 0 when valid. */
int service_check_config(const service_options *o, char *msg, size_t cap);

service *service_new(const service_options *o);
/* Runs until stopped: opens the log, loads the configuration, creates the
 * config regions, starts the server, reports RUNNING, serves, and reports
 * STOPPED on the way out (also when the start fails). Returns 0, or
 * PLAT_EXIT_BAD_CONFIG, or the negative shmb_err of a failed start. */
int service_run(service *s);
/* From any thread, at any time (ignored when not running). */
void service_control(service *s, service_ctl ctl);
void service_free(service *s);

#endif
