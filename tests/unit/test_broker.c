/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_broker.c - the portable broker over the fake platform: lifetimes,
 * holdings, commit accounting, limits and failure paths. Run under ASan,
 * these also prove that no path leaks or touches freed memory.
 */
#include <stdlib.h>

#include "broker.h"
#include "fake_platform.h"
#include "harness.h"
#include "shmb_config.h"
#include "shmb_version.h"

#define ME "S-1-5-21-7-7-7-1001"

typedef struct client {
    char why[256];
    broker_conn *conn;
    struct plat_peer peer;
    uint32_t next_id;
} client;

static broker *new_broker(shmb_config *cfg, const char *json)
{
    char err[SHMB_CONFIG_ERR_MAX];
    broker *b;
    memset(&g_fake, 0, sizeof(g_fake));
    if (json == NULL)
        shmb_config_defaults(cfg, &shmb_conventions_windows);
    else if (shmb_config_parse(json, strlen(json), "t",
                               &shmb_conventions_windows, cfg, err,
                               sizeof(err)) != SHMB_OK) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    b = broker_new(cfg, NULL);
    shmb_config_free(cfg); /* the broker keeps its own copy */
    return b;
}

static int connect_full(broker *b, client *cl, const char *user, const char *ac,
                        uint32_t il);

static int connect_as(broker *b, client *cl, const char *user)
{
    return connect_full(b, cl, user, "", 0x2000);
}

static int connect_proc(broker *b, client *cl, const char *user, const char *ac,
                        uint32_t il, uint32_t pid, uint64_t created);

static int connect_full(broker *b, client *cl, const char *user, const char *ac,
                        uint32_t il)
{
    return connect_proc(b, cl, user, ac, il, 42, 0);
}

static int connect_proc(broker *b, client *cl, const char *user, const char *ac,
                        uint32_t il, uint32_t pid, uint64_t created)
{
    shmb_identity id;
    memset(cl, 0, sizeof(*cl));
    memset(&id, 0, sizeof(id));
    snprintf(id.user_sid, sizeof(id.user_sid), "%s", user);
    snprintf(id.appcontainer_sid, sizeof(id.appcontainer_sid), "%s", ac);
    id.integrity = il;
    id.session = 1;
    id.pid = pid;
    id.process_created = created;
    int rc;
    if (shmb_identity_add_group(&id, "S-1-5-11", 0) != SHMB_OK)
        return SHMB_E_NOMEM;
    rc = broker_conn_open(b, &cl->peer, &id, &cl->conn, cl->why,
                          sizeof(cl->why));
    shmb_identity_free(&id); /* moved on success, ours on refusal */
    return rc;
}

/* Sends one request (adds "id") and returns the reply text (malloc'd). */
static char *call(client *cl, const char *body, broker_outcome *oc)
{
    char req[1024];
    broker_outcome local;
    snprintf(req, sizeof(req), "{\"id\":%u,%s}", (unsigned)++cl->next_id, body);
    return broker_handle(cl->conn, (const uint8_t *)req, strlen(req),
                         oc ? oc : &local);
}

/* Runs a request and checks that the reply contains `want`. */
static int expect(client *cl, const char *body, const char *want)
{
    char *reply = call(cl, body, NULL);
    int ok = reply != NULL && strstr(reply, want) != NULL;
    if (!ok)
        fprintf(stderr, "request {%s}\n  reply: %s\n  want:  %s\n", body,
                reply ? reply : "(null)", want);
    free(reply);
    return ok;
}

static int hello(client *cl)
{
    return expect(cl, "\"op\":\"hello\",\"versions\":[1]", "\"version\":1");
}

int test_broker_lifetimes(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client a, c2;
    broker_stats st;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK_INT(connect_as(b, &c2, ME), SHMB_OK);
    CHECK(hello(&a) && hello(&c2));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/c\","
                 "\"size\":100",
                 "\"lifetime\":\"client\""));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/p\","
                 "\"size\":70000,\"lifetime\":\"persistent\"",
                 "\"handle\":"));
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 2);
    CHECK_INT(st.committed, 65536 + 131072);
    CHECK_INT(g_fake.live_sections, 2);
    /* c2 holds the client region; a leaves: it stays. */
    CHECK(expect(&c2,
                 "\"op\":\"open\",\"name\":\"users/" ME "/c\","
                 "\"access\":\"ro\"",
                 "\"access\":\"ro\""));
    broker_conn_close(a.conn);
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 2);
    /* c2 releases it: gone. The persistent one stays. */
    CHECK(expect(&c2, "\"op\":\"release\",\"name\":\"users/" ME "/c\"",
                 "\"result\""));
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 1);
    CHECK_INT(st.committed, 131072);
    CHECK_INT(g_fake.live_sections, 1);
    /* Delete while held: unlisted, section closed, holder unharmed. */
    CHECK(expect(&c2,
                 "\"op\":\"open\",\"name\":\"users/" ME "/p\","
                 "\"access\":\"rw\"",
                 "\"result\""));
    CHECK(expect(&c2, "\"op\":\"delete\",\"name\":\"users/" ME "/p\"",
                 "\"holders\":1"));
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 0);
    CHECK_INT(st.committed, 0);
    CHECK_INT(g_fake.live_sections, 0);
    CHECK(expect(&c2, "\"op\":\"stat\",\"name\":\"users/" ME "/p\"",
                 "not_found"));
    broker_conn_close(c2.conn); /* frees the deleted region's struct */
    broker_get_stats(b, &st);
    CHECK_INT(st.clients, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

int test_broker_stop_frees_everything(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client a;
    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/1\","
                 "\"size\":1,\"lifetime\":\"persistent\"",
                 "\"result\""));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/2\","
                 "\"size\":1",
                 "\"result\""));
    /* Service stop with a client still connected. */
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

int test_broker_failure_paths(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client a;
    broker_stats st;
    broker_outcome oc;
    char *reply = NULL;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(expect(&a, "\"op\":\"ping\"", "handshake_required"));
    CHECK(hello(&a));
    CHECK(expect(&a, "\"op\":\"hello\",\"versions\":[1]",
                 "hello was already done"));
    g_fake.fail_create = 1;
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/x\","
                 "\"size\":1",
                 "creating a 1-byte section failed (system error 1455)"));
    g_fake.fail_grant = 1;
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/x\","
                 "\"size\":1",
                 "duplicating the section into pid 42 failed"));
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 0); /* the failed grant took its region along */
    CHECK_INT(st.committed, 0);
    CHECK_INT(g_fake.live_sections, 0);
    /* A grant is reported so the server can revoke it if undelivered. */
    reply = call(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/y\","
                 "\"size\":1",
                 &oc);
    CHECK(reply != NULL);
    CHECK_INT(oc.has_grant, 1);
    CHECK(oc.grant.handle != 0);
    free(reply);
    reply = NULL;
    /* Bad JSON closes; a bad request does not. */
    reply = call(&a, "\"op\":\"ping\",\"x\":1", &oc);
    CHECK(reply != NULL && strstr(reply, "unknown field 'x'") != NULL);
    CHECK_INT(oc.close_after, 0);
    free(reply);
    reply = NULL;
    reply = broker_handle(a.conn, (const uint8_t *)"{", 1, &oc);
    CHECK(reply != NULL && strstr(reply, "bad_json") != NULL);
    CHECK_INT(oc.close_after, 1);
    free(reply);
    reply = NULL;
    broker_conn_close(a.conn);
    CHECK_INT(g_fake.live_sections, 0);
done:
    free(reply);
    broker_free(b);
    return TEST_RESULT;
}

static const char limits_json[] =
    "{\"limits\":{\"max_clients\":3,\"max_regions\":5,\"regions_per_client\":"
    "3,\"max_region_size\":1048576,\"commit_per_client\":196608,"
    "\"commit_per_user\":262144,\"commit_total\":327680},"
    "\"rules\":[{\"name\":\"all\",\"regions\":[\"**\"],\"create\":true,"
    "\"open\":\"rw\",\"delete\":true}]}";

int test_broker_limits(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, limits_json);
    client a, c2, c3, c4;
    char body[128];
    int i;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK_INT(connect_as(b, &c2, ME), SHMB_OK);
    CHECK_INT(connect_as(b, &c3, "S-1-5-21-7-7-7-2002"), SHMB_OK);
    CHECK_INT(connect_as(b, &c4, ME), SHMB_E_LIMIT_REACHED);
    CHECK(hello(&a) && hello(&c2) && hello(&c3));
    CHECK(expect(&a, "\"op\":\"create\",\"name\":\"big\",\"size\":1048577",
                 "size 1048577 exceeds limits.max_region_size (1048576)"));
    for (i = 0; i < 3; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"a%d\",\"size\":1", i);
        CHECK(expect(&a, body, "\"result\""));
    }
    CHECK(expect(&a, "\"op\":\"create\",\"name\":\"a3\",\"size\":1",
                 "limits.regions_per_client (3)"));
    /* a: 3 x 64 KiB = commit_per_client. c2, same user: 1 more unit. */
    CHECK(expect(&c2, "\"op\":\"create\",\"name\":\"b0\",\"size\":1",
                 "\"result\""));
    CHECK(expect(&c2, "\"op\":\"create\",\"name\":\"b1\",\"size\":1",
                 "your user has 0 of limits.commit_per_user (262144) left"));
    /* c3, another user: the total has one 64 KiB unit left. */
    CHECK(expect(&c3, "\"op\":\"create\",\"name\":\"c0\",\"size\":70000",
                 "the broker has 65536 of limits.commit_total (327680) "
                 "left"));
    CHECK(expect(&c3, "\"op\":\"create\",\"name\":\"c0\",\"size\":1",
                 "\"result\""));
    CHECK(expect(&c3, "\"op\":\"create\",\"name\":\"c1\",\"size\":1",
                 "limits.max_regions (5) regions exist"));
    /* Deleting someone else's region needs a rule: "all" grants it. */
    CHECK(expect(&c3, "\"op\":\"delete\",\"name\":\"a0\"", "\"result\""));
    broker_conn_close(a.conn);
    broker_conn_close(c2.conn);
    broker_conn_close(c3.conn);
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

int test_broker_scale(void)
{
    enum { CLIENTS = 1000, PER = 10 };
    shmb_config cfg;
    broker *b = NULL;
    client *cl = calloc(CLIENTS, sizeof(*cl));
    char body[160];
    broker_stats st;
    int i, k;

    CHECK(cl != NULL);
    b = new_broker(&cfg, "{\"limits\":{\"max_clients\":2000,\"clients_per_"
                         "user\":2000,\"max_regions\":"
                         "100000,\"regions_per_client\":100,"
                         "\"regions_per_user\":100000},"
                         "\"rules\":[{\"name\":\"all\",\"regions\":[\"**\"],"
                         "\"create\":true,\"open\":\"rw\"}]}");
    CHECK(b != NULL);
    for (i = 0; i < CLIENTS; i++) {
        CHECK_INT(connect_as(b, &cl[i], ME), SHMB_OK);
        CHECK(hello(&cl[i]));
        for (k = 0; k < PER; k++) {
            snprintf(body, sizeof(body),
                     "\"op\":\"create\",\"name\":\"s/%d/%d\",\"size\":1", i, k);
            CHECK(expect(&cl[i], body, "\"result\""));
        }
    }
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, CLIENTS * PER);
    CHECK_INT(st.clients, CLIENTS);
    /* Everyone opens someone else's region. */
    for (i = 0; i < CLIENTS; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"open\",\"name\":\"s/%d/3\",\"access\":\"ro\"",
                 (i + 1) % CLIENTS);
        CHECK(expect(&cl[i], body, "\"result\""));
    }
    for (i = 0; i < CLIENTS; i++)
        broker_conn_close(cl[i].conn);
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 0);
    CHECK_INT(st.committed, 0);
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    free(cl);
    return TEST_RESULT;
}

int test_broker_commit_drains(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client a;
    broker_stats st;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/d\","
                 "\"size\":100",
                 "\"result\""));
    /* The client still maps it somewhere: releasing unlists the region
     * but the commit stays charged. */
    g_fake.in_use = 1;
    CHECK(expect(&a, "\"op\":\"release\",\"name\":\"users/" ME "/d\"",
                 "\"result\""));
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 0);
    CHECK_INT(st.draining, 1);
    CHECK_INT(st.committed, 65536);
    CHECK_INT(g_fake.live_sections, 1);
    broker_sweep(b);
    broker_get_stats(b, &st);
    CHECK_INT(st.committed, 65536);
    /* Gone everywhere: the next sweep gives it back. */
    g_fake.in_use = 0;
    broker_sweep(b);
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 0);
    CHECK_INT(st.committed, 0);
    CHECK_INT(g_fake.live_sections, 0);
    /* And a draining region at service stop is let go of too. */
    g_fake.in_use = 1;
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/e\","
                 "\"size\":100",
                 "\"result\""));
    broker_conn_close(a.conn);
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 1);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

/* A principal is user + AppContainer + integrity band: the connection
 * limit and the commit quota have a per-user ceiling over all of a user's
 * principals, and per-principal sub-limits under it; ownership is the
 * exact principal. */
/* The processes a fake system has alive: pid and creation time. */
static struct {
    uint32_t pid;
    uint64_t created;
} g_alive[4];

static int fake_alive(uint32_t pid, uint64_t created)
{
    size_t i;
    for (i = 0; i < sizeof(g_alive) / sizeof(g_alive[0]); i++) {
        if (g_alive[i].pid == pid && g_alive[i].created == created)
            return 1;
    }
    return 0;
}

/* The escape: a grantee hands its grant to a child, the child maps it and
 * closes the handle, the grantee releases and exits. No handle is left
 * and no grantee lives, but the child's view holds the commit: it stays
 * charged while a process of the grantee's principal that connected after
 * the grant lives - told apart by creation time, not pid. */
int test_broker_drain_children(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client parent, child, early, lowc, late;
    broker_stats st;

    memset(g_alive, 0, sizeof(g_alive));
    CHECK(b != NULL);
    broker_set_process_probe(b, fake_alive);
    g_alive[0].pid = 13;
    g_alive[0].created = 50;
    CHECK_INT(connect_proc(b, &early, ME, "", 0x2000, 13, 50), SHMB_OK);
    CHECK_INT(connect_proc(b, &parent, ME, "", 0x2000, 10, 100), SHMB_OK);
    CHECK(hello(&parent) && hello(&early));
    CHECK(expect(&parent,
                 "\"op\":\"create\",\"name\":\"users/" ME "/d\","
                 "\"size\":100",
                 "\"result\""));
    /* After the grant: a child of the same principal, and a low-integrity
     * process of the same user (another principal). */
    g_alive[1].pid = 11;
    g_alive[1].created = 200;
    g_alive[2].pid = 12;
    g_alive[2].created = 300;
    CHECK_INT(connect_proc(b, &child, ME, "", 0x2000, 11, 200), SHMB_OK);
    CHECK_INT(connect_proc(b, &lowc, ME, "", 0x1000, 12, 300), SHMB_OK);
    /* No handle left anywhere (in_use 0), the grantee lets go: */
    g_fake.in_use = 0;
    broker_conn_close(parent.conn);
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 0);
    CHECK_INT(st.draining, 1);
    CHECK_INT(st.committed, 65536);
    /* The child closes its connection but lives: still charged. */
    broker_conn_close(child.conn);
    broker_sweep(b);
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 1);
    /* A process arriving once nobody could hand the section on any more
     * (no handle, no grantee) does not hold it back. */
    g_alive[3].pid = 14;
    g_alive[3].created = 400;
    CHECK_INT(connect_proc(b, &late, ME, "", 0x2000, 14, 400), SHMB_OK);
    /* The child's pid now belongs to another process: the child is gone. */
    g_alive[1].created = 999;
    broker_sweep(b);
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 0);
    CHECK_INT(st.committed, 0);
    CHECK_INT(g_fake.live_sections, 0);
    /* A process that connected before the grant, and another principal,
     * do not hold a region back (the platform answers for grantees). */
    CHECK(expect(&early,
                 "\"op\":\"create\",\"name\":\"users/" ME "/e\","
                 "\"size\":100",
                 "\"result\""));
    CHECK(expect(&early, "\"op\":\"release\",\"name\":\"users/" ME "/e\"",
                 "\"result\""));
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 0);
    CHECK_INT(st.committed, 0);
    broker_conn_close(early.conn);
    broker_conn_close(lowc.conn);
    broker_conn_close(late.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

/* Without a probe, a process counts as gone with its last connection; an
 * open connection of the principal made after the grant still pins. */
int test_broker_drain_without_probe(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client parent, child;
    broker_stats st;

    CHECK(b != NULL);
    CHECK_INT(connect_proc(b, &parent, ME, "", 0x2000, 10, 100), SHMB_OK);
    CHECK(hello(&parent));
    CHECK(expect(&parent,
                 "\"op\":\"create\",\"name\":\"users/" ME "/d\","
                 "\"size\":100",
                 "\"result\""));
    CHECK_INT(connect_proc(b, &child, ME, "", 0x2000, 11, 200), SHMB_OK);
    broker_conn_close(parent.conn);
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 1);
    broker_conn_close(child.conn);
    broker_sweep(b);
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 0);
    CHECK_INT(st.committed, 0);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

/* A reload that lowers a limit below what is already charged refuses
 * every new charge; it must not wrap "limit - used" and let all through. */
int test_broker_reload_lowers_limits(void)
{
    static const struct {
        const char *limits;
        const char *want;
    } cases[] = {
        {"\"commit_per_client\":65536",
         "this connection has 0 of limits.commit_per_client (65536) left"},
        {"\"commit_per_principal\":65536",
         "has 0 of limits.commit_per_principal (65536) left"},
        {"\"commit_per_user\":65536",
         "your user has 0 of limits.commit_per_user (65536) left"},
        {"\"commit_total\":65536",
         "the broker has 0 of limits.commit_total (65536) left"},
        {"\"regions_per_client\":1",
         "this connection already created limits.regions_per_client (1)"},
        {"\"regions_per_principal\":1",
         "already has limits.regions_per_principal (1) regions"},
        {"\"regions_per_user\":1",
         "your user already has limits.regions_per_user (1) regions"},
        {"\"max_regions\":1", "limits.max_regions (1) regions exist"},
    };
    shmb_config cfg, next;
    char err[SHMB_CONFIG_ERR_MAX], json[512];
    broker *b = new_broker(&cfg, NULL);
    client a;
    size_t i;

    memset(&next, 0, sizeof(next));
    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/1\","
                 "\"size\":1",
                 "\"result\""));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/2\","
                 "\"size\":1",
                 "\"result\""));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(json, sizeof(json),
                 "{\"limits\":{%s},\"rules\":[{\"name\":\"all\","
                 "\"regions\":[\"**\"],\"create\":true}]}",
                 cases[i].limits);
        CHECK_INT(shmb_config_parse(json, strlen(json), "next",
                                    &shmb_conventions_windows, &next, err,
                                    sizeof(err)),
                  SHMB_OK);
        CHECK_INT(broker_reconfigure(b, &next), SHMB_OK);
        shmb_config_free(&next);
        CHECK(expect(&a, "\"op\":\"create\",\"name\":\"x\",\"size\":1",
                     cases[i].want));
    }
    broker_conn_close(a.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    shmb_config_free(&next);
    broker_free(b);
    return TEST_RESULT;
}

int test_broker_principals(void)
{
    shmb_config cfg;
    broker *b =
        new_broker(&cfg, "{\"limits\":{\"clients_per_user\":5,"
                         "\"clients_per_principal\":2,"
                         "\"commit_per_client\":131072,"
                         "\"commit_per_user\":393216,"
                         "\"commit_per_principal\":131072},"
                         "\"rules\":[{\"name\":\"all\",\"regions\":[\"**\"],"
                         "\"create\":true,\"open\":\"rw\"}]}");
    client med, high, low, ac, third, ac2, fifth, other;

    CHECK(b != NULL);
    CHECK_INT(connect_full(b, &med, ME, "", 0x2000), SHMB_OK);
    /* High is the same band as medium: one principal. */
    CHECK_INT(connect_full(b, &high, ME, "", 0x3000), SHMB_OK);
    CHECK_INT(connect_full(b, &third, ME, "", 0x2000), SHMB_E_LIMIT_REACHED);
    CHECK_STR(third.why, "your principal (user, AppContainer and integrity "
                         "band) already has limits.clients_per_principal (2) "
                         "connections open");
    /* Low integrity and an AppContainer are principals of their own... */
    CHECK_INT(connect_full(b, &low, ME, "", 0x1000), SHMB_OK);
    CHECK_INT(connect_full(b, &ac, ME, "S-1-15-2-7", 0x1000), SHMB_OK);
    /* ...but the user's ceiling covers them all: a new container profile
     * does not bring a fresh set of connections. Sandboxes stop at three
     * quarters of it (4 of 5): the rest is the medium programs'. */
    CHECK_INT(connect_full(b, &fifth, ME, "S-1-15-2-8", 0x1000),
              SHMB_E_LIMIT_REACHED);
    CHECK_STR(fifth.why,
              "you already have limits.clients_per_user (5) connections "
              "open; a sandboxed principal may use three quarters of it, the "
              "rest is kept for the user's medium-and-above programs");
    CHECK_INT(connect_full(b, &other, "S-1-5-21-7-7-7-2002", "", 0x2000),
              SHMB_OK);
    CHECK(hello(&med) && hello(&high) && hello(&low) && hello(&ac));
    CHECK(expect(&med,
                 "\"op\":\"create\",\"name\":\"m\",\"size\":131072,"
                 "\"lifetime\":\"persistent\"",
                 "\"result\""));
    /* The principal's sub-limit is spent (high is the same principal)... */
    CHECK(expect(&high, "\"op\":\"create\",\"name\":\"h\",\"size\":1",
                 "your principal (user, AppContainer and integrity band) has "
                 "0 of limits.commit_per_principal (131072) left"));
    /* ...the low one has its own, and the user's ceiling stops the
     * container after that. */
    CHECK(expect(&low, "\"op\":\"create\",\"name\":\"l\",\"size\":131072",
                 "\"result\""));
    CHECK(expect(&ac, "\"op\":\"create\",\"name\":\"a\",\"size\":1",
                 "your user has 32768 of limits.commit_per_user (393216) "
                 "left; a sandboxed principal may use three quarters"));
    /* Neither the low-integrity process nor the sandbox of the same user
     * owns (may delete) what the medium-integrity program created; the
     * elevated one does (same band), and medium does not own low's. */
    CHECK(expect(&low, "\"op\":\"delete\",\"name\":\"m\"",
                 "you did not create it"));
    CHECK(expect(&ac, "\"op\":\"delete\",\"name\":\"m\"",
                 "you did not create it"));
    CHECK(expect(&ac, "\"op\":\"stat\",\"name\":\"m\"", "\"owner\":false"));
    CHECK(expect(&low, "\"op\":\"stat\",\"name\":\"m\"", "\"owner\":false"));
    CHECK(expect(&med, "\"op\":\"stat\",\"name\":\"l\"", "\"owner\":false"));
    CHECK(expect(&high, "\"op\":\"stat\",\"name\":\"m\"", "\"owner\":true"));
    CHECK(expect(&med, "\"op\":\"stat\",\"name\":\"m\"", "\"owner\":true"));
    CHECK(expect(&high, "\"op\":\"delete\",\"name\":\"m\"", "\"result\""));
    broker_conn_close(med.conn);
    /* A slot of that principal is free again. */
    CHECK_INT(connect_full(b, &ac2, ME, "", 0x2000), SHMB_OK);
    broker_conn_close(ac2.conn);
    broker_conn_close(high.conn);
    broker_conn_close(low.conn);
    broker_conn_close(ac.conn);
    broker_conn_close(other.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

/* Regions count against their creator's principal and user for as long
 * as they exist - persistent ones too, after the connection that made
 * them is gone - so reconnecting does not fill max_regions. */
int test_broker_regions_per_user(void)
{
    shmb_config cfg;
    broker *b =
        new_broker(&cfg, "{\"limits\":{\"regions_per_client\":2,"
                         "\"regions_per_user\":3,\"regions_per_principal\":2},"
                         "\"rules\":[{\"name\":\"all\",\"regions\":[\"**\"],"
                         "\"create\":true,\"open\":\"rw\",\"delete\":true}]}");
    client a, a2, low, other;
    broker_stats st;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"p1\",\"size\":1,"
                 "\"lifetime\":\"persistent\"",
                 "\"result\""));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"p2\",\"size\":1,"
                 "\"lifetime\":\"persistent\"",
                 "\"result\""));
    broker_conn_close(a.conn);
    a.conn = NULL;
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 2);
    /* A fresh connection of the same principal: its own per-client slots
     * are free, but the principal's are not. */
    CHECK_INT(connect_as(b, &a2, ME), SHMB_OK);
    CHECK(hello(&a2));
    CHECK(expect(&a2,
                 "\"op\":\"create\",\"name\":\"p3\",\"size\":1,"
                 "\"lifetime\":\"persistent\"",
                 "your principal (user, AppContainer and integrity band) "
                 "already has limits.regions_per_principal (2) regions"));
    /* Another principal of the user takes the user's last one... */
    CHECK_INT(connect_full(b, &low, ME, "", 0x1000), SHMB_OK);
    CHECK(hello(&low));
    CHECK(expect(&low, "\"op\":\"create\",\"name\":\"l1\",\"size\":1",
                 "\"result\""));
    CHECK(expect(&low, "\"op\":\"create\",\"name\":\"l2\",\"size\":1",
                 "your user already has limits.regions_per_user (3) regions"));
    /* ...another user is not affected. */
    CHECK_INT(connect_as(b, &other, "S-1-5-21-7-7-7-2002"), SHMB_OK);
    CHECK(hello(&other));
    CHECK(expect(&other, "\"op\":\"create\",\"name\":\"o1\",\"size\":1",
                 "\"result\""));
    /* Deleting a persistent region gives its slot back. */
    CHECK(expect(&a2, "\"op\":\"delete\",\"name\":\"p1\"", "\"result\""));
    CHECK(expect(&a2,
                 "\"op\":\"create\",\"name\":\"p3\",\"size\":1,"
                 "\"lifetime\":\"persistent\"",
                 "\"result\""));
    broker_conn_close(a2.conn);
    broker_conn_close(low.conn);
    broker_conn_close(other.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

int test_broker_reconfigure(void)
{
    shmb_config cfg, next;
    char err[SHMB_CONFIG_ERR_MAX];
    static const char json2[] =
        "{\"limits\":{\"max_region_size\":4096},\"rules\":["
        "{\"name\":\"new\",\"regions\":[\"n/**\"],\"create\":true}]}";
    broker *b = new_broker(&cfg, NULL);
    const shmb_limits *limits;
    client a;

    memset(&next, 0, sizeof(next));
    CHECK(b != NULL);
    limits = broker_limits(b);
    CHECK_INT(limits->max_region_size, (uint64_t)1 << 30);
    CHECK_INT(limits->max_frame, 65536);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/keep\","
                 "\"size\":100,\"lifetime\":\"persistent\"",
                 "\"result\""));
    CHECK(expect(&a, "\"op\":\"create\",\"name\":\"n/x\",\"size\":1",
                 "access_denied"));
    CHECK_INT(shmb_config_parse(json2, strlen(json2), "next",
                                &shmb_conventions_windows, &next, err,
                                sizeof(err)),
              SHMB_OK);
    CHECK_INT(broker_reconfigure(b, &next), SHMB_OK);
    shmb_config_free(&next);
    /* The server's view of the limits follows without being told. */
    CHECK(broker_limits(b) == limits);
    CHECK_INT(limits->max_region_size, 4096);
    /* New rules and limits apply at once... */
    CHECK(expect(&a, "\"op\":\"create\",\"name\":\"n/x\",\"size\":1",
                 "\"result\""));
    CHECK(expect(&a, "\"op\":\"create\",\"name\":\"n/y\",\"size\":8192",
                 "exceeds limits.max_region_size (4096)"));
    /* ...the old ones are gone, existing regions stay. */
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/z\","
                 "\"size\":1",
                 "access_denied"));
    CHECK(expect(&a, "\"op\":\"stat\",\"name\":\"users/" ME "/keep\"",
                 "\"owner\":true"));
    broker_conn_close(a.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    shmb_config_free(&next);
    broker_free(b);
    return TEST_RESULT;
}

/* Runs a request and checks the whole reply, byte for byte: clients in
 * other languages are written from docs/protocol.md, so key order and
 * number format are part of the protocol. */
static int exact(client *cl, const char *body, const char *want)
{
    char *reply = call(cl, body, NULL);
    int ok = reply != NULL && strcmp(reply, want) == 0;
    if (!ok)
        fprintf(stderr, "request {%s}\n  reply: %s\n  want:  %s\n", body,
                reply ? reply : "(null)", want);
    free(reply);
    return ok;
}

/* Sizes above 2^31 print through cJSON's "%1.15g" path, not "%d". */
static const char replies_json[] =
    "{\"limits\":{\"max_frame\":1024,\"max_region_size\":8589934592,"
    "\"commit_per_client\":17179869184,\"commit_per_user\":17179869184,"
    "\"commit_total\":34359738368},"
    "\"regions\":[{\"name\":\"cfg/one\",\"size\":4096}],"
    "\"rules\":[{\"name\":\"all\",\"regions\":[\"**\"],\"create\":true,"
    "\"open\":\"rw\",\"delete\":true},"
    "{\"name\":\"no\",\"effect\":\"deny\",\"regions\":[\"no/**\"],"
    "\"open\":\"ro\"}]}";

int test_broker_reply_bytes(void)
{
    shmb_config cfg;
    char why[256];
    broker *b = new_broker(&cfg, replies_json);
    client a, c2;
    broker_outcome oc;
    char *reply = NULL;

    CHECK(b != NULL);
    CHECK_INT(broker_create_config_regions(b, why, sizeof(why)), SHMB_OK);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK_INT(connect_as(b, &c2, ME), SHMB_OK);
    CHECK(exact(&a, "\"op\":\"ping\"",
                "{\"id\":1,\"error\":{\"code\":\"handshake_required\","
                "\"message\":\"send hello before 'ping'\"}}"));
    CHECK(exact(&a, "\"op\":\"hello\",\"versions\":[1,2],\"client\":\"t\"",
                "{\"id\":2,\"result\":{\"version\":1,\"server\":"
                "\"shmbroker " SHMB_VERSION_STRING
                "\",\"max_frame\":1024,\"max_region_size\":8589934592,"
                "\"granularity\":65536,\"client_id\":1}}"));
    CHECK(exact(&c2, "\"op\":\"hello\",\"versions\":[1]",
                "{\"id\":1,\"result\":{\"version\":1,\"server\":"
                "\"shmbroker " SHMB_VERSION_STRING
                "\",\"max_frame\":1024,\"max_region_size\":8589934592,"
                "\"granularity\":65536,\"client_id\":2}}"));
    CHECK(
        exact(&a, "\"op\":\"ping\"", "{\"id\":3,\"result\":{\"pong\":true}}"));
    CHECK(exact(&a,
                "\"op\":\"create\",\"name\":\"big\",\"size\":5000000000,"
                "\"lifetime\":\"persistent\"",
                "{\"id\":4,\"result\":{\"name\":\"big\",\"size\":5000000000,"
                "\"lifetime\":\"persistent\",\"access\":\"rw\","
                "\"handle\":256}}"));
    CHECK(exact(&a, "\"op\":\"create\",\"name\":\"small\",\"size\":100",
                "{\"id\":5,\"result\":{\"name\":\"small\",\"size\":100,"
                "\"lifetime\":\"client\",\"access\":\"rw\","
                "\"handle\":260}}"));
    CHECK(exact(&c2, "\"op\":\"open\",\"name\":\"cfg/one\",\"access\":\"ro\"",
                "{\"id\":2,\"result\":{\"name\":\"cfg/one\",\"size\":4096,"
                "\"lifetime\":\"config\",\"access\":\"ro\","
                "\"handle\":264}}"));
    CHECK(exact(&c2, "\"op\":\"open\",\"name\":\"small\",\"access\":\"rw\"",
                "{\"id\":3,\"result\":{\"name\":\"small\",\"size\":100,"
                "\"lifetime\":\"client\",\"access\":\"rw\","
                "\"handle\":268}}"));
    CHECK(exact(&c2, "\"op\":\"open\",\"name\":\"small\",\"access\":\"ro\"",
                "{\"id\":4,\"result\":{\"name\":\"small\",\"size\":100,"
                "\"lifetime\":\"client\",\"access\":\"ro\","
                "\"handle\":272}}"));
    CHECK(exact(&a, "\"op\":\"stat\",\"name\":\"big\"",
                "{\"id\":6,\"result\":{\"name\":\"big\",\"size\":5000000000,"
                "\"lifetime\":\"persistent\",\"charge\":5000003584,"
                "\"holders\":1,\"your_grants\":1,\"owner\":true}}"));
    CHECK(exact(&c2, "\"op\":\"stat\",\"name\":\"small\"",
                "{\"id\":5,\"result\":{\"name\":\"small\",\"size\":100,"
                "\"lifetime\":\"client\",\"charge\":65536,\"holders\":2,"
                "\"your_grants\":2,\"owner\":true}}"));
    CHECK(exact(&c2, "\"op\":\"stat\",\"name\":\"cfg/one\"",
                "{\"id\":6,\"result\":{\"name\":\"cfg/one\",\"size\":4096,"
                "\"lifetime\":\"config\",\"charge\":65536,\"holders\":1,"
                "\"your_grants\":1,\"owner\":false}}"));
    /* max_frame 1024 leaves room for three entries: a fourth truncates.
     * The order is the registry's hash order (fixed: FNV-1a, 1024
     * buckets). */
    CHECK(exact(&a, "\"op\":\"list\"",
                "{\"id\":7,\"result\":{\"regions\":["
                "{\"name\":\"small\",\"size\":100,\"lifetime\":\"client\","
                "\"holders\":2,\"held\":true},"
                "{\"name\":\"cfg/one\",\"size\":4096,\"lifetime\":"
                "\"config\",\"holders\":1,\"held\":false},"
                "{\"name\":\"big\",\"size\":5000000000,\"lifetime\":"
                "\"persistent\",\"holders\":1,\"held\":true}],"
                "\"truncated\":false}}"));
    CHECK(exact(&a, "\"op\":\"create\",\"name\":\"x4\",\"size\":1",
                "{\"id\":8,\"result\":{\"name\":\"x4\",\"size\":1,"
                "\"lifetime\":\"client\",\"access\":\"rw\","
                "\"handle\":276}}"));
    CHECK(exact(&a, "\"op\":\"list\"",
                "{\"id\":9,\"result\":{\"regions\":["
                "{\"name\":\"small\",\"size\":100,\"lifetime\":\"client\","
                "\"holders\":2,\"held\":true},"
                "{\"name\":\"cfg/one\",\"size\":4096,\"lifetime\":"
                "\"config\",\"holders\":1,\"held\":false},"
                "{\"name\":\"big\",\"size\":5000000000,\"lifetime\":"
                "\"persistent\",\"holders\":1,\"held\":true}],"
                "\"truncated\":true}}"));
    CHECK(exact(&c2, "\"op\":\"release\",\"name\":\"small\"",
                "{\"id\":7,\"result\":{\"name\":\"small\"}}"));
    CHECK(exact(&c2, "\"op\":\"release\",\"name\":\"small\"",
                "{\"id\":8,\"error\":{\"code\":\"not_held\",\"message\":"
                "\"this connection holds no grant on 'small'\"}}"));
    CHECK(exact(&a, "\"op\":\"delete\",\"name\":\"big\"",
                "{\"id\":10,\"result\":{\"name\":\"big\",\"holders\":1}}"));
    CHECK(exact(&a, "\"op\":\"delete\",\"name\":\"cfg/one\"",
                "{\"id\":11,\"error\":{\"code\":\"access_denied\",\"message\":"
                "\"'cfg/one' is declared in the config and cannot be "
                "deleted\"}}"));
    reply = broker_handle(a.conn, (const uint8_t *)"{\"op\":1}", 8, &oc);
    CHECK_STR(reply, "{\"id\":null,\"error\":{\"code\":\"bad_request\","
                     "\"message\":\"missing field 'id'\"}}");
    free(reply);
    reply = NULL;
    reply = broker_reply_refused(SHMB_E_LIMIT_REACHED, "too many");
    CHECK_STR(reply, "{\"id\":null,\"error\":{\"code\":\"limit_reached\","
                     "\"message\":\"too many\"}}");
    free(reply);
    reply = NULL;
    broker_conn_close(a.conn);
    broker_conn_close(c2.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    free(reply);
    broker_free(b);
    return TEST_RESULT;
}

/* Doorbells are made with the region and closed with it; every grant
 * carries them, read-write for a read-write grant, wait-only for a
 * read-only one. */
int test_broker_doorbells(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, replies_json);
    client a, c2;
    broker_outcome oc;
    char *reply = NULL;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK_INT(connect_as(b, &c2, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(hello(&c2));
    CHECK(exact(&a,
                "\"op\":\"create\",\"name\":\"bells\",\"size\":100,"
                "\"doorbells\":2",
                "{\"id\":2,\"result\":{\"name\":\"bells\",\"size\":100,"
                "\"lifetime\":\"client\",\"access\":\"rw\","
                "\"handle\":256,\"doorbells\":[260,264]}}"));
    CHECK_INT(g_fake.live_doorbells, 2);
    CHECK_INT(g_fake.doorbells_rw, 2);
    reply =
        call(&c2, "\"op\":\"open\",\"name\":\"bells\",\"access\":\"ro\"", &oc);
    CHECK_STR(reply, "{\"id\":2,\"result\":{\"name\":\"bells\",\"size\":100,"
                     "\"lifetime\":\"client\",\"access\":\"ro\","
                     "\"handle\":268,\"doorbells\":[272,276]}}");
    free(reply);
    reply = NULL;
    /* The server revokes all three should the reply not arrive. */
    CHECK_INT(oc.has_grant, 1);
    CHECK_INT(oc.grant.handle, 268);
    CHECK_INT(oc.grant.ndoorbells, 2);
    CHECK_INT(oc.grant.doorbells[1], 276);
    CHECK_INT(g_fake.doorbells_ro, 2);
    CHECK_INT(g_fake.doorbells_rw, 2);
    /* A region made without them grants none: the reply has no key. */
    CHECK(exact(&a,
                "\"op\":\"create\",\"name\":\"quiet\",\"size\":1,"
                "\"doorbells\":0",
                "{\"id\":3,\"result\":{\"name\":\"quiet\",\"size\":1,"
                "\"lifetime\":\"client\",\"access\":\"rw\","
                "\"handle\":280}}"));
    CHECK(exact(&a,
                "\"op\":\"create\",\"name\":\"loud\",\"size\":1,"
                "\"doorbells\":9",
                "{\"id\":4,\"error\":{\"code\":\"bad_request\",\"message\":"
                "\"field 'doorbells' must be an integer in 0..8\"}}"));
    CHECK_INT(g_fake.live_doorbells, 2);
    CHECK_INT(g_fake.revoked_doorbells, 0);
    broker_conn_close(c2.conn);
    broker_conn_close(a.conn); /* its client regions go, bells with them */
    CHECK_INT(g_fake.live_doorbells, 0);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    free(reply);
    broker_free(b);
    return TEST_RESULT;
}

/* Config regions go through the same constructor as created ones: a
 * failure leaves nothing behind and says which region and why, and the
 * commit they take counts against what clients can create. */
int test_broker_config_regions(void)
{
    static const char json[] =
        "{\"limits\":{\"commit_total\":196608},"
        "\"regions\":[{\"name\":\"cfg/a\",\"size\":65536},"
        "{\"name\":\"cfg/b\",\"size\":65537}],"
        "\"rules\":[{\"name\":\"all\",\"regions\":[\"**\"],\"create\":true,"
        "\"open\":\"rw\"}]}";
    shmb_config cfg;
    char why[256];
    broker *b = new_broker(&cfg, json);
    broker_stats st;
    client a;

    CHECK(b != NULL);
    g_fake.fail_create = 1;
    CHECK_INT(broker_create_config_regions(b, why, sizeof(why)), SHMB_E_SYSTEM);
    CHECK_STR(why, "config region 'cfg/a': cannot create the section "
                   "(system error 1455)");
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 0);
    CHECK_INT(st.committed, 0);
    CHECK_INT(g_fake.live_sections, 0);
    broker_free(b);
    b = NULL;

    b = new_broker(&cfg, json);
    CHECK(b != NULL);
    CHECK_INT(broker_create_config_regions(b, why, sizeof(why)), SHMB_OK);
    broker_get_stats(b, &st);
    CHECK_INT(st.regions, 2);
    CHECK_INT(st.committed, 65536 + 131072);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    CHECK(expect(&a, "\"op\":\"create\",\"name\":\"x\",\"size\":1",
                 "the broker has 0 of limits.commit_total (196608) left"));
    CHECK(expect(&a, "\"op\":\"stat\",\"name\":\"cfg/b\"",
                 "\"lifetime\":\"config\",\"charge\":131072,\"holders\":0,"
                 "\"your_grants\":0,\"owner\":false"));
    broker_conn_close(a.conn);
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);

    /* One that does not fit in the total refuses the start by name. */
    b = new_broker(&cfg, "{\"limits\":{\"commit_total\":65536},"
                         "\"regions\":[{\"name\":\"cfg/a\",\"size\":1},"
                         "{\"name\":\"cfg/b\",\"size\":1}]}");
    CHECK(b != NULL);
    CHECK_INT(broker_create_config_regions(b, why, sizeof(why)),
              SHMB_E_QUOTA_EXCEEDED);
    CHECK_STR(why, "config region 'cfg/b' does not fit in limits.commit_total");
    broker_free(b);
    b = NULL;
    CHECK_INT(g_fake.live_sections, 0);
done:
    broker_free(b);
    return TEST_RESULT;
}

/* A user's sandboxes together may use three quarters of each per-user
 * limit, never all of it: a low-integrity process that fills what it can
 * (persistent regions outlive it) does not lock the user's own programs
 * out. */
int test_broker_sandbox_cannot_starve_user(void)
{
    shmb_config cfg;
    broker *b = new_broker(
        &cfg, "{\"limits\":{\"regions_per_user\":4,\"clients_per_user\":4},"
              "\"rules\":[{\"name\":\"own\",\"regions\":["
              "\"users/${principal}/**\"],\"create\":true,\"open\":\"rw\"}]}");
    client low[4], med;
    char body[256];
    int i, n = 0;

    memset(low, 0, sizeof(low));
    CHECK(b != NULL);
    for (i = 0; i < 4; i++) {
        if (connect_full(b, &low[i], ME, "", 0x1000) != SHMB_OK)
            break;
        n++;
    }
    CHECK_INT(n, 3);
    CHECK(strstr(low[3].why, "kept for the user's medium-and-above") != NULL);
    CHECK(hello(&low[0]));
    for (i = 0; i < 4; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"users/" ME "/low/r%d\","
                 "\"size\":1,\"lifetime\":\"persistent\"",
                 i);
        if (i < 3)
            CHECK(expect(&low[0], body, "\"result\""));
        else
            CHECK(expect(&low[0], body,
                         "a sandboxed principal may use three quarters"));
    }
    CHECK_INT(connect_full(b, &med, ME, "", 0x2000), SHMB_OK);
    CHECK(hello(&med));
    CHECK(expect(&med,
                 "\"op\":\"create\",\"name\":\"users/" ME "/m\",\"size\":1",
                 "\"result\""));
done:
    broker_free(b);
    return TEST_RESULT;
}

/* Creates and releases users/ME/<stem>0 .. <stem>n-1, so that each stays
 * draining while the fake says it is mapped. 1 if every request passed. */
static int create_released(client *cl, const char *stem, int n)
{
    char body[160];
    int i;
    for (i = 0; i < n; i++) {
        snprintf(body, sizeof(body),
                 "\"op\":\"create\",\"name\":\"users/" ME "/%s%d\","
                 "\"size\":1",
                 stem, i);
        if (!expect(cl, body, "\"result\""))
            return 0;
        snprintf(body, sizeof(body),
                 "\"op\":\"release\",\"name\":\"users/" ME "/%s%d\"", stem, i);
        if (!expect(cl, body, "\"result\""))
            return 0;
    }
    return 1;
}

/* Sweeping and a new process's arrival look at retired regions in bounded
 * amounts: each look is system calls, and there may be thousands. */
int test_broker_sweep_in_steps(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, NULL);
    client a, later, other;
    broker_stats st;
    int more, steps = 0;

    memset(&later, 0, sizeof(later));
    memset(&other, 0, sizeof(other));
    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    g_fake.in_use = 1; /* every released region is still mapped somewhere */
    CHECK(create_released(&a, "s", 100));
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 100);
    /* A pass in steps: each looks at no more than its budget, and the pass
     * looks at each region once. */
    g_fake.in_use_calls = 0;
    do {
        more = broker_sweep_step(b, 10);
        steps++;
        CHECK_INT(g_fake.in_use_calls, 10 * steps);
    } while (more);
    CHECK_INT(steps, 10);
    CHECK_INT(g_fake.in_use_calls, 100);
    /* A new process of another user cannot pin them: none is looked at.
     * One of the same principal: at most the arrival's budget. */
    g_fake.in_use_calls = 0;
    CHECK_INT(connect_proc(b, &other, "S-1-5-21-7-7-7-1002", "", 0x2000, 43, 0),
              SHMB_OK);
    CHECK_INT(g_fake.in_use_calls, 0);
    CHECK_INT(connect_proc(b, &later, ME, "", 0x2000, 44, 0), SHMB_OK);
    CHECK(g_fake.in_use_calls > 0 && g_fake.in_use_calls <= 64);
    /* Gone everywhere, and the later process too (it connected before they
     * went quiet, so it could have been handed them): the next pass, step
     * by step, gives all back. */
    g_fake.in_use = 0;
    broker_conn_close(later.conn);
    later.conn = NULL;
    while (broker_sweep_step(b, 7))
        ;
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 0);
    CHECK_INT(st.committed, 0);
done:
    if (later.conn != NULL)
        broker_conn_close(later.conn);
    if (other.conn != NULL)
        broker_conn_close(other.conn);
    broker_free(b);
    return TEST_RESULT;
}

/* A create refused for commit looks at one budgeted step of draining
 * regions before it answers, never at all of them: a client at its limit
 * cannot make every refusal walk thousands of them. */
int test_broker_quota_sweeps_one_step(void)
{
    shmb_config cfg;
    broker *b = new_broker(&cfg, "{\"limits\":{\"commit_per_user\":6553600,"
                                 "\"commit_per_principal\":6553600},"
                                 "\"rules\":[{\"name\":\"own\",\"regions\":"
                                 "[\"users/${principal}/**\"],"
                                 "\"create\":true,\"open\":\"rw\"}]}");
    client a;
    broker_stats st;

    CHECK(b != NULL);
    CHECK_INT(connect_as(b, &a, ME), SHMB_OK);
    CHECK(hello(&a));
    g_fake.in_use = 1;
    CHECK(create_released(&a, "q", 100));
    broker_get_stats(b, &st);
    CHECK_INT(st.draining, 100);
    /* At the limit, all still mapped: refused, after one step. */
    g_fake.in_use_calls = 0;
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/x\","
                 "\"size\":1",
                 "quota_exceeded"));
    CHECK(g_fake.in_use_calls > 0 && g_fake.in_use_calls <= 64);
    /* All gone now: the next step gives back enough, and it fits. */
    g_fake.in_use = 0;
    g_fake.in_use_calls = 0;
    CHECK(expect(&a,
                 "\"op\":\"create\",\"name\":\"users/" ME "/x\","
                 "\"size\":1",
                 "\"result\""));
    CHECK(g_fake.in_use_calls > 0 && g_fake.in_use_calls <= 64);
done:
    broker_free(b);
    return TEST_RESULT;
}
