/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_policy_win.c - the policy and the limits, through the installed
 * service (config: tests/data/itest-config.json and quota-config.json).
 * Identities are what Wine can vary: groups (a child whose Administrators
 * group is deny-only), image path (a renamed copy of this program), and
 * the session/integrity/AppContainer Wine reports (1, high, none).
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

/* Expects `rc` to be `code` with `msg` in the broker's message. */
#define CHECK_ERR(c, expr, code, msg)                                          \
    do {                                                                       \
        int rc_ = (expr);                                                      \
        if (rc_ != (code) || strstr(shmb_client_message(c), (msg)) == NULL) {  \
            fprintf(stderr, "%s:%d: %s -> %s '%s', want %s '%s'\n", __FILE__,  \
                    __LINE__, #expr, shmb_err_name(rc_),                       \
                    shmb_client_message(c), shmb_err_name(code), (msg));       \
            return 1;                                                          \
        }                                                                      \
    } while (0)

static int create(shmb_client *c, const char *name, uint64_t size,
                  shmb_lifetime lt, shmb_region *r)
{
    return shmb_region_create(c, name, size, SHMB_ACCESS_RW, lt, r);
}

int test_policy_denials_explain(void)
{
    shmb_client *c = itest_connect();
    shmb_region r, r2;
    char name[128];

    CHECK(c != NULL);
    CHECK_ERR(c, create(c, "nope/x", 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED,
              "create of 'nope/x' (10 bytes, client) is not allowed: no rule "
              "covers this name for you (user S-1-5-21-");
    CHECK_ERR(c, create(c, "it/denied/x", 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED,
              "create of 'it/denied/x' (10 bytes, client) is denied by rule "
              "'it-deny'");
    CHECK_ERR(c, create(c, "small/a", 8192, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED,
              "rule 'small' allows creating at most 4096 bytes");
    CHECK_ERR(c, create(c, "small/a", 10, SHMB_LIFETIME_PERSISTENT, &r),
              SHMB_E_ACCESS_DENIED,
              "rule 'small' does not allow lifetime 'persistent'");
    /* ro-makers may create, ro-readers may only read. */
    strcpy(name, itest_name("x"));
    memcpy(name, "ro", 2); /* "ro/x.PID.TICK" */
    CHECK_OK(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    CHECK_ERR(c, shmb_region_open(c, name, SHMB_ACCESS_RW, &r2),
              SHMB_E_ACCESS_DENIED, "rule 'ro-readers' grants ro only");
    CHECK_OK(c, shmb_region_open(c, name, SHMB_ACCESS_RO, &r2));
    shmb_region_close(&r2);
    /* A name the caller may not open: the same denial whether or not it
     * exists, so its existence does not leak. */
    CHECK_ERR(c, shmb_region_open(c, "ro/does-not-exist", SHMB_ACCESS_RW, &r2),
              SHMB_E_ACCESS_DENIED, "rule 'ro-readers' grants ro only");
    CHECK_ERR(c, shmb_region_open(c, "ro/does-not-exist", SHMB_ACCESS_RO, &r2),
              SHMB_E_NOT_FOUND, "no region named 'ro/does-not-exist'");
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

int test_policy_group_rule_restricted_token(void)
{
    shmb_client *c = itest_connect();
    shmb_region adm, admdeny, r;
    char a[128], d[128], args[300];

    CHECK(c != NULL);
    snprintf(a, sizeof(a), "adm/%lu", GetCurrentProcessId());
    snprintf(d, sizeof(d), "admdeny/%lu", GetCurrentProcessId());
    /* We hold Administrators (Wine's user is an administrator). */
    CHECK_OK(c, create(c, a, 100, SHMB_LIFETIME_CLIENT, &adm));
    CHECK_OK(c, create(c, d, 100, SHMB_LIFETIME_CLIENT, &admdeny));
    CHECK_ERR(c, shmb_region_open(c, d, SHMB_ACCESS_RW, &r),
              SHMB_E_ACCESS_DENIED, "is denied by rule 'no-admin-writes'");
    CHECK_OK(c, shmb_region_open(c, d, SHMB_ACCESS_RO, &r));
    shmb_region_close(&r);
    /* The same program with Administrators deny-only: the allow rule no
     * longer matches... */
    snprintf(args, sizeof(args),
             "child-open %s rw access_denied \"no rule "
             "covers this name for you\"",
             a);
    CHECK_INT(itest_child_restricted(args), 0);
    /* ...but the deny rule still does (deny-only groups count for deny). */
    snprintf(args, sizeof(args),
             "child-open %s rw access_denied \"denied by "
             "rule 'no-admin-writes'\"",
             d);
    CHECK_INT(itest_child_restricted(args), 0);
    /* Control: unrestricted, the child gets its grant. */
    snprintf(args, sizeof(args), "child-open %s rw ok", a);
    CHECK_INT(itest_child(args), 0);
    shmb_region_close(&adm);
    shmb_region_close(&admdeny);
    shmb_disconnect(c);
    return 0;
}

int test_policy_image_rule(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128], args[300];

    CHECK(c != NULL);
    snprintf(name, sizeof(name), "img/%lu", GetCurrentProcessId());
    CHECK_OK(c, create(c, name, 100, SHMB_LIFETIME_CLIENT, &r));
    snprintf(args, sizeof(args), "child-open %s rw ok", name);
    CHECK_INT(itest_child(args), 0);
    /* The very same code under another file name is another image. */
    snprintf(args, sizeof(args),
             "child-open %s rw access_denied \"no rule "
             "covers this name for you\"",
             name);
    CHECK_INT(itest_child_renamed(args), 0);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

int test_policy_session_integrity_appcontainer(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128];
    unsigned long pid = GetCurrentProcessId();

    CHECK(c != NULL);
    /* Wine: session 1, integrity high, no AppContainer. */
    snprintf(name, sizeof(name), "sess/%lu", pid);
    CHECK_OK(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    snprintf(name, sizeof(name), "sess7/%lu", pid);
    CHECK_ERR(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "session 1");
    snprintf(name, sizeof(name), "il/%lu", pid);
    CHECK_OK(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    snprintf(name, sizeof(name), "illow/%lu", pid);
    CHECK_ERR(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "integrity high");
    snprintf(name, sizeof(name), "noac/%lu", pid);
    CHECK_OK(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    snprintf(name, sizeof(name), "ac/%lu", pid);
    CHECK_ERR(c, create(c, name, 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "no AppContainer");
    shmb_disconnect(c);
    return 0;
}

int test_policy_user_namespace(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char *reply = NULL;
    char name[256];
    const char *sid;

    CHECK(c != NULL);
    /* Learn our SID from a denial (the broker tells us who we are). */
    CHECK_INT(shmb_region_open(c, "nope", SHMB_ACCESS_RO, &r),
              SHMB_E_ACCESS_DENIED);
    sid = strstr(shmb_client_message(c), "(user ");
    CHECK(sid != NULL);
    sid += 6;
    snprintf(name, sizeof(name), "users/%.*s/scratch", (int)strcspn(sid, ","),
             sid);
    CHECK_OK(c, create(c, name, 10, SHMB_LIFETIME_PERSISTENT, &r));
    shmb_region_close(&r);
    CHECK_ERR(c,
              create(c, "users/S-1-5-21-9-9-9-9/scratch", 10,
                     SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_ACCESS_DENIED, "no rule covers this name");
    CHECK_OK(c, shmb_region_delete(c, name));
    CHECK_OK(c, shmb_request_json(c, "{\"op\":\"list\"}", &reply));
    CHECK(strstr(reply, name) == NULL);
    shmb_free(reply);
    shmb_disconnect(c);
    return 0;
}

int test_config_regions(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char *reply = NULL;

    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_open(c, "cfg/static", SHMB_ACCESS_RW, &r));
    CHECK_INT(r.lifetime, SHMB_LIFETIME_CONFIG);
    CHECK_INT(r.size, 4096);
    shmb_region_close(&r);
    CHECK_ERR(c, shmb_region_delete(c, "cfg/static"), SHMB_E_ACCESS_DENIED,
              "'cfg/static' is declared in the config and cannot be deleted");
    CHECK_ERR(c, create(c, "cfg/static", 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_EXISTS, "exists");
    CHECK_OK(c, shmb_request_json(
                    c, "{\"op\":\"stat\",\"name\":\"cfg/static\"}", &reply));
    CHECK(strstr(reply, "\"lifetime\":\"config\"") != NULL);
    CHECK(strstr(reply, "\"owner\":false") != NULL);
    shmb_free(reply);
    /* Still there after our grant is released: config regions stay. */
    CHECK_OK(c, shmb_region_release(c, "cfg/static"));
    CHECK_OK(c, shmb_region_open(c, "cfg/static", SHMB_ACCESS_RO, &r));
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

/* ---- limits ----------------------------------------------------------- */

int test_quota_regions_per_client(void)
{
    shmb_client *c = itest_connect();
    shmb_region r;
    char name[128];
    int i;

    CHECK(c != NULL);
    for (i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "it/rpc.%lu.%d", GetCurrentProcessId(), i);
        CHECK_OK(c, create(c, name, 1, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    CHECK_ERR(c, create(c, "it/rpc.one-too-many", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_LIMIT_REACHED,
              "this connection already created limits.regions_per_client "
              "(8) regions");
    /* Releasing one (its last holder) frees its slot. */
    CHECK_OK(c, shmb_region_release(c, name));
    CHECK_OK(c, create(c, "it/rpc.one-too-many", 1, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}

int test_quota_commit_per_client_and_user(void)
{
    shmb_client *a = itest_connect(), *d = NULL;
    shmb_region r;
    char name[128], args[160];
    HANDLE child;
    int i, rc = SHMB_OK;
    const uint64_t mib16 = 16u * 1024 * 1024;

    CHECK(a != NULL);
    for (i = 0; i < 2; i++) {
        snprintf(name, sizeof(name), "it/qa.%lu.%d", GetCurrentProcessId(), i);
        CHECK_OK(a, create(a, name, mib16, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    CHECK_ERR(a, create(a, "it/qa.more", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "needs 65536 bytes of commit; this connection has 0 of "
              "limits.commit_per_client (33554432) left");
    /* Another process of the same user takes the other 32 MiB... */
    snprintf(args, sizeof(args), "child-create-hold it/qb.%lu 16777216 2 4",
             GetCurrentProcessId());
    child = itest_child_start(args);
    CHECK(child != NULL);
    d = itest_connect();
    CHECK(d != NULL);
    /* Wait (by looking, not by creating) until the child holds both. */
    snprintf(args, sizeof(args), "{\"op\":\"stat\",\"name\":\"it/qb.%lu.1\"}",
             GetCurrentProcessId());
    for (i = 0; i < 200; i++) {
        char *reply = NULL;
        rc = shmb_request_json(d, args, &reply);
        shmb_free(reply);
        if (rc == SHMB_OK)
            break;
        Sleep(20);
    }
    CHECK_OK(d, rc);
    /* ...so the user's quota is spent. */
    CHECK_ERR(d, create(d, "it/qd", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "your user has 0 of limits.commit_per_user (67108864) left");
    /* The child exits: its regions and their commit come back. */
    CHECK(WaitForSingleObject(child, 30000) == WAIT_OBJECT_0);
    CloseHandle(child);
    for (i = 0; i < 100; i++) {
        rc = create(d, "it/qd2", mib16, SHMB_LIFETIME_CLIENT, &r);
        if (rc == SHMB_OK)
            break;
        Sleep(50);
    }
    CHECK_OK(d, rc);
    shmb_region_close(&r);
    shmb_disconnect(a);
    shmb_disconnect(d);
    return 0;
}

int test_max_clients_enforced(void)
{
    enum { MAX = 64 };
    shmb_client *cs[MAX + 1];
    shmb_connect_options o;
    int i, n = 0, rc;

    for (i = 0; i < MAX; i++) {
        cs[i] = itest_connect();
        CHECK(cs[i] != NULL);
        n++;
    }
    memset(&o, 0, sizeof(o));
    o.pipe_name = itest_pipe();
    rc = shmb_connect(&o, &cs[MAX]);
    if (rc != SHMB_E_LIMIT_REACHED ||
        strstr(shmb_client_message(cs[MAX]), "limits.max_clients") == NULL) {
        fprintf(stderr, "connection %d: %s '%s'\n", MAX + 1, shmb_err_name(rc),
                shmb_client_message(cs[MAX]));
        return 1;
    }
    shmb_disconnect(cs[MAX]);
    shmb_disconnect(cs[0]);
    /* One slot free again (once the broker saw the close). */
    for (i = 0; i < 100; i++) {
        if (shmb_connect(&o, &cs[0]) == SHMB_OK)
            break;
        shmb_disconnect(cs[0]);
        Sleep(50);
    }
    CHECK(i < 100);
    for (i = 0; i < n; i++)
        shmb_disconnect(cs[i]);
    return 0;
}

/* ---- the quota instance (tests/data/quota-config.json) --------------- */

int test_quota_commit_total(void)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r;

    CHECK(c != NULL);
    /* 1 MiB of ballast (a config region) + 1 MiB fits in 2 MiB + 64 KiB. */
    CHECK_OK(c, create(c, "q/a", 1048576, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    CHECK_ERR(c, create(c, "q/b", 131072, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "needs 131072 bytes of commit; the broker has 65536 of "
              "limits.commit_total (2162688) left");
    /* Released, but this process received it and is alive (it could keep
     * a view): still charged, and the message says so. The commit returns
     * when the process exits (quota_counts_mapped_released_regions). */
    CHECK_OK(c, shmb_region_release(c, "q/a"));
    CHECK_ERR(c, create(c, "q/b", 131072, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED, "may still be mapped");
    shmb_disconnect(c);
    return 0;
}

int test_quota_max_regions(void)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r;
    char name[32];
    int i;

    CHECK(c != NULL);
    for (i = 0; i < 3; i++) { /* + the ballast = 4 */
        snprintf(name, sizeof(name), "q/n%d", i);
        CHECK_OK(c, create(c, name, 1, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    CHECK_ERR(c, create(c, "q/n3", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_LIMIT_REACHED, "limits.max_regions (4) regions exist");
    shmb_disconnect(c);
    return 0;
}

int test_quota_counts_mapped_released_regions(void)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r;
    HANDLE child;
    int i, seen, rc = SHMB_OK;

    CHECK(c != NULL);
    child = itest_child_start("child-hold-view q/held 4");
    CHECK(child != NULL);
    /* Watch (stat grants nothing) until q/held has appeared, then until
     * the child has released it and it is unlisted. */
    for (seen = 0, i = 0; i < 500; i++) {
        char *reply = NULL;
        rc = shmb_request_json(c, "{\"op\":\"stat\",\"name\":\"q/held\"}",
                               &reply);
        shmb_free(reply);
        if (rc == SHMB_OK)
            seen = 1;
        else if (seen && rc == SHMB_E_NOT_FOUND)
            break;
        Sleep(20);
    }
    CHECK(seen && rc == SHMB_E_NOT_FOUND);
    CHECK(WaitForSingleObject(child, 0) == WAIT_TIMEOUT); /* still alive */
    /* Its 1 MiB is still mapped by the child, so still charged: with the
     * 1 MiB ballast, 128 KiB more does not fit in 2 MiB + 64 KiB. */
    CHECK_ERR(c, create(c, "q/more", 131072, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "may still be mapped: it returns when the processes they were "
              "granted to exit");
    /* Once the child is gone, the commit comes back. */
    CHECK(WaitForSingleObject(child, 30000) == WAIT_OBJECT_0);
    CloseHandle(child);
    for (i = 0; i < 100; i++) {
        rc = create(c, "q/more", 131072, SHMB_LIFETIME_CLIENT, &r);
        if (rc == SHMB_OK)
            break;
        Sleep(50);
    }
    CHECK_OK(c, rc);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return 0;
}
