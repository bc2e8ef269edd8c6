/* URL parser: the first byte picks the filesystem option, the rest is the URL. */
#include "fuzz_common.h"

static const char *const mcf_fuzz_fs[] = { NULL, "auto", "memory", "s3", "file", "local", "http", "oss", "bad name", "" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s;
    mcf_url u;
    int rc;
    const char *fs;
    if (size == 0) return 0;
    fs = mcf_fuzz_fs[data[0] % (sizeof mcf_fuzz_fs / sizeof mcf_fuzz_fs[0])];
    s = (char *)malloc(size);
    if (!s) return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    rc = mcf_url_parse(s, fs, &u);
    if (rc == MCF_OK) {
        size_t n;
        mcf_url again;
        if (!u.scheme[0] || !u.url[0]) mcf_fuzz_die("empty scheme or canonical URL");
        n = strlen(u.path);
        if (strlen(u.basename) > n || strlen(u.dirname) > n) mcf_fuzz_die("dirname/basename longer than the path");
        /* the canonical form of a memory/s3 URL parses to itself */
        if ((strcmp(u.scheme, "memory") == 0 || strcmp(u.scheme, "s3") == 0) && !strchr(u.url, '%')) {
            if (mcf_url_parse(u.url, NULL, &again) != MCF_OK) mcf_fuzz_die("canonical URL does not parse");
            if (strcmp(again.url, u.url) != 0 || strcmp(again.path, u.path) != 0) mcf_fuzz_die("canonical URL is not stable");
            mcf_url_free(&again);
        }
        mcf_url_free(&u);
    } else if (rc >= 0 || mcf_last_error()[0] == '\0') {
        mcf_fuzz_die("failure without code or sentence");
    }
    free(s);
    return 0;
}
