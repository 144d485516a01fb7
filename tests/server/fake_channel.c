/* SPDX-License-Identifier: MPL-2.0 */
/* fake_channel.c - see fake_channel.h. POSIX only (socketpair). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fake_channel.h"
#include "fake_platform.h"

fake_channel g_chan;

struct plat_listener {
    uv_loop_t *loop;
    plat_accept_cb cb;
    void *ctx;
};

static struct plat_listener the_listener;

void fake_channel_reset(void)
{
    memset(&g_chan, 0, sizeof(g_chan));
    memset(&the_listener, 0, sizeof(the_listener));
}

int plat_listener_start(uv_loop_t *loop, const char *name, const char *sddl,
                        const shmb_logger *log, plat_accept_cb cb, void *ctx,
                        plat_listener **out, char *why, size_t whycap)
{
    (void)sddl;
    (void)log;
    if (g_chan.refuse_start) {
        g_chan.refuse_start = 0;
        snprintf(why, whycap, "channel %s already exists", name);
        return SHMB_E_SYSTEM;
    }
    the_listener.loop = loop;
    the_listener.cb = cb;
    the_listener.ctx = ctx;
    g_chan.listening = 1;
    *out = &the_listener;
    return SHMB_OK;
}

void plat_listener_stop(plat_listener *l)
{
    l->cb = NULL;
    g_chan.listening = 0;
}

void plat_stream_close(uv_file fd)
{
    g_chan.streams_closed++;
    close(fd);
}

void plat_peer_free(plat_peer *peer)
{
    if (peer == NULL)
        return;
    g_chan.peers_freed++;
    free(peer);
}

int plat_process_alive(uint32_t pid, uint64_t created)
{
    (void)pid;
    (void)created;
    return 1; /* the broker's own tests drive its probe */
}

int fake_connect(const fake_peer_spec *spec)
{
    int sv[2];
    plat_accepted a;
    shmb_identity id;

    if (!g_chan.listening || the_listener.cb == NULL ||
        socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0)
        return -1;
    fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
    memset(&id, 0, sizeof(id));
    memset(&a, 0, sizeof(a));
    snprintf(id.user_sid, sizeof(id.user_sid), "%s", spec->user);
    snprintf(id.appcontainer_sid, sizeof(id.appcontainer_sid), "%s",
             spec->appcontainer ? spec->appcontainer : "");
    id.integrity = spec->integrity ? spec->integrity : SHMB_IL_MEDIUM;
    id.pid = spec->pid ? spec->pid : 4242;
    id.session = 1;
    shmb_identity_add_group(&id, "S-1-5-11", 0);
    a.fd = sv[0];
    a.rc = spec->rc;
    snprintf(a.why, sizeof(a.why), "%s", spec->why ? spec->why : "");
    a.peer = spec->rc == SHMB_OK ? calloc(1, sizeof(*a.peer)) : NULL;
    a.id = &id;
    /* A real listener hands connections over from inside the loop, where
     * its time is fresh; the test calls from outside it. */
    uv_update_time(the_listener.loop);
    the_listener.cb(the_listener.ctx, &a);
    /* What the receiver did not take, the platform frees. */
    plat_peer_free(a.peer);
    shmb_identity_free(&id);
    return sv[1];
}

/* ---- the run-time half ---------------------------------------------- */

/* The tests' configs speak Windows (SIDs, pipe names). */
const shmb_conventions *plat_conventions(void)
{
    return &shmb_conventions_windows;
}

void plat_default_config_path(char *out, size_t cap)
{
    snprintf(out, cap, "/etc/shmbroker/config.json");
}

int plat_file_read_trusted(const char *path, size_t max, char **text,
                           size_t *len, char *why, size_t whycap)
{
    size_t n;
    if (g_chan.config_text == NULL) {
        snprintf(why, whycap, "%s: cannot read (fake error)", path);
        return g_chan.config_rc ? g_chan.config_rc : SHMB_E_NOT_FOUND;
    }
    n = strlen(g_chan.config_text);
    if (n > max) {
        snprintf(why, whycap, "%s: too large", path);
        return SHMB_E_SYSTEM;
    }
    *text = malloc(n + 1);
    if (*text == NULL)
        return SHMB_E_NOMEM;
    memcpy(*text, g_chan.config_text, n + 1);
    *len = n;
    return SHMB_OK;
}

struct plat_log {
    int unused;
};

static struct plat_log the_log;

int plat_log_open(const char *service_name, const char *path, int console,
                  plat_log **out, char *why, size_t whycap)
{
    (void)service_name;
    (void)console;
    if (path != NULL && strcmp(path, "untrusted") == 0) {
        snprintf(why, whycap, "%s is writable by everyone", path);
        return SHMB_E_ACCESS_DENIED;
    }
    *out = &the_log;
    return SHMB_OK;
}

void plat_log_write(void *log, shmb_log_level level, const char *line)
{
    (void)log;
    (void)level;
    if (strstr(line, "event=config_reloaded") != NULL)
        g_chan.reloads++;
}

void plat_log_rotation(plat_log *log, uint64_t max_bytes, unsigned keep)
{
    (void)log;
    (void)max_bytes;
    (void)keep;
}

void plat_log_close(plat_log *log)
{
    (void)log;
}

void plat_report_state(plat_state state, int exit_code)
{
    if (g_chan.nstates < 8) {
        g_chan.states[g_chan.nstates] = state;
        g_chan.exit_codes[g_chan.nstates++] = exit_code;
    }
}

uint32_t plat_self_pid(void)
{
    return (uint32_t)getpid();
}
