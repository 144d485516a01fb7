/* SPDX-License-Identifier: MPL-2.0 */
/*
 * test_doc_examples.c - replays every example of docs/protocol.md on a real
 * server (the socketpair fixture) and compares each reply exactly, so the
 * document cannot drift from the code.
 *
 * What the walk reads from the document (section "Examples" there says the
 * same for readers):
 *   - the one fenced block whose info string is "json config": the
 *     broker's configuration for the whole walk;
 *   - in every other fenced block, lines that start with an optional
 *     connection letter (A when absent) and an arrow: "→ TEXT" sends TEXT
 *     as one frame, "← TEXT" reads the next frame and compares it. A line
 *     that starts with a space continues the message above it. A block
 *     with arrows holds nothing else (a typo must not hide an example).
 *   - "→ (bytes) 00 01 .." sends raw bytes, "→ (close)" closes the
 *     client's end, "← (closed)" expects the server to close.
 * Replies are compared after removing white space outside strings and
 * masking what legitimately varies: the values of "handle" and
 * "client_id" (numbers) and of "server" (the product's version).
 * Connections are opened on first use, as the same user (ME), in order.
 *
 * A second test holds docs/client.md to client/include/shmb.h and
 * shmb_dataplane.h: every declaration of the headers appears in the
 * document, word for word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixture.h"
#include "harness.h"
#include "shmb_frame.h"
#include "shmb_proto.h"

#if !defined(SHMB_PROTOCOL_MD) || !defined(SHMB_CLIENT_MD) ||                  \
    !defined(SHMB_CLIENT_H)
#error "SHMB_PROTOCOL_MD, SHMB_CLIENT_MD and SHMB_CLIENT_H must be defined"
#endif

#define ARROW_OUT "\xe2\x86\x92" /* → */
#define ARROW_IN "\xe2\x86\x90"  /* ← */
#define MAX_CONNS 26
#define MSG_CAP 70000

typedef struct step {
    char conn;  /* 'A'..'Z' */
    int out;    /* 1: send, 0: expect */
    char *text; /* malloc'd, continuation lines joined */
    int line;   /* in the document, for messages */
} step;

typedef struct walk {
    char *doc;
    char *config;
    step *steps;
    size_t n, cap;
} walk;

static char *read_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long len;

    if (fp == NULL)
        return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (len = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)len + 1)) != NULL) {
        if (fread(buf, 1, (size_t)len, fp) != (size_t)len) {
            free(buf);
            buf = NULL;
        } else {
            buf[len] = '\0';
        }
    }
    fclose(fp);
    return buf;
}

static char *dup_range(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p != NULL) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* Appends " " + text to the last step's message. */
static int step_continue(step *s, const char *text, size_t n)
{
    size_t have = strlen(s->text);
    char *p = realloc(s->text, have + 1 + n + 1);
    if (p == NULL)
        return -1;
    p[have] = ' ';
    memcpy(p + have + 1, text, n);
    p[have + 1 + n] = '\0';
    s->text = p;
    return 0;
}

static int step_add(walk *w, char conn, int out, const char *text, size_t n,
                    int line)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        step *v = realloc(w->steps, cap * sizeof(*v));
        if (v == NULL)
            return -1;
        w->steps = v;
        w->cap = cap;
    }
    w->steps[w->n].conn = conn;
    w->steps[w->n].out = out;
    w->steps[w->n].line = line;
    w->steps[w->n].text = dup_range(text, n);
    if (w->steps[w->n].text == NULL)
        return -1;
    w->n++;
    return 0;
}

/* A directive line: [A-Z]?(→|←) TEXT. Returns 1 and fills the parts, or 0. */
static int directive(const char *s, size_t n, char *conn, int *out,
                     const char **text, size_t *tn)
{
    size_t i = 0;
    *conn = 'A';
    if (n > 0 && s[0] >= 'A' && s[0] <= 'Z') {
        *conn = s[0];
        i = 1;
    }
    if (n - i >= 3 && memcmp(s + i, ARROW_OUT, 3) == 0)
        *out = 1;
    else if (n - i >= 3 && memcmp(s + i, ARROW_IN, 3) == 0)
        *out = 0;
    else
        return 0;
    i += 3;
    while (i < n && s[i] == ' ')
        i++;
    *text = s + i;
    *tn = n - i;
    return 1;
}

/* Reads the config block and every directive, in document order. */
static int parse_doc(walk *w)
{
    const char *p = w->doc, *fence_info = NULL;
    int line = 0, in_fence = 0, config = 0, last_was_step = 0;
    const char *config_start = NULL;

    while (*p != '\0') {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        line++;
        if (n >= 3 && memcmp(p, "```", 3) == 0) {
            if (!in_fence) {
                in_fence = 1;
                fence_info = p + 3;
                config = n - 3 == strlen("json config") &&
                         memcmp(fence_info, "json config", n - 3) == 0;
                config_start = eol ? eol + 1 : p + n;
            } else {
                in_fence = 0;
                if (config) {
                    if (w->config != NULL) {
                        fprintf(stderr, "line %d: a second config block\n",
                                line);
                        return -1;
                    }
                    w->config =
                        dup_range(config_start, (size_t)(p - config_start));
                }
                config = 0;
            }
            last_was_step = 0;
        } else if (in_fence && !config) {
            char conn;
            int out;
            const char *text;
            size_t tn;
            if (directive(p, n, &conn, &out, &text, &tn)) {
                if (step_add(w, conn, out, text, tn, line) != 0)
                    return -1;
                last_was_step = 1;
            } else if (n > 0 && p[0] == ' ' && last_was_step) {
                size_t i = 0;
                while (i < n && p[i] == ' ')
                    i++;
                if (step_continue(&w->steps[w->n - 1], p + i, n - i) != 0)
                    return -1;
            } else if (n > 0 && last_was_step) {
                fprintf(stderr,
                        "line %d: neither an example line (→/←) nor its "
                        "continuation: %.*s\n",
                        line, (int)n, p);
                return -1;
            } else {
                last_was_step = 0;
            }
        }
        p = eol ? eol + 1 : p + n;
    }
    return in_fence ? -1 : 0;
}

/* White space outside strings removed; the values of "handle",
 * "client_id" and "server" replaced by '#'. */
static void normalize(const char *in, char *out, size_t cap)
{
    static const char *const masked_num[] = {"\"handle\":", "\"client_id\":"};
    size_t o = 0, i, k;
    int in_str = 0;
    char *tmp = malloc(strlen(in) + 1);

    if (tmp == NULL) {
        out[0] = '\0';
        return;
    }
    for (i = 0; in[i] != '\0'; i++) {
        char c = in[i];
        if (in_str) {
            tmp[o++] = c;
            if (c == '\\' && in[i + 1] != '\0')
                tmp[o++] = in[++i];
            else if (c == '"')
                in_str = 0;
        } else if (c != ' ' && c != '\n' && c != '\t' && c != '\r') {
            tmp[o++] = c;
            in_str = c == '"';
        }
    }
    tmp[o] = '\0';
    o = 0;
    for (i = 0; tmp[i] != '\0' && o + 1 < cap;) {
        int done = 0;
        for (k = 0; k < 2 && !done; k++) {
            size_t m = strlen(masked_num[k]);
            if (strncmp(tmp + i, masked_num[k], m) == 0 && o + m + 2 < cap) {
                memcpy(out + o, tmp + i, m);
                o += m;
                i += m;
                while (tmp[i] >= '0' && tmp[i] <= '9')
                    i++;
                out[o++] = '#';
                done = 1;
            }
        }
        if (!done && strncmp(tmp + i, "\"server\":\"", 10) == 0 &&
            o + 12 < cap) {
            memcpy(out + o, "\"server\":#", 10);
            o += 10;
            i += 10;
            while (tmp[i] != '\0' && tmp[i] != '"')
                i += tmp[i] == '\\' && tmp[i + 1] != '\0' ? 2 : 1;
            if (tmp[i] == '"')
                i++;
            done = 1;
        }
        if (!done)
            out[o++] = tmp[i++];
    }
    out[o] = '\0';
    free(tmp);
}

static int send_bytes(fixture *f, tclient *c, const char *hex)
{
    uint8_t buf[256];
    size_t n = 0;
    unsigned v;
    int used;

    while (sscanf(hex, " %2x%n", &v, &used) == 1 && n < sizeof(buf)) {
        buf[n++] = (uint8_t)v;
        hex += used;
    }
    return n > 0 ? send_raw(f, c, buf, n) : -1;
}

/* Nothing more arrived on `c` than the document shows. */
static int nothing_pending(fixture *f, tclient *c)
{
    uint8_t b;
    ssize_t n;
    int i;
    for (i = 0; i < 20; i++) {
        uv_run(&f->loop, UV_RUN_NOWAIT);
        uv_sleep(1);
    }
    if (c->have > 0)
        return 0;
    n = read(c->fd, &b, 1);
    return n < 0 && errno == EAGAIN;
}

static int run_step(fixture *f, tclient *conns, const step *s, char *got,
                    char *want, char *norm)
{
    tclient *c = &conns[s->conn - 'A'];
    int r;

    if (c->fd < 0 && connect_me(f, c) != 0) {
        fprintf(stderr, "line %d: cannot connect %c\n", s->line, s->conn);
        return -1;
    }
    if (s->out) {
        if (strcmp(s->text, "(close)") == 0) {
            client_close(c);
            return 0;
        }
        if (strncmp(s->text, "(bytes)", 7) == 0)
            r = send_bytes(f, c, s->text + 7);
        else
            r = send_json(f, c, s->text);
        if (r != 0)
            fprintf(stderr, "line %d: cannot send\n", s->line);
        return r;
    }
    r = recv_reply(f, c, got, MSG_CAP);
    if (strcmp(s->text, "(closed)") == 0) {
        if (r != -1) {
            fprintf(stderr, "line %d: %c is still open (%s)\n", s->line,
                    s->conn, r == 1 ? got : "no frame");
            return -1;
        }
        client_close(c);
        return 0;
    }
    if (r != 1) {
        fprintf(stderr, "line %d: no reply on %c (%s)\n", s->line, s->conn,
                r == 0 ? "timeout" : "closed");
        return -1;
    }
    normalize(s->text, want, MSG_CAP);
    normalize(got, norm, MSG_CAP);
    if (strcmp(want, norm) != 0) {
        fprintf(stderr,
                "line %d: reply on %c differs\n  document: %s\n  server:   "
                "%s\n",
                s->line, s->conn, want, got);
        return -1;
    }
    return 0;
}

int test_server_doc_examples(void)
{
    fixture f = {0};
    walk w = {0};
    tclient *conns = NULL;
    char *got = NULL, *want = NULL, *norm = NULL;
    size_t i, replies = 0, requests = 0;
    int bad = 0;

    conns = malloc(MAX_CONNS * sizeof(*conns));
    got = malloc(MSG_CAP);
    want = malloc(MSG_CAP);
    norm = malloc(MSG_CAP);
    CHECK(conns != NULL && got != NULL && want != NULL && norm != NULL);
    for (i = 0; i < MAX_CONNS; i++)
        conns[i].fd = -1;
    w.doc = read_file(SHMB_PROTOCOL_MD);
    CHECK(w.doc != NULL);
    CHECK(parse_doc(&w) == 0);
    CHECK(w.config != NULL);
    CHECK(fixture_up(&f, w.config) == 0);
    /* As the service does at start (service.c). */
    CHECK(broker_create_config_regions(f.b, got, MSG_CAP) == SHMB_OK);
    for (i = 0; i < w.n; i++) {
        if (run_step(&f, conns, &w.steps[i], got, want, norm) != 0) {
            bad++;
            break; /* the rest depends on this one */
        }
        if (w.steps[i].out)
            requests++;
        else
            replies++;
    }
    CHECK_INT(bad, 0);
    /* The document shows every frame the server sent. */
    for (i = 0; i < MAX_CONNS; i++) {
        if (conns[i].fd >= 0 && !nothing_pending(&f, &conns[i]))
            FAIL("connection %c has a frame the document does not show",
                 (char)('A' + i));
    }
    /* A walk that found nothing proves nothing. */
    CHECK(requests >= 30 && replies >= 30);
    CHECK(fixture_down(&f) == 0);
done:
    for (i = 0; conns != NULL && i < MAX_CONNS; i++)
        client_close(&conns[i]);
    fixture_down(&f);
    for (i = 0; i < w.n; i++)
        free(w.steps[i].text);
    free(w.steps);
    free(w.config);
    free(w.doc);
    free(got);
    free(want);
    free(norm);
    free(conns);
    return TEST_RESULT;
}

/* `s` with every run of white space made one space, and none around
 * punctuation, so that line breaks and alignment do not matter. */
static char *squeeze(const char *s)
{
    char *out = malloc(strlen(s) + 1);
    size_t o = 0;
    int space = 0;

    if (out == NULL)
        return NULL;
    for (; *s != '\0'; s++) {
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r') {
            space = 1;
            continue;
        }
        if (space && o > 0 && strchr("(),;*{}[]", *s) == NULL &&
            strchr("(),;*{}[]", out[o - 1]) == NULL)
            out[o++] = ' ';
        space = 0;
        out[o++] = *s;
    }
    out[o] = '\0';
    return out;
}

/* Every SHMB_API declaration of `header` appears in `doc`, word for word;
 * at least `min` of them (so that a walk that finds nothing fails). */
static void check_api_listed(const char *header, const char *doc, int min)
{
    char *h = read_file(header), *md = read_file(doc);
    char *hs = NULL, *mds = NULL, *decl = NULL;
    const char *p, *end;
    int n = 0;

    CHECK(h != NULL && md != NULL);
    /* Comments out of the header, so that declarations stand alone. */
    for (p = strstr(h, "/*"); p != NULL; p = strstr(p, "/*")) {
        end = strstr(p + 2, "*/");
        CHECK(end != NULL);
        memset((char *)p, ' ', (size_t)(end + 2 - p));
    }
    hs = squeeze(h);
    mds = squeeze(md);
    CHECK(hs != NULL && mds != NULL);
    for (p = strstr(hs, "SHMB_API "); p != NULL;
         p = strstr(p + 1, "SHMB_API ")) {
        end = strchr(p, ';');
        CHECK(end != NULL);
        free(decl);
        decl = dup_range(p, (size_t)(end + 1 - p));
        CHECK(decl != NULL);
        if (strstr(mds, decl) == NULL)
            ADD_FAILURE("%s lacks: %s", doc, decl);
        n++;
    }
    CHECK(n >= min); /* the walk found the header's API */
done:
    free(decl);
    free(hs);
    free(mds);
    free(h);
    free(md);
}

int test_server_doc_client_api(void)
{
    check_api_listed(SHMB_CLIENT_H, SHMB_CLIENT_MD, 18);
    /* The data plane's calls are listed in client.md too (and explained
     * in dataplane.md). */
    check_api_listed(SHMB_DATAPLANE_H, SHMB_CLIENT_MD, 15);
    return TEST_RESULT;
}

/* The next reply on `c`, which must exist and be at most `max` bytes. */
static int reply_within(fixture *f, tclient *c, size_t max, const char *want)
{
    char reply[8192];
    int r = recv_reply(f, c, reply, sizeof(reply));
    if (r != 1 || strlen(reply) > max || strstr(reply, want) == NULL) {
        fprintf(stderr, "reply (%d, %zu bytes): %s\n  want: %s\n", r,
                r == 1 ? strlen(reply) : 0, r == 1 ? reply : "-", want);
        return 0;
    }
    return 1;
}

#define NS "users/" ME "/"

/* What docs/protocol.md claims beyond its examples: the largest frame
 * before hello, a refused hello leaves the deadline running, which values
 * get which codes, where names may have dots and dashes. */
int test_server_doc_claims(void)
{
    fixture f = {0};
    tclient a = TCLIENT_INIT, b = TCLIENT_INIT, r = TCLIENT_INIT;
    char why[160], req[1024], name[SHMB_NAME_MAX + 2];
    fake_peer_spec spec = {ME, NULL, 0, 0, SHMB_E_SYSTEM, why};
    size_t i, n;

    CHECK(fixture_up(&f, "{\"limits\":{\"hello_timeout_ms\":300},"
                         "\"rules\":[{\"name\":\"mine\",\"regions\":"
                         "\"users/${principal}/**\",\"create\":true,"
                         "\"open\":\"rw\"}]}") == 0);
    /* A refusal's reason as long as the platform keeps, all quotes: each
     * is escaped, and the frame stays within 1024 bytes. */
    memset(why, '"', sizeof(why) - 1);
    why[sizeof(why) - 1] = '\0';
    CHECK(connect_spec(&f, &r, &spec) == 0);
    CHECK(reply_within(&f, &r, 1024, "\"code\":\"system_error\""));
    CHECK(closed_by_server(&f, &r));
    /* Request text repeated before hello is cut to 32 characters. */
    CHECK(connect_me(&f, &a) == 0);
    n = (size_t)snprintf(req, sizeof(req), "{\"id\":4294967295,\"op\":\"");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "\\\"");
    snprintf(req + n, sizeof(req) - n, "\"}");
    CHECK(send_json(&f, &a, req) == 0);
    CHECK(reply_within(&f, &a, 1024, "\"code\":\"unknown_op\""));
    n = (size_t)snprintf(req, sizeof(req), "{\"id\":1,\"op\":\"ping\",\"");
    for (i = 0; i < 300; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "\\\\");
    snprintf(req + n, sizeof(req) - n, "\":1}");
    CHECK(send_json(&f, &a, req) == 0);
    CHECK(reply_within(&f, &a, 1024, "unknown field"));
    /* Versions above 31 are accepted and never match. */
    CHECK(
        call(&f, &a, "\"op\":\"hello\",\"versions\":[40,1]", "\"version\":1,"));

    /* A refused hello does not count: the deadline still runs. */
    CHECK(connect_me(&f, &b) == 0);
    CHECK(call(&f, &b,
               "\"op\":\"hello\",\"versions\":[1],\"client\":"
               "\"12345678901234567890123456789012345678901234567890"
               "123456789012345\"",
               "\"code\":\"bad_request\""));
    CHECK(call(&f, &b, "\"op\":\"hello\",\"versions\":[]",
               "field 'versions' is empty"));
    CHECK(reply_within(&f, &b, 1024,
                       "{\"id\":null,\"error\":{\"code\":\"handshake_"
                       "required\""));
    CHECK(closed_by_server(&f, &b));

    /* size: anything but a number is invalid_size too. */
    CHECK(call(&f, &a, "\"op\":\"create\",\"name\":\"" NS "x\",\"size\":null",
               "\"code\":\"invalid_size\""));
    CHECK(call(&f, &a, "\"op\":\"create\",\"name\":\"" NS "x\",\"size\":true",
               "\"code\":\"invalid_size\""));
    CHECK(call(&f, &a, "\"op\":\"create\",\"name\":\"" NS "x\",\"size\":[1]",
               "\"code\":\"invalid_size\""));
    CHECK(call(&f, &a, "\"op\":\"create\",\"name\":\"" NS "x\",\"size\":-1",
               "\"code\":\"invalid_size\""));
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"" NS
               "x\",\"size\":9007199254740992",
               "\"code\":\"invalid_size\""));
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"" NS "x\",\"size\":4.096e3",
               "\"size\":4096,"));
    CHECK(call(&f, &a,
               "\"op\":\"create\",\"name\":\"" NS "y\",\"size\":1,"
               "\"lifetime\":7",
               "\"code\":\"bad_request\""));
    /* Names: 128 bytes, later segments starting with '.', '-', '_', a
     * lone '.' segment; '..' anywhere is refused. */
    memset(name, 'n', sizeof(name));
    memcpy(name, NS, strlen(NS));
    name[SHMB_NAME_MAX] = '\0';
    snprintf(req, sizeof(req), "\"op\":\"stat\",\"name\":\"%s\"", name);
    CHECK(call(&f, &a, req, "\"code\":\"not_found\""));
    name[SHMB_NAME_MAX] = 'n';
    name[SHMB_NAME_MAX + 1] = '\0';
    snprintf(req, sizeof(req), "\"op\":\"stat\",\"name\":\"%s\"", name);
    CHECK(call(&f, &a, req, "field 'name' is longer than 128 bytes"));
    CHECK(call(&f, &a, "\"op\":\"stat\",\"name\":\"" NS ".x\"", "not_found"));
    CHECK(call(&f, &a, "\"op\":\"stat\",\"name\":\"" NS "-x\"", "not_found"));
    CHECK(call(&f, &a, "\"op\":\"stat\",\"name\":\"" NS "_x\"", "not_found"));
    CHECK(call(&f, &a, "\"op\":\"stat\",\"name\":\"" NS "./x\"", "not_found"));
    CHECK(call(&f, &a, "\"op\":\"stat\",\"name\":\"" NS "x..\"",
               "name contains '..'"));
    CHECK(call(&f, &a, "\"op\":\"stat\",\"name\":\"" NS "x/\"",
               "empty path segment"));
    CHECK(fixture_down(&f) == 0);
done:
    client_close(&a);
    client_close(&b);
    client_close(&r);
    fixture_down(&f);
    return TEST_RESULT;
}
