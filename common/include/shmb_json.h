/* SPDX-License-Identifier: MPL-2.0 */
/*
 * shmb_json.h - the one strict JSON reader, shared by the protocol (every
 * request comes from a possibly hostile process) and the configuration
 * (a typo must not change the policy silently).
 *
 * cJSON builds the tree, but it is lenient: it accepts numbers such as
 * "05", "1." or "+1", skips raw control characters as white space, decodes
 * "\u0000" into a NUL that cuts a string short, copies bytes that are not
 * UTF-8 into strings, keeps both values of a repeated key and stops
 * quietly after the first value. This reader checks the text against RFC
 * 8259 first and hands cJSON only documents that mean one thing, so both
 * users reject the same inputs for the same reasons.
 */
#ifndef SHMB_JSON_H
#define SHMB_JSON_H

#include <stddef.h>

struct cJSON;

/* Why a text was refused, in the order the checks run: a text with several
 * problems reports the first kind in this list. */
typedef enum shmb_json_status {
    SHMB_JSON_OK = 0,
    SHMB_JSON_E_NUL,        /* a NUL byte anywhere */
    SHMB_JSON_E_CONTROL,    /* raw control character, "\u0000" or a BOM */
    SHMB_JSON_E_UTF8,       /* bytes that are not UTF-8 (RFC 3629) */
    SHMB_JSON_E_SYNTAX,     /* not JSON (reason says what was expected) */
    SHMB_JSON_E_NUMBER,     /* a number outside the JSON grammar */
    SHMB_JSON_E_NOT_OBJECT, /* valid JSON, but not an object */
    SHMB_JSON_E_TRAILING,   /* bytes other than white space after it */
    SHMB_JSON_E_DUPLICATE,  /* a key repeated in one object, at any depth */
    SHMB_JSON_E_NOMEM
} shmb_json_status;

#define SHMB_JSON_KEY_MAX 64   /* bytes of a duplicate key kept in errors */
#define SHMB_JSON_PATH_MAX 256 /* bytes of a path kept in errors */

typedef struct shmb_json_error {
    shmb_json_status status;
    size_t offset;      /* byte the problem was found at (< len if len > 0) */
    size_t line;        /* 1-based line of offset */
    const char *reason; /* static text for SYNTAX and NUMBER, else "" */
    /* DUPLICATE: the object holding the key ("$", "$.rules[2].match") and
     * the key itself, cut after SHMB_JSON_KEY_MAX bytes. Not sanitized: a
     * key may hold any printable or non-ASCII text. */
    char path[SHMB_JSON_PATH_MAX];
    char key[SHMB_JSON_KEY_MAX + 1];
} shmb_json_error;

/* Parses `text` (len bytes, NUL not needed) as exactly one JSON object.
 * On success returns SHMB_JSON_OK and the tree in *out (free it with
 * cJSON_Delete); otherwise returns the status, also stored in err, and
 * sets *out to NULL. */
shmb_json_status shmb_json_parse_object(const char *text, size_t len,
                                        struct cJSON **out,
                                        shmb_json_error *err);

/* The same, except that when the text's one fault is a repeated key
 * (SHMB_JSON_E_DUPLICATE, the text being otherwise valid) the tree is
 * handed back in *out as well, with every value: the protocol still reads
 * the request's id from it to answer with that id. The caller frees *out
 * whenever it is not NULL. */
shmb_json_status shmb_json_parse_object_keep(const char *text, size_t len,
                                             struct cJSON **out,
                                             shmb_json_error *err);

#endif
