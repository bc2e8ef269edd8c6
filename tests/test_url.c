/* [07] URL parser: fsspec-style splitting, table-driven. */
#include "mcf_test.h"

typedef struct url_case {
    const char *in, *fs;
    int rc;
    const char *scheme, *host; int port;
    const char *path, *query, *dirname, *basename, *canon;
} url_case;

static const url_case cases[] = {
    /* plain paths stay as given */
    {"model.pt", NULL, 0, "file", "", 0, "model.pt", "", "", "model.pt", "model.pt"},
    {"dir/sub/model.pt", NULL, 0, "file", "", 0, "dir/sub/model.pt", "", "dir/sub", "model.pt", "dir/sub/model.pt"},
    {"/abs/dir/x.safetensors", NULL, 0, "file", "", 0, "/abs/dir/x.safetensors", "", "/abs/dir", "x.safetensors", "/abs/dir/x.safetensors"},
    {"/top.pt", NULL, 0, "file", "", 0, "/top.pt", "", "/", "top.pt", "/top.pt"},
    /* file URLs: percent-decoded, %2F kept inside its segment */
    {"file:///abs/f.pt", NULL, 0, "file", "", 0, "/abs/f.pt", "", "/abs", "f.pt", "file:///abs/f.pt"},
    {"file://localhost/abs/f.pt", NULL, 0, "file", "", 0, "/abs/f.pt", "", "/abs", "f.pt", "file:///abs/f.pt"},
    {"FILE://LocalHost/x", NULL, 0, "file", "", 0, "/x", "", "/", "x", "file:///x"},
    {"file:///a/b%20c", NULL, 0, "file", "", 0, "/a/b c", "", "/a", "b c", "file:///a/b c"},
    {"file:///d/a%2Fb.pt", NULL, 0, "file", "", 0, "/d/a%2Fb.pt", "", "/d", "a%2Fb.pt", "file:///d/a%2Fb.pt"},
    {"file:///d/%C3%A9t%C3%A9", NULL, 0, "file", "", 0, "/d/\xc3\xa9t\xc3\xa9", "", "/d", "\xc3\xa9t\xc3\xa9", "file:///d/\xc3\xa9t\xc3\xa9"},
    /* memory: "/"-rooted, both spellings are the same object */
    {"memory://a/b", NULL, 0, "memory", "", 0, "/a/b", "", "/a", "b", "memory:///a/b"},
    {"memory:///a/b", NULL, 0, "memory", "", 0, "/a/b", "", "/a", "b", "memory:///a/b"},
    {"memory://kv", NULL, 0, "memory", "", 0, "/kv", "", "/", "kv", "memory:///kv"},
    /* s3: bucket + key */
    {"s3://bucket/deep/key.pt", NULL, 0, "s3", "bucket", 0, "deep/key.pt", "", "deep", "key.pt", "s3://bucket/deep/key.pt"},
    {"s3://b-1/k", NULL, 0, "s3", "b-1", 0, "k", "", "", "k", "s3://b-1/k"},
    /* http(s) */
    {"http://h:8080/p?q=1", NULL, 0, "http", "h", 8080, "/p", "q=1", "/", "p", "http://h:8080/p?q=1"},
    {"HTTPS://Example.COM/a/b.safetensors", NULL, 0, "https", "example.com", 0, "/a/b.safetensors", "", "/a", "b.safetensors", "https://example.com/a/b.safetensors"},
    {"http://[::1]:9000/x", NULL, 0, "http", "::1", 9000, "/x", "", "/", "x", "http://[::1]:9000/x"},
    {"http://h", NULL, 0, "http", "h", 0, "/", "", "/", "", "http://h/"},
    {"http://h/p#frag", NULL, 0, "http", "h", 0, "/p", "", "/", "p", "http://h/p"},
    /* the filesystem option overrides the scheme of a bare path */
    {"x/y", "memory", 0, "memory", "", 0, "/x/y", "", "/x", "y", "memory:///x/y"},
    {"x/y", "MEMORY", 0, "memory", "", 0, "/x/y", "", "/x", "y", "memory:///x/y"},
    {"file:///x", "file", 0, "file", "", 0, "/x", "", "/", "x", "file:///x"},
    {"rel/p.pt", "local", 0, "file", "", 0, "rel/p.pt", "", "rel", "p.pt", "rel/p.pt"},
    {"memory://m", "s3", 0, "memory", "", 0, "/m", "", "/", "m", "memory:///m"},
    {"bucket/k.pt", "s3", 0, "s3", "bucket", 0, "k.pt", "", "", "k.pt", "s3://bucket/k.pt"},
    {"x", "auto", 0, "file", "", 0, "x", "", "", "x", "x"},
    /* Windows-style paths: backslashes separate, C: is no scheme */
    {"C:\\dir\\f.pt", NULL, 0, "file", "", 0, "C:\\dir\\f.pt", "", "C:\\dir", "f.pt", "C:\\dir\\f.pt"},
    {"dir\\sub\\f.pt", NULL, 0, "file", "", 0, "dir\\sub\\f.pt", "", "dir\\sub", "f.pt", "dir\\sub\\f.pt"},
    {"C://dir/f.pt", NULL, 0, "file", "", 0, "C://dir/f.pt", "", "C://dir", "f.pt", "C://dir/f.pt"},
    /* a user scheme: everything after :// is the path */
    {"oss://bkt/obj", NULL, 0, "oss", "", 0, "bkt/obj", "", "bkt", "obj", "oss://bkt/obj"},
    /* garbage */
    {"", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"://x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"ht tp://x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"1http://x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"http://", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"http://h:99999/x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"http://h:/x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"http://[::1/x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"http://user:pw@h/x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"http://h/a b", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"s3://", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"s3://bucket", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"s3:///key", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"memory://", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"file://", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
#ifndef _WIN32
    {"file://otherhost/x", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
#else
    /* Windows (RFC 8089 appendix E): drive letters and UNC paths */
    {"file:///C:/dir/x.pt", NULL, 0, "file", "", 0, "C:\\dir\\x.pt", "", "C:\\dir", "x.pt", "file:///C:/dir/x.pt"},
    {"file://localhost/c:/a%20b/x.pt", NULL, 0, "file", "", 0, "c:\\a b\\x.pt", "", "c:\\a b", "x.pt", "file:///c:/a b/x.pt"},
    {"file://server/share/d/x.pt", NULL, 0, "file", "", 0, "\\\\server\\share\\d\\x.pt", "", "\\\\server\\share\\d", "x.pt", "file://server/share/d/x.pt"},
    {"file:////server/share/x.pt", NULL, 0, "file", "", 0, "\\\\server\\share\\x.pt", "", "\\\\server\\share", "x.pt", "file://server/share/x.pt"},
    {"file://otherhost/x", NULL, 0, "file", "", 0, "\\\\otherhost\\x", "", "\\\\otherhost", "x", "file://otherhost/x"},
    {"\\\\server\\share\\x.pt", NULL, 0, "file", "", 0, "\\\\server\\share\\x.pt", "", "\\\\server\\share", "x.pt", "\\\\server\\share\\x.pt"},
#endif
    {"file:///a%zzb", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"file:///a%2", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"file:///a%00b", NULL, MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
    {"x", "bad name", MCF_INVALID_PARAMS, 0, 0, 0, 0, 0, 0, 0, 0},
};

static int url_table(void)
{
    size_t i;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const url_case *c = &cases[i];
        mcf_url u;
        int rc;
        memset(&u, 0x5a, sizeof u);
        rc = mcf_url_parse(c->in, c->fs, &u);
        if (rc != c->rc) {
            fprintf(stderr, "  case %lu \"%s\" fs=%s: rc %s (%s), expected %s\n", (unsigned long)i, c->in, c->fs ? c->fs : "NULL",
                    mcf_result_name(rc), mcf_last_error(), mcf_result_name(c->rc));
            return 1;
        }
        if (rc != MCF_OK) { MCF_CHECK(strlen(mcf_last_error()) > 0); continue; }
#define FIELD(f) if (strcmp(u.f, c->f) != 0) { \
            fprintf(stderr, "  case %lu \"%s\": " #f " is \"%s\", expected \"%s\"\n", (unsigned long)i, c->in, u.f, c->f); \
            mcf_url_free(&u); return 1; }
        FIELD(scheme) FIELD(host) FIELD(path) FIELD(query) FIELD(dirname) FIELD(basename)
        if (strcmp(u.url, c->canon) != 0) { fprintf(stderr, "  case %lu: url \"%s\" != \"%s\"\n", (unsigned long)i, u.url, c->canon); mcf_url_free(&u); return 1; }
        if (u.port != c->port) { fprintf(stderr, "  case %lu: port %d != %d\n", (unsigned long)i, u.port, c->port); mcf_url_free(&u); return 1; }
        mcf_url_free(&u);
    }
    return 0;
}

static int url_error_messages(void)
{
    mcf_url u;
    MCF_CHECK_RC(mcf_url_parse("", NULL, &u), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("empty URL");
    MCF_CHECK_RC(mcf_url_parse("http://user:pw@h/x", NULL, &u), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("credentials");
    MCF_CHECK(strstr(mcf_last_error(), "pw") != NULL);   /* the URL the caller gave is named */
    MCF_CHECK_RC(mcf_url_parse("s3://bucket", NULL, &u), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("missing object key");
    MCF_CHECK_RC(mcf_url_parse(NULL, NULL, &u), MCF_INVALID_PARAMS);
    mcf_url_free(NULL);
    return 0;
}

static int url_unknown_scheme_names_registered(void)
{
    void *d; size_t n;
    MCF_CHECK_RC(mcf_read_bytes("gopher://h/x", &d, &n, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("unknown filesystem \"gopher\"");
    MCF_CHECK_ERR("registered: file, memory");
#ifndef MOONCAKE_FILEIO_CURL
    MCF_CHECK_RC(mcf_read_bytes("s3://b/k", &d, &n, NULL), MCF_INVALID_PARAMS);
    MCF_CHECK_ERR("MOONCAKE_FILEIO_CURL");
#endif
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(url_table), MCF_TEST(url_error_messages), MCF_TEST(url_unknown_scheme_names_registered))
