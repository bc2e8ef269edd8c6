/* mcf - command-line tool for mooncake_fileio.h
 *
 *   mcf inspect URL [--json]          format, tensors (dtype, shape, bytes, offset), metadata,
 *                                     a torch file's non-tensor values (epoch, lr, ...)
 *   mcf convert SRC DST [--format F]  rewrite every tensor in another format (--strict: fail
 *                                     rather than drop a torch file's non-tensor values)
 *   mcf cp SRC DST                    copy the bytes of one object between any two URLs
 *   mcf verify URL                    full validation plus zip CRCs, reading every tensor
 *   mcf get URL NAME -o FILE          raw little-endian bytes of one tensor
 *   mcf bench [ARGS...]               runs build/bench/bench (make bench) when it has been built
 *
 * Exit status: 0 ok, 1 the operation failed (the reason is printed as
 * "mcf: " + mcf_last_error()), 2 bad usage. A progress bar (bytes, rate, ETA)
 * is drawn on stderr when stderr is a terminal and a transfer takes longer
 * than half a second; piped output carries nothing extra.
 *
 * Built like any user program: one translation unit that defines
 * MOONCAKE_FILEIO_IMPLEMENTATION before including the header (first, so the
 * header can select POSIX). With -DMOONCAKE_FILEIO_CURL -lcurl every command
 * also takes http(s):// and s3:// URLs.
 *
 * license: Apache-2.0 (see LICENSE) */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* ---- options shared by every command ---------------------------------- */

#define MAX_STORAGE_OPTIONS 32

typedef struct cli {
    const char *cmd;                          /* "inspect", ... for messages */
    const char *pos[4];                       /* positional arguments */
    int npos;
    int json, quiet, no_overwrite;
    int strict;                               /* convert: non-tensor values are an error */
    const char *format;                       /* --format */
    const char *from;                         /* convert: --from */
    const char *output;                       /* get: -o */
    unsigned flags;
    const char *storage[2 * MAX_STORAGE_OPTIONS + 1];
    char *storage_buf[MAX_STORAGE_OPTIONS];
    int nstorage;
} cli;

static void cli_free(cli *c)
{
    int i;
    for (i = 0; i < c->nstorage; i++) free(c->storage_buf[i]);
}

/* Prints "mcf CMD: WHAT 'ARG'" and a pointer to the help; returns 2. */
static int usage_error(const char *cmd, const char *what, const char *arg)
{
    fprintf(stderr, "mcf%s%s: %s", cmd ? " " : "", cmd ? cmd : "", what);
    if (arg) fprintf(stderr, " '%s'", arg);
    fprintf(stderr, "\nTry 'mcf %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

/* Reports the library's failure sentence and returns the exit status. */
static int failed(void)
{
    fprintf(stderr, "mcf: %s\n", mcf_last_error());
    return EXIT_FAILED;
}

static void options_init(const cli *c, mcf_options *o, int for_output)
{
    memset(o, 0, sizeof *o);
    o->flags = c->flags;
    if (c->nstorage) o->storage_options = c->storage;
    if (for_output && c->no_overwrite) o->flags |= MCF_NO_OVERWRITE;
}

/* Checks a format name with the library's own parser: saving nothing to
 * memory fails with INVALID_PARAMS only for an unknown name. */
static int check_format(const char *cmd, const char *name)
{
    mcf_options o;
    void *buf = NULL;
    size_t len = 0;
    int rc;
    char lower[32];
    size_t i;
    for (i = 0; name[i] && i + 1 < sizeof lower; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[i] = 0;
    if (strcmp(lower, "auto") == 0 || !*name) return EXIT_OK;
    memset(&o, 0, sizeof o);
    o.format = name;
    rc = mcf_save_to_memory(NULL, 0, &o, &buf, &len);
    mcf_free(buf);
    if (rc == MCF_INVALID_PARAMS) {
        fprintf(stderr, "mcf %s: %s\nTry 'mcf %s --help'.\n", cmd, mcf_last_error(), cmd);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Parses argv[first..] into c. Known options: those in `allowed`, a
 * space-separated list. Returns EXIT_OK, EXIT_USAGE, or -1 for --help. */
static int parse_args(cli *c, int argc, char **argv, int first, const char *allowed, int max_pos)
{
    int i, only_pos = 0;
    for (i = first; i < argc; i++) {
        const char *a = argv[i];
        char opt[32];
        const char *val = NULL;
        if (only_pos || a[0] != '-' || strcmp(a, "-") == 0) {
            if (c->npos >= max_pos) return usage_error(c->cmd, "unexpected argument", a);
            c->pos[c->npos++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) { only_pos = 1; continue; }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) return -1;
        /* --opt=value form */
        {
            const char *eq = strchr(a, '=');
            size_t n = eq ? (size_t)(eq - a) : strlen(a);
            if (n >= sizeof opt) return usage_error(c->cmd, "unknown option", a);
            memcpy(opt, a, n);
            opt[n] = 0;
            if (eq) val = eq + 1;
        }
        {
            /* match against the allowed list by whole words */
            const char *p = allowed;
            size_t n = strlen(opt);
            int found = 0;
            while ((p = strstr(p, opt)) != NULL) {
                if ((p == allowed || p[-1] == ' ') && (p[n] == ' ' || p[n] == 0)) { found = 1; break; }
                p += n;
            }
            if (!found) return usage_error(c->cmd, "unknown option", a);
        }
        if (strcmp(opt, "--json") == 0 || strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0 ||
            strcmp(opt, "--no-mmap") == 0 || strcmp(opt, "--lenient") == 0 || strcmp(opt, "--no-overwrite") == 0 ||
            strcmp(opt, "--durable") == 0 || strcmp(opt, "--strict") == 0) {
            if (val) return usage_error(c->cmd, "this option takes no value:", opt);
            if (strcmp(opt, "--json") == 0) c->json = 1;
            else if (strcmp(opt, "--no-mmap") == 0) c->flags |= MCF_NO_MMAP;
            else if (strcmp(opt, "--lenient") == 0) c->flags |= MCF_LENIENT;
            else if (strcmp(opt, "--durable") == 0) c->flags |= MCF_DURABLE;
            else if (strcmp(opt, "--no-overwrite") == 0) c->no_overwrite = 1;
            else if (strcmp(opt, "--strict") == 0) c->strict = 1;
            else c->quiet = 1;
            continue;
        }
        if (!val) {
            if (i + 1 >= argc) return usage_error(c->cmd, "this option needs a value:", opt);
            val = argv[++i];
        }
        if (strcmp(opt, "--format") == 0) c->format = val;
        else if (strcmp(opt, "--from") == 0) c->from = val;
        else if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0) c->output = val;
        else if (strcmp(opt, "-s") == 0 || strcmp(opt, "--storage-option") == 0) {
            const char *eq = strchr(val, '=');
            char *copy;
            if (!eq || eq == val) return usage_error(c->cmd, "storage option is not KEY=VALUE:", val);
            if (c->nstorage >= MAX_STORAGE_OPTIONS) return usage_error(c->cmd, "too many storage options; the limit is 32", NULL);
            copy = (char *)malloc(strlen(val) + 1);
            if (!copy) { fprintf(stderr, "mcf: out of memory\n"); return EXIT_FAILED; }
            strcpy(copy, val);
            copy[eq - val] = 0;
            c->storage_buf[c->nstorage] = copy;
            c->storage[2 * c->nstorage] = copy;
            c->storage[2 * c->nstorage + 1] = copy + (eq - val) + 1;
            c->nstorage++;
            c->storage[2 * c->nstorage] = NULL;
        }
    }
    return EXIT_OK;
}

/* ---- progress bar ------------------------------------------------------ */
/* Drawn on stderr only when it is a terminal and the transfer has run for
 * PROGRESS_AFTER seconds; redrawn at most every PROGRESS_EVERY seconds.
 * MCF_PROGRESS_TEST_DELAY_MS=N (a test hook) sleeps N ms in each callback
 * so a small transfer is slow enough to show the bar. */

#define PROGRESS_AFTER 0.5
#define PROGRESS_EVERY 0.1

typedef struct progress {
    const char *label;
    int enabled;                 /* stderr is a TTY */
    int shown;                   /* something was drawn: finish the line */
    long delay_ms;
    double start, last;
} progress;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress_init(progress *p, const char *label)
{
    const char *d = getenv("MCF_PROGRESS_TEST_DELAY_MS");
    memset(p, 0, sizeof *p);
    p->label = label;
    p->enabled = isatty(2);
    p->delay_ms = d ? strtol(d, NULL, 10) : 0;
    p->start = now_s();
}

static void human_bytes(double b, char *out, size_t cap)
{
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int u = 0;
    while (b >= 1024.0 && u < 5) { b /= 1024.0; u++; }
    if (u == 0) snprintf(out, cap, "%.0f B", b);
    else snprintf(out, cap, "%.1f %s", b, units[u]);
}

static void progress_draw(progress *p, uint64_t done, uint64_t total, double t)
{
    char sdone[32], stotal[32], srate[32], eta[32], bar[24];
    double elapsed = t - p->start, rate = elapsed > 0 ? (double)done / elapsed : 0.0;
    double frac = total ? (double)done / (double)total : 1.0;
    int i, fill = (int)(frac * 20.0);
    if (fill > 20) fill = 20;
    for (i = 0; i < 20; i++) bar[i] = i < fill ? '#' : '.';
    bar[20] = 0;
    human_bytes((double)done, sdone, sizeof sdone);
    human_bytes((double)total, stotal, sizeof stotal);
    human_bytes(rate, srate, sizeof srate);
    if (done >= total) snprintf(eta, sizeof eta, "done");
    else if (rate <= 0) snprintf(eta, sizeof eta, "ETA --:--");
    else {
        long s = (long)((double)(total - done) / rate + 0.5);
        if (s >= 3600) snprintf(eta, sizeof eta, "ETA %ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
        else snprintf(eta, sizeof eta, "ETA %02ld:%02ld", s / 60, s % 60);
    }
    fprintf(stderr, "\r%-8.8s [%s] %3d%%  %s / %s  %s/s  %-13s", p->label, bar, (int)(frac * 100.0), sdone, stotal, srate, eta);
    fflush(stderr);
    p->shown = 1;
    p->last = t;
}

static void progress_update(progress *p, uint64_t done, uint64_t total)
{
    double t;
    if (p->delay_ms > 0) {
        struct timespec ts;
        ts.tv_sec = p->delay_ms / 1000;
        ts.tv_nsec = (p->delay_ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
    }
    if (!p->enabled) return;
    t = now_s();
    if (t - p->start < PROGRESS_AFTER) return;
    if (p->shown && t - p->last < PROGRESS_EVERY && done < total) return;
    progress_draw(p, done, total, t);
}

/* The mcf_options.progress callback: never cancels. */
static int progress_cb(void *user, uint64_t done, uint64_t total)
{
    progress_update((progress *)user, done, total);
    return 0;
}

/* Ends the bar's line (before a result or an error message). */
static void progress_end(progress *p)
{
    if (p->shown) { fputc('\n', stderr); fflush(stderr); }
    p->shown = 0;
}

/* ---- inspect --------------------------------------------------------------- */

static const char *const INSPECT_HELP =
    "usage: mcf inspect URL [--json] [options]\n"
    "\n"
    "Prints the file's format, each tensor's name, dtype, shape, size in bytes\n"
    "and data offset in the file, the safetensors __metadata__, and a torch\n"
    "file's non-tensor values (name, Python type, repr: epoch, lr, optimizer\n"
    "param_groups, ...). Only the header/index is read, so this is instant even\n"
    "for a remote 100 GB file.\n"
    "\n"
    "  --json                  machine-readable output (one JSON object)\n"
    "  --format F              read as F (safetensors, torch) instead of sniffing\n"
    "  --lenient               accept bytes after the last safetensors tensor\n"
    "  -s, --storage-option K=V  backend option (S3 key/secret/endpoint_url/region, ...)\n";

/* JSON string with RFC 8259 escapes; invalid UTF-8 becomes U+FFFD. */
static void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned c = *p;
        if (c == '"' || c == '\\') { fputc('\\', f); fputc((int)c, f); p++; }
        else if (c < 0x20) {
            if (c == '\n') fputs("\\n", f);
            else if (c == '\t') fputs("\\t", f);
            else if (c == '\r') fputs("\\r", f);
            else fprintf(f, "\\u%04x", c);
            p++;
        } else if (c < 0x80) { fputc((int)c, f); p++; }
        else {
            /* length and minimum of a well-formed UTF-8 sequence */
            int n = c >= 0xF0 && c <= 0xF4 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0, k;
            unsigned long cp = n == 4 ? c & 0x07u : n == 3 ? c & 0x0Fu : c & 0x1Fu;
            for (k = 1; k < n; k++) {
                if ((p[k] & 0xC0) != 0x80) break;
                cp = (cp << 6) | (p[k] & 0x3Fu);
            }
            if (n == 0 || k < n || (n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
                (cp >= 0xD800 && cp <= 0xDFFF)) {
                fputs("\\ufffd", f);
                p++;
            } else {
                fwrite(p, 1, (size_t)n, f);
                p += n;
            }
        }
    }
    fputc('"', f);
}

/* Text output: control characters as C escapes so a name or metadata value
 * cannot move the cursor or break the table. */
static void text_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    for (; *p; p++) {
        if (*p == '\n') fputs("\\n", f);
        else if (*p == '\t') fputs("\\t", f);
        else if (*p < 0x20 || *p == 0x7f) fprintf(f, "\\x%02x", *p);
        else fputc(*p, f);
    }
}

static void shape_str(const mcf_tensor *t, char *out, size_t cap)
{
    size_t len = 0;
    int d;
    out[len++] = '[';
    out[len] = 0;
    for (d = 0; d < t->ndim && len < cap; d++)
        len += (size_t)snprintf(out + len, cap - len, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (len + 2 <= cap) { out[len++] = ']'; out[len] = 0; }
}

/* Columns text_str(s) takes on a terminal (escapes widen, UTF-8 continuation
 * bytes take none). */
static size_t text_width(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t w = 0;
    for (; *p; p++) w += *p == '\n' || *p == '\t' ? 2 : *p < 0x20 || *p == 0x7f ? 4 : (*p & 0xC0) == 0x80 ? 0 : 1;
    return w;
}

/* The non-tensor values as a table: name, Python type, repr text. */
static void print_values(const mcf_reader *r, size_t nval)
{
    size_t i, wname = 4, wtype = 4;
    for (i = 0; i < nval; i++) {
        const char *vn = "", *vt = "";
        (void)mcf_value(r, i, &vn, &vt, NULL);
        if (text_width(*vn ? vn : "(bare value)") > wname) wname = text_width(*vn ? vn : "(bare value)");
        if (strlen(vt) > wtype) wtype = strlen(vt);
    }
    if (wname > 60) wname = 60;
    printf("\n  %-*s  %-*s  %s\n", (int)wname, "name", (int)wtype, "type", "value");
    for (i = 0; i < nval; i++) {
        const char *vn = "", *vt = "", *vx = "";
        size_t width;
        (void)mcf_value(r, i, &vn, &vt, &vx);
        if (!*vn) vn = "(bare value)";
        fputs("  ", stdout);
        text_str(stdout, vn);
        for (width = text_width(vn); width < wname; width++) fputc(' ', stdout);
        printf("  %-*s  ", (int)wtype, vt);
        text_str(stdout, vx);
        fputc('\n', stdout);
    }
}

static int cmd_inspect(cli *c)
{
    mcf_options o;
    mcf_reader *r = NULL;
    size_t i, n, nmeta, nval, wname = 4, wdtype = 5, wshape = 5;
    uint64_t file_size = 0, data_bytes = 0;
    int rc;
    options_init(c, &o, 0);
    o.format = c->format;
    if (mcf_open(c->pos[0], &o, &r) != MCF_OK) return failed();
    if (mcf_file_size(c->pos[0], &file_size, &o) != MCF_OK) { mcf_close(r); return failed(); }
    n = mcf_count(r);
    nmeta = mcf_metadata_count(r);
    nval = mcf_value_count(r);
    for (i = 0; i < n; i++) {
        mcf_tensor t;
        uint64_t off, nb;
        char shape[256];
        if ((rc = mcf_entry(r, i, &t)) != MCF_OK || (rc = mcf_entry_location(r, i, &off, &nb)) != MCF_OK) { mcf_close(r); return failed(); }
        shape_str(&t, shape, sizeof shape);
        if (strlen(*t.name ? t.name : "(bare tensor)") > wname) wname = strlen(*t.name ? t.name : "(bare tensor)");
        if (strlen(mcf_dtype_name(t.dtype)) > wdtype) wdtype = strlen(mcf_dtype_name(t.dtype));
        if (strlen(shape) > wshape) wshape = strlen(shape);
        data_bytes += nb;
    }
    if (wname > 60) wname = 60;
    if (c->json) {
        printf("{\"url\": ");
        json_str(stdout, c->pos[0]);
        printf(", \"format\": \"%s\", \"size\": %llu, \"data_bytes\": %llu, \"tensors\": [",
               mcf_reader_format(r), (unsigned long long)file_size, (unsigned long long)data_bytes);
        for (i = 0; i < n; i++) {
            mcf_tensor t;
            uint64_t off = 0, nb = 0;
            int d;
            (void)mcf_entry(r, i, &t);
            (void)mcf_entry_location(r, i, &off, &nb);
            printf("%s\n  {\"name\": ", i ? "," : "");
            json_str(stdout, t.name);
            printf(", \"dtype\": \"%s\", \"shape\": [", mcf_dtype_name(t.dtype));
            for (d = 0; d < t.ndim; d++) printf("%s%lld", d ? ", " : "", (long long)t.shape[d]);
            printf("], \"bytes\": %llu, \"offset\": %llu}", (unsigned long long)nb, (unsigned long long)off);
        }
        printf("%s], \"metadata\": {", n ? "\n" : "");
        for (i = 0; i < nmeta; i++) {
            const char *k = "", *v = "";
            (void)mcf_metadata_pair(r, i, &k, &v);
            printf("%s", i ? ", " : "");
            json_str(stdout, k);
            printf(": ");
            json_str(stdout, v);
        }
        printf("}, \"values\": [");
        for (i = 0; i < nval; i++) {
            const char *vn = "", *vt = "", *vx = "";
            (void)mcf_value(r, i, &vn, &vt, &vx);
            printf("%s\n  {\"name\": ", i ? "," : "");
            json_str(stdout, vn);
            printf(", \"type\": ");
            json_str(stdout, vt);
            printf(", \"text\": ");
            json_str(stdout, vx);
            printf("}");
        }
        printf("%s]}\n", nval ? "\n" : "");
    } else {
        char sz[32];
        human_bytes((double)file_size, sz, sizeof sz);
        printf("%s\n", c->pos[0]);
        printf("  format:   %s\n", mcf_reader_format(r));
        printf("  size:     %llu bytes (%s)\n", (unsigned long long)file_size, sz);
        printf("  tensors:  %lu (%llu bytes of data)\n", (unsigned long)n, (unsigned long long)data_bytes);
        if (nval) printf("  values:   %lu (not tensors; convert drops them)\n", (unsigned long)nval);
        if (n) {
            printf("\n  %-*s  %-*s  %-*s  %12s  %12s\n", (int)wname, "name", (int)wdtype, "dtype", (int)wshape, "shape", "bytes", "offset");
            for (i = 0; i < n; i++) {
                mcf_tensor t;
                uint64_t off = 0, nb = 0;
                char shape[256];
                (void)mcf_entry(r, i, &t);
                (void)mcf_entry_location(r, i, &off, &nb);
                shape_str(&t, shape, sizeof shape);
                printf("  %-*s  %-*s  %-*s  %12llu  %12llu\n", (int)wname, *t.name ? t.name : "(bare tensor)",
                       (int)wdtype, mcf_dtype_name(t.dtype), (int)wshape, shape, (unsigned long long)nb, (unsigned long long)off);
            }
        }
        if (nval) print_values(r, nval);
        if (nmeta) {
            printf("\n  metadata: %lu\n", (unsigned long)nmeta);
            for (i = 0; i < nmeta; i++) {
                const char *k = "", *v = "";
                (void)mcf_metadata_pair(r, i, &k, &v);
                fputs("    ", stdout);
                text_str(stdout, k);
                fputs(" = ", stdout);
                text_str(stdout, v);
                fputc('\n', stdout);
            }
        }
    }
    mcf_close(r);
    return EXIT_OK;
}

/* ---- convert ----------------------------------------------------------------- */

static const char *const CONVERT_HELP =
    "usage: mcf convert SRC DST [--format F] [options]\n"
    "\n"
    "Reads every tensor of SRC and writes them all to DST (torch <-> safetensors,\n"
    "any URL to any URL). The output format is --format, else DST's suffix\n"
    "(.safetensors -> safetensors, anything else -> torch). safetensors metadata is\n"
    "carried over. DST is written atomically: it appears complete or not at all.\n"
    "\n"
    "  --format F              output format: safetensors, torch (pt, pth), auto\n"
    "  --from F                input format instead of sniffing it\n"
    "  --no-overwrite          fail if DST exists\n"
    "  --durable               fsync DST and its directory before returning\n"
    "  --strict                fail (exit 1, nothing written) if SRC holds non-tensor\n"
    "                          values (a torch file's epoch, lr, ...), which are\n"
    "                          otherwise dropped with a note on stderr\n"
    "  -q, --quiet             no summary line\n"
    "  -s, --storage-option K=V  backend option for SRC and DST\n";

/* "epoch (int), lr (float), ..." for the first few of r's values. */
static void list_values(FILE *f, const mcf_reader *r, size_t nval)
{
    size_t i, shown = nval < 8 ? nval : 8;
    for (i = 0; i < shown; i++) {
        const char *vn = "", *vt = "";
        (void)mcf_value(r, i, &vn, &vt, NULL);
        fputs(i ? ", " : "", f);
        text_str(f, *vn ? vn : "(bare value)");
        fprintf(f, " (%s)", vt);
    }
    if (shown < nval) fprintf(f, ", ... (%lu more)", (unsigned long)(nval - shown));
}

static int cmd_convert(cli *c)
{
    mcf_options in, out;
    mcf_reader *r = NULL;
    mcf_tensor *t = NULL;
    const char **meta = NULL;
    size_t i, n, nmeta, nval;
    uint64_t total = 0;
    progress p;
    int rc, status = EXIT_FAILED;
    double t0 = now_s();
    if ((rc = check_format(c->cmd, c->format ? c->format : "auto")) != EXIT_OK) return rc;
    if ((rc = check_format(c->cmd, c->from ? c->from : "auto")) != EXIT_OK) return rc;
    options_init(c, &in, 0);
    in.format = c->from;
    if (mcf_open(c->pos[0], &in, &r) != MCF_OK) return failed();
    n = mcf_count(r);
    nmeta = mcf_metadata_count(r);
    nval = mcf_value_count(r);
    if (nval && c->strict) {
        fprintf(stderr, "mcf: %s holds %lu non-tensor value%s that %s cannot hold (--strict): ", c->pos[0], (unsigned long)nval,
                nval == 1 ? "" : "s", c->pos[1]);
        list_values(stderr, r, nval);
        fputc('\n', stderr);
        mcf_close(r);
        return EXIT_FAILED;
    }
    t = (mcf_tensor *)calloc(n ? n : 1, sizeof *t);
    meta = (const char **)calloc(2 * nmeta + 1, sizeof *meta);
    if (!t || !meta) { fprintf(stderr, "mcf: out of memory\n"); goto done; }
    for (i = 0; i < n; i++) {
        uint64_t nb = 0;
        if (mcf_entry(r, i, &t[i]) != MCF_OK || mcf_view(r, i, &t[i].data) != MCF_OK ||
            mcf_entry_location(r, i, NULL, &nb) != MCF_OK) { status = failed(); goto done; }
        total += nb;
    }
    for (i = 0; i < nmeta; i++) (void)mcf_metadata_pair(r, i, &meta[2 * i], &meta[2 * i + 1]);
    options_init(c, &out, 1);
    out.format = c->format;
    if (nmeta) out.metadata = meta;
    progress_init(&p, "convert");
    out.progress = progress_cb;
    out.progress_user = &p;
    rc = mcf_save(c->pos[1], t, n, &out);
    progress_end(&p);
    if (rc != MCF_OK) { status = failed(); goto done; }
    {
        mcf_reader *w = NULL;
        mcf_options plain;
        char sz[32];
        const char *fmt = "?";
        /* the format actually written, sniffed from the result */
        options_init(c, &plain, 0);
        if (mcf_open(c->pos[1], &plain, &w) == MCF_OK) fmt = mcf_reader_format(w);
        if (nmeta && strcmp(fmt, "torch") == 0)
            fprintf(stderr, "mcf: note: torch files have no metadata; the %lu __metadata__ pair%s of %s %s not written\n",
                    (unsigned long)nmeta, nmeta == 1 ? "" : "s", c->pos[0], nmeta == 1 ? "was" : "were");
        if (nval) {
            fprintf(stderr, "mcf: note: dropped %lu non-tensor value%s: ", (unsigned long)nval, nval == 1 ? "" : "s");
            list_values(stderr, r, nval);
            fputc('\n', stderr);
        }
        human_bytes((double)total, sz, sizeof sz);
        if (!c->quiet)
        printf("%s (%s) -> %s (%s): %lu tensor%s, %s, %.2f s\n", c->pos[0], mcf_reader_format(r), c->pos[1], fmt,
               (unsigned long)n, n == 1 ? "" : "s", sz, now_s() - t0);
        mcf_close(w);
    }
    status = EXIT_OK;
done:
    free(meta);
    free(t);
    mcf_close(r);
    return status;
}

/* ---- cp ---------------------------------------------------------------------- */

static const char *const CP_HELP =
    "usage: mcf cp SRC DST [options]\n"
    "\n"
    "Copies the bytes of one object from SRC to DST, streaming in 1 MiB chunks,\n"
    "between any two URLs (path, file://, memory://, and with libcurl http(s)://,\n"
    "s3://). DST appears atomically when the copy is complete.\n"
    "\n"
    "  --no-overwrite          fail if DST exists\n"
    "  --durable               fsync DST and its directory before returning\n"
    "  -q, --quiet             no summary line\n"
    "  -s, --storage-option K=V  backend option for SRC and DST\n";

#define CP_CHUNK ((size_t)1 << 20)

static int cmd_cp(cli *c)
{
    mcf_options in, out;
    mcf_url su, du;
    mcf_filesystem sfs, dfs;
    void *rf = NULL, *wf = NULL;
    uint64_t size = 0, done = 0;
    unsigned char *buf = NULL;
    progress p;
    int rc, su_ok = 0, du_ok = 0, status = EXIT_FAILED;
    double t0 = now_s();
    options_init(c, &in, 0);
    options_init(c, &out, 1);
    memset(&su, 0, sizeof su);
    memset(&du, 0, sizeof du);
    if (mcf_url_parse(c->pos[0], NULL, &su) != MCF_OK) goto fail;
    su_ok = 1;
    if (mcf_url_parse(c->pos[1], NULL, &du) != MCF_OK) goto fail;
    du_ok = 1;
    if (mcf_filesystem_lookup(su.scheme, &sfs) != MCF_OK || mcf_filesystem_lookup(du.scheme, &dfs) != MCF_OK) goto fail;
    if (!dfs.open_write) { mcf_set_error(MCF_NOT_SUPPORTED, "%s: the %s filesystem is read-only", du.url, du.scheme); goto fail; }
    if (sfs.open_read(sfs.user, &su, &in, &rf, &size) != MCF_OK) { rf = NULL; goto fail; }
    buf = (unsigned char *)malloc(CP_CHUNK);
    if (!buf) { mcf_set_error(MCF_INTERNAL_ERROR, "out of memory"); goto fail; }
    if (dfs.open_write(dfs.user, &du, size, &out, &wf) != MCF_OK) { wf = NULL; goto fail; }
    progress_init(&p, "cp");
    while (done < size) {
        size_t k = size - done < CP_CHUNK ? (size_t)(size - done) : CP_CHUNK;
        if (sfs.read_at(rf, done, buf, k) != MCF_OK || dfs.write(wf, buf, k) != MCF_OK) {
            progress_end(&p);
            dfs.abort(wf);
            wf = NULL;
            goto fail;
        }
        done += k;
        progress_update(&p, done, size);
    }
    if (size == 0) progress_update(&p, 0, 0);
    progress_end(&p);
    rc = dfs.commit(wf);
    wf = NULL;
    if (rc != MCF_OK) goto fail;
    if (!c->quiet) {
        char sz[32];
        double dt = now_s() - t0;
        human_bytes((double)size, sz, sizeof sz);
        printf("%s -> %s: %llu bytes (%s), %.2f s\n", su.url, du.url, (unsigned long long)size, sz, dt);
    }
    status = EXIT_OK;
    goto done;
fail:
    status = failed();
done:
    if (rf) sfs.close_read(rf);
    free(buf);
    if (su_ok) mcf_url_free(&su);
    if (du_ok) mcf_url_free(&du);
    return status;
}

/* ---- verify ------------------------------------------------------------------ */

static const char *const VERIFY_HELP =
    "usage: mcf verify URL [options]\n"
    "\n"
    "Opens URL with full validation (safetensors header rules; torch zip\n"
    "structure, pickle allowlist and every entry's CRC-32) and reads every\n"
    "tensor. Prints one OK line, or exits 1 with the reason.\n"
    "\n"
    "  --format F              read as F instead of sniffing\n"
    "  --lenient               accept bytes after the last safetensors tensor\n"
    "  --no-mmap               read with pread instead of mapping the file\n"
    "  -s, --storage-option K=V  backend option\n";

static int cmd_verify(cli *c)
{
    mcf_options o;
    mcf_reader *r = NULL;
    size_t i, n;
    uint64_t biggest = 0, total = 0, done = 0;
    unsigned char *buf = NULL;
    progress p;
    int status = EXIT_FAILED;
    options_init(c, &o, 0);
    o.format = c->format;
    o.flags |= MCF_VERIFY;
    if (mcf_open(c->pos[0], &o, &r) != MCF_OK) return failed();
    n = mcf_count(r);
    for (i = 0; i < n; i++) {
        uint64_t nb = 0;
        if (mcf_entry_location(r, i, NULL, &nb) != MCF_OK) { status = failed(); goto done; }
        if (nb > biggest) biggest = nb;
        total += nb;
    }
    if (biggest > (uint64_t)(size_t)-1) { mcf_set_error(MCF_NOT_SUPPORTED, "%s: a tensor is too large for this host", c->pos[0]); status = failed(); goto done; }
    buf = (unsigned char *)malloc(biggest ? (size_t)biggest : 1);
    if (!buf) { mcf_set_error(MCF_INTERNAL_ERROR, "%s: out of memory for a %llu-byte tensor", c->pos[0], (unsigned long long)biggest); status = failed(); goto done; }
    progress_init(&p, "verify");
    for (i = 0; i < n; i++) {
        uint64_t nb = 0;
        (void)mcf_entry_location(r, i, NULL, &nb);
        if (mcf_read(r, i, buf, (size_t)biggest) != MCF_OK) { progress_end(&p); status = failed(); goto done; }
        done += nb;
        progress_update(&p, done, total);
    }
    progress_end(&p);
    printf("OK %s: %s, %lu tensor%s, %llu bytes of data%s\n", c->pos[0], mcf_reader_format(r), (unsigned long)n, n == 1 ? "" : "s",
           (unsigned long long)total, strcmp(mcf_reader_format(r), "torch") == 0 ? ", zip CRC-32 checked" : "");
    status = EXIT_OK;
done:
    free(buf);
    mcf_close(r);
    return status;
}

/* ---- get --------------------------------------------------------------------- */

static const char *const GET_HELP =
    "usage: mcf get URL NAME -o FILE [options]\n"
    "\n"
    "Writes the raw bytes of tensor NAME (contiguous, row-major, little-endian)\n"
    "to FILE, any URL; '-o -' writes to stdout. The bare tensor of a file written\n"
    "by torch.save(tensor) is named \"\" (pass '').\n"
    "\n"
    "  -o, --output FILE       destination (required)\n"
    "  --format F              read as F instead of sniffing\n"
    "  -s, --storage-option K=V  backend option\n";

static int cmd_get(cli *c)
{
    mcf_options o, out;
    mcf_reader *r = NULL;
    uint64_t nb = 0;
    unsigned char *buf = NULL;
    progress p;
    int idx, rc, status = EXIT_FAILED;
    options_init(c, &o, 0);
    o.format = c->format;
    if (mcf_open(c->pos[0], &o, &r) != MCF_OK) return failed();
    idx = mcf_find(r, c->pos[1]);
    if (idx < 0) {
        size_t i, n = mcf_count(r);
        status = failed();
        fprintf(stderr, "mcf: %s has %lu tensor%s:", c->pos[0], (unsigned long)n, n == 1 ? "" : "s");
        for (i = 0; i < n && i < 10; i++) {
            mcf_tensor t;
            (void)mcf_entry(r, i, &t);
            fprintf(stderr, " \"%s\"", t.name);
        }
        fprintf(stderr, "%s\n", n > 10 ? " ..." : "");
        goto done;
    }
    if (mcf_entry_location(r, (size_t)idx, NULL, &nb) != MCF_OK) { status = failed(); goto done; }
    if (nb > (uint64_t)(size_t)-1) { mcf_set_error(MCF_NOT_SUPPORTED, "tensor too large for this host"); status = failed(); goto done; }
    buf = (unsigned char *)malloc(nb ? (size_t)nb : 1);
    if (!buf) { mcf_set_error(MCF_INTERNAL_ERROR, "out of memory for %llu bytes", (unsigned long long)nb); status = failed(); goto done; }
    if (mcf_read(r, (size_t)idx, buf, (size_t)nb) != MCF_OK) { status = failed(); goto done; }
    if (strcmp(c->output, "-") == 0) {
        if (nb && fwrite(buf, 1, (size_t)nb, stdout) != (size_t)nb) { fprintf(stderr, "mcf: cannot write %llu bytes to stdout\n", (unsigned long long)nb); goto done; }
        if (fflush(stdout) != 0) { fprintf(stderr, "mcf: cannot write to stdout\n"); goto done; }
    } else {
        options_init(c, &out, 1);
        progress_init(&p, "get");
        out.progress = progress_cb;
        out.progress_user = &p;
        rc = mcf_write_bytes(c->output, buf, (size_t)nb, &out);
        progress_end(&p);
        if (rc != MCF_OK) { status = failed(); goto done; }
    }
    status = EXIT_OK;
done:
    free(buf);
    mcf_close(r);
    return status;
}

/* ---- bench ------------------------------------------------------------------- */

static const char *const BENCH_HELP =
    "usage: mcf bench [ARGS...]\n"
    "\n"
    "Runs the benchmark program build/bench/bench (built by 'make bench') with\n"
    "ARGS, e.g. '--size 256M --runs 3 --only st,pt' or '--smoke'. It times\n"
    "saves and loads against plain write(2)/read(2), PyTorch and zlib's CRC32 in\n"
    "the same run and prints the ratios ('mcf bench -- --help' for its options).\n";

static int cmd_bench(int argc, char **argv)
{
    char path[4096];
    const char *self = argv[0], *slash = strrchr(self, '/');
    char **args;
    int i;
    /* build/mcf -> build/bench/bench; found on PATH: ./build/bench/bench */
    if (slash) snprintf(path, sizeof path, "%.*s/bench/bench", (int)(slash - self), self);
    else snprintf(path, sizeof path, "build/bench/bench");
    if (access(path, X_OK) != 0) {
        fprintf(stderr, "mcf: %s is not built; run 'make bench' in the mooncake_fileio.h repository first\n", path);
        return EXIT_FAILED;
    }
    args = (char **)calloc((size_t)argc, sizeof *args);
    if (!args) { fprintf(stderr, "mcf: out of memory\n"); return EXIT_FAILED; }
    args[0] = path;
    /* a leading "--" only separates mcf's arguments from the bench's */
    for (i = 2; i < argc; i++) args[i - 1] = argv[i];
    args[argc - 1] = NULL;
    if (argc > 2 && strcmp(argv[2], "--") == 0) memmove(args + 1, args + 2, (size_t)(argc - 2) * sizeof *args);
    fflush(stdout);
    execv(path, args);
    fprintf(stderr, "mcf: cannot run %s\n", path);
    free(args);
    return EXIT_FAILED;
}

/* ---- main -------------------------------------------------------------------- */

static const char *const MAIN_HELP =
    "usage: mcf COMMAND [ARGS...]\n"
    "\n"
    "Tensor files (safetensors, PyTorch .pt) at any URL: a path, file://,\n"
    "memory://" 
#ifdef MOONCAKE_FILEIO_CURL
    ", http(s)://, s3://"
#endif
    ".\n"
    "\n"
    "commands:\n"
    "  inspect URL [--json]           format, tensors (dtype, shape, bytes, offset), metadata\n"
    "  convert SRC DST [--format F]   rewrite every tensor in another format\n"
    "  cp SRC DST                     copy an object's bytes between two URLs\n"
    "  verify URL                     full validation and zip CRCs; reads every tensor\n"
    "  get URL NAME -o FILE           raw bytes of one tensor\n"
    "  bench [ARGS...]                run build/bench/bench (make bench)\n"
    "\n"
    "'mcf COMMAND --help' describes a command's options.\n"
    "Exit status: 0 ok, 1 failed (the reason follows 'mcf: '), 2 bad usage.\n";

typedef struct command {
    const char *name, *options;
    int min_pos, max_pos;
    int (*run)(cli *c);
} command;

static const command COMMANDS[] = {
    {"inspect", "--json --format --lenient --no-mmap -s --storage-option", 1, 1, cmd_inspect},
    {"convert", "--format --from --no-overwrite --durable -q --quiet --lenient --no-mmap --strict -s --storage-option", 2, 2, cmd_convert},
    {"cp", "--no-overwrite --durable -q --quiet -s --storage-option", 2, 2, cmd_cp},
    {"verify", "--format --lenient --no-mmap -s --storage-option", 1, 1, cmd_verify},
    {"get", "-o --output --format --lenient --no-mmap --durable -s --storage-option", 2, 2, cmd_get},
};

static const char *command_help(const char *name)
{
    if (strcmp(name, "inspect") == 0) return INSPECT_HELP;
    if (strcmp(name, "convert") == 0) return CONVERT_HELP;
    if (strcmp(name, "cp") == 0) return CP_HELP;
    if (strcmp(name, "verify") == 0) return VERIFY_HELP;
    if (strcmp(name, "get") == 0) return GET_HELP;
    return BENCH_HELP;
}

int main(int argc, char **argv)
{
    const char *name;
    size_t k;
    if (argc < 2) {
        fputs(MAIN_HELP, stderr);
        return EXIT_USAGE;
    }
    name = argv[1];
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
        if (strcmp(name, "help") == 0 && argc > 2) {
            for (k = 0; k < sizeof COMMANDS / sizeof COMMANDS[0]; k++)
                if (strcmp(argv[2], COMMANDS[k].name) == 0 || strcmp(argv[2], "bench") == 0) { fputs(command_help(argv[2]), stdout); return EXIT_OK; }
            return usage_error(NULL, "unknown command", argv[2]);
        }
        fputs(MAIN_HELP, stdout);
        return EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        printf("mcf (mooncake_fileio.h) %s%s\n", MCF_VERSION_STRING,
#ifdef MOONCAKE_FILEIO_CURL
               ", with libcurl"
#else
               ""
#endif
        );
        return EXIT_OK;
    }
    if (strcmp(name, "bench") == 0) {
        if (argc > 2 && (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) { fputs(BENCH_HELP, stdout); return EXIT_OK; }
        return cmd_bench(argc, argv);
    }
    for (k = 0; k < sizeof COMMANDS / sizeof COMMANDS[0]; k++) {
        const command *cmd = &COMMANDS[k];
        cli c;
        int rc;
        if (strcmp(name, cmd->name) != 0) continue;
        memset(&c, 0, sizeof c);
        c.cmd = cmd->name;
        rc = parse_args(&c, argc, argv, 2, cmd->options, cmd->max_pos);
        if (rc == -1) { cli_free(&c); fputs(command_help(cmd->name), stdout); return EXIT_OK; }
        if (rc == EXIT_OK && c.npos < cmd->min_pos)
            rc = usage_error(c.cmd, cmd->min_pos - c.npos > 1 ? "missing arguments" : "missing argument", NULL);
        if (rc == EXIT_OK && strcmp(cmd->name, "get") == 0 && !c.output)
            rc = usage_error(c.cmd, "missing -o FILE", NULL);
        if (rc == EXIT_OK && (strcmp(cmd->name, "inspect") == 0 || strcmp(cmd->name, "verify") == 0 || strcmp(cmd->name, "get") == 0) && c.format)
            rc = check_format(c.cmd, c.format);
        if (rc == EXIT_OK) rc = cmd->run(&c);
        cli_free(&c);
        return rc;
    }
    return usage_error(NULL, "unknown command", name);
}
