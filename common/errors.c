/* SPDX-License-Identifier: MPL-2.0 */
/*
 * errors.c - names and messages for shmb_err, access modes and lifetimes,
 * all generated from the tables in shmb_types.h (SHMB_ERRNO_MAP and
 * friends), so a value and its name cannot drift.
 */
#include <string.h>

#include "shmb_types.h"

const char *shmb_strerror(int err)
{
    switch (err) {
#define SHMB_XX(suffix, value, name, message)                                  \
    case value:                                                                \
        return message;
        SHMB_ERRNO_MAP(SHMB_XX)
#undef SHMB_XX
    default:
        return "unknown error";
    }
}

const char *shmb_err_name(int err)
{
    switch (err) {
#define SHMB_XX(suffix, value, name, message)                                  \
    case value:                                                                \
        return name;
        SHMB_ERRNO_MAP(SHMB_XX)
#undef SHMB_XX
    default:
        return "unknown";
    }
}

struct name_value {
    const char *name;
    int value;
    int requestable;
};

static const struct name_value err_names[] = {
#define SHMB_XX(suffix, value, name, message) {name, value, 1},
    SHMB_ERRNO_MAP(SHMB_XX)
#undef SHMB_XX
};

static const struct name_value access_names[] = {
#define SHMB_XX(suffix, value, name, requestable) {name, value, requestable},
    SHMB_ACCESS_MAP(SHMB_XX)
#undef SHMB_XX
};

static const struct name_value lifetime_names[] = {
#define SHMB_XX(suffix, value, name, requestable) {name, value, requestable},
    SHMB_LIFETIME_MAP(SHMB_XX)
#undef SHMB_XX
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The value of a requestable `name` in `t`, or `missing`. */
static int value_of(const struct name_value *t, size_t n, const char *name,
                    int missing)
{
    size_t i;
    if (name == NULL)
        return missing;
    for (i = 0; i < n; i++) {
        if (t[i].requestable && strcmp(t[i].name, name) == 0)
            return t[i].value;
    }
    return missing;
}

static const char *name_of(const struct name_value *t, size_t n, int value,
                           const char *missing)
{
    size_t i;
    for (i = 0; i < n; i++) {
        if (t[i].value == value)
            return t[i].name;
    }
    return missing;
}

int shmb_err_from_name(const char *name)
{
    return value_of(err_names, COUNT(err_names), name, SHMB_E_PROTOCOL);
}

const char *shmb_access_name(shmb_access a)
{
    return name_of(access_names, COUNT(access_names), (int)a, "none");
}

int shmb_access_from_name(const char *s)
{
    return value_of(access_names, COUNT(access_names), s, -1);
}

const char *shmb_lifetime_name(shmb_lifetime l)
{
    return name_of(lifetime_names, COUNT(lifetime_names), (int)l, "unknown");
}

int shmb_lifetime_from_name(const char *s)
{
    return value_of(lifetime_names, COUNT(lifetime_names), s, -1);
}
