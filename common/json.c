/* SPDX-License-Identifier: MPL-2.0 */
/*
 * json.c - the strict JSON reader (see shmb_json.h): a byte check, a
 * UTF-8 check, a grammar check that knows where it stopped, then cJSON for the
 * tree and a walk of the tree for repeated keys.
 *
 * Keys are compared after cJSON has decoded them, so "a" and "\u0061" are
 * the same key - a raw-text comparison would let a hostile peer smuggle a
 * second value past the check.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "shmb_json.h"

/* cJSON's own limit: deeper text is refused here first, with a position. */
#define DEPTH_MAX CJSON_NESTING_LIMIT
/* Objects up to this many keys are checked pairwise, without allocating. */
#define SMALL_OBJECT 16

typedef struct scanner {
    const char *s;
    size_t len;
    size_t pos;
    unsigned depth;
    shmb_json_error *err;
} scanner;

static shmb_json_status set_error(shmb_json_error *err, const char *text,
                                  size_t len, shmb_json_status st, size_t at,
                                  const char *reason)
{
    size_t i;
    /* At the end of the text, point at its last byte (as cJSON does). */
    if (at >= len)
        at = len > 0 ? len - 1 : 0;
    err->status = st;
    err->offset = at;
    err->line = 1;
    for (i = 0; i < at; i++)
        err->line += text[i] == '\n';
    err->reason = reason;
    return st;
}

/* ---- bytes ------------------------------------------------------------ */

/* JSON forbids raw control characters; cJSON lets some through (and
 * skips them as white space), and it decodes "\u0000" into a NUL that
 * would silently cut a string short. Reject both, and a BOM. Returns 0 if
 * clean, or the offending offset + 1. */
static size_t control_check(const char *text, size_t len)
{
    size_t i;
    int in_string = 0;
    if (len >= 3 && (unsigned char)text[0] == 0xef &&
        (unsigned char)text[1] == 0xbb && (unsigned char)text[2] == 0xbf)
        return 1;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 && !(!in_string && (c == '\t' || c == '\n' || c == '\r')))
            return i + 1;
        if (!in_string) {
            in_string = c == '"';
            continue;
        }
        if (c == '"') {
            in_string = 0;
        } else if (c == '\\' && i + 1 < len) {
            if (text[i + 1] == 'u' && i + 5 < len &&
                memcmp(text + i + 2, "0000", 4) == 0)
                return i + 1;
            i++; /* skip the escaped character */
        }
    }
    return 0;
}

/* RFC 8259 text is UTF-8 (RFC 3629): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no cut sequences. cJSON copies string bytes as
 * they are, so without this check invalid bytes would reach names, log
 * lines and messages. Returns 0 if valid, or the offending offset + 1. */
static size_t utf8_check(const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0, n, k;
    unsigned lo, hi;

    while (i < len) {
        unsigned c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        lo = 0x80;
        hi = 0xbf;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            if (c == 0xe0)
                lo = 0xa0; /* overlong */
            else if (c == 0xed)
                hi = 0x9f; /* U+D800..U+DFFF */
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            if (c == 0xf0)
                lo = 0x90; /* overlong */
            else if (c == 0xf4)
                hi = 0x8f; /* above U+10FFFF */
        } else {
            return i + 1; /* a continuation byte, 0xc0, 0xc1 or 0xf5.. */
        }
        if (len - i <= n)
            return i + 1;
        for (k = 1; k <= n; k++) {
            unsigned b = s[i + k];
            if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf))
                return i + 1;
        }
        i += n + 1;
    }
    return 0;
}

/* ---- grammar (RFC 8259) ----------------------------------------------- */

static int fail(scanner *sc, shmb_json_status st, size_t at, const char *why)
{
    set_error(sc->err, sc->s, sc->len, st, at, why);
    return -1;
}

static int peek(const scanner *sc)
{
    return sc->pos < sc->len ? (unsigned char)sc->s[sc->pos] : -1;
}

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static void skip_ws(scanner *sc)
{
    int c;
    while ((c = peek(sc)) == ' ' || c == '\t' || c == '\n' || c == '\r')
        sc->pos++;
}

static int hex4(const scanner *sc, size_t at, unsigned *out)
{
    unsigned v = 0;
    size_t i;
    if (at + 4 > sc->len)
        return 0;
    for (i = 0; i < 4; i++) {
        char c = sc->s[at + i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

/* "\uXXXX" at sc->pos (the backslash). Surrogates must come in pairs:
 * cJSON refuses a lone one, and so does Unicode. */
static int scan_unicode_escape(scanner *sc)
{
    size_t at = sc->pos;
    unsigned u, lo;
    if (!hex4(sc, at + 2, &u))
        return fail(sc, SHMB_JSON_E_SYNTAX, at, "\\u needs four hex digits");
    sc->pos += 6;
    if (u >= 0xdc00 && u <= 0xdfff)
        return fail(sc, SHMB_JSON_E_SYNTAX, at, "lone low surrogate");
    if (u >= 0xd800 && u <= 0xdbff) {
        if (sc->pos + 1 >= sc->len || sc->s[sc->pos] != '\\' ||
            sc->s[sc->pos + 1] != 'u' || !hex4(sc, sc->pos + 2, &lo) ||
            lo < 0xdc00 || lo > 0xdfff)
            return fail(sc, SHMB_JSON_E_SYNTAX, at, "lone high surrogate");
        sc->pos += 6;
    }
    return 0;
}

static int scan_string(scanner *sc)
{
    size_t start = sc->pos++; /* the opening quote */
    int c;
    for (;;) {
        c = peek(sc);
        if (c < 0)
            return fail(sc, SHMB_JSON_E_SYNTAX, start, "unterminated string");
        if (c == '"') {
            sc->pos++;
            return 0;
        }
        if (c < 0x20)
            return fail(sc, SHMB_JSON_E_CONTROL, sc->pos,
                        "control character in a string");
        if (c != '\\') {
            sc->pos++;
            continue;
        }
        c = sc->pos + 1 < sc->len ? (unsigned char)sc->s[sc->pos + 1] : -1;
        if (c == 'u') {
            if (scan_unicode_escape(sc) != 0)
                return -1;
        } else if (c > 0 && strchr("\"\\/bfnrt", c) != NULL) {
            sc->pos += 2;
        } else {
            return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos, "invalid escape");
        }
    }
}

static void scan_digits(scanner *sc)
{
    while (is_digit(peek(sc)))
        sc->pos++;
}

/* number = [ "-" ] ( "0" / [1-9] *DIGIT ) [ "." 1*DIGIT ]
 *          [ ( "e" / "E" ) [ "+" / "-" ] 1*DIGIT ]                       */
static int scan_number(scanner *sc)
{
    size_t start = sc->pos;
    int c;
    if (peek(sc) == '-')
        sc->pos++;
    c = peek(sc);
    if (!is_digit(c))
        return fail(sc, SHMB_JSON_E_NUMBER, start,
                    "a '-' must be followed by a digit");
    sc->pos++;
    if (c == '0' && is_digit(peek(sc)))
        return fail(sc, SHMB_JSON_E_NUMBER, start,
                    "a number must not have a leading zero");
    scan_digits(sc);
    if (peek(sc) == '.') {
        sc->pos++;
        if (!is_digit(peek(sc)))
            return fail(sc, SHMB_JSON_E_NUMBER, start,
                        "a '.' must be followed by a digit");
        scan_digits(sc);
    }
    c = peek(sc);
    if (c == 'e' || c == 'E') {
        sc->pos++;
        c = peek(sc);
        if (c == '+' || c == '-')
            sc->pos++;
        if (!is_digit(peek(sc)))
            return fail(sc, SHMB_JSON_E_NUMBER, start,
                        "an exponent must have digits");
        scan_digits(sc);
    }
    /* "0x1f", "1.5.2", "1e5e3", "Infinity"-like tails. */
    c = peek(sc);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
        c == '.' || c == '+' || c == '-')
        return fail(sc, SHMB_JSON_E_NUMBER, start,
                    "a number must not go on with this character");
    return 0;
}

static int scan_literal(scanner *sc, const char *word)
{
    size_t n = strlen(word);
    if (sc->len - sc->pos < n || memcmp(sc->s + sc->pos, word, n) != 0)
        return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos, "unexpected character");
    sc->pos += n;
    return 0;
}

static int scan_value(scanner *sc);

/* Scans '{' ... '}' or '[' ... ']' with `close` the closing bracket. */
static int scan_container(scanner *sc, char close)
{
    int c;
    if (sc->depth >= DEPTH_MAX)
        return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos, "nested too deeply");
    sc->depth++;
    sc->pos++;
    skip_ws(sc);
    if (peek(sc) == close) {
        sc->pos++;
        sc->depth--;
        return 0;
    }
    for (;;) {
        if (close == '}') {
            if (peek(sc) != '"')
                return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos,
                            "expected a key in quotes");
            if (scan_string(sc) != 0)
                return -1;
            skip_ws(sc);
            if (peek(sc) != ':')
                return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos,
                            "expected ':' after a key");
            sc->pos++;
            skip_ws(sc);
        }
        if (scan_value(sc) != 0)
            return -1;
        skip_ws(sc);
        c = peek(sc);
        if (c == close) {
            sc->pos++;
            sc->depth--;
            return 0;
        }
        if (c != ',')
            return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos,
                        close == '}' ? "expected ',' or '}'"
                                     : "expected ',' or ']'");
        sc->pos++;
        skip_ws(sc);
    }
}

static int scan_value(scanner *sc)
{
    int c = peek(sc);
    switch (c) {
    case '{':
        return scan_container(sc, '}');
    case '[':
        return scan_container(sc, ']');
    case '"':
        return scan_string(sc);
    case 't':
        return scan_literal(sc, "true");
    case 'f':
        return scan_literal(sc, "false");
    case 'n':
        return scan_literal(sc, "null");
    case '+':
    case '.':
        if (sc->pos + 1 < sc->len && is_digit(sc->s[sc->pos + 1]))
            return fail(sc, SHMB_JSON_E_NUMBER, sc->pos,
                        "a number starts with '-' or a digit");
        break;
    default:
        if (c == '-' || is_digit(c))
            return scan_number(sc);
        break;
    }
    return fail(sc, SHMB_JSON_E_SYNTAX, sc->pos,
                c < 0 ? "unexpected end" : "unexpected character");
}

/* ---- repeated keys ---------------------------------------------------- */

typedef struct key_ref {
    const char *key;
    size_t index;
} key_ref;

static int key_ref_cmp(const void *a, const void *b)
{
    const key_ref *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    if (c != 0)
        return c;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The first key, in document order, that appears again in `obj`; NULL if
 * none. Large objects are sorted (n log n), so a hostile object with many
 * keys costs no more than reading it. */
static const char *first_repeated_key(const cJSON *obj, int *nomem)
{
    const cJSON *a, *b;
    key_ref *refs;
    const char *found = NULL;
    size_t n = 0, i, best = (size_t)-1;

    for (a = obj->child; a != NULL; a = a->next)
        n++;
    if (n <= SMALL_OBJECT) {
        for (a = obj->child; a != NULL; a = a->next) {
            for (b = a->next; b != NULL; b = b->next) {
                if (strcmp(a->string, b->string) == 0)
                    return a->string;
            }
        }
        return NULL;
    }
    refs = malloc(n * sizeof(*refs));
    if (refs == NULL) {
        *nomem = 1;
        return NULL;
    }
    for (i = 0, a = obj->child; a != NULL; a = a->next, i++) {
        refs[i].key = a->string;
        refs[i].index = i;
    }
    qsort(refs, n, sizeof(*refs), key_ref_cmp);
    /* Within a run of equal keys the first has the smallest index. */
    for (i = 1; i < n; i++) {
        if (strcmp(refs[i].key, refs[i - 1].key) == 0) {
            size_t first = i - 1;
            while (first > 0 && strcmp(refs[first - 1].key, refs[i].key) == 0)
                first--;
            if (refs[first].index < best) {
                best = refs[first].index;
                found = refs[first].key;
            }
        }
    }
    free(refs);
    return found;
}

static void path_append(char *path, size_t at, const cJSON *parent,
                        const cJSON *item, size_t index)
{
    char *p = path + at;
    size_t cap = SHMB_JSON_PATH_MAX - at;
    if (at >= SHMB_JSON_PATH_MAX - 1)
        return;
    if (cJSON_IsObject(parent)) {
        size_t n = strlen(item->string);
        if (n + 2 > cap)
            n = cap - 2;
        p[0] = '.';
        memcpy(p + 1, item->string, n);
        p[n + 1] = '\0';
    } else {
        char num[24];
        size_t i = sizeof(num) - 1, n;
        num[i] = '\0';
        do {
            num[--i] = (char)('0' + index % 10);
            index /= 10;
        } while (index > 0);
        n = sizeof(num) - 1 - i;
        if (n + 3 > cap)
            return;
        p[0] = '[';
        memcpy(p + 1, num + i, n);
        p[n + 1] = ']';
        p[n + 2] = '\0';
    }
}

/* Pre-order, so the reported object is the first one in the text. */
static shmb_json_status check_keys(const cJSON *node, char *path,
                                   shmb_json_error *err)
{
    const cJSON *child;
    size_t at = strlen(path), index = 0;
    shmb_json_status st;

    if (cJSON_IsObject(node)) {
        int nomem = 0;
        const char *dup = first_repeated_key(node, &nomem);
        if (nomem)
            return SHMB_JSON_E_NOMEM;
        if (dup != NULL) {
            size_t n = strlen(dup);
            if (n > SHMB_JSON_KEY_MAX)
                n = SHMB_JSON_KEY_MAX;
            memcpy(err->key, dup, n);
            err->key[n] = '\0';
            memcpy(err->path, path, at + 1);
            return SHMB_JSON_E_DUPLICATE;
        }
    }
    for (child = node->child; child != NULL; child = child->next, index++) {
        if (!cJSON_IsObject(child) && !cJSON_IsArray(child))
            continue;
        path_append(path, at, node, child, index);
        st = check_keys(child, path, err);
        path[at] = '\0';
        if (st != SHMB_JSON_OK)
            return st;
    }
    return SHMB_JSON_OK;
}

/* ---- the reader ------------------------------------------------------- */

static shmb_json_status parse_object(const char *text, size_t len,
                                     int keep_on_duplicate, cJSON **out,
                                     shmb_json_error *err)
{
    scanner sc;
    cJSON *root;
    const char *end = NULL;
    char path[SHMB_JSON_PATH_MAX] = "$";
    size_t at;
    shmb_json_status st;

    *out = NULL;
    memset(err, 0, sizeof(*err));
    err->reason = "";
    err->line = 1;
    if (len > 0 && memchr(text, 0, len) != NULL)
        return set_error(err, text, len, SHMB_JSON_E_NUL,
                         (size_t)((const char *)memchr(text, 0, len) - text),
                         "");
    at = control_check(text, len);
    if (at != 0)
        return set_error(err, text, len, SHMB_JSON_E_CONTROL, at - 1, "");
    at = utf8_check(text, len);
    if (at != 0)
        return set_error(err, text, len, SHMB_JSON_E_UTF8, at - 1, "");

    memset(&sc, 0, sizeof(sc));
    sc.s = text;
    sc.len = len;
    sc.err = err;
    skip_ws(&sc);
    at = sc.pos;
    if (scan_value(&sc) != 0)
        return err->status;
    if (text[at] != '{')
        return set_error(err, text, len, SHMB_JSON_E_NOT_OBJECT, at, "");
    skip_ws(&sc);
    if (sc.pos != len)
        return set_error(err, text, len, SHMB_JSON_E_TRAILING, sc.pos, "");

    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (root == NULL) {
        /* The grammar was checked, so this is cJSON running out of memory
         * (or refusing something the grammar allows): report it where
         * cJSON stopped, as a syntax error, as before this check existed. */
        at = (end != NULL && end >= text) ? (size_t)(end - text) : 0;
        return set_error(err, text, len, SHMB_JSON_E_SYNTAX, at,
                         "invalid JSON");
    }
    st = check_keys(root, path, err);
    if (st != SHMB_JSON_OK) {
        err->status = st;
        if (st == SHMB_JSON_E_DUPLICATE && keep_on_duplicate)
            *out = root;
        else
            cJSON_Delete(root);
        return st;
    }
    *out = root;
    return SHMB_JSON_OK;
}

shmb_json_status shmb_json_parse_object(const char *text, size_t len,
                                        cJSON **out, shmb_json_error *err)
{
    return parse_object(text, len, 0, out, err);
}

shmb_json_status shmb_json_parse_object_keep(const char *text, size_t len,
                                             cJSON **out, shmb_json_error *err)
{
    return parse_object(text, len, 1, out, err);
}
