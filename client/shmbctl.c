/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmbctl.c - command-line client for the broker.
 *
 * Global options, before the command: --pipe NAME, --service NAME (the
 * service whose pipe it is; default shmbroker) and --trust system|service|
 * any (how the server is verified; default system, see shmb.h).
 *
 *   shmbctl [--pipe NAME] ping
 *   shmbctl [--pipe NAME] create NAME SIZE [--ro] [--persistent]
 *   shmbctl [--pipe NAME] write NAME TEXT      (open rw, copy TEXT in)
 *   shmbctl [--pipe NAME] read NAME            (open ro, print up to NUL)
 *   shmbctl [--pipe NAME] list | stat NAME | delete NAME
 *   shmbctl [--pipe NAME] raw JSON             (one request, print reply)
 *   shmbctl [--service NAME] reload            (the service re-reads its
 *                                               config; administrators)
 *   shmbctl --version
 *
 * Exit status: 0 on success, 1 when the broker refused (its code and message
 * are printed), 2 on a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "shmb.h"

static int usage(void)
{
    fprintf(stderr,
            "usage: shmbctl [--pipe NAME] [--service NAME]\n"
            "               [--trust system|service|any] COMMAND\n"
            "  ping\n"
            "  create NAME SIZE [--ro] [--persistent]\n"
            "  write NAME TEXT\n"
            "  read NAME\n"
            "  list\n"
            "  stat NAME\n"
            "  delete NAME\n"
            "  raw JSON\n"
            "  reload            (have the service re-read its config)\n"
            "       shmbctl --version\n");
    return 2;
}

static int report(shmb_client *c, const char *what, int rc)
{
    if (rc == SHMB_OK)
        return 0;
    fprintf(stderr, "shmbctl: %s: %s (%s): %s\n", what, shmb_err_name(rc),
            shmb_strerror(rc), shmb_client_message(c));
    return 1;
}

static int print_json(shmb_client *c, const char *req)
{
    char *reply = NULL;
    int rc = shmb_request_json(c, req, &reply);
    if (rc != SHMB_OK)
        return report(c, "request", rc);
    printf("%s\n", reply);
    shmb_free(reply);
    return 0;
}

/* Builds {"op":OP,"name":NAME} for names that passed the charset check. */
static int named_op(shmb_client *c, const char *op, const char *name)
{
    char req[256];
    size_t i;
    for (i = 0; name[i]; i++) {
        if (name[i] == '"' || name[i] == '\\' || (unsigned char)name[i] < 0x20)
            return report(c, op, SHMB_E_INVALID_ARG);
    }
    if (snprintf(req, sizeof(req), "{\"op\":\"%s\",\"name\":\"%s\"}", op,
                 name) >= (int)sizeof(req))
        return report(c, op, SHMB_E_INVALID_ARG);
    return print_json(c, req);
}

static int cmd_create(shmb_client *c, int argc, char **argv)
{
    shmb_access acc = SHMB_ACCESS_RW;
    shmb_lifetime life = SHMB_LIFETIME_CLIENT;
    shmb_region r;
    char *end;
    unsigned long long size;
    int i, rc;

    if (argc < 2)
        return usage();
    size = strtoull(argv[1], &end, 0);
    if (*end != '\0')
        return usage();
    for (i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--ro") == 0)
            acc = SHMB_ACCESS_RO;
        else if (strcmp(argv[i], "--persistent") == 0)
            life = SHMB_LIFETIME_PERSISTENT;
        else
            return usage();
    }
    rc = shmb_region_create(c, argv[0], size, acc, life, &r);
    if (rc != SHMB_OK)
        return report(c, "create", rc);
    printf("created %s size=%llu access=%s lifetime=%s handle=0x%llx\n", r.name,
           (unsigned long long)r.size, shmb_access_name(r.access),
           shmb_lifetime_name(r.lifetime), (unsigned long long)r.handle);
    shmb_region_close(&r);
    return 0;
}

static int cmd_write(shmb_client *c, const char *name, const char *text)
{
    shmb_region r;
    size_t n = strlen(text) + 1;
    int rc = shmb_region_open(c, name, SHMB_ACCESS_RW, &r);
    if (rc != SHMB_OK)
        return report(c, "open", rc);
    if (n > r.size) {
        fprintf(stderr, "shmbctl: text (%zu bytes) larger than region\n", n);
        shmb_region_close(&r);
        return 1;
    }
    rc = shmb_region_map(&r);
    if (rc == SHMB_OK)
        memcpy(r.view, text, n);
    else
        fprintf(stderr, "shmbctl: map failed (system error %u)\n",
                (unsigned)r.syserr);
    shmb_region_close(&r);
    return rc == SHMB_OK ? 0 : 1;
}

static int cmd_read(shmb_client *c, const char *name)
{
    shmb_region r;
    int rc = shmb_region_open(c, name, SHMB_ACCESS_RO, &r);
    if (rc != SHMB_OK)
        return report(c, "open", rc);
    rc = shmb_region_map(&r);
    if (rc == SHMB_OK) {
        const char *p = r.view;
        /* The bytes are another process's: bound the read by the size. */
        printf("%.*s\n", (int)strnlen(p, (size_t)r.size), p);
    } else {
        fprintf(stderr, "shmbctl: map failed (system error %u)\n",
                (unsigned)r.syserr);
    }
    shmb_region_close(&r);
    return rc == SHMB_OK ? 0 : 1;
}

int main(int argc, char **argv)
{
    shmb_connect_options o;
    shmb_client *c = NULL;
    const char *cmd;
    int rc, i = 1;

    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("shmbctl %s\n", shmb_version());
        return 0;
    }
    memset(&o, 0, sizeof(o));
    o.client_name = "shmbctl";
    while (i + 1 < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--pipe") == 0)
            o.pipe_name = argv[i + 1];
        else if (strcmp(argv[i], "--service") == 0)
            o.service_name = argv[i + 1];
        else if (strcmp(argv[i], "--trust") == 0 &&
                 strcmp(argv[i + 1], "system") == 0)
            o.trust = SHMB_TRUST_SYSTEM;
        else if (strcmp(argv[i], "--trust") == 0 &&
                 strcmp(argv[i + 1], "service") == 0)
            o.trust = SHMB_TRUST_SERVICE;
        else if (strcmp(argv[i], "--trust") == 0 &&
                 strcmp(argv[i + 1], "any") == 0)
            o.trust = SHMB_TRUST_ANY;
        else
            return usage();
        i += 2;
    }
    if (i >= argc)
        return usage();
    cmd = argv[i++];
    if (strcmp(cmd, "reload") == 0 && i == argc) {
        /* Through the service control manager, not the pipe. */
        uint32_t err = 0;
        rc = shmb_service_reload(o.service_name, &err);
        if (rc != SHMB_OK) {
            fprintf(stderr, "shmbctl: reload: %s (system error %u)\n",
                    shmb_strerror(rc), (unsigned)err);
            return 1;
        }
        printf("reload requested; the service log says whether the new "
               "config was taken\n");
        return 0;
    }
    rc = shmb_connect(&o, &c);
    if (rc != SHMB_OK) {
        rc = report(c, "connect", rc);
        shmb_disconnect(c);
        return rc;
    }
    if (strcmp(cmd, "ping") == 0 && i == argc)
        rc = report(c, "ping", shmb_ping(c));
    else if (strcmp(cmd, "create") == 0)
        rc = cmd_create(c, argc - i, argv + i);
    else if (strcmp(cmd, "write") == 0 && argc - i == 2)
        rc = cmd_write(c, argv[i], argv[i + 1]);
    else if (strcmp(cmd, "read") == 0 && argc - i == 1)
        rc = cmd_read(c, argv[i]);
    else if (strcmp(cmd, "list") == 0 && i == argc)
        rc = print_json(c, "{\"op\":\"list\"}");
    else if ((strcmp(cmd, "stat") == 0 || strcmp(cmd, "delete") == 0) &&
             argc - i == 1)
        rc = named_op(c, cmd, argv[i]);
    else if (strcmp(cmd, "raw") == 0 && argc - i == 1)
        rc = print_json(c, argv[i]);
    else
        rc = usage();
    if (rc == 0 && strcmp(cmd, "ping") == 0)
        printf("pong (protocol %d)\n", shmb_client_version(c));
    shmb_disconnect(c);
    return rc;
}
