/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_proto_reply.c - the reply builders at the edges of their ranges:
 * the largest id, the largest sizes a config allows, empty and truncated
 * lists. The replies of a running broker are compared byte for byte in
 * test_broker.c (broker_reply_bytes).
 */
#include <stdlib.h>
#include <string.h>

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
    const uint64_t bells[2] = {0x104, 0x108};

    CHECK(same(shmb_reply_hello(4294967295u, &h),
               "{\"id\":4294967295,\"result\":{\"version\":1,\"server\":"
               "\"shmbroker 9.9.9\",\"max_frame\":16777216,"
               "\"max_region_size\":1125899906842624,\"granularity\":65536,"
               "\"client_id\":4294967296}}"));
    CHECK(same(shmb_reply_ping(0), "{\"id\":0,\"result\":{\"pong\":true}}"));
    memset(&g, 0, sizeof(g));
    g.region = info("a/b.c-d_e", BIG, SHMB_LIFETIME_PERSISTENT);
    g.access = SHMB_ACCESS_RO;
    g.handle = 0x7ffffffc;
    CHECK(same(shmb_reply_grant(3, &g),
               "{\"id\":3,\"result\":{\"name\":\"a/b.c-d_e\",\"size\":"
               "1125899906842624,\"lifetime\":\"persistent\",\"access\":"
               "\"ro\",\"handle\":2147483644}}"));
    /* Doorbells follow the handle, in order; none: no key at all. */
    g.ndoorbells = 2;
    g.doorbells = bells;
    CHECK(same(shmb_reply_grant(3, &g),
               "{\"id\":3,\"result\":{\"name\":\"a/b.c-d_e\",\"size\":"
               "1125899906842624,\"lifetime\":\"persistent\",\"access\":"
               "\"ro\",\"handle\":2147483644,\"doorbells\":[260,264]}}"));
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

/* The stats reply: its exact text, and the bounds the broker sizes its
 * lists by (SHMB_STATS_FIXED_MAX, SHMB_STATS_ENTRY_MAX) hold for the
 * longest SIDs and the largest numbers. */
int test_proto_reply_stats(void)
{
    shmb_stats_usage u[2];
    shmb_stats_result s;
    char *got = NULL;
    size_t fixed;

    memset(u, 0, sizeof(u));
    memset(&s, 0, sizeof(s));
    snprintf(u[0].user, sizeof(u[0].user), "S-1-5-21-1");
    snprintf(u[0].band, sizeof(u[0].band), "low");
    u[0].clients = 1;
    u[0].clients_limit = 2;
    u[0].regions = 3;
    u[0].regions_limit = 4;
    u[0].commit = 65536;
    u[0].commit_draining = 0;
    u[0].commit_limit = BIG;
    u[1] = u[0];
    u[1].band[0] = '\0';
    s.connections = 1;
    s.max_clients = 64;
    s.regions = 2;
    s.regions_client = 1;
    s.regions_config = 1;
    s.max_regions = 10;
    s.commit = 131072;
    s.commit_limit = BIG;
    s.grantee_handles = 5;
    s.server_connections = 1;
    s.server_frames = 9;
    s.principals = &u[0];
    s.nprincipals = 1;
    s.users = &u[1];
    s.nusers = 1;
    CHECK(
        same(shmb_reply_stats(7, &s),
             "{\"id\":7,\"result\":{\"connections\":{\"total\":1,\"limit\":64},"
             "\"regions\":{\"total\":2,\"client\":1,\"persistent\":0,"
             "\"config\":1,\"draining\":0,\"limit\":10},"
             "\"commit\":{\"total\":131072,\"draining\":0,"
             "\"limit\":1125899906842624},\"grantee_handles\":5,"
             "\"server\":{\"connections\":1,\"paused\":0,\"yielded\":0,"
             "\"writes\":0,\"frames\":9},"
             "\"principals\":[{\"user\":\"S-1-5-21-1\",\"appcontainer\":null,"
             "\"band\":\"low\",\"clients\":1,\"clients_limit\":2,"
             "\"regions\":3,\"regions_limit\":4,\"commit\":65536,"
             "\"commit_draining\":0,\"commit_limit\":1125899906842624}],"
             "\"users\":[{\"user\":\"S-1-5-21-1\",\"clients\":1,"
             "\"clients_limit\":2,\"regions\":3,\"regions_limit\":4,"
             "\"commit\":65536,\"commit_draining\":0,"
             "\"commit_limit\":1125899906842624}],\"truncated\":false}}"));

    /* The worst case: every number at its largest, SIDs as long as kept. */
    memset(u[0].user, '1', SHMB_SID_MAX - 1);
    u[0].user[SHMB_SID_MAX - 1] = '\0';
    memcpy(u[0].appcontainer, u[0].user, SHMB_SID_MAX);
    snprintf(u[0].band, sizeof(u[0].band), "medium+");
    u[0].clients = u[0].clients_limit = UINT32_MAX;
    u[0].regions = u[0].regions_limit = UINT32_MAX;
    u[0].commit = u[0].commit_draining = u[0].commit_limit = BIG;
    u[1] = u[0];
    s.connections = s.max_clients = s.regions = s.regions_client = UINT32_MAX;
    s.regions_persistent = s.regions_config = UINT32_MAX;
    s.regions_draining = s.max_regions = UINT32_MAX;
    s.commit = s.commit_draining = s.commit_limit = BIG;
    s.grantee_handles = s.server_connections = s.server_paused = BIG;
    s.server_yielded = s.server_writes = s.server_frames = BIG;
    s.nprincipals = s.nusers = 0;
    got = shmb_reply_stats(UINT32_MAX, &s);
    CHECK(got != NULL);
    fixed = strlen(got);
    CHECK(fixed <= SHMB_STATS_FIXED_MAX);
    free(got);
    s.nprincipals = s.nusers = 1;
    got = shmb_reply_stats(UINT32_MAX, &s);
    CHECK(got != NULL);
    CHECK(strlen(got) <= fixed + 2 * SHMB_STATS_ENTRY_MAX);
done:
    free(got);
    return TEST_RESULT;
}
