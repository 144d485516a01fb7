/* SPDX-License-Identifier: MPL-2.0 */
/*
 * fuzz_config.c - libFuzzer target: arbitrary configuration files through
 * parse, deep copy, policy evaluation and free.
 */
#include <stdlib.h>
#include <string.h>

#include "shmb_config.h"
#include "shmb_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {"a", "video/x", "users/S-1-5-21-1-1/x",
                                        "a/b/c/d", "x.y"};
    shmb_config cfg, copy;
    char err[SHMB_CONFIG_ERR_MAX];
    shmb_identity id;
    shmb_policy_req q;
    shmb_verdict v;
    size_t i;

    if (shmb_config_parse((const char *)data, size, "fuzz.json",
                          &shmb_conventions_windows, &cfg, err,
                          sizeof(err)) != SHMB_OK) {
        if (cfg.rules != NULL || cfg.regions != NULL)
            abort(); /* a failed parse must leave nothing behind */
        return 0;
    }
    if (shmb_config_copy(&copy, &cfg) != SHMB_OK)
        abort();
    memset(&id, 0, sizeof(id));
    strcpy(id.user_sid, "S-1-5-21-1-1");
    strcpy(id.image, "C:\\Apps\\x.exe");
    id.integrity = 0x1000;
    if (shmb_identity_add_group(&id, "S-1-5-32-544", 1) != SHMB_OK)
        abort();
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        memset(&q, 0, sizeof(q));
        q.name = names[i];
        q.op = (shmb_op)(SHMB_OP_CREATE + (int)(i % 3));
        q.access = SHMB_ACCESS_RW;
        q.size = 4096;
        shmb_policy_check(&copy, &id, &q, &v);
        if (v.allowed && v.rule == NULL)
            abort(); /* an allow always names its rule */
    }
    shmb_identity_free(&id);
    shmb_config_free(&copy);
    shmb_config_free(&cfg);
    return 0;
}
