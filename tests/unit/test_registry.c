/* SPDX-License-Identifier: MPL-2.0 */
/* test_registry.c - the region hash table. */
#include <stdlib.h>

#include "harness.h"
#include "shmb_registry.h"

static broker_region *region(const char *name)
{
    broker_region *r = calloc(1, sizeof(*r));
    if (r != NULL)
        snprintf(r->name, sizeof(r->name), "%s", name);
    return r;
}

int test_registry_basic(void)
{
    shmb_registry reg = {0};
    broker_region *a = region("a"), *b = region("b"), *a2 = region("a");

    CHECK(a != NULL && b != NULL && a2 != NULL);
    CHECK_INT(registry_init(&reg, 0), SHMB_OK);
    CHECK(registry_find(&reg, "a") == NULL);
    CHECK_INT(registry_add(&reg, a), SHMB_OK);
    CHECK_INT(registry_add(&reg, b), SHMB_OK);
    CHECK_INT(registry_add(&reg, a2), SHMB_E_EXISTS);
    CHECK_INT(a2->listed, 0);
    CHECK(registry_find(&reg, "a") == a);
    CHECK(registry_find(&reg, "b") == b);
    CHECK_INT(reg.count, 2);
    registry_remove(&reg, a);
    CHECK_INT(a->listed, 0);
    CHECK(registry_find(&reg, "a") == NULL);
    registry_remove(&reg, a); /* twice is harmless */
    CHECK_INT(reg.count, 1);
    registry_remove(&reg, b);
    CHECK_INT(reg.count, 0);
done:
    registry_free(&reg);
    free(a);
    free(b);
    free(a2);
    return TEST_RESULT;
}

static int count_one(broker_region *r, void *ctx)
{
    (void)r;
    (*(size_t *)ctx)++;
    return 0;
}

int test_registry_10000(void)
{
    enum { N = 10000 };
    shmb_registry reg = {0};
    broker_region **all = calloc(N, sizeof(*all));
    char name[32];
    size_t i, seen = 0;

    CHECK(all != NULL);
    CHECK_INT(registry_init(&reg, 16), SHMB_OK);
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "r/%zu", i);
        all[i] = region(name);
        CHECK(all[i] != NULL);
        CHECK_INT(registry_add(&reg, all[i]), SHMB_OK);
    }
    CHECK(reg.nbuckets >= N);
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "r/%zu", i);
        CHECK(registry_find(&reg, name) == all[i]);
    }
    registry_foreach(&reg, count_one, &seen);
    CHECK_INT(seen, N);
    for (i = 0; i < N; i += 2)
        registry_remove(&reg, all[i]);
    CHECK_INT(reg.count, N / 2);
    for (i = 0; i < N; i++) {
        snprintf(name, sizeof(name), "r/%zu", i);
        CHECK((registry_find(&reg, name) != NULL) == (i % 2 == 1));
    }
done:
    for (i = 0; all != NULL && i < N; i++)
        free(all[i]);
    free(all);
    registry_free(&reg);
    return TEST_RESULT;
}
