/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_broker.c - libFuzzer target: an arbitrary byte stream from one
 * client, cut into frames by the real frame reader and handled by the real
 * broker (over the in-memory platform). Invariants checked: every reply is
 * a well-formed reply that fits in one frame; the broker survives; and once
 * the client and broker are gone no section is left open.
 */
#include <stdlib.h>
#include <string.h>

#include "broker.h"
#include "fake_platform.h"
#include "shmb_config.h"
#include "shmb_frame.h"
#include "shmb_proto.h"

static const char config_json[] =
    "{\"limits\":{\"max_frame\":4096,\"max_regions\":64,\"regions_per_client\":"
    "16,\"max_region_size\":1048576},\"rules\":["
    "{\"name\":\"all\",\"regions\":[\"**\"],\"create\":true,\"open\":\"rw\","
    "\"delete\":true},"
    "{\"name\":\"ro\",\"regions\":[\"ro/**\"],\"open\":\"ro\"},"
    "{\"name\":\"no\",\"effect\":\"deny\",\"regions\":[\"no/**\"],"
    "\"open\":\"ro\",\"create\":true}]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    shmb_config cfg;
    char err[SHMB_CONFIG_ERR_MAX];
    shmb_identity id;
    struct plat_peer peer = {0, 0};
    shmb_frame_reader rd;
    broker_conn *conn = NULL;
    broker *b;
    const uint8_t *payload;
    size_t len;
    broker_outcome oc;
    int r;

    memset(&g_fake, 0, sizeof(g_fake));
    if (shmb_config_parse(config_json, strlen(config_json), "fuzz",
                          &shmb_conventions_windows, &cfg, err,
                          sizeof(err)) != SHMB_OK)
        abort();
    b = broker_new(&cfg, NULL);
    shmb_config_free(&cfg);
    if (b == NULL)
        abort();
    memset(&id, 0, sizeof(id));
    strcpy(id.user_sid, "S-1-5-21-1-2-3-1000");
    id.integrity = 0x2000;
    if (broker_conn_open(b, &peer, &id, &conn, err, sizeof(err)) != SHMB_OK)
        abort();
    shmb_frame_reader_init(&rd, 4096);
    if (shmb_frame_reader_feed(&rd, data, size) == 0) {
        while ((r = shmb_frame_reader_next(&rd, &payload, &len)) == 1) {
            char *reply = broker_handle(conn, payload, len, &oc);
            shmb_reply parsed;
            if (reply != NULL) {
                if (strlen(reply) > 4096 ||
                    shmb_reply_parse((const uint8_t *)reply, strlen(reply),
                                     &parsed) != SHMB_OK)
                    abort(); /* the client could not read it */
                shmb_reply_free(&parsed);
            }
            free(reply);
            if (oc.close_after)
                break;
        }
    }
    shmb_frame_reader_free(&rd);
    broker_conn_close(conn);
    broker_free(b);
    if (g_fake.live_sections != 0)
        abort(); /* a region outlived everything that could free it */
    return 0;
}
