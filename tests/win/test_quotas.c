/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_quotas.c - the region and commit quotas through the installed
 * services: per connection and per user on the main instance
 * (tests/data/itest-config.json), the broker-wide totals on the quota
 * instance with tiny limits (tests/data/quota-config.json), and commit
 * that stays charged while a released region may still be mapped.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

/* stat NAME (grants nothing): SHMB_OK while it is listed. */
static int stat_rc(shmb_client *c, const char *name)
{
    char req[256], *reply = NULL;
    int rc;
    snprintf(req, sizeof(req), "{\"op\":\"stat\",\"name\":\"%s\"}", name);
    rc = shmb_request_json(c, req, &reply);
    shmb_free(reply);
    return rc;
}

/* itest_create that closes what it got, for use inside WAIT_UNTIL. */
static int create_closed(shmb_client *c, const char *name, uint64_t size)
{
    shmb_region r;
    int rc = itest_create(c, name, size, SHMB_LIFETIME_CLIENT, &r);
    if (rc == SHMB_OK)
        shmb_region_close(&r);
    return rc;
}

int test_quota_regions_per_client(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char name[128];
    int i;

    CHECK(c != NULL);
    for (i = 0; i < 8; i++) {
        snprintf(name, sizeof(name), "it/rpc.%lu.%d", GetCurrentProcessId(), i);
        CHECK_OK(c, itest_create(c, name, 1, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    CHECK_ERR(
        c, itest_create(c, "it/rpc.one-too-many", 1, SHMB_LIFETIME_CLIENT, &r),
        SHMB_E_LIMIT_REACHED,
        "this connection already created limits.regions_per_client "
        "(8) regions");
    /* Releasing one (its last holder) frees its slot. */
    CHECK_OK(c, shmb_region_release(c, name));
    CHECK_OK(
        c, itest_create(c, "it/rpc.one-too-many", 1, SHMB_LIFETIME_CLIENT, &r));
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_quota_commit_per_client_and_user(void)
{
    shmb_client *a = itest_connect(), *d = NULL;
    shmb_region r = {0};
    itest_proc child = ITEST_PROC_INIT;
    char name[128], args[160];
    int i;
    const uint64_t mib16 = 16u * 1024 * 1024;

    CHECK(a != NULL);
    for (i = 0; i < 2; i++) {
        snprintf(name, sizeof(name), "it/qa.%lu.%d", GetCurrentProcessId(), i);
        CHECK_OK(a, itest_create(a, name, mib16, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    CHECK_ERR(a, itest_create(a, "it/qa.more", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "needs 65536 bytes of commit; this connection has 0 of "
              "limits.commit_per_client (33554432) left");
    /* Another process of the same user takes the other 32 MiB... */
    snprintf(args, sizeof(args), "child-create-hold it/qb.%lu 16777216 2",
             GetCurrentProcessId());
    CHECK_INT(itest_child_start(&child, args), 0);
    d = itest_connect();
    CHECK(d != NULL);
    /* ...and holds both (we look, not create, while we wait)... */
    snprintf(name, sizeof(name), "it/qb.%lu.1", GetCurrentProcessId());
    WAIT_UNTIL(stat_rc(d, name) == SHMB_OK, ITEST_WAIT_MS);
    /* ...so the user's quota is spent. */
    CHECK_ERR(d, itest_create(d, "it/qd", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "your user has 0 of limits.commit_per_user (67108864) left");
    /* The child exits: its regions and their commit come back. */
    CHECK_INT(itest_child_stop(&child), 0);
    WAIT_UNTIL(create_closed(d, "it/qd2", mib16) == SHMB_OK, ITEST_WAIT_MS);
done:
    itest_child_stop(&child);
    shmb_region_close(&r);
    shmb_disconnect(a);
    shmb_disconnect(d);
    return TEST_RESULT;
}

/* ---- the quota instance (tests/data/quota-config.json) --------------- */

int test_quota_commit_total(void)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r = {0};

    CHECK(c != NULL);
    /* 1 MiB of ballast (a config region) + 1 MiB fits in 2 MiB + 64 KiB. */
    CHECK_OK(c, itest_create(c, "q/a", 1048576, SHMB_LIFETIME_CLIENT, &r));
    shmb_region_close(&r);
    CHECK_ERR(c, itest_create(c, "q/b", 131072, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "needs 131072 bytes of commit; the broker has 65536 of "
              "limits.commit_total (2162688) left");
    /* Released, but this process received it and is alive (it could keep
     * a view): still charged, and the message says so. The commit returns
     * when the process exits (quota_counts_mapped_released_regions). */
    CHECK_OK(c, shmb_region_release(c, "q/a"));
    CHECK_ERR(c, itest_create(c, "q/b", 131072, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED, "may still be mapped");
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_quota_max_regions(void)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r = {0};
    char name[32];
    int i;

    CHECK(c != NULL);
    for (i = 0; i < 3; i++) { /* + the ballast = 4 */
        snprintf(name, sizeof(name), "q/n%d", i);
        CHECK_OK(c, itest_create(c, name, 1, SHMB_LIFETIME_CLIENT, &r));
        shmb_region_close(&r);
    }
    CHECK_ERR(c, itest_create(c, "q/n3", 1, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_LIMIT_REACHED, "limits.max_regions (4) regions exist");
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_quota_counts_mapped_released_regions(void)
{
    shmb_client *c = itest_connect_pipe(ITEST_QUOTA_PIPE);
    shmb_region r = {0};
    itest_proc child = ITEST_PROC_INIT;

    CHECK(c != NULL);
    CHECK_INT(itest_child_start(&child, "child-hold-view q/held"), 0);
    /* Watch (stat grants nothing) q/held appear; then the child releases
     * it, keeping a view, and it is unlisted. */
    WAIT_UNTIL(stat_rc(c, "q/held") == SHMB_OK, ITEST_WAIT_MS);
    CHECK_INT(itest_child_tell(&child), 0);
    WAIT_UNTIL(stat_rc(c, "q/held") == SHMB_E_NOT_FOUND, ITEST_WAIT_MS);
    CHECK(itest_child_running(&child));
    /* Its 1 MiB is still mapped by the child, so still charged: with the
     * 1 MiB ballast, 128 KiB more does not fit in 2 MiB + 64 KiB. */
    CHECK_ERR(c, itest_create(c, "q/more", 131072, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_QUOTA_EXCEEDED,
              "may still be mapped: it returns when the processes they were "
              "granted to exit");
    /* Once the child is gone, the commit comes back. */
    CHECK_INT(itest_child_stop(&child), 0);
    WAIT_UNTIL(create_closed(c, "q/more", 131072) == SHMB_OK, ITEST_WAIT_MS);
done:
    itest_child_stop(&child);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}
