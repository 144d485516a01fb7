/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_config.c - the configuration file: a corpus of invalid files with
 * the exact message each must produce, valid files, and the shipped example
 * (installer/config.example.json).
 */
#include <stdlib.h>

#include "harness.h"
#include "shmb_config.h"

#ifndef SHMB_TEST_DATA_DIR
#error "SHMB_TEST_DATA_DIR must be defined"
#endif

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf != NULL) {
        buf[n] = '\0';
        *len = (size_t)n;
    }
    return buf;
}

/* Parses tests/data/config/<dir>/<name>, reporting it as `name`. */
static int parse_file(const char *dir, const char *name, shmb_config *cfg,
                      char *err, size_t cap)
{
    char path[1024];
    size_t len = 0;
    char *text;
    int rc;
    snprintf(path, sizeof(path), "%s/config/%s/%s", SHMB_TEST_DATA_DIR, dir,
             name);
    text = slurp(path, &len);
    if (text == NULL) {
        snprintf(err, cap, "cannot read %s", path);
        return -100;
    }
    rc = shmb_config_parse(text, len, name, &shmb_conventions_windows, cfg, err,
                           cap);
    free(text);
    return rc;
}

int test_config_invalid_corpus(void)
{
    static const struct {
        const char *file;
        const char *msg;
    } cases[] = {
        {"trailing-comma.json",
         "trailing-comma.json: $: not valid JSON (line 1)"},
        {"not-object.json", "not-object.json: $: must be a JSON object"},
        {"unknown-top-key.json",
         "unknown-top-key.json: $: unknown key \"limit\" (expected one of: "
         "pipe, limits, regions, rules)"},
        {"frame-too-small.json",
         "frame-too-small.json: $.limits.max_frame: must be an integer from "
         "1024 to 16777216"},
        {"clients-fraction.json",
         "clients-fraction.json: $.limits.max_clients: must be an integer "
         "from 1 to 2000"},
        {"total-string.json",
         "total-string.json: $.limits.commit_total: must be an integer from "
         "1 to 1125899906842624"},
        {"pipe-not-local.json",
         "pipe-not-local.json: $.pipe.name: must start with \\\\.\\pipe\\ (a "
         "local pipe)"},
        {"duplicate-key.json",
         "duplicate-key.json: $.pipe: key \"name\" appears twice"},
        {"region-bad-name.json",
         "region-bad-name.json: $.regions[1].name: name must start with a "
         "letter or digit"},
        {"region-no-size.json",
         "region-no-size.json: $.regions[0]: missing key \"size\""},
        {"region-twice.json",
         "region-twice.json: $.regions[1].name: region \"a\" is declared "
         "twice"},
        {"region-local-name.json",
         "region-local-name.json: $.regions[0].global_name: must be "
         "\"Global\\\\NAME\" with no further backslash"},
        {"region-global-no-sddl.json",
         "region-global-no-sddl.json: $.regions[0].global_name: a named "
         "region needs \"sddl\" (who may open the name, with its mandatory "
         "label)"},
        {"region-sddl-unnamed.json",
         "region-sddl-unnamed.json: $.regions[0].sddl: only meaningful with "
         "\"global_name\"; unnamed regions are reachable by handle only"},
        {"region-too-big.json",
         "region-too-big.json: $.regions[0].size: must be an integer from 1 "
         "to 4096"},
        {"region-too-many-doorbells.json",
         "region-too-many-doorbells.json: $.regions[0].doorbells: must be an "
         "integer from 0 to 8"},
        {"rule-no-name.json",
         "rule-no-name.json: $.rules[0]: missing key \"name\""},
        {"rule-no-regions.json",
         "rule-no-regions.json: $.rules[0]: missing key \"regions\" (the "
         "name patterns it covers)"},
        {"rule-grants-nothing.json",
         "rule-grants-nothing.json: $.rules[0]: rule \"r\" grants or denies "
         "nothing: give it \"create\", \"open\", \"delete\" or \"stats\""},
        {"rule-bad-open.json",
         "rule-bad-open.json: $.rules[0].open: must be \"ro\" or \"rw\""},
        {"rule-bad-effect.json",
         "rule-bad-effect.json: $.rules[0].effect: must be \"allow\" or "
         "\"deny\""},
        {"rule-bad-pattern.json",
         "rule-bad-pattern.json: $.rules[0].regions[0]: pattern \"a b\" has "
         "' ' (allowed: letters, digits, . _ - / * ?, ${user} and "
         "${principal})"},
        {"rule-bad-sid.json",
         "rule-bad-sid.json: $.rules[0].match.user[0]: \"bob\" is not a SID "
         "(S-1-...)"},
        {"rule-bad-integrity.json",
         "rule-bad-integrity.json: $.rules[0].match.integrity[0]: unknown "
         "integrity level \"mediun\" (expected untrusted, low, medium, high "
         "or system)"},
        {"rule-bad-appcontainer.json",
         "rule-bad-appcontainer.json: $.rules[0].match.appcontainer: must be "
         "\"any\", \"none\", \"required\" or an array of AppContainer SIDs"},
        {"rule-bad-session.json",
         "rule-bad-session.json: $.rules[0].match.session[1]: must be a "
         "session id from 0 to 65535"},
        {"rule-unknown-match.json",
         "rule-unknown-match.json: $.rules[0].match: unknown key \"uzer\" "
         "(expected one of: user, group, integrity, appcontainer, session, "
         "image)"},
        {"rule-bad-lifetime.json",
         "rule-bad-lifetime.json: $.rules[0].create.lifetimes[0]: must be "
         "\"client\" or \"persistent\""},
        {"rule-deny-create-object.json",
         "rule-deny-create-object.json: $.rules[0].create: a deny rule takes "
         "true or false here"},
        {"rule-twice.json",
         "rule-twice.json: $.rules[1].name: rule name \"r\" is used twice "
         "(denials name rules, so names must be unique)"},
        {"trailing-object.json",
         "trailing-object.json: $: text after the JSON object (line 1)"},
        {"escaped-nul.json",
         "escaped-nul.json: $: control character, \\u0000 or BOM (line 1)"},
        {"too-many-regions.json",
         "too-many-regions.json: $.limits: max_regions (1) is below the 2 "
         "regions declared"},
    };
    shmb_config cfg;
    char err[SHMB_CONFIG_ERR_MAX];
    size_t i;

    memset(&cfg, 0, sizeof(cfg));
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = parse_file("invalid", cases[i].file, &cfg, err, sizeof(err));
        if (rc != SHMB_E_INVALID_ARG || strcmp(err, cases[i].msg) != 0)
            ADD_FAILURE("%s: rc %d\n  got:  %s\n  want: %s", cases[i].file, rc,
                        err, cases[i].msg);
        if (rc == SHMB_OK)
            shmb_config_free(&cfg); /* accepted by mistake: reported above */
        /* A failed parse leaves nothing to free. */
        CHECK(cfg.rules == NULL && cfg.regions == NULL);
    }
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

int test_config_valid(void)
{
    shmb_config cfg;
    char err[SHMB_CONFIG_ERR_MAX];
    const shmb_rule *r;

    memset(&cfg, 0, sizeof(cfg));
    CHECK_INT(parse_file("valid", "empty.json", &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_STR(cfg.pipe_name, shmb_conventions_windows.default_pipe);
    CHECK_INT(cfg.limits.max_frame, 65536);
    CHECK_INT(cfg.nrules, 0); /* an explicit empty config denies everything */
    shmb_config_free(&cfg);

    CHECK_INT(parse_file("valid", "full-rule.json", &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_INT(cfg.nrules, 1);
    r = &cfg.rules[0];
    CHECK_STR(r->regions.v[0], "a/*");
    CHECK_STR(r->users.v[0], "S-1-5-21-1-2-3-1001");
    CHECK_STR(r->groups.v[0], "S-1-5-32-545");
    CHECK_INT(r->integrity_mask,
              (1u << SHMB_ILV_LOW) | (1u << SHMB_ILV_MEDIUM));
    CHECK_INT(r->appcontainer, SHMB_AC_LIST);
    CHECK_STR(r->appcontainers.v[0], "S-1-15-2-1");
    CHECK_INT(r->nsessions, 2);
    CHECK_INT(r->sessions[1], 1);
    CHECK_STR(r->images.v[0], "C:\\Apps\\*.exe");
    CHECK_INT(r->open, SHMB_ACCESS_RO);
    CHECK_INT(r->deny, 0);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

int test_config_example_loads(void)
{
    char path[1024];
    size_t len = 0;
    char *text;
    shmb_config cfg, copy;
    char err[SHMB_CONFIG_ERR_MAX] = "";
    int rc;

    memset(&cfg, 0, sizeof(cfg));
    memset(&copy, 0, sizeof(copy));
    snprintf(path, sizeof(path), "%s/../../installer/config.example.json",
             SHMB_TEST_DATA_DIR);
    text = slurp(path, &len);
    CHECK(text != NULL);
    rc = shmb_config_parse(text, len, "config.example.json",
                           &shmb_conventions_windows, &cfg, err, sizeof(err));
    free(text);
    if (rc != SHMB_OK)
        fprintf(stderr, "%s\n", err);
    CHECK_INT(rc, SHMB_OK);
    CHECK_INT(cfg.nregions, 2);
    CHECK_STR(cfg.regions[1].global_name, "Global\\shmbroker-legacy-status");
    CHECK_INT(cfg.regions[0].doorbells, 1); /* telemetry: "new value" */
    CHECK_INT(cfg.regions[1].doorbells, 0);
    CHECK(cfg.nrules >= 4);
    CHECK_INT(cfg.limits.max_region_size, 268435456);
    /* A deep copy survives the original. */
    CHECK_INT(shmb_config_copy(&copy, &cfg), SHMB_OK);
    shmb_config_free(&cfg);
    CHECK_STR(copy.rules[0].regions.v[0], "users/${principal}/**");
done:
    shmb_config_free(&cfg);
    shmb_config_free(&copy);
    return TEST_RESULT;
}

int test_config_defaults(void)
{
    shmb_config cfg;
    CHECK_INT(shmb_config_defaults(&cfg, &shmb_conventions_windows), SHMB_OK);
    CHECK_STR(cfg.pipe_name, "\\\\.\\pipe\\shmbroker");
    CHECK(strstr(cfg.pipe_sddl, "S:(ML;;NW;;;LW)") != NULL);
    CHECK_INT(cfg.nrules, 1);
    CHECK_STR(cfg.rules[0].name, "default-user-namespace");
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

int test_config_oversized_and_nul(void)
{
    shmb_config cfg;
    char err[SHMB_CONFIG_ERR_MAX];
    static const char nul[] = "{\"limits\":{}}\0junk";

    memset(&cfg, 0, sizeof(cfg));
    CHECK_INT(shmb_config_parse(nul, sizeof(nul) - 1, "x.json",
                                &shmb_conventions_windows, &cfg, err,
                                sizeof(err)),
              SHMB_E_INVALID_ARG);
    CHECK_STR(err, "x.json: $: file contains a NUL byte");
    CHECK_INT(shmb_config_parse("{}", SHMB_CONFIG_MAX_BYTES + 1, "big.json",
                                &shmb_conventions_windows, &cfg, err,
                                sizeof(err)),
              SHMB_E_INVALID_ARG);
    CHECK_STR(err, "big.json: $: file is larger than 1048576 bytes");
done:
    shmb_config_free(&cfg); /* in case a parse succeeded by mistake */
    return TEST_RESULT;
}

static int parse_text(const char *text, shmb_config *cfg, char *err, size_t cap)
{
    return shmb_config_parse(text, strlen(text), "t.json",
                             &shmb_conventions_windows, cfg, err, cap);
}

/* Numbers follow the JSON grammar; the message names the line. */
int test_config_number_grammar(void)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"{\"limits\": {\"max_clients\": 05}}",
         "t.json: $: invalid JSON number: a number must not have a leading "
         "zero (line 1)"},
        {"{\n  \"limits\": {\n    \"max_clients\": 1.\n  }\n}",
         "t.json: $: invalid JSON number: a '.' must be followed by a digit "
         "(line 3)"},
        {"{\"limits\": {\"max_clients\": +5}}",
         "t.json: $: invalid JSON number: a number starts with '-' or a "
         "digit (line 1)"},
        {"{\"limits\": {\"max_clients\": 5e}}",
         "t.json: $: invalid JSON number: an exponent must have digits "
         "(line 1)"},
        {"{\"rules\": [{\"name\": \"r\", \"regions\": \"a\", \"open\": "
         "\"ro\",\n \"match\": {\"session\": [0x1]}}]}",
         "t.json: $: invalid JSON number: a number must not go on with this "
         "character (line 2)"},
        {"{\"limits\":\n{\"max_clients\": 5,}}",
         "t.json: $: not valid JSON (line 2)"},
    };
    shmb_config cfg = {0};
    char err[SHMB_CONFIG_ERR_MAX];
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(parse_text(bad[i].text, &cfg, err, sizeof(err)),
                  SHMB_E_INVALID_ARG);
        CHECK_STR(err, bad[i].msg);
        CHECK(cfg.rules == NULL && cfg.regions == NULL);
    }
    CHECK_INT(parse_text("{\"limits\": {\"max_clients\": 5.0e1, "
                         "\"max_regions\": 10}}",
                         &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_INT(cfg.limits.max_clients, 50);
    CHECK_INT(cfg.limits.max_regions, 10);
    shmb_config_free(&cfg);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* A repeated key is refused wherever it is, with the path of its object,
 * and before anything else in the file is judged. */
int test_config_duplicate_keys(void)
{
    shmb_config cfg = {0};
    char err[SHMB_CONFIG_ERR_MAX];

    CHECK_INT(parse_text("{\"rules\": [{\"name\": \"r\", \"regions\": \"a\", "
                         "\"open\": \"ro\"}, {\"name\": \"s\", \"regions\": "
                         "\"b\", \"open\": \"ro\", \"match\": {\"user\": "
                         "\"S-1-1\", \"us\\u0065r\": \"S-1-2\"}}]}",
                         &cfg, err, sizeof(err)),
              SHMB_E_INVALID_ARG);
    CHECK_STR(err, "t.json: $.rules[1].match: key \"user\" appears twice");
    CHECK_INT(
        parse_text("{\"limit\": 1, \"limit\": 2}", &cfg, err, sizeof(err)),
        SHMB_E_INVALID_ARG);
    CHECK_STR(err, "t.json: $: key \"limit\" appears twice");
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* The Windows conventions, exactly: what a pipe, a global name and a SID
 * may look like, and the connection cap. */
int test_config_windows_conventions(void)
{
    const shmb_conventions *w = &shmb_conventions_windows;
    shmb_config cfg = {0};
    char err[SHMB_CONFIG_ERR_MAX];

    CHECK_STR(w->default_pipe, "\\\\.\\pipe\\shmbroker");
    CHECK(w->pipe_name_ok("\\\\.\\pipe\\x"));
    CHECK(!w->pipe_name_ok("\\\\server\\pipe\\x"));
    CHECK(!w->pipe_name_ok("/run/shmb.sock"));
    CHECK(w->global_name_ok("Global\\a"));
    CHECK(!w->global_name_ok("Global\\"));
    CHECK(!w->global_name_ok("Local\\a"));
    CHECK(!w->global_name_ok("Global\\Session\\1\\a"));
    CHECK(w->principal_ok("S-1-5-21-1-2-3-1001"));
    CHECK(!w->principal_ok("S-1-"));
    CHECK(!w->principal_ok("S-1-5--1"));
    CHECK(!w->principal_ok("S-1-5-"));
    CHECK(!w->principal_ok("1000"));
    CHECK_INT(w->image_sep, '\\');
    CHECK_INT(w->image_icase, 1);
    CHECK_INT(w->max_clients_cap, 2000);

    /* The conventions come with the config, and its copy. */
    CHECK_INT(parse_text("{}", &cfg, err, sizeof(err)), SHMB_OK);
    CHECK(cfg.conv == w);
    {
        shmb_config copy;
        CHECK_INT(shmb_config_copy(&copy, &cfg), SHMB_OK);
        CHECK(copy.conv == w);
        shmb_config_free(&copy);
    }
    shmb_config_free(&cfg);
    /* No conventions: refused, never guessed. */
    CHECK_INT(
        shmb_config_parse("{}", 2, "n.json", NULL, &cfg, err, sizeof(err)),
        SHMB_E_INVALID_ARG);
    CHECK_STR(err, "n.json: $: no platform conventions to judge the file by");
    CHECK(cfg.rules == NULL);
    CHECK_INT(shmb_config_defaults(&cfg, NULL), SHMB_E_INVALID_ARG);
    CHECK_INT(cfg.nrules, 0);
    CHECK_STR(cfg.pipe_name, "");
    shmb_config_free(&cfg);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* Another platform's conventions, to show that the config takes all of
 * its platform knowledge from them: a POSIX-like socket path, numeric
 * principal ids, no global names, a smaller connection cap. */
static int posix_socket_ok(const char *name)
{
    return name[0] == '/';
}

static int posix_global_ok(const char *name)
{
    (void)name;
    return 0;
}

static int posix_uid_ok(const char *s)
{
    size_t i;
    for (i = 0; s[i] >= '0' && s[i] <= '9'; i++)
        ;
    return i > 0 && s[i] == '\0';
}

static const shmb_conventions posix_like = {
    "posix-like",
    "/run/shmbroker/control.sock",
    "0660",
    posix_socket_ok,
    "must be an absolute socket path",
    posix_global_ok,
    "global names do not exist here",
    posix_uid_ok,
    "a uid",
    '/',
    0,
    500,
    "0",
    "0",
};

int test_config_other_conventions(void)
{
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"{\"pipe\": {\"name\": \"\\\\\\\\.\\\\pipe\\\\x\"}}",
         "p.json: $.pipe.name: must be an absolute socket path"},
        {"{\"limits\": {\"max_clients\": 501}}",
         "p.json: $.limits.max_clients: must be an integer from 1 to 500"},
        {"{\"limits\": {\"clients_per_user\": 501}}",
         "p.json: $.limits.clients_per_user: must be an integer from 1 to "
         "500"},
        {"{\"rules\": [{\"name\": \"r\", \"regions\": \"a\", \"open\": "
         "\"ro\", \"match\": {\"user\": \"S-1-5-18\"}}]}",
         "p.json: $.rules[0].match.user[0]: \"S-1-5-18\" is not a uid"},
        {"{\"regions\": [{\"name\": \"a\", \"size\": 1, \"global_name\": "
         "\"Global\\\\a\", \"sddl\": \"x\"}]}",
         "p.json: $.regions[0].global_name: global names do not exist here"},
    };
    shmb_config cfg = {0};
    char err[SHMB_CONFIG_ERR_MAX];
    size_t i;
    const char *ok = "{\"pipe\": {\"name\": \"/run/x.sock\"}, \"limits\": "
                     "{\"max_clients\": 500}, \"rules\": [{\"name\": \"r\", "
                     "\"regions\": \"a\", \"open\": \"ro\", \"match\": "
                     "{\"user\": \"1000\"}}]}";

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK_INT(shmb_config_parse(bad[i].text, strlen(bad[i].text), "p.json",
                                    &posix_like, &cfg, err, sizeof(err)),
                  SHMB_E_INVALID_ARG);
        CHECK_STR(err, bad[i].msg);
    }
    CHECK_INT(shmb_config_parse(ok, strlen(ok), "p.json", &posix_like, &cfg,
                                err, sizeof(err)),
              SHMB_OK);
    CHECK_STR(cfg.pipe_name, "/run/x.sock");
    CHECK_STR(cfg.pipe_sddl, "0660");
    CHECK_STR(cfg.rules[0].users.v[0], "1000");
    CHECK(cfg.conv == &posix_like);
    shmb_config_free(&cfg);
    CHECK_INT(shmb_config_defaults(&cfg, &posix_like), SHMB_OK);
    CHECK_STR(cfg.pipe_name, "/run/shmbroker/control.sock");
    shmb_config_free(&cfg);
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}

/* Every limit: its default, its bounds and its message. */
int test_config_limits(void)
{
    static const struct {
        const char *key;
        const char *too_big;
        const char *range;
    } rows[] = {
        {"max_frame", "16777217", "1024 to 16777216"},
        {"max_clients", "2001", "1 to 2000"},
        {"clients_per_user", "2001", "1 to 2000"},
        {"clients_per_principal", "2001", "1 to 2000"},
        {"hello_timeout_ms", "600001", "100 to 600000"},
        {"max_regions", "100001", "1 to 100000"},
        {"max_region_size", "1125899906842625", "1 to 1125899906842624"},
        {"regions_per_client", "100001", "1 to 100000"},
        {"regions_per_user", "100001", "1 to 100000"},
        {"regions_per_principal", "100001", "1 to 100000"},
        {"commit_per_client", "1125899906842625", "1 to 1125899906842624"},
        {"commit_per_user", "1125899906842625", "1 to 1125899906842624"},
        {"commit_per_principal", "1125899906842625", "1 to 1125899906842624"},
        {"commit_total", "1125899906842625", "1 to 1125899906842624"},
        {"log_max_bytes", "65535", "65536 to 1125899906842624"},
        {"log_keep", "101", "1 to 100"},
        {"log_keep", "0", "1 to 100"},
    };
    shmb_config cfg = {0};
    char err[SHMB_CONFIG_ERR_MAX], text[256], want[256];
    size_t i;

    CHECK_INT(parse_text("{}", &cfg, err, sizeof(err)), SHMB_OK);
    CHECK_INT(cfg.limits.max_frame, 65536);
    CHECK_INT(cfg.limits.max_clients, 256);
    CHECK_INT(cfg.limits.clients_per_user, 64);
    CHECK_INT(cfg.limits.hello_timeout_ms, 5000);
    CHECK_INT(cfg.limits.max_regions, 1024);
    CHECK_INT(cfg.limits.max_region_size, 1ull << 30);
    CHECK_INT(cfg.limits.regions_per_client, 64);
    CHECK_INT(cfg.limits.commit_per_client, 1ull << 30);
    CHECK_INT(cfg.limits.commit_per_user, 2ull << 30);
    CHECK_INT(cfg.limits.commit_total, 4ull << 30);
    CHECK_INT(cfg.limits.clients_per_principal, 64);
    CHECK_INT(cfg.limits.regions_per_user, 256);
    CHECK_INT(cfg.limits.regions_per_principal, 256);
    CHECK_INT(cfg.limits.commit_per_principal, 2ull << 30);
    CHECK_INT(cfg.limits.log_max_bytes, 16ull << 20);
    CHECK_INT(cfg.limits.log_keep, 5);
    shmb_config_free(&cfg);
    CHECK_INT(parse_text("{\"limits\": {\"log_max_bytes\": 65536, "
                         "\"log_keep\": 100}}",
                         &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_INT(cfg.limits.log_max_bytes, 65536);
    CHECK_INT(cfg.limits.log_keep, 100);
    shmb_config_free(&cfg);
    /* A per-principal sub-limit left out follows its per-user limit (so a
     * file that raised the user's limit is not cut down by a default)... */
    CHECK_INT(parse_text("{\"limits\": {\"commit_per_user\": 8589934592, "
                         "\"regions_per_user\": 9, \"clients_per_user\": 7}}",
                         &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_INT(cfg.limits.commit_per_principal, 8ull << 30);
    CHECK_INT(cfg.limits.regions_per_principal, 9);
    CHECK_INT(cfg.limits.clients_per_principal, 7);
    shmb_config_free(&cfg);
    /* ...and one given is kept. */
    CHECK_INT(parse_text("{\"limits\": {\"commit_per_user\": 8589934592, "
                         "\"commit_per_principal\": 65536}}",
                         &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_INT(cfg.limits.commit_per_principal, 65536);
    CHECK_INT(cfg.limits.commit_per_user, 8ull << 30);
    shmb_config_free(&cfg);

    for (i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        snprintf(text, sizeof(text), "{\"limits\": {\"%s\": %s}}", rows[i].key,
                 rows[i].too_big);
        snprintf(want, sizeof(want),
                 "t.json: $.limits.%s: must be an integer from %s", rows[i].key,
                 rows[i].range);
        CHECK_INT(parse_text(text, &cfg, err, sizeof(err)), SHMB_E_INVALID_ARG);
        CHECK_STR(err, want);
    }
    /* Each key lands in its own field, 32 or 64 bits wide. */
    CHECK_INT(parse_text("{\"limits\": {\"max_frame\": 2048, \"commit_total\": "
                         "1125899906842624, \"hello_timeout_ms\": 100, "
                         "\"max_region_size\": 4096}}",
                         &cfg, err, sizeof(err)),
              SHMB_OK);
    CHECK_INT(cfg.limits.max_frame, 2048);
    CHECK_INT(cfg.limits.commit_total, 1ull << 50);
    CHECK_INT(cfg.limits.hello_timeout_ms, 100);
    CHECK_INT(cfg.limits.max_region_size, 4096);
    CHECK_INT(cfg.limits.max_clients, 256);
    shmb_config_free(&cfg);
    CHECK_INT(parse_text("{\"limits\": {\"max_frames\": 2048}}", &cfg, err,
                         sizeof(err)),
              SHMB_E_INVALID_ARG);
    CHECK_STR(err, "t.json: $.limits: unknown key \"max_frames\" (expected one "
                   "of: max_frame, max_clients, clients_per_user, "
                   "clients_per_principal, hello_timeout_ms, frame_timeout_ms, "
                   "write_timeout_ms, max_regions, "
                   "max_region_size, regions_per_client, regions_per_user, "
                   "regions_per_principal, commit_per_client, "
                   "commit_per_user, commit_per_principal, commit_total, "
                   "log_max_bytes, log_keep)");
done:
    shmb_config_free(&cfg);
    return TEST_RESULT;
}
