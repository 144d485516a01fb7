/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_policy.c - rule evaluation, table-driven over synthetic identities:
 * users, groups (enabled and deny-only), integrity levels, AppContainers,
 * sessions and image paths; deny wins; messages that explain.
 */
#include <stdlib.h>

#include "harness.h"
#include "shmb_policy.h"

#define ALICE "S-1-5-21-1-1-1-1001"
#define BOB "S-1-5-21-1-1-1-1002"
#define AU "S-1-5-11"
#define USERS "S-1-5-32-545"
#define ADMINS "S-1-5-32-544"
#define AC1 "S-1-15-2-99"
#define AC2 "S-1-15-2-5"

static const char policy_json[] =
    "{\"rules\": ["
    "{\"name\":\"own\",\"regions\":[\"users/${user}/**\"],\"create\":true,"
    "\"open\":\"rw\",\"delete\":true},"
    "{\"name\":\"video-read\",\"match\":{\"integrity\":[\"low\",\"medium\","
    "\"high\"]},\"regions\":[\"video/**\"],\"open\":\"ro\"},"
    "{\"name\":\"video-write\",\"match\":{\"group\":[\"" ADMINS "\"]},"
    "\"regions\":[\"video/**\"],\"open\":\"rw\",\"create\":{\"max_size\":"
    "1048576,\"lifetimes\":[\"client\"]}},"
    "{\"name\":\"no-ac-write\",\"effect\":\"deny\",\"match\":{\"appcontainer\":"
    "\"required\"},\"regions\":[\"**\"],\"open\":\"rw\",\"create\":true},"
    "{\"name\":\"viewer-only\",\"match\":{\"image\":[\"C:\\\\Apps\\\\*.exe\"]},"
    "\"regions\":[\"viewer/*\"],\"open\":\"rw\"},"
    "{\"name\":\"session1\",\"match\":{\"session\":[1]},\"regions\":[\"s1/"
    "**\"],"
    "\"open\":\"ro\"},"
    "{\"name\":\"ac-specific\",\"match\":{\"appcontainer\":[\"" AC1 "\"]},"
    "\"regions\":[\"acbox/**\"],\"create\":true,\"open\":\"rw\"},"
    "{\"name\":\"no-untrusted\",\"effect\":\"deny\",\"match\":{\"integrity\":"
    "[\"untrusted\"]},\"regions\":[\"**\"],\"open\":\"ro\",\"create\":true,"
    "\"delete\":true},"
    "{\"name\":\"deny-admin-secret\",\"effect\":\"deny\",\"match\":{\"group\":"
    "[\"" ADMINS "\"]},\"regions\":[\"secret/**\"],\"open\":\"ro\"},"
    "{\"name\":\"secret-all\",\"regions\":[\"secret/**\"],\"open\":\"ro\"},"
    "{\"name\":\"no-evil\",\"effect\":\"deny\",\"match\":{\"image\":"
    "[\"**\\\\evil.exe\"]},\"regions\":[\"video/**\"],\"open\":\"ro\"}"
    "]}";

typedef struct who {
    const char *label;
    int user_deny_only;
    const char *user;
    const char *groups[4];
    const char *deny_groups[2];
    uint32_t il;
    uint32_t session;
    const char *ac;
    const char *image;
} who;

static const who alice = {"alice", 0, ALICE, {AU, USERS},           {NULL},
                          0x2000,  1, "",    "C:\\Apps\\viewer.exe"};
static const who alice_s2 = {"alice-s2",  0,      ALICE,
                             {AU, USERS}, {NULL}, 0x2000,
                             2,           "",     "C:\\Apps\\viewer.exe"};
static const who alice_caps = {
    "alice-caps",          0, ALICE, {AU}, {NULL}, 0x2000, 1, "",
    "c:\\apps\\VIEWER.EXE"};
static const who alice_sub = {
    "alice-sub", 0, ALICE, {AU}, {NULL}, 0x2000, 1, "", "C:\\Apps\\sub\\x.exe"};
static const who bob_admin = {
    "bob-admin", 0, BOB, {AU, USERS, ADMINS},   {NULL},
    0x3000,      1, "",  "C:\\Tools\\admin.exe"};
static const who bob_filtered = {
    "bob-filtered", 0, BOB, {AU, USERS},           {ADMINS},
    0x2000,         1, "",  "C:\\Tools\\admin.exe"};
static const who low = {
    "low", 0, ALICE, {AU}, {NULL}, 0x1000, 1, "", "C:\\Browser\\renderer.exe"};
static const who ac1 = {
    "ac1", 0, ALICE, {AU}, {NULL}, 0x1000, 1, AC1, "C:\\Store\\app.exe"};
static const who ac2 = {
    "ac2", 0, ALICE, {AU}, {NULL}, 0x1000, 1, AC2, "C:\\Store\\other.exe"};
static const who restricted = {
    "restricted",          1, ALICE, {AU}, {NULL}, 0x2000, 1, "",
    "C:\\Apps\\viewer.exe"};
static const who evil = {
    "evil", 0, ALICE, {AU}, {NULL}, 0x2000, 1, "", "C:\\x\\y\\evil.exe"};
static const who noimage = {"noimage", 0, ALICE, {AU}, {NULL},
                            0x2000,    1, "",    ""};
static const who untrusted = {"untrusted", 0, ALICE, {AU},       {NULL},
                              0x0,         1, "",    "C:\\x.exe"};

static int make_identity(const who *w, shmb_identity *id)
{
    size_t i;
    memset(id, 0, sizeof(*id));
    snprintf(id->user_sid, sizeof(id->user_sid), "%s", w->user);
    id->user_deny_only = w->user_deny_only;
    snprintf(id->appcontainer_sid, sizeof(id->appcontainer_sid), "%s", w->ac);
    snprintf(id->image, sizeof(id->image), "%s", w->image);
    id->integrity = w->il;
    id->session = w->session;
    for (i = 0; i < 4 && w->groups[i]; i++)
        if (shmb_identity_add_group(id, w->groups[i], 0) != SHMB_OK)
            return -1;
    for (i = 0; i < 2 && w->deny_groups[i]; i++)
        if (shmb_identity_add_group(id, w->deny_groups[i], 1) != SHMB_OK)
            return -1;
    return 0;
}

static int load_policy(shmb_config *cfg)
{
    char err[SHMB_CONFIG_ERR_MAX];
    int rc =
        shmb_config_parse(policy_json, strlen(policy_json), "policy",
                          &shmb_conventions_windows, cfg, err, sizeof(err));
    if (rc != SHMB_OK)
        fprintf(stderr, "%s\n", err);
    return rc;
}

static int check(const shmb_config *cfg, const who *w, shmb_op op,
                 const char *name, shmb_access acc, uint64_t size,
                 shmb_lifetime lt, shmb_verdict *v)
{
    shmb_identity id;
    shmb_policy_req q;
    if (make_identity(w, &id) != 0)
        return -1;
    q.op = op;
    q.name = name;
    q.access = acc;
    q.size = size;
    q.lifetime = lt;
    shmb_policy_check(cfg, &id, &q, v);
    shmb_identity_free(&id);
    return v->allowed;
}

int test_policy_glob(void)
{
    CHECK(shmb_glob_match("a/*", "a/b", '/', 0));
    CHECK(!shmb_glob_match("a/*", "a/b/c", '/', 0));
    CHECK(shmb_glob_match("a/**", "a/b/c", '/', 0));
    CHECK(!shmb_glob_match("a/**", "a", '/', 0));
    CHECK(shmb_glob_match("**", "anything/at/all", '/', 0));
    CHECK(shmb_glob_match("a/*/c", "a/xyz/c", '/', 0));
    CHECK(shmb_glob_match("a?c", "abc", '/', 0));
    CHECK(!shmb_glob_match("a?c", "a/c", '/', 0));
    CHECK(!shmb_glob_match("A/b", "a/b", '/', 0));
    CHECK(shmb_glob_match("C:\\A\\*.EXE", "c:\\a\\x.exe", '\\', 1));
    CHECK(!shmb_glob_match("C:\\A\\*.exe", "C:\\A\\b\\x.exe", '\\', 1));
    CHECK(shmb_glob_match("*\\x.exe", "C:\\A\\b\\x.exe", '/', 1));
    CHECK(!shmb_glob_match("abc", "abcd", '/', 0));
    CHECK(shmb_glob_match("", "", '/', 0));
    /* Many stars against a long name stays fast (DP, not backtracking). */
    CHECK(!shmb_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b",
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                           "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                           '/', 0));
done:
    return TEST_RESULT;
}

int test_policy_table(void)
{
    static const struct {
        const who *w;
        shmb_op op;
        const char *name;
        shmb_access acc;
        uint64_t size;
        shmb_lifetime lt;
        int allowed;
        const char *rule; /* deciding rule, NULL for the default deny */
    } cases[] = {
        {&alice, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 1,
         "video-read"},
        {&alice, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RW, 0, 0, 0, NULL},
        {&bob_admin, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RW, 0, 0, 1,
         "video-write"},
        {&bob_filtered, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RW, 0, 0, 0, NULL},
        {&bob_filtered, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 1,
         "video-read"},
        {&bob_admin, SHMB_OP_CREATE, "video/x", SHMB_ACCESS_RW, 2097152,
         SHMB_LIFETIME_CLIENT, 0, NULL},
        {&bob_admin, SHMB_OP_CREATE, "video/x", SHMB_ACCESS_RW, 1024,
         SHMB_LIFETIME_PERSISTENT, 0, NULL},
        {&bob_admin, SHMB_OP_CREATE, "video/x", SHMB_ACCESS_RW, 1024,
         SHMB_LIFETIME_CLIENT, 1, "video-write"},
        {&alice, SHMB_OP_CREATE, "users/" ALICE "/x", SHMB_ACCESS_RW, 1,
         SHMB_LIFETIME_PERSISTENT, 1, "own"},
        {&alice, SHMB_OP_CREATE, "users/" BOB "/x", SHMB_ACCESS_RW, 1,
         SHMB_LIFETIME_CLIENT, 0, NULL},
        {&alice, SHMB_OP_DELETE, "users/" ALICE "/x", 0, 0, 0, 1, "own"},
        {&alice, SHMB_OP_DELETE, "video/a", 0, 0, 0, 0, NULL},
        {&ac1, SHMB_OP_OPEN, "users/" ALICE "/x", SHMB_ACCESS_RW, 0, 0, 0,
         "no-ac-write"},
        {&ac1, SHMB_OP_OPEN, "users/" ALICE "/x", SHMB_ACCESS_RO, 0, 0, 1,
         "own"},
        {&ac1, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 1, "video-read"},
        {&low, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 1, "video-read"},
        {&alice, SHMB_OP_OPEN, "viewer/doc", SHMB_ACCESS_RW, 0, 0, 1,
         "viewer-only"},
        {&alice_caps, SHMB_OP_OPEN, "viewer/doc", SHMB_ACCESS_RW, 0, 0, 1,
         "viewer-only"},
        {&alice_sub, SHMB_OP_OPEN, "viewer/doc", SHMB_ACCESS_RW, 0, 0, 0, NULL},
        {&bob_admin, SHMB_OP_OPEN, "viewer/doc", SHMB_ACCESS_RO, 0, 0, 0, NULL},
        {&alice, SHMB_OP_OPEN, "s1/x", SHMB_ACCESS_RO, 0, 0, 1, "session1"},
        {&alice_s2, SHMB_OP_OPEN, "s1/x", SHMB_ACCESS_RO, 0, 0, 0, NULL},
        {&ac1, SHMB_OP_OPEN, "acbox/x", SHMB_ACCESS_RW, 0, 0, 0, "no-ac-write"},
        {&ac1, SHMB_OP_OPEN, "acbox/x", SHMB_ACCESS_RO, 0, 0, 1, "ac-specific"},
        {&ac2, SHMB_OP_OPEN, "acbox/x", SHMB_ACCESS_RO, 0, 0, 0, NULL},
        {&alice, SHMB_OP_OPEN, "acbox/x", SHMB_ACCESS_RO, 0, 0, 0, NULL},
        {&ac1, SHMB_OP_CREATE, "acbox/y", SHMB_ACCESS_RW, 1,
         SHMB_LIFETIME_CLIENT, 0, "no-ac-write"},
        {&untrusted, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 0,
         "no-untrusted"},
        {&untrusted, SHMB_OP_OPEN, "users/" ALICE "/x", SHMB_ACCESS_RO, 0, 0, 0,
         "no-untrusted"},
        {&bob_admin, SHMB_OP_OPEN, "secret/x", SHMB_ACCESS_RO, 0, 0, 0,
         "deny-admin-secret"},
        /* deny-only Administrators still matches a deny rule */
        {&bob_filtered, SHMB_OP_OPEN, "secret/x", SHMB_ACCESS_RO, 0, 0, 0,
         "deny-admin-secret"},
        {&alice, SHMB_OP_OPEN, "secret/x", SHMB_ACCESS_RO, 0, 0, 1,
         "secret-all"},
        {&alice, SHMB_OP_OPEN, "nowhere", SHMB_ACCESS_RO, 0, 0, 0, NULL},
        /* an image deny rule, and an unknown image failing closed */
        {&evil, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 0, "no-evil"},
        {&noimage, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 0, "no-evil"},
        /* a user SID that cannot grant has no namespace of its own */
        {&restricted, SHMB_OP_OPEN, "users/" ALICE "/x", SHMB_ACCESS_RO, 0, 0,
         0, NULL},
        {&restricted, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, 1,
         "video-read"},
    };
    shmb_config cfg;
    shmb_verdict v;
    size_t i;

    memset(&cfg, 0, sizeof(cfg));
    CHECK_INT(load_policy(&cfg), SHMB_OK);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = check(&cfg, cases[i].w, cases[i].op, cases[i].name,
                        cases[i].acc, cases[i].size, cases[i].lt, &v);
        const char *rule = v.rule ? v.rule->name : NULL;
        if (got != cases[i].allowed ||
            (cases[i].rule == NULL) != (rule == NULL) ||
            (rule && strcmp(rule, cases[i].rule) != 0))
            ADD_FAILURE("case %zu (%s %s %s): allowed=%d rule=%s: %s", i,
                        cases[i].w->label, shmb_op_name(cases[i].op),
                        cases[i].name, got, rule ? rule : "-", v.message);
        if (cases[i].rule != NULL && !cases[i].allowed && !v.denied_by_rule)
            ADD_FAILURE("case %zu: expected a deny-rule verdict", i);
    }
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

int test_policy_messages(void)
{
    shmb_config cfg;
    shmb_verdict v;

    memset(&cfg, 0, sizeof(cfg));
    CHECK_INT(load_policy(&cfg), SHMB_OK);
    check(&cfg, &alice, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RW, 0, 0, &v);
    CHECK_STR(v.message,
              "open rw of 'video/a' is not allowed: rule 'video-read' grants "
              "ro only");
    check(&cfg, &bob_admin, SHMB_OP_CREATE, "video/x", SHMB_ACCESS_RW, 2097152,
          SHMB_LIFETIME_CLIENT, &v);
    CHECK_STR(v.message, "create of 'video/x' (2097152 bytes, client) is not "
                         "allowed: rule 'video-write' allows creating at "
                         "most 1048576 bytes");
    check(&cfg, &bob_admin, SHMB_OP_CREATE, "video/x", SHMB_ACCESS_RW, 1,
          SHMB_LIFETIME_PERSISTENT, &v);
    CHECK_STR(v.message, "create of 'video/x' (1 bytes, persistent) is not "
                         "allowed: rule 'video-write' does not allow "
                         "lifetime 'persistent'");
    check(&cfg, &ac1, SHMB_OP_OPEN, "acbox/x", SHMB_ACCESS_RW, 0, 0, &v);
    CHECK_STR(v.message, "open rw of 'acbox/x' is denied by rule "
                         "'no-ac-write'");
    check(&cfg, &low, SHMB_OP_OPEN, "nowhere", SHMB_ACCESS_RO, 0, 0, &v);
    CHECK_STR(v.message,
              "open ro of 'nowhere' is not allowed: no rule covers this name "
              "for you (user " ALICE ", integrity low, session 1, no "
              "AppContainer); ask for a rule whose \"regions\" match it and "
              "whose \"match\" includes you");
    /* Rules that do not apply to the caller are never named: alice is not
     * an administrator, so "video-write" stays unmentioned. */
    check(&cfg, &alice, SHMB_OP_CREATE, "video/x", SHMB_ACCESS_RW, 1,
          SHMB_LIFETIME_CLIENT, &v);
    CHECK(strstr(v.message, "video-write") == NULL);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* Image paths compare by the config's conventions, not by a built-in
 * Windows rule: the same rules, judged by other conventions, decide
 * differently - and without conventions, image rules fail closed. */
int test_policy_image_conventions(void)
{
    shmb_config cfg = {0};
    shmb_verdict v;
    shmb_conventions other = shmb_conventions_windows;

    CHECK_INT(load_policy(&cfg), SHMB_OK);
    CHECK(cfg.conv == &shmb_conventions_windows);
    /* Windows: case-insensitive, '*' stops at '\'. */
    CHECK(check(&cfg, &alice_caps, SHMB_OP_OPEN, "viewer/x", SHMB_ACCESS_RW, 0,
                0, &v) == 1);
    CHECK(check(&cfg, &alice_sub, SHMB_OP_OPEN, "viewer/x", SHMB_ACCESS_RW, 0,
                0, &v) == 0);

    other.image_sep = '/';
    other.image_icase = 0;
    cfg.conv = &other;
    CHECK(check(&cfg, &alice, SHMB_OP_OPEN, "viewer/x", SHMB_ACCESS_RW, 0, 0,
                &v) == 1);
    CHECK(check(&cfg, &alice_caps, SHMB_OP_OPEN, "viewer/x", SHMB_ACCESS_RW, 0,
                0, &v) == 0);
    CHECK(check(&cfg, &alice_sub, SHMB_OP_OPEN, "viewer/x", SHMB_ACCESS_RW, 0,
                0, &v) == 1);

    cfg.conv = NULL;
    CHECK(check(&cfg, &alice, SHMB_OP_OPEN, "viewer/x", SHMB_ACCESS_RW, 0, 0,
                &v) == 0);
    check(&cfg, &alice, SHMB_OP_OPEN, "video/a", SHMB_ACCESS_RO, 0, 0, &v);
    CHECK_STR(v.message, "open ro of 'video/a' is denied by rule 'no-evil'");
    shmb_config_free(&cfg);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* ---- principals --------------------------------------------------------- */

#ifndef SHMB_TEST_DATA_DIR
#error "SHMB_TEST_DATA_DIR must be defined"
#endif

static int load_file(const char *path, shmb_config *cfg)
{
    char err[SHMB_CONFIG_ERR_MAX];
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;
    int rc = -1;
    if (f == NULL)
        return -1;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n)) != NULL &&
        fread(buf, 1, (size_t)n, f) == (size_t)n) {
        rc = shmb_config_parse(buf, (size_t)n, path, &shmb_conventions_windows,
                               cfg, err, sizeof(err));
        if (rc != SHMB_OK)
            fprintf(stderr, "%s\n", err);
    }
    free(buf);
    fclose(f);
    return rc;
}

/* What a low-integrity or AppContainer process of alice must not do in the
 * namespace of alice's normal programs. */
static int sandbox_kept_out(const shmb_config *cfg, const char *label)
{
    static const who *const sandboxes[] = {&low, &ac1, &untrusted};
    static const struct {
        shmb_op op;
        shmb_access acc;
    } ops[] = {{SHMB_OP_OPEN, SHMB_ACCESS_RO},
               {SHMB_OP_OPEN, SHMB_ACCESS_RW},
               {SHMB_OP_CREATE, SHMB_ACCESS_RW},
               {SHMB_OP_DELETE, SHMB_ACCESS_NONE}};
    shmb_verdict v;
    size_t i, k;
    int ok = 1;
    for (i = 0; i < sizeof(sandboxes) / sizeof(sandboxes[0]); i++) {
        for (k = 0; k < sizeof(ops) / sizeof(ops[0]); k++) {
            if (check(cfg, sandboxes[i], ops[k].op, "users/" ALICE "/x",
                      ops[k].acc, 1, SHMB_LIFETIME_CLIENT, &v) != 0) {
                fprintf(stderr, "%s: %s may %s users/%s/x: %s\n", label,
                        sandboxes[i]->label, shmb_op_name(ops[k].op), ALICE,
                        v.message);
                ok = 0;
            }
        }
    }
    return ok;
}

/* The built-in default and the example's own-namespace rule are per
 * principal: a sandbox of a user does not reach that user's regions. */
int test_policy_principal_namespaces(void)
{
    char path[1024];
    shmb_config def, ex;
    shmb_verdict v;
    char text[64];
    shmb_identity id;

    memset(&def, 0, sizeof(def));
    memset(&ex, 0, sizeof(ex));
    memset(&id, 0, sizeof(id));
    CHECK_INT(shmb_config_defaults(&def, &shmb_conventions_windows), SHMB_OK);
    snprintf(path, sizeof(path), "%s/../../installer/config.example.json",
             SHMB_TEST_DATA_DIR);
    CHECK_INT(load_file(path, &ex), SHMB_OK);
    CHECK(sandbox_kept_out(&def, "defaults"));
    CHECK(sandbox_kept_out(&ex, "example"));
    /* Each principal has its own namespace... */
    CHECK(check(&def, &alice, SHMB_OP_CREATE, "users/" ALICE "/x",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_PERSISTENT, &v) == 1);
    CHECK(check(&def, &bob_admin, SHMB_OP_OPEN, "users/" BOB "/x",
                SHMB_ACCESS_RW, 0, 0, &v) == 1);
    CHECK(check(&def, &low, SHMB_OP_CREATE, "users/" ALICE "/low/x",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_CLIENT, &v) == 1);
    CHECK(check(&ex, &low, SHMB_OP_CREATE, "users/" ALICE "/low/x",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_CLIENT, &v) == 1);
    CHECK(check(&def, &untrusted, SHMB_OP_OPEN, "users/" ALICE "/untrusted/x",
                SHMB_ACCESS_RW, 0, 0, &v) == 1);
    /* ...that does not reach up or sideways... */
    CHECK(check(&def, &low, SHMB_OP_OPEN, "users/" ALICE "/untrusted/x",
                SHMB_ACCESS_RO, 0, 0, &v) == 0);
    CHECK(check(&def, &low, SHMB_OP_OPEN, "users/" ALICE "/lowx/x",
                SHMB_ACCESS_RO, 0, 0, &v) == 0);
    CHECK(check(&def, &untrusted, SHMB_OP_OPEN, "users/" ALICE "/low/x",
                SHMB_ACCESS_RO, 0, 0, &v) == 0);
    CHECK(check(&def, &low, SHMB_OP_OPEN, "users/" BOB "/low/x", SHMB_ACCESS_RO,
                0, 0, &v) == 0);
    /* ...while the user's medium+ programs reach down into their own
     * sandboxes' names (as Windows lets them write down). */
    CHECK(check(&def, &alice, SHMB_OP_OPEN, "users/" ALICE "/low/x",
                SHMB_ACCESS_RW, 0, 0, &v) == 1);
    /* An AppContainer has no "${principal}" (its SIDs do not fit a name):
     * nothing under users/ at all, until a rule names the container. */
    CHECK(check(&def, &ac1, SHMB_OP_CREATE, "users/" ALICE "/ac/" AC1 "/x",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_CLIENT, &v) == 0);
    CHECK(check(&def, &ac1, SHMB_OP_CREATE, "users/" ALICE "/low/x",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_CLIENT, &v) == 0);
    /* A user SID that cannot grant has no namespace. */
    CHECK(check(&def, &restricted, SHMB_OP_OPEN, "users/" ALICE "/x",
                SHMB_ACCESS_RO, 0, 0, &v) == 0);
    /* The text itself. */
    snprintf(id.user_sid, sizeof(id.user_sid), "%s", ALICE);
    id.integrity = 0x3000;
    CHECK(shmb_principal_text(&id, text, sizeof(text)));
    CHECK_STR(text, ALICE);
    id.integrity = 0x1fff;
    CHECK(shmb_principal_text(&id, text, sizeof(text)));
    CHECK_STR(text, ALICE "/low");
    id.integrity = 0;
    CHECK(shmb_principal_text(&id, text, sizeof(text)));
    CHECK_STR(text, ALICE "/untrusted");
    CHECK(!shmb_principal_text(&id, text, 8)); /* does not fit */
    snprintf(id.appcontainer_sid, sizeof(id.appcontainer_sid), "%s", AC1);
    CHECK(!shmb_principal_text(&id, text, sizeof(text)));
done:
    shmb_config_free(&def);
    shmb_config_free(&ex);
    return TEST_RESULT;
}

/* Sharing with a sandbox is a rule that says so. */
int test_policy_share_with_low(void)
{
    static const char json[] =
        "{\"rules\":["
        "{\"name\":\"own\",\"regions\":[\"users/${principal}/**\"],"
        "\"create\":true,\"open\":\"rw\",\"delete\":true},"
        "{\"name\":\"share-with-low\",\"match\":{\"integrity\":[\"low\"],"
        "\"appcontainer\":\"none\"},\"regions\":[\"users/${user}/shared/**\"],"
        "\"open\":\"rw\"}]}";
    char err[SHMB_CONFIG_ERR_MAX];
    shmb_config cfg;
    shmb_verdict v;

    memset(&cfg, 0, sizeof(cfg));
    CHECK_INT(shmb_config_parse(json, strlen(json), "share",
                                &shmb_conventions_windows, &cfg, err,
                                sizeof(err)),
              SHMB_OK);
    CHECK(check(&cfg, &alice, SHMB_OP_CREATE, "users/" ALICE "/shared/x",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_CLIENT, &v) == 1);
    CHECK(check(&cfg, &low, SHMB_OP_OPEN, "users/" ALICE "/shared/x",
                SHMB_ACCESS_RW, 0, 0, &v) == 1);
    CHECK_STR(v.rule->name, "share-with-low");
    /* Only what the rule names, only for whom it names. */
    CHECK(check(&cfg, &low, SHMB_OP_OPEN, "users/" ALICE "/x", SHMB_ACCESS_RO,
                0, 0, &v) == 0);
    CHECK(check(&cfg, &low, SHMB_OP_CREATE, "users/" ALICE "/shared/y",
                SHMB_ACCESS_RW, 1, SHMB_LIFETIME_CLIENT, &v) == 0);
    CHECK(check(&cfg, &ac1, SHMB_OP_OPEN, "users/" ALICE "/shared/x",
                SHMB_ACCESS_RO, 0, 0, &v) == 0);
    CHECK(check(&cfg, &low, SHMB_OP_OPEN, "users/" BOB "/shared/x",
                SHMB_ACCESS_RO, 0, 0, &v) == 0);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* Who may read the broker's statistics: the built-in default (enabled
 * Administrators, the service account), then rules with "stats" - which
 * need no "regions" - with deny winning. */
int test_policy_stats(void)
{
    static const char rules[] =
        "{\"rules\":["
        "{\"name\":\"alice-stats\",\"match\":{\"user\":[\"" ALICE "\"]},"
        "\"stats\":true},"
        "{\"name\":\"no-low-stats\",\"effect\":\"deny\",\"match\":"
        "{\"integrity\":[\"low\",\"untrusted\"]},\"stats\":true},"
        "{\"name\":\"files\",\"regions\":[\"x/**\"],\"open\":\"ro\"}]}";
    static const who system = {"system", 0, "S-1-5-18", {AU},         {NULL},
                               0x4000,   0, "",         "C:\\svc.exe"};
    static const who system_restricted = {
        "system-restricted", 1, "S-1-5-18", {AU}, {NULL}, 0x4000, 0, "",
        "C:\\svc.exe"};
    /* An administrator's token lowered to low integrity keeps the group
     * enabled: still a sandbox, so no stats by default. */
    static const who bob_admin_low = {
        "bob-admin-low", 0, BOB, {AU, USERS, ADMINS},   {NULL},
        0x1000,          1, "",  "C:\\Tools\\admin.exe"};
    static const struct {
        const who *w;
        int with_rules, allowed;
        const char *msg;
    } cases[] = {
        {&bob_admin, 0, 1, "allowed by default"},
        {&bob_filtered, 0, 0, "by default only administrators"},
        {&alice, 0, 0, "no rule with \"stats\" allows you"},
        {&system, 0, 1, "allowed by default"},
        {&system_restricted, 0, 0, "not allowed"},
        {&bob_admin_low, 0, 0, "outside any sandbox"},
        {&alice, 1, 1, "allowed by rule 'alice-stats'"},
        {&low, 1, 0, "denied by rule 'no-low-stats'"},
        {&bob_admin, 1, 1, "allowed by default"},
        {&bob_filtered, 1, 0, "not allowed"},
    };
    shmb_config def, cfg;
    shmb_identity id;
    shmb_verdict v;
    shmb_policy_req q;
    char err[SHMB_CONFIG_ERR_MAX];
    size_t i;

    memset(&def, 0, sizeof(def));
    memset(&cfg, 0, sizeof(cfg));
    memset(&id, 0, sizeof(id));
    CHECK_INT(shmb_config_defaults(&def, &shmb_conventions_windows), SHMB_OK);
    if (shmb_config_parse(rules, strlen(rules), "t.json",
                          &shmb_conventions_windows, &cfg, err,
                          sizeof(err)) != SHMB_OK)
        FAIL("%s", err);
    CHECK_INT(cfg.rules[0].stats, 1);
    CHECK_INT((int)cfg.rules[0].regions.n, 0);
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_INT(make_identity(cases[i].w, &id), 0);
        shmb_policy_stats(cases[i].with_rules ? &cfg : &def, &id, &v);
        if (v.allowed != cases[i].allowed ||
            strstr(v.message, cases[i].msg) == NULL)
            ADD_FAILURE("%s (rules %d): allowed %d '%s', want %d '%s'",
                        cases[i].w->label, cases[i].with_rules, v.allowed,
                        v.message, cases[i].allowed, cases[i].msg);
        shmb_identity_free(&id);
    }
    /* A stats-only rule covers no region. */
    CHECK_INT(make_identity(&alice, &id), 0);
    memset(&q, 0, sizeof(q));
    q.op = SHMB_OP_OPEN;
    q.name = "anything";
    q.access = SHMB_ACCESS_RO;
    shmb_policy_check(&cfg, &id, &q, &v);
    CHECK_INT(v.allowed, 0);
    shmb_identity_free(&id);
    shmb_config_free(&cfg);
    /* Only a rule granting nothing else may leave "regions" out, and
     * "stats" is a boolean. */
    CHECK_INT(
        shmb_config_parse(
            "{\"rules\":[{\"name\":\"r\",\"open\":\"ro\",\"stats\":true}]}", 49,
            "t.json", &shmb_conventions_windows, &cfg, err, sizeof(err)),
        SHMB_E_INVALID_ARG);
    CHECK(strstr(err, "missing key \"regions\"") != NULL);
    CHECK_INT(shmb_config_parse("{\"rules\":[{\"name\":\"r\",\"stats\":1}]}",
                                34, "t.json", &shmb_conventions_windows, &cfg,
                                err, sizeof(err)),
              SHMB_E_INVALID_ARG);
    CHECK_STR(err, "t.json: $.rules[0].stats: must be true or false");
done:
    shmb_identity_free(&id);
    shmb_config_free(&def);
    shmb_config_free(&cfg);
    return TEST_RESULT;
}
