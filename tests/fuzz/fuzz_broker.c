/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_broker.c - libFuzzer target: an arbitrary byte stream, cut into
 * frames by the real frame reader and handled by the real broker (over the
 * in-memory platform), on behalf of several clients at once.
 *
 * A frame whose payload starts with byte 0x01 is not sent: it is a
 * directive to this harness (no request can start so - it is a control
 * character, and bad_json), [0x01, what, arg]:
 *   0 the next frames come from client arg % NCLIENTS (connecting it);
 *   1 that client disconnects;
 *   2 broker_sweep;
 *   3 reload: broker_reconfigure with the main (arg even) or the tight
 *     configuration;
 *   4 sections in use: arg & 1; processes alive after their last
 *     connection: bits 1..6 of arg (the process probe), or no probe at
 *     all when bit 7 is set;
 *   5 the next section creation (arg & 1) or grant (arg & 2) fails.
 * The clients are one user's medium, low-integrity and AppContainer
 * processes, a second connection of the first process, another process of
 * that user and another user. Seeds written before directives existed are
 * one client's stream, as before.
 *
 * Invariants checked: every reply is a well-formed reply that fits in one
 * frame; the broker survives; once every client is gone and sweeping is
 * free to drain, the regions left are exactly the live sections and,
 * without regions, nothing stays charged; after broker_free no section,
 * doorbell or grantee handle is left.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "fake_platform.h"
#include "shmb_config.h"
#include "shmb_frame.h"
#include "shmb_proto.h"

#define NCLIENTS 6
#define MAX_FRAME 4096

static const char config_json[] =
    "{\"limits\":{\"max_frame\":4096,\"max_regions\":64,\"regions_per_client\":"
    "16,\"max_region_size\":1048576,\"clients_per_user\":5},\"rules\":["
    "{\"name\":\"all\",\"regions\":[\"**\"],\"create\":true,\"open\":\"rw\","
    "\"delete\":true},"
    "{\"name\":\"ro\",\"regions\":[\"ro/**\"],\"open\":\"ro\"},"
    "{\"name\":\"no\",\"effect\":\"deny\",\"regions\":[\"no/**\"],"
    "\"open\":\"ro\",\"create\":true},"
    "{\"name\":\"own\",\"regions\":[\"users/${principal}/**\"],\"create\":"
    "true,\"open\":\"rw\",\"delete\":true},"
    "{\"name\":\"low\",\"regions\":[\"shared/**\"],\"match\":{\"integrity\":"
    "[\"low\"]},\"open\":\"ro\"},"
    "{\"name\":\"apps\",\"regions\":[\"apps/**\"],\"match\":{"
    "\"appcontainer\":\"required\"},\"create\":true,\"open\":\"rw\"}]}";

/* The reload: fewer and smaller regions, and most of the namespace gone. */
static const char tight_json[] =
    "{\"limits\":{\"max_frame\":4096,\"max_regions\":8,\"regions_per_client\":"
    "2,\"max_region_size\":8192,\"clients_per_user\":3},\"rules\":["
    "{\"name\":\"ro\",\"regions\":[\"ro/**\",\"a/**\"],\"open\":\"ro\"},"
    "{\"name\":\"own\",\"regions\":[\"users/${principal}/**\"],\"create\":"
    "true,\"open\":\"rw\",\"delete\":true},"
    "{\"name\":\"no\",\"effect\":\"deny\",\"regions\":[\"**\"],\"match\":{"
    "\"integrity\":[\"low\"]},\"open\":\"ro\",\"create\":true}]}";

static unsigned g_alive; /* bit per client: its process outlives it */

static int process_alive(uint32_t pid, uint64_t created)
{
    (void)created;
    return pid >= 100 && pid < 100 + NCLIENTS &&
           (g_alive >> (pid - 100) & 1u) != 0;
}

static void parse_config(const char *json, shmb_config *cfg)
{
    char err[SHMB_CONFIG_ERR_MAX];
    if (shmb_config_parse(json, strlen(json), "fuzz", &shmb_conventions_windows,
                          cfg, err, sizeof(err)) != SHMB_OK)
        abort();
}

static void make_identity(int i, shmb_identity *id)
{
    memset(id, 0, sizeof(*id));
    /* Client 3 is a second connection of client 0's process. */
    id->pid = 100u + (uint32_t)(i == 3 ? 0 : i);
    id->process_created = 1000u + id->pid;
    id->integrity = i == 1 || i == 2 ? SHMB_IL_LOW : SHMB_IL_MEDIUM;
    strcpy(id->user_sid,
           i == 5 ? "S-1-5-21-1-2-3-1001" : "S-1-5-21-1-2-3-1000");
    if (i == 2)
        strcpy(id->appcontainer_sid, "S-1-15-2-1-2-3-4-5-6-7");
    strcpy(id->image, "C:\\Apps\\x.exe");
    if (shmb_identity_add_group(id, "S-1-5-32-545", 0) != SHMB_OK)
        abort();
}

static broker_conn *client_connect(broker *b, int i, struct plat_peer *peer)
{
    shmb_identity id;
    broker_conn *c = NULL;
    char err[256];

    make_identity(i, &id);
    if (broker_conn_open(b, peer, &id, &c, err, sizeof(err)) != SHMB_OK) {
        shmb_identity_free(&id); /* refused (a limit): it stays out */
        return NULL;
    }
    return c;
}

static void request(broker *b, broker_conn **conn, const uint8_t *payload,
                    size_t len)
{
    broker_outcome oc;
    shmb_reply parsed;
    char *reply = broker_handle(*conn, payload, len, &oc);

    if (reply == NULL)
        abort(); /* no allocation fails here */
    if (strlen(reply) > broker_limits(b)->max_frame ||
        shmb_reply_parse((const uint8_t *)reply, strlen(reply), &parsed) !=
            SHMB_OK)
        abort(); /* the client could not read it */
    shmb_reply_free(&parsed);
    free(reply);
    if (oc.close_after) {
        broker_conn_close(*conn);
        *conn = NULL;
    }
}

static void directive(broker *b, broker_conn **conns, int *cur,
                      const uint8_t *p, size_t len)
{
    shmb_config cfg;
    unsigned what = len > 1 ? p[1] : 0, arg = len > 2 ? p[2] : 0;

    switch (what % 6u) {
    case 0:
        *cur = (int)(arg % NCLIENTS);
        break;
    case 1:
        if (conns[arg % NCLIENTS] != NULL) {
            broker_conn_close(conns[arg % NCLIENTS]);
            conns[arg % NCLIENTS] = NULL;
        }
        break;
    case 2:
        broker_sweep(b);
        break;
    case 3:
        parse_config(arg % 2 == 0 ? config_json : tight_json, &cfg);
        if (broker_reconfigure(b, &cfg) != SHMB_OK)
            abort();
        shmb_config_free(&cfg);
        break;
    case 4:
        g_fake.in_use = (int)(arg & 1u);
        g_alive = arg >> 1 & 0x3fu;
        /* Without a probe, a process is gone with its last connection. */
        broker_set_process_probe(b, (arg & 0x80u) ? NULL : process_alive);
        break;
    default:
        g_fake.fail_create = (int)(arg & 1u);
        g_fake.fail_grant = (int)(arg >> 1 & 1u);
        break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shmb_config cfg;
    struct plat_peer peers[NCLIENTS];
    broker_conn *conns[NCLIENTS];
    shmb_frame_reader rd;
    broker *b;
    broker_stats st;
    const uint8_t *payload;
    size_t len;
    int i, cur = 0;

    memset(&g_fake, 0, sizeof(g_fake));
    memset(peers, 0, sizeof(peers));
    memset(conns, 0, sizeof(conns));
    g_alive = 0;
    parse_config(config_json, &cfg);
    b = broker_new(&cfg, NULL);
    shmb_config_free(&cfg);
    if (b == NULL)
        abort();
    broker_set_process_probe(b, process_alive);
    shmb_frame_reader_init(&rd, MAX_FRAME);
    if (shmb_frame_reader_feed(&rd, data, size) == 0) {
        while (shmb_frame_reader_next(&rd, &payload, &len) == 1) {
            if (payload[0] == 0x01) {
                directive(b, conns, &cur, payload, len);
                continue;
            }
            if (conns[cur] == NULL)
                conns[cur] = client_connect(b, cur, &peers[cur]);
            if (conns[cur] != NULL)
                request(b, &conns[cur], payload, len);
        }
    }
    shmb_frame_reader_free(&rd);

    /* Everyone leaves, every process exits, nothing maps anything. */
    for (i = 0; i < NCLIENTS; i++) {
        if (conns[i] != NULL)
            broker_conn_close(conns[i]);
    }
    g_fake.in_use = 0;
    g_alive = 0;
    broker_sweep(b);
    broker_get_stats(b, &st);
    if (st.clients != 0 || st.draining != 0 ||
        g_fake.live_sections != (int)st.regions ||
        (st.regions == 0 && st.committed != 0))
        abort(); /* a region or its charge outlived its holders */
    broker_free(b);
    if (g_fake.live_sections != 0 || g_fake.live_doorbells != 0 ||
        g_fake.grantee_handles != 0)
        abort(); /* a handle outlived everything that could free it */
    return 0;
}
