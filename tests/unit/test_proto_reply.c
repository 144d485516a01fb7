/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_proto_reply.c - the reply builders at the edges of their ranges:
 * the largest id, the largest sizes a config allows, empty and truncated
 * lists. The replies of a running broker are compared byte for byte in
 * test_broker.c (broker_reply_bytes).
 */
#include <stdlib.h>

#include "harness.h"
#include "shmb_proto.h"

/* The config caps sizes and commit limits at 2^50. (cJSON would print
 * 2^53-1 as 9.00719925474099e+15: its "%1.15g" round trip tolerates an
 * error of one part in 2^52, which only matters above about 4.5e15.) */
#define BIG 1125899906842624ull /* 2^50 */

static int same(char *got, const char *want)
{
    int ok = got != NULL && strcmp(got, want) == 0;
    if (!ok)
        fprintf(stderr, "  got:  %s\n  want: %s\n", got ? got : "(null)", want);
    free(got);
    return ok;
}

static shmb_region_info info(const char *name, uint64_t size,
                             shmb_lifetime lifetime)
{
    shmb_region_info r;
    memset(&r, 0, sizeof(r));
    snprintf(r.name, sizeof(r.name), "%s", name);
    r.size = size;
    r.lifetime = lifetime;
    return r;
}

int test_proto_reply_builders(void)
{
    shmb_hello_result h = {1,     "shmbroker 9.9.9", 16777216, BIG,
                           65536, 4294967296ull};
    shmb_grant_result g;
    shmb_delete_result d;
    shmb_stat_result st;
    shmb_list_entry e[2];

    CHECK(same(shmb_reply_hello(4294967295u, &h),
               "{\"id\":4294967295,\"result\":{\"version\":1,\"server\":"
               "\"shmbroker 9.9.9\",\"max_frame\":16777216,"
               "\"max_region_size\":1125899906842624,\"granularity\":65536,"
               "\"client_id\":4294967296}}"));
    CHECK(same(shmb_reply_ping(0), "{\"id\":0,\"result\":{\"pong\":true}}"));
    g.region = info("a/b.c-d_e", BIG, SHMB_LIFETIME_PERSISTENT);
    g.access = SHMB_ACCESS_RO;
    g.handle = 0x7ffffffc;
    CHECK(same(shmb_reply_grant(3, &g),
               "{\"id\":3,\"result\":{\"name\":\"a/b.c-d_e\",\"size\":"
               "1125899906842624,\"lifetime\":\"persistent\",\"access\":"
               "\"ro\",\"handle\":2147483644}}"));
    CHECK(same(shmb_reply_release(5, "x"),
               "{\"id\":5,\"result\":{\"name\":\"x\"}}"));
    memset(&d, 0, sizeof(d));
    strcpy(d.name, "x");
    d.holders = 4294967295u;
    CHECK(same(shmb_reply_delete(6, &d),
               "{\"id\":6,\"result\":{\"name\":\"x\",\"holders\":"
               "4294967295}}"));
    st.region = info("cfg/one", 1, SHMB_LIFETIME_CONFIG);
    st.charge = 65536;
    st.holders = 0;
    st.your_grants = 0;
    st.owner = 0;
    CHECK(same(shmb_reply_stat(7, &st),
               "{\"id\":7,\"result\":{\"name\":\"cfg/one\",\"size\":1,"
               "\"lifetime\":\"config\",\"charge\":65536,\"holders\":0,"
               "\"your_grants\":0,\"owner\":false}}"));
    CHECK(same(shmb_reply_list(8, NULL, 0, 0),
               "{\"id\":8,\"result\":{\"regions\":[],\"truncated\":false}}"));
    e[0].region = info("p", 2, SHMB_LIFETIME_CLIENT);
    e[0].holders = 1;
    e[0].held = 1;
    e[1].region = info("q", 3, SHMB_LIFETIME_PERSISTENT);
    e[1].holders = 0;
    e[1].held = 0;
    CHECK(same(shmb_reply_list(9, e, 2, 1),
               "{\"id\":9,\"result\":{\"regions\":[{\"name\":\"p\",\"size\":2,"
               "\"lifetime\":\"client\",\"holders\":1,\"held\":true},"
               "{\"name\":\"q\",\"size\":3,\"lifetime\":\"persistent\","
               "\"holders\":0,\"held\":false}],\"truncated\":true}}"));
done:
    return TEST_RESULT;
}
