/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_identity.c - shmb_identity_merge: a client's effective identity is
 * the lesser of its impersonation token and its process token, so it gains
 * nothing by connecting with a stronger token than its process has.
 */
#include "harness.h"
#include "shmb_identity.h"

static int has(char **v, size_t n, const char *s)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (strcmp(v[i], s) == 0)
            return 1;
    }
    return 0;
}

int test_identity_merge_is_the_lesser(void)
{
    shmb_identity imp, proc, out;
    int ok;

    memset(&imp, 0, sizeof(imp));
    memset(&proc, 0, sizeof(proc));
    memset(&out, 0, sizeof(out));
    /* Enabled in both: allows. Only in one: deny-only. Deny-only in one:
     * deny-only. */
    shmb_identity_add_group(&imp, "S-1-5-11", 0);
    shmb_identity_add_group(&proc, "S-1-5-11", 0);
    shmb_identity_add_group(&imp, "S-1-5-32-544", 0);
    shmb_identity_add_group(&proc, "S-1-5-32-544", 1);
    shmb_identity_add_group(&proc, "S-1-5-4", 0);
    imp.integrity = 0x3000;
    proc.integrity = 0x1000;
    imp.session = 2;
    proc.user_deny_only = 1;
    snprintf(proc.appcontainer_sid, sizeof(proc.appcontainer_sid),
             "S-1-15-2-1");
    ok = shmb_identity_merge(&imp, &proc, &out) == SHMB_OK &&
         out.ngroups == 1 && has(out.groups, out.ngroups, "S-1-5-11") &&
         has(out.deny_groups, out.ndeny_groups, "S-1-5-32-544") &&
         has(out.deny_groups, out.ndeny_groups, "S-1-5-4") &&
         out.ndeny_groups == 2 && out.integrity == 0x1000 &&
         out.user_deny_only == 1 && out.session == 2 &&
         strcmp(out.appcontainer_sid, "S-1-15-2-1") == 0;
    shmb_identity_free(&imp);
    shmb_identity_free(&proc);
    shmb_identity_free(&out);
    CHECK(ok);
done:
    return TEST_RESULT;
}
