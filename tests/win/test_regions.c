/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_regions.c - regions through the installed service, across real
 * processes: sharing bytes, the lifetimes (client, persistent, config),
 * release and delete, list and stat, and a holder that dies.
 */
#include <windows.h>

#include <stdlib.h>
#include <string.h>

#include "util_win.h"

/* Opens NAME read-only and lets go of it again; returns the open's result.
 * A client's exit reaches the broker as EOF on its own pipe, which the
 * broker may handle after our next request: poll this until it fails. */
static int open_and_release(shmb_client *c, const char *name)
{
    shmb_region r;
    int rc = shmb_region_open(c, name, SHMB_ACCESS_RO, &r);
    if (rc == SHMB_OK) {
        shmb_region_close(&r);
        shmb_region_release(c, name);
    }
    return rc;
}

int test_hello_and_ping(void)
{
    shmb_client *c = itest_connect();
    CHECK(c != NULL);
    CHECK_INT(shmb_client_version(c), 1);
    CHECK_OK(c, shmb_ping(c));
    CHECK_OK(c, shmb_ping(c));
done:
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_share_bytes_between_processes(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char name[128], args[256];
    const char *msg = "bytes written by the parent";

    CHECK(c != NULL);
    strcpy(name, itest_name("share"));
    CHECK_OK(c, shmb_region_create(c, name, 8192, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &r));
    CHECK_INT(r.size, 8192);
    CHECK_INT(r.access, SHMB_ACCESS_RW);
    CHECK_OK(c, shmb_region_map(&r));
    strcpy(r.view, msg);
    snprintf(args, sizeof(args), "child-read %s \"%s\"", name, msg);
    CHECK_INT(itest_child(args), 0);
    /* The child must really compare: different text fails. */
    snprintf(args, sizeof(args), "child-read %s \"something else\"", name);
    CHECK_INT(itest_child(args), 5);
done:
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_client_region_freed_with_last_holder(void)
{
    shmb_client *c = itest_connect();
    char name[128], args[256];
    int rc = SHMB_OK;

    CHECK(c != NULL);
    strcpy(name, itest_name("life"));
    snprintf(args, sizeof(args), "child-create %s client", name);
    CHECK_INT(itest_child(args), 0);
    /* The child was the only holder; its exit freed the region. */
    WAIT_UNTIL((rc = open_and_release(c, name)) != SHMB_OK, ITEST_WAIT_MS);
    CHECK_INT(rc, SHMB_E_NOT_FOUND);
done:
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_persistent_region_outlives_creator(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0}, again = {0};
    char name[128], args[256];

    CHECK(c != NULL);
    strcpy(name, itest_name("persist"));
    snprintf(args, sizeof(args), "child-create %s persistent", name);
    CHECK_INT(itest_child(args), 0);
    CHECK_OK(c, shmb_region_open(c, name, SHMB_ACCESS_RO, &r));
    CHECK_INT(r.lifetime, SHMB_LIFETIME_PERSISTENT);
    CHECK_OK(c, shmb_region_map(&r));
    CHECK_STR((const char *)r.view, "made by a child");
    CHECK_OK(c, shmb_region_delete(c, name));
    /* Our mapping survives the delete; the name does not. */
    CHECK_STR((const char *)r.view, "made by a child");
    CHECK_INT(shmb_region_open(c, name, SHMB_ACCESS_RO, &again),
              SHMB_E_NOT_FOUND);
done:
    shmb_region_close(&again);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_release_and_delete(void)
{
    shmb_client *a = itest_connect(), *b = itest_connect();
    shmb_region ra = {0}, rb = {0};
    char name[128];

    CHECK(a != NULL && b != NULL);
    strcpy(name, itest_name("rel"));
    CHECK_OK(a, shmb_region_create(a, name, 100, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &ra));
    CHECK_OK(b, shmb_region_open(b, name, SHMB_ACCESS_RO, &rb));
    CHECK_OK(a, shmb_region_release(a, name));
    CHECK_INT(shmb_region_release(a, name), SHMB_E_NOT_HELD);
    /* b still holds it, so it is still there. */
    shmb_region_close(&ra);
    CHECK_OK(a, shmb_region_open(a, name, SHMB_ACCESS_RO, &ra));
    shmb_region_close(&ra);
    CHECK_OK(a, shmb_region_release(a, name));
    CHECK_OK(b, shmb_region_release(b, name));
    /* Last holder released: a client region is gone. */
    CHECK_INT(shmb_region_open(a, name, SHMB_ACCESS_RO, &ra), SHMB_E_NOT_FOUND);
    CHECK_INT(shmb_region_delete(a, name), SHMB_E_NOT_FOUND);
done:
    shmb_region_close(&ra);
    shmb_region_close(&rb);
    shmb_disconnect(a);
    shmb_disconnect(b);
    return TEST_RESULT;
}

int test_list_and_stat(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char name[128], req[256], *reply = NULL;

    CHECK(c != NULL);
    strcpy(name, itest_name("stat"));
    CHECK_OK(c, shmb_region_create(c, name, 70000, SHMB_ACCESS_RW,
                                   SHMB_LIFETIME_CLIENT, &r));
    snprintf(req, sizeof(req), "{\"op\":\"stat\",\"name\":\"%s\"}", name);
    CHECK_OK(c, shmb_request_json(c, req, &reply));
    /* 70000 bytes charge two 64 KiB allocation units. */
    CHECK(strstr(reply, "\"size\":70000") != NULL);
    CHECK(strstr(reply, "\"charge\":131072") != NULL);
    CHECK(strstr(reply, "\"holders\":1") != NULL);
    CHECK(strstr(reply, "\"your_grants\":1") != NULL);
    CHECK(strstr(reply, "\"owner\":true") != NULL);
    shmb_free(reply);
    reply = NULL;
    CHECK_OK(c, shmb_request_json(c, "{\"op\":\"list\"}", &reply));
    CHECK(strstr(reply, name) != NULL);
    CHECK(strstr(reply, "\"truncated\":false") != NULL);
done:
    shmb_free(reply);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_client_dies_holding_region(void)
{
    shmb_client *c = itest_connect();
    char name[128], args[256];
    int rc = SHMB_OK;

    CHECK(c != NULL);
    strcpy(name, itest_name("die"));
    snprintf(args, sizeof(args), "child-create-die %s client", name);
    CHECK_INT(itest_child(args), 0);
    /* The broker saw the pipe break and freed the child's region. */
    WAIT_UNTIL((rc = open_and_release(c, name)) != SHMB_OK, ITEST_WAIT_MS);
    CHECK_INT(rc, SHMB_E_NOT_FOUND);
    CHECK_OK(c, shmb_ping(c));
done:
    shmb_disconnect(c);
    return TEST_RESULT;
}

int test_config_regions(void)
{
    shmb_client *c = itest_connect();
    shmb_region r = {0};
    char *reply = NULL;

    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_open(c, "cfg/static", SHMB_ACCESS_RW, &r));
    CHECK_INT(r.lifetime, SHMB_LIFETIME_CONFIG);
    CHECK_INT(r.size, 4096);
    shmb_region_close(&r);
    CHECK_ERR(c, shmb_region_delete(c, "cfg/static"), SHMB_E_ACCESS_DENIED,
              "'cfg/static' is declared in the config and cannot be deleted");
    CHECK_ERR(c, itest_create(c, "cfg/static", 10, SHMB_LIFETIME_CLIENT, &r),
              SHMB_E_EXISTS, "exists");
    CHECK_OK(c, shmb_request_json(
                    c, "{\"op\":\"stat\",\"name\":\"cfg/static\"}", &reply));
    CHECK(strstr(reply, "\"lifetime\":\"config\"") != NULL);
    CHECK(strstr(reply, "\"owner\":false") != NULL);
    /* Still there after our grant is released: config regions stay. */
    CHECK_OK(c, shmb_region_release(c, "cfg/static"));
    CHECK_OK(c, shmb_region_open(c, "cfg/static", SHMB_ACCESS_RO, &r));
done:
    shmb_free(reply);
    shmb_region_close(&r);
    shmb_disconnect(c);
    return TEST_RESULT;
}

/* A config region's doorbells ("doorbells" in its declaration) come with
 * every grant, like a created region's: signal-and-wait for read-write,
 * wait-only for read-only. */
int test_config_region_doorbells(void)
{
    shmb_client *c = itest_connect();
    shmb_region rw = {0}, ro = {0}, plain = {0};
    HANDLE bell;

    CHECK(c != NULL);
    CHECK_OK(c, shmb_region_open(c, "cfg/bells", SHMB_ACCESS_RW, &rw));
    CHECK_INT(rw.ndoorbells, 2);
    CHECK_OK(c, shmb_region_open(c, "cfg/bells", SHMB_ACCESS_RO, &ro));
    CHECK_INT(ro.ndoorbells, 2);
    /* Different handles, the same events: what the writer rings, the
     * reader hears. */
    bell = (HANDLE)(uintptr_t)ro.doorbells[1];
    CHECK(WaitForSingleObject(bell, 0) == WAIT_TIMEOUT);
    CHECK(SetEvent((HANDLE)(uintptr_t)rw.doorbells[1]));
    CHECK(WaitForSingleObject(bell, 1000) == WAIT_OBJECT_0);
    CHECK(!SetEvent(bell));
    CHECK_INT(GetLastError(), ERROR_ACCESS_DENIED);
    /* A config region that declares none has none. */
    CHECK_OK(c, shmb_region_open(c, "cfg/static", SHMB_ACCESS_RO, &plain));
    CHECK_INT(plain.ndoorbells, 0);
done:
    shmb_region_close(&plain);
    shmb_region_close(&ro);
    shmb_region_close(&rw);
    shmb_disconnect(c);
    return TEST_RESULT;
}
