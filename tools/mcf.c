/* mcf - command-line tool for mooncake_fileio.h
 *
 *   mcf inspect URL [--json]          format, tensors (dtype, shape, bytes, offset), metadata,
 *                                     a torch file's non-tensor values (epoch, lr, ...); of a
 *                                     sharded checkpoint's .index.json: its shards too
 *   mcf convert SRC DST [--format F]  rewrite every tensor in another format (--strict: fail
 *                                     rather than drop a torch file's non-tensor values);
 *           [--max-shard-size 5GB]    SRC may be an .index.json; DST split into shards + index
 *   mcf cp SRC DST                    copy the bytes of one object between any two URLs ('-': stdout)
 *   mcf verify URL                    full validation plus zip CRCs, reading every tensor
 *                                     (of every shard, for an .index.json)
 *   mcf get URL NAME -o FILE          raw little-endian bytes of one tensor
 *           [--slice 0:128,:] [--as F32]  ... of a slice of it, converted
 *   mcf seed CHECKPOINT MODEL --rank R  put a safetensors checkpoint into a store in the key
 *           [--chunk-bytes N] [--dry-run] layout of Mooncake's model loader (--dry-run: list the
 *                                     keys and byte counts, put nothing)
 *   mcf bench [ARGS...]               runs build/bench/bench (make bench) when it has been built
 *
 * Exit status: 0 ok, 1 the operation failed (the reason is printed as
 * "mcf: " + mcf_last_error()), 2 bad usage. A progress bar (bytes, rate, ETA)
 * is drawn on stderr when stderr is a terminal and a transfer takes longer
 * than half a second; piped output carries nothing extra. Names, metadata and
 * messages taken from a file are printed with control characters and invalid
 * UTF-8 escaped (\x1b, \u009b, \\), so a hostile file cannot drive the
 * terminal; --json escapes as JSON does.
 *
 * Built like any user program: one translation unit that defines
 * MOONCAKE_FILEIO_IMPLEMENTATION before including the header (first, so the
 * header can select POSIX). With -DMOONCAKE_FILEIO_CURL -lcurl every command
 * also takes http(s):// and s3:// URLs.
 *
 * license: Apache-2.0 (see LICENSE) */
#define MOONCAKE_FILEIO_IMPLEMENTATION
#include "../mooncake_fileio.h"
#ifdef MOONCAKE_FILEIO_MOONCAKE_STORE
#include "store_c.h"   /* Mooncake's C client: mcf seed connects with it */
#endif

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_FAILED = 1, EXIT_USAGE = 2 };

/* ---- text for people ---------------------------------------------------- */
/* Tensor names, metadata and error sentences come from files nobody vetted.
 * Every string printed for a person goes through term_text: printable UTF-8
 * as it is; a backslash as "\\"; newline, tab and CR as \n \t \r; the other
 * C0 controls and DEL as \xNN; C1 controls (U+0080..U+009F), the line and
 * paragraph separators and the bidirectional controls as \uNNNN; each byte
 * of invalid UTF-8 as \xNN (always 80..ff, so never taken for a control).
 * Nothing reaches the terminal that it would act on, and the printed form
 * still tells every name apart. JSON output escapes with json_str. */

/* Decodes the well-formed UTF-8 sequence at p into *cp and returns its
 * length (1..4), or 0 for a stray byte, a truncated or overlong sequence,
 * a surrogate or a value past U+10FFFF. */
static int utf8_decode(const unsigned char *p, unsigned long *cp)
{
    unsigned c = p[0];
    unsigned long v;
    int n, k;
    if (c < 0x80) { *cp = c; return 1; }
    if (c >= 0xC2 && c <= 0xDF) { n = 2; v = c & 0x1Fu; }
    else if (c >= 0xE0 && c <= 0xEF) { n = 3; v = c & 0x0Fu; }
    else if (c >= 0xF0 && c <= 0xF4) { n = 4; v = c & 0x07u; }
    else return 0;
    for (k = 1; k < n; k++) {
        if ((p[k] & 0xC0) != 0x80) return 0;     /* also stops at the terminating NUL */
        v = (v << 6) | (p[k] & 0x3Fu);
    }
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return n;
}

/* Code points a terminal acts on or that change how the rest of a line
 * reads: C0, DEL, C1, U+2028/U+2029, and the bidirectional marks,
 * embeddings, overrides and isolates (U+061C, U+200E/F, U+202A..E,
 * U+2066..9). */
static int cp_is_control(unsigned long cp)
{
    return cp < 0x20 || (cp >= 0x7F && cp <= 0x9F) || cp == 0x061C || cp == 0x200E || cp == 0x200F ||
           (cp >= 0x2028 && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

typedef struct cp_range { unsigned long lo, hi; } cp_range;

/* Combining marks and other code points that take no column of their own. */
static const cp_range ZERO_WIDTH[] = {
    {0x0300, 0x036F}, {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2}, {0x05C4, 0x05C5},
    {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670}, {0x06D6, 0x06DC}, {0x06DF, 0x06E4},
    {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0902}, {0x093A, 0x093A}, {0x093C, 0x093C}, {0x0941, 0x0948},
    {0x094D, 0x094D}, {0x0951, 0x0957}, {0x0962, 0x0963}, {0x0E31, 0x0E31}, {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E},
    {0x1160, 0x11FF}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200D}, {0x2060, 0x2064}, {0x20D0, 0x20FF},
    {0x302A, 0x302D}, {0x3099, 0x309A}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF},
};

/* East Asian Wide and Fullwidth characters and emoji: two columns. */
static const cp_range WIDE[] = {
    {0x1100, 0x115F}, {0x231A, 0x231B}, {0x2329, 0x232A}, {0x23E9, 0x23EC}, {0x23F0, 0x23F0}, {0x23F3, 0x23F3},
    {0x25FD, 0x25FE}, {0x2614, 0x2615}, {0x2648, 0x2653}, {0x267F, 0x267F}, {0x2693, 0x2693}, {0x26A1, 0x26A1},
    {0x26AA, 0x26AB}, {0x26BD, 0x26BE}, {0x26C4, 0x26C5}, {0x26CE, 0x26CE}, {0x26D4, 0x26D4}, {0x26EA, 0x26EA},
    {0x26F2, 0x26F3}, {0x26F5, 0x26F5}, {0x26FA, 0x26FA}, {0x26FD, 0x26FD}, {0x2705, 0x2705}, {0x270A, 0x270B},
    {0x2728, 0x2728}, {0x274C, 0x274C}, {0x274E, 0x274E}, {0x2753, 0x2755}, {0x2757, 0x2757}, {0x2795, 0x2797},
    {0x27B0, 0x27B0}, {0x27BF, 0x27BF}, {0x2B1B, 0x2B1C}, {0x2B50, 0x2B50}, {0x2B55, 0x2B55}, {0x2E80, 0x3029},
    {0x302E, 0x303E}, {0x3041, 0x3098}, {0x309B, 0x33FF}, {0x3400, 0x4DBF}, {0x4E00, 0x9FFF}, {0xA000, 0xA4CF},
    {0xA960, 0xA97F}, {0xAC00, 0xD7A3}, {0xF900, 0xFAFF}, {0xFE10, 0xFE19}, {0xFE30, 0xFE6F}, {0xFF00, 0xFF60},
    {0xFFE0, 0xFFE6}, {0x16FE0, 0x16FE4}, {0x17000, 0x18CFF}, {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004},
    {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
    {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x2FFFD},
    {0x30000, 0x3FFFD},
};

static int in_ranges(unsigned long cp, const cp_range *r, size_t n)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cp < r[mid].lo) hi = mid;
        else if (cp > r[mid].hi) lo = mid + 1;
        else return 1;
    }
    return 0;
}

/* Terminal columns of a printable code point: 0, 1 or 2. */
static size_t cp_width(unsigned long cp)
{
    if (in_ranges(cp, ZERO_WIDTH, sizeof ZERO_WIDTH / sizeof ZERO_WIDTH[0])) return 0;
    return in_ranges(cp, WIDE, sizeof WIDE / sizeof WIDE[0]) ? 2 : 1;
}

/* Writes s escaped as described above (f NULL: only measures) and returns
 * the columns it takes on a terminal; an escape counts as its length. */
static size_t term_text(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t cols = 0;
    while (*p) {
        char esc[12];
        const char *rep = esc;
        unsigned long cp = 0;
        int n = utf8_decode(p, &cp);
        if (n == 0) { snprintf(esc, sizeof esc, "\\x%02x", *p); n = 1; }
        else if (cp == '\\') rep = "\\\\";
        else if (cp == '\n') rep = "\\n";
        else if (cp == '\t') rep = "\\t";
        else if (cp == '\r') rep = "\\r";
        else if (cp_is_control(cp)) snprintf(esc, sizeof esc, cp < 0x80 ? "\\x%02lx" : "\\u%04lx", cp);
        else rep = NULL;
        if (rep) {
            cols += strlen(rep);
            if (f) fputs(rep, f);
        } else {
            cols += cp_width(cp);
            if (f) fwrite(p, 1, (size_t)n, f);
        }
        p += n;
    }
    return cols;
}

/* term_text, then spaces up to cols columns (a table cell). */
static void term_cell(FILE *f, const char *s, size_t cols)
{
    size_t w = term_text(f, s);
    for (; w < cols; w++) fputc(' ', f);
}

/* One line for a person: prefix, then the formatted text escaped with
 * term_text (file names, tensor names and library sentences in it), then a
 * newline. */
static void term_line(FILE *f, const char *prefix, const char *fmt, ...)
#if defined(__GNUC__) || defined(__clang__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void term_line(FILE *f, const char *prefix, const char *fmt, ...)
{
    char small[512], *text = small;
    va_list ap;
    int n;
    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof small && (text = (char *)malloc((size_t)n + 1)) != NULL) {
        va_start(ap, fmt);
        (void)vsnprintf(text, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    if (!text) text = small;   /* out of memory: the truncated line */
    fputs(prefix, f);
    if (n >= 0) term_text(f, text);
    fputc('\n', f);
    if (text != small) free(text);
}

/* A duration for a summary line: microseconds, milliseconds or seconds,
 * so a fast run does not read "0.00 s". */
static void human_duration(double s, char *out, size_t cap)
{
    if (s < 1e-3) snprintf(out, cap, "%.0f us", s * 1e6);
    else if (s < 1.0) snprintf(out, cap, "%.1f ms", s * 1e3);
    else snprintf(out, cap, "%.2f s", s);
}

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
    const char *slice;                        /* get: --slice */
    const char *as;                           /* get: --as */
    const char *rank;                         /* seed: --rank */
    const char *chunk_bytes;                  /* seed: --chunk-bytes */
    int dry_run;                              /* seed: --dry-run */
    uint64_t max_shard;                       /* convert: --max-shard-size in bytes, 0 = one file */
    unsigned flags;
    const char *storage[2 * MAX_STORAGE_OPTIONS + 1];
    char *storage_buf[MAX_STORAGE_OPTIONS];
    int nstorage;
    int nremote;                              /* URLs whose backend is not local */
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
    if (arg) {
        fputs(" '", stderr);
        term_text(stderr, arg);
        fputc('\'', stderr);
    }
    fprintf(stderr, "\nTry 'mcf %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return EXIT_USAGE;
}

/* Reports the library's failure sentence and returns the exit status. */
static int failed(void)
{
    term_line(stderr, "mcf: ", "%s", mcf_last_error());
    return EXIT_FAILED;
}

/* url parses and its scheme is one of schemes (NULL-terminated). */
static int url_scheme_in(const char *url, const char *const *schemes)
{
    mcf_url u;
    int found = 0;
    if (mcf_url_parse(url, NULL, &u) != MCF_OK) return 0;
    for (; *schemes && !found; schemes++) found = strcmp(u.scheme, *schemes) == 0;
    mcf_url_free(&u);
    return found;
}

/* url is a local path, file:// or memory://: a backend without settings. */
static int url_is_local(const char *url)
{
    static const char *const local[] = {"file", "memory", NULL};
    return url_scheme_in(url, local);
}

/* The URLs a command reads or writes ("-", stdout, is none of them). */
static int command_urls(const cli *c, const char **urls)
{
    int n = 0, i;
    for (i = 0; i < c->npos; i++) {
        if (strcmp(c->cmd, "get") == 0 && i == 1) continue;          /* the tensor name */
        if (strcmp(c->pos[i], "-") != 0) urls[n++] = c->pos[i];
    }
    if (c->output && strcmp(c->output, "-") != 0) urls[n++] = c->output;
    return n;
}

/* Checks the command's URLs before any work. Without libcurl an http(s)://
 * or s3:// URL fails with the library's sentence and the make flag that
 * adds them. Storage options (-s) go to the URLs whose backend takes
 * settings; when every URL is local they go to all of them, and the
 * library refuses them by name (local files and memory:// take none). */
static int check_urls(cli *c)
{
    const char *urls[4];
    int i, n = command_urls(c, urls);
    c->nremote = 0;
    for (i = 0; i < n; i++) {
#ifndef MOONCAKE_FILEIO_CURL
        static const char *const curl_schemes[] = {"http", "https", "s3", "s3a", NULL};
        if (url_scheme_in(urls[i], curl_schemes)) {
            uint64_t size;
            (void)mcf_file_size(urls[i], &size, NULL);     /* the library's sentence naming the URL */
            failed();
            fprintf(stderr, "mcf: this mcf was built without libcurl; 'make CURL=1' rebuilds it with http(s):// and s3://\n");
            return EXIT_FAILED;
        }
#endif
        if (!url_is_local(urls[i])) c->nremote++;
    }
    return EXIT_OK;
}

/* Options for one URL of the command (for_output: DST or -o). */
static void options_init(const cli *c, mcf_options *o, int for_output, const char *url)
{
    memset(o, 0, sizeof *o);
    o->flags = c->flags;
    if (c->nstorage && (c->nremote == 0 || !url_is_local(url))) o->storage_options = c->storage;
    if (for_output && c->no_overwrite) o->flags |= MCF_NO_OVERWRITE;
}

/* Checks a format name with the library's own parser and says which format
 * it names: saving nothing to memory fails with INVALID_PARAMS only for an
 * unknown name, and opening what it wrote tells the format. *kind (may be
 * NULL) becomes "safetensors", "torch", or NULL for auto. */
static int check_format(const char *cmd, const char *name, const char **kind)
{
    mcf_options o;
    mcf_reader *r = NULL;
    void *buf = NULL;
    size_t len = 0;
    int rc;
    char lower[32];
    size_t i;
    if (kind) *kind = NULL;
    for (i = 0; name[i] && i + 1 < sizeof lower; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
    lower[i] = 0;
    if (strcmp(lower, "auto") == 0 || !*name) return EXIT_OK;
    memset(&o, 0, sizeof o);
    o.format = name;
    rc = mcf_save_to_memory(NULL, 0, &o, &buf, &len);
    if (rc == MCF_INVALID_PARAMS) {
        term_line(stderr, "", "mcf %s: %s", cmd, mcf_last_error());
        fprintf(stderr, "Try 'mcf %s --help'.\n", cmd);
        return EXIT_USAGE;
    }
    if (rc == MCF_OK && kind && mcf_open_memory(buf, len, NULL, &r) == MCF_OK)
        *kind = strcmp(mcf_reader_format(r), "safetensors") == 0 ? "safetensors" : "torch";
    mcf_close(r);
    mcf_free(buf);
    return EXIT_OK;
}

/* A size as transformers' save_pretrained(max_shard_size=...) reads it:
 * an integer number of bytes, or an integer with a unit, case-insensitive:
 * KB, MB, GB, TB (powers of 1000), KiB, MiB, GiB, TiB (powers of 1024); a
 * decimal unit written with a lower-case final "b" (5Gb, 500mb) means bits,
 * so it is divided by 8. 0 on success, -1 if s is not such a size. */
static int parse_size(const char *s, uint64_t *out)
{
    static const struct { const char *unit; uint64_t mul; int decimal; } units[] = {
        {"tib", (uint64_t)1 << 40, 0}, {"gib", (uint64_t)1 << 30, 0}, {"mib", (uint64_t)1 << 20, 0}, {"kib", (uint64_t)1 << 10, 0},
        {"tb", 1000000000000ull, 1}, {"gb", 1000000000ull, 1}, {"mb", 1000000ull, 1}, {"kb", 1000ull, 1}, {"b", 1, 0}, {"", 1, 0},
    };
    uint64_t v = 0;
    const char *p = s;
    size_t k, i;
    if (*p < '0' || *p > '9') return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) return -1;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    for (k = 0; k < sizeof units / sizeof units[0]; k++) {
        size_t n = strlen(units[k].unit);
        if (strlen(p) != n) continue;
        for (i = 0; i < n; i++) {
            char ch = p[i];
            if (ch >= 'A' && ch <= 'Z') ch = (char)(ch + 32);
            if (ch != units[k].unit[i]) break;
        }
        if (i < n) continue;
        if (v > UINT64_MAX / units[k].mul) return -1;
        v *= units[k].mul;
        if (units[k].decimal && p[n - 1] == 'b') v /= 8;
        *out = v;
        return 0;
    }
    return -1;
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
            strcmp(opt, "--durable") == 0 || strcmp(opt, "--strict") == 0 || strcmp(opt, "--dry-run") == 0) {
            if (val) return usage_error(c->cmd, "this option takes no value:", opt);
            if (strcmp(opt, "--json") == 0) c->json = 1;
            else if (strcmp(opt, "--no-mmap") == 0) c->flags |= MCF_NO_MMAP;
            else if (strcmp(opt, "--lenient") == 0) c->flags |= MCF_LENIENT;
            else if (strcmp(opt, "--durable") == 0) c->flags |= MCF_DURABLE;
            else if (strcmp(opt, "--no-overwrite") == 0) c->no_overwrite = 1;
            else if (strcmp(opt, "--strict") == 0) c->strict = 1;
            else if (strcmp(opt, "--dry-run") == 0) c->dry_run = 1;
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
        else if (strcmp(opt, "--slice") == 0) c->slice = val;
        else if (strcmp(opt, "--as") == 0) c->as = val;
        else if (strcmp(opt, "--rank") == 0) c->rank = val;
        else if (strcmp(opt, "--chunk-bytes") == 0) c->chunk_bytes = val;
        else if (strcmp(opt, "--max-shard-size") == 0) {
            if (parse_size(val, &c->max_shard) != 0 || c->max_shard == 0)
                return usage_error(c->cmd, "--max-shard-size takes a size in bytes > 0 such as 5GB, 500MB, 1GiB or 1000000, not", val);
        }
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

/* name ends with suffix, ASCII case ignored. */
static int ends_with_nocase(const char *name, const char *suffix)
{
    size_t n = strlen(name), k = strlen(suffix), i;
    if (k > n) return 0;
    for (i = 0; i < k; i++) {
        char a = name[n - k + i], b = suffix[i];
        if (a >= 'A' && a <= 'Z') a = (char)(a + 32);
        if (a != b) return 0;
    }
    return 1;
}


static const char *const INSPECT_HELP =
    "usage: mcf inspect URL [--json] [options]\n"
    "\n"
    "Prints the file's format, each tensor's name, dtype, shape, size in bytes\n"
    "and data offset in the file, the safetensors __metadata__, and a torch\n"
    "file's non-tensor values (name, Python type, repr: epoch, lr, optimizer\n"
    "param_groups, ...). Only the header/index is read, so this is instant even\n"
    "for a remote 100 GB file. Of a sharded checkpoint's index\n"
    "(model.safetensors.index.json, pytorch_model.bin.index.json): each shard\n"
    "(tensors, data bytes, file size), the total size of the shards, each\n"
    "tensor's shard, and the index's metadata.\n"
    "\n"
    "  --json                  machine-readable output (one JSON object)\n"
    "  --format F              read as F (safetensors, torch) instead of sniffing\n"
    "  --lenient               accept bytes after the last safetensors tensor\n"
    "  -s, --storage-option K=V  backend option (S3 key/secret/endpoint_url/region, ...;\n"
    "                          local paths and memory:// take none)\n";

/* JSON string with RFC 8259 escapes; the controls term_text escapes (C0,
 * DEL, C1, separators, bidirectional controls) as \uNNNN too, so --json on a
 * terminal is as safe as the table; invalid UTF-8 becomes U+FFFD. */
static void json_str(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        unsigned long cp = 0;
        int n = utf8_decode(p, &cp);
        if (n == 0) { fputs("\\ufffd", f); n = 1; }
        else if (cp == '"' || cp == '\\') { fputc('\\', f); fputc((int)cp, f); }
        else if (cp == '\n') fputs("\\n", f);
        else if (cp == '\t') fputs("\\t", f);
        else if (cp == '\r') fputs("\\r", f);
        else if (cp_is_control(cp)) fprintf(f, "\\u%04lx", cp);
        else fwrite(p, 1, (size_t)n, f);
        p += n;
    }
    fputc('"', f);
}

/* What the table calls entry name ("" is the bare tensor of torch.save(t)). */
static const char *entry_label(const char *name)
{
    return *name ? name : "(bare tensor)";
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

/* The non-tensor values as a table: name, Python type, repr text. */
static void print_values(const mcf_reader *r, size_t nval)
{
    size_t i, wname = 4, wtype = 4;
    for (i = 0; i < nval; i++) {
        const char *vn = "", *vt = "";
        (void)mcf_value(r, i, &vn, &vt, NULL);
        if (term_text(NULL, *vn ? vn : "(bare value)") > wname) wname = term_text(NULL, *vn ? vn : "(bare value)");
        if (strlen(vt) > wtype) wtype = strlen(vt);
    }
    if (wname > 60) wname = 60;
    printf("\n  %-*s  %-*s  %s\n", (int)wname, "name", (int)wtype, "type", "value");
    for (i = 0; i < nval; i++) {
        const char *vn = "", *vt = "", *vx = "";
        (void)mcf_value(r, i, &vn, &vt, &vx);
        if (!*vn) vn = "(bare value)";
        fputs("  ", stdout);
        term_cell(stdout, vn, wname);
        printf("  %-*s  ", (int)wtype, vt);
        term_text(stdout, vx);
        fputc('\n', stdout);
    }
}

/* The shards of a sharded reader (entries come grouped by shard). */
typedef struct shard_info { const char *url; size_t first, tensors; uint64_t data_bytes, size; } shard_info;

static const char *url_base(const char *url)
{
    const char *b = strrchr(url, '/');
    return b ? b + 1 : url;
}

/* Fills *out (malloc'ed, *count shards) for an index; each shard's size
 * is asked of its backend. EXIT_OK or failed(). */
static int list_shards(const mcf_reader *r, const mcf_options *o, shard_info **out, size_t *count)
{
    size_t i, n = mcf_count(r), k = 0;
    shard_info *s = (shard_info *)calloc(n ? n : 1, sizeof *s);
    if (!s) { mcf_set_error(MCF_INTERNAL_ERROR, "out of memory"); return failed(); }
    for (i = 0; i < n; i++) {
        uint64_t nb = 0;
        const char *src = mcf_entry_source(r, i);
        if (k == 0 || strcmp(src, s[k - 1].url) != 0) {
            s[k].url = src;
            s[k].first = i;
            if (mcf_file_size(src, &s[k].size, o) != MCF_OK) { free(s); return failed(); }
            k++;
        }
        (void)mcf_entry_location(r, i, NULL, &nb);
        s[k - 1].tensors++;
        s[k - 1].data_bytes += nb;
    }
    *out = s;
    *count = k;
    return EXIT_OK;
}

/* Index of the shard holding entry i. */
static size_t shard_of(const shard_info *s, size_t count, size_t i)
{
    size_t k = count;
    while (k > 1 && s[k - 1].first > i) k--;
    return k ? k - 1 : 0;
}

static int cmd_inspect(cli *c)
{
    mcf_options o;
    mcf_reader *r = NULL;
    size_t i, n, nmeta, nval, wname = 4, wdtype = 5, wshape = 5, nshards = 0;
    uint64_t file_size = 0, data_bytes = 0, index_size = 0;
    shard_info *shards = NULL;
    int rc;
    options_init(c, &o, 0, c->pos[0]);
    o.format = c->format;
    if (mcf_open(c->pos[0], &o, &r) != MCF_OK) return failed();
    if (mcf_file_size(c->pos[0], &file_size, &o) != MCF_OK) { mcf_close(r); return failed(); }
    if (ends_with_nocase(c->pos[0], ".index.json")) {
        if ((rc = list_shards(r, &o, &shards, &nshards)) != EXIT_OK) { mcf_close(r); return rc; }
        index_size = file_size;
        for (file_size = 0, i = 0; i < nshards; i++) file_size += shards[i].size;
    }
    n = mcf_count(r);
    nmeta = mcf_metadata_count(r);
    nval = mcf_value_count(r);
    for (i = 0; i < n; i++) {
        mcf_tensor t;
        uint64_t off, nb;
        char shape[256];
        if ((rc = mcf_entry(r, i, &t)) != MCF_OK || (rc = mcf_entry_location(r, i, &off, &nb)) != MCF_OK) { mcf_close(r); return failed(); }
        shape_str(&t, shape, sizeof shape);
        if (term_text(NULL, entry_label(t.name)) > wname) wname = term_text(NULL, entry_label(t.name));
        if (strlen(mcf_dtype_name(t.dtype)) > wdtype) wdtype = strlen(mcf_dtype_name(t.dtype));
        if (strlen(shape) > wshape) wshape = strlen(shape);
        data_bytes += nb;
    }
    if (wname > 60) wname = 60;
    if (c->json) {
        printf("{\"url\": ");
        json_str(stdout, c->pos[0]);
        printf(", \"format\": \"%s\", \"size\": %llu, \"data_bytes\": %llu, ",
               mcf_reader_format(r), (unsigned long long)file_size, (unsigned long long)data_bytes);
        if (shards) {
            printf("\"index_size\": %llu, \"shards\": [", (unsigned long long)index_size);
            for (i = 0; i < nshards; i++) {
                printf("%s\n  {\"url\": ", i ? "," : "");
                json_str(stdout, shards[i].url);
                printf(", \"tensors\": %lu, \"data_bytes\": %llu, \"size\": %llu}", (unsigned long)shards[i].tensors,
                       (unsigned long long)shards[i].data_bytes, (unsigned long long)shards[i].size);
            }
            printf("%s], ", nshards ? "\n" : "");
        }
        printf("\"tensors\": [");
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
            printf("], \"bytes\": %llu, \"offset\": %llu", (unsigned long long)nb, (unsigned long long)off);
            if (shards) printf(", \"shard\": %lu", (unsigned long)shard_of(shards, nshards, i));
            printf("}");
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
        term_line(stdout, "", "%s", c->pos[0]);
        if (shards) {
            size_t wsh = 5;
            printf("  format:   %s, sharded: %lu shard%s + index\n", mcf_reader_format(r), (unsigned long)nshards, nshards == 1 ? "" : "s");
            printf("  size:     %llu bytes (%s) in %lu shard%s, index %llu bytes\n", (unsigned long long)file_size, sz,
                   (unsigned long)nshards, nshards == 1 ? "" : "s", (unsigned long long)index_size);
            printf("  tensors:  %lu (%llu bytes of data)\n", (unsigned long)n, (unsigned long long)data_bytes);
            for (i = 0; i < nshards; i++)
                if (term_text(NULL, url_base(shards[i].url)) > wsh) wsh = term_text(NULL, url_base(shards[i].url));
            if (wsh > 60) wsh = 60;
            printf("\n  %5s  %-*s  %7s  %12s  %12s\n", "shard", (int)wsh, "file", "tensors", "data bytes", "file bytes");
            for (i = 0; i < nshards; i++) {
                printf("  %5lu  ", (unsigned long)(i + 1));
                term_cell(stdout, url_base(shards[i].url), wsh);
                printf("  %7lu  %12llu  %12llu\n", (unsigned long)shards[i].tensors, (unsigned long long)shards[i].data_bytes,
                       (unsigned long long)shards[i].size);
            }
        } else {
            printf("  format:   %s\n", mcf_reader_format(r));
            printf("  size:     %llu bytes (%s)\n", (unsigned long long)file_size, sz);
            printf("  tensors:  %lu (%llu bytes of data)\n", (unsigned long)n, (unsigned long long)data_bytes);
        }
        if (nval) printf("  values:   %lu (not tensors; convert drops them)\n", (unsigned long)nval);
        if (n) {
            printf("\n  %-*s  %-*s  %-*s  %12s  %12s%s\n", (int)wname, "name", (int)wdtype, "dtype", (int)wshape, "shape", "bytes", "offset",
                   shards ? "  shard" : "");
            for (i = 0; i < n; i++) {
                mcf_tensor t;
                uint64_t off = 0, nb = 0;
                char shape[256];
                (void)mcf_entry(r, i, &t);
                (void)mcf_entry_location(r, i, &off, &nb);
                shape_str(&t, shape, sizeof shape);
                fputs("  ", stdout);
                term_cell(stdout, entry_label(t.name), wname);   /* display columns, not bytes */
                printf("  %-*s  %-*s  %12llu  %12llu", (int)wdtype, mcf_dtype_name(t.dtype), (int)wshape, shape,
                       (unsigned long long)nb, (unsigned long long)off);
                if (shards) printf("  %5lu", (unsigned long)(shard_of(shards, nshards, i) + 1));
                fputc('\n', stdout);
            }
        }
        if (nval) print_values(r, nval);
        if (nmeta) {
            printf("\n  %s: %lu\n", shards ? "index metadata" : "metadata", (unsigned long)nmeta);
            for (i = 0; i < nmeta; i++) {
                const char *k = "", *v = "";
                (void)mcf_metadata_pair(r, i, &k, &v);
                fputs("    ", stdout);
                term_text(stdout, k);
                fputs(" = ", stdout);
                term_text(stdout, v);
                fputc('\n', stdout);
            }
        }
    }
    free(shards);
    mcf_close(r);
    return EXIT_OK;
}

/* ---- convert ----------------------------------------------------------------- */

static const char *const CONVERT_HELP =
    "usage: mcf convert SRC DST [--format F] [options]\n"
    "\n"
    "Reads every tensor of SRC and writes them all to DST (torch <-> safetensors,\n"
    "any URL to any URL). The output format is --format, else DST's suffix:\n"
    ".safetensors -> safetensors; .pt, .pth, .bin -> torch; any other suffix\n"
    "needs --format. safetensors metadata is carried over. The bare tensor of a\n"
    "torch.save(tensor) file is named \"tensor\" in safetensors. DST is written\n"
    "atomically: it appears complete or not at all.\n"
    "SRC may be a sharded checkpoint's index (model.safetensors.index.json,\n"
    "pytorch_model.bin.index.json): every tensor of every shard is read. With\n"
    "--max-shard-size, DST (e.g. out/model.safetensors) is split as Hugging Face\n"
    "splits: out/model-00001-of-0000N.safetensors ... plus\n"
    "out/model.safetensors.index.json, shards first, the index last (one shard:\n"
    "just DST).\n"
    "\n"
    "  --format F              output format: safetensors, torch (pt, pth), auto\n"
    "  --max-shard-size SIZE   split DST into shards of at most SIZE tensor bytes:\n"
    "                          5GB, 500MB (powers of 1000), 1GiB (of 1024), bytes\n"
    "  --from F                input format instead of sniffing it\n"
    "  --no-overwrite          fail if DST exists\n"
    "  --durable               fsync DST and its directory before returning\n"
    "  --strict                fail (exit 1, nothing written) if SRC holds non-tensor\n"
    "                          values (a torch file's epoch, lr, ...), which are\n"
    "                          otherwise dropped with a note on stderr\n"
    "  -q, --quiet             no summary line\n"
    "  -s, --storage-option K=V  backend option for the remote one of SRC and DST\n";

/* The format convert writes: --format, else DST's suffix. A suffix it does
 * not know is a usage error, not a torch file with a misleading name.
 * *kind: "safetensors" or "torch". */
static int output_format(const cli *c, const char **kind)
{
    static const char *const suffixes[][2] = {
        {".safetensors", "safetensors"}, {".pt", "torch"}, {".pth", "torch"}, {".bin", "torch"},
    };
    mcf_url u;
    size_t k;
    int rc;
    if ((rc = check_format(c->cmd, c->format ? c->format : "auto", kind)) != EXIT_OK || *kind) return rc;
    if (mcf_url_parse(c->pos[1], NULL, &u) != MCF_OK) return failed();
    for (k = 0; k < sizeof suffixes / sizeof suffixes[0] && !*kind; k++)
        if (ends_with_nocase(u.basename, suffixes[k][0])) *kind = suffixes[k][1];
    mcf_url_free(&u);
    if (*kind) return EXIT_OK;
    fputs("mcf convert: cannot tell the output format from the name '", stderr);
    term_text(stderr, c->pos[1]);
    fputs("': the known suffixes are .safetensors, .pt, .pth and .bin; or pass --format safetensors or --format torch\n"
          "Try 'mcf convert --help'.\n", stderr);
    return EXIT_USAGE;
}

/* "epoch (int), lr (float), ..." for the first few of r's values. */
static void list_values(FILE *f, const mcf_reader *r, size_t nval)
{
    size_t i, shown = nval < 8 ? nval : 8;
    for (i = 0; i < shown; i++) {
        const char *vn = "", *vt = "";
        (void)mcf_value(r, i, &vn, &vt, NULL);
        fputs(i ? ", " : "", f);
        term_text(f, *vn ? vn : "(bare value)");
        fprintf(f, " (%s)", vt);
    }
    if (shown < nval) fprintf(f, ", ... (%lu more)", (unsigned long)(nval - shown));
}

static int cmd_convert(cli *c)
{
    mcf_options in, out;
    mcf_reader *r = NULL;
    mcf_tensor *t = NULL;
    const char **meta = NULL, *kind = NULL;
    size_t i, n, nmeta, nval;
    uint64_t total = 0;
    progress p;
    int rc, status = EXIT_FAILED;
    double t0 = now_s();
    if ((rc = output_format(c, &kind)) != EXIT_OK) return rc;
    if ((rc = check_format(c->cmd, c->from ? c->from : "auto", NULL)) != EXIT_OK) return rc;
    options_init(c, &in, 0, c->pos[0]);
    in.format = c->from;
    if (mcf_open(c->pos[0], &in, &r) != MCF_OK) return failed();
    n = mcf_count(r);
    nmeta = mcf_metadata_count(r);
    nval = mcf_value_count(r);
    if (nval && c->strict) {
        fputs("mcf: ", stderr);
        term_text(stderr, c->pos[0]);
        fprintf(stderr, " holds %lu non-tensor value%s that ", (unsigned long)nval, nval == 1 ? "" : "s");
        term_text(stderr, c->pos[1]);
        fputs(" cannot hold (--strict): ", stderr);
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
    /* the bare tensor of torch.save(t) needs a name in safetensors: "tensor",
     * as examples/convert.c names it (back to torch it stays bare) */
    if (n == 1 && !*t[0].name && strcmp(kind, "safetensors") == 0 && strcmp(mcf_reader_format(r), "torch") == 0)
        t[0].name = "tensor";
    /* an index's metadata ("total_size") describes the index, not a file:
     * shards get the default {"format": "pt"} */
    if (ends_with_nocase(c->pos[0], ".index.json")) nmeta = 0;
    for (i = 0; i < nmeta; i++) (void)mcf_metadata_pair(r, i, &meta[2 * i], &meta[2 * i + 1]);
    options_init(c, &out, 1, c->pos[1]);
    out.format = kind;
    out.max_shard_bytes = c->max_shard;
    if (nmeta) out.metadata = meta;
    progress_init(&p, "convert");
    out.progress = progress_cb;
    out.progress_user = &p;
    rc = mcf_save(c->pos[1], t, n, &out);
    progress_end(&p);
    if (rc != MCF_OK) { status = failed(); goto done; }
    if (nmeta && strcmp(kind, "torch") == 0)
        term_line(stderr, "mcf: note: ", "torch files have no metadata; the %lu __metadata__ pair%s of %s %s not written",
                  (unsigned long)nmeta, nmeta == 1 ? "" : "s", c->pos[0], nmeta == 1 ? "was" : "were");
    if (nval) {
        fprintf(stderr, "mcf: note: dropped %lu non-tensor value%s: ", (unsigned long)nval, nval == 1 ? "" : "s");
        list_values(stderr, r, nval);
        fputc('\n', stderr);
    }
    if (!c->quiet) {
        char sz[32], dt[32], *index = (char *)malloc(strlen(c->pos[1]) + 12);
        mcf_reader *ix = NULL;
        size_t shards = 0;
        human_bytes((double)total, sz, sizeof sz);
        human_duration(now_s() - t0, dt, sizeof dt);
        if (index && c->max_shard) {   /* sharded when the split made more than one shard */
            snprintf(index, strlen(c->pos[1]) + 12, "%s.index.json", c->pos[1]);
            if (mcf_exists(index, &out) == 1 && mcf_open(index, &out, &ix) == MCF_OK) {
                for (i = 0; i < mcf_count(ix); i++)
                    if (i == 0 || strcmp(mcf_entry_source(ix, i), mcf_entry_source(ix, i - 1)) != 0) shards++;
                mcf_close(ix);
            }
        }
        if (shards)
            term_line(stdout, "", "%s (%s) -> %s (%s, %lu shards + index): %lu tensor%s, %s, %s", c->pos[0], mcf_reader_format(r), index, kind,
                      (unsigned long)shards, (unsigned long)n, n == 1 ? "" : "s", sz, dt);
        else
            term_line(stdout, "", "%s (%s) -> %s (%s): %lu tensor%s, %s, %s", c->pos[0], mcf_reader_format(r), c->pos[1], kind,
                      (unsigned long)n, n == 1 ? "" : "s", sz, dt);
        free(index);
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
    "s3://). DST appears atomically when the copy is complete. DST '-' writes the\n"
    "bytes to stdout (and no summary line).\n"
    "\n"
    "  --no-overwrite          fail if DST exists\n"
    "  --durable               fsync DST and its directory before returning\n"
    "  -q, --quiet             no summary line\n"
    "  -s, --storage-option K=V  backend option for the remote one of SRC and DST\n";

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
    int to_stdout = strcmp(c->pos[1], "-") == 0;          /* like get -o - */
    double t0 = now_s();
    options_init(c, &in, 0, c->pos[0]);
    options_init(c, &out, 1, c->pos[1]);
    memset(&su, 0, sizeof su);
    memset(&du, 0, sizeof du);
    if (mcf_url_parse(c->pos[0], NULL, &su) != MCF_OK) goto fail;
    su_ok = 1;
    if (mcf_filesystem_lookup(su.scheme, &sfs) != MCF_OK) goto fail;
    if (!to_stdout) {
        if (mcf_url_parse(c->pos[1], NULL, &du) != MCF_OK) goto fail;
        du_ok = 1;
        if (mcf_filesystem_lookup(du.scheme, &dfs) != MCF_OK) goto fail;
        if (!dfs.open_write) { mcf_set_error(MCF_NOT_SUPPORTED, "%s: the %s filesystem is read-only", du.url, du.scheme); goto fail; }
    }
    if (sfs.open_read(sfs.user, &su, &in, &rf, &size) != MCF_OK) { rf = NULL; goto fail; }
    buf = (unsigned char *)malloc(CP_CHUNK);
    if (!buf) { mcf_set_error(MCF_INTERNAL_ERROR, "out of memory"); goto fail; }
    if (!to_stdout && dfs.open_write(dfs.user, &du, size, &out, &wf) != MCF_OK) { wf = NULL; goto fail; }
    progress_init(&p, "cp");
    while (done < size) {
        size_t k = size - done < CP_CHUNK ? (size_t)(size - done) : CP_CHUNK;
        rc = sfs.read_at(rf, done, buf, k);
        if (rc == MCF_OK && to_stdout && fwrite(buf, 1, k, stdout) != k)
            rc = mcf_set_error(MCF_FILE_WRITE_FAIL, "cannot write %lu bytes to stdout", (unsigned long)k);
        else if (rc == MCF_OK && !to_stdout) rc = dfs.write(wf, buf, k);
        if (rc != MCF_OK) {
            progress_end(&p);
            if (wf) dfs.abort(wf);
            wf = NULL;
            goto fail;
        }
        done += k;
        progress_update(&p, done, size);
    }
    if (size == 0) progress_update(&p, 0, 0);
    progress_end(&p);
    if (to_stdout) rc = fflush(stdout) == 0 ? MCF_OK : mcf_set_error(MCF_FILE_WRITE_FAIL, "cannot write to stdout");
    else rc = dfs.commit(wf);
    wf = NULL;
    if (rc != MCF_OK) goto fail;
    if (!c->quiet && !to_stdout) {
        char sz[32], dt[32];
        human_bytes((double)size, sz, sizeof sz);
        human_duration(now_s() - t0, dt, sizeof dt);
        term_line(stdout, "", "%s -> %s: %llu bytes (%s), %s", su.url, du.url, (unsigned long long)size, sz, dt);
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
    "tensor. Prints one OK line, or exits 1 with the reason. URL may be a sharded\n"
    "checkpoint's .index.json: the index rules (shard names inside its directory,\n"
    "every tensor in exactly its shard) and every shard are checked.\n"
    "\n"
    "  --format F              read as F instead of sniffing\n"
    "  --lenient               accept bytes after the last safetensors tensor\n"
    "  --no-mmap               read with pread instead of mapping the file\n"
    "  -s, --storage-option K=V  backend option (S3, HTTP; local paths take none)\n";

static int cmd_verify(cli *c)
{
    mcf_options o;
    mcf_reader *r = NULL;
    size_t i, n;
    uint64_t biggest = 0, total = 0, done = 0;
    unsigned char *buf = NULL;
    progress p;
    int status = EXIT_FAILED;
    options_init(c, &o, 0, c->pos[0]);
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
    {
        size_t shards = 0;
        char sh[48] = "";
        for (i = 0; i < n; i++)
            if (i == 0 || strcmp(mcf_entry_source(r, i), mcf_entry_source(r, i - 1)) != 0) shards++;
        if (ends_with_nocase(c->pos[0], ".index.json")) snprintf(sh, sizeof sh, " in %lu shard%s", (unsigned long)shards, shards == 1 ? "" : "s");
        term_line(stdout, "OK ", "%s: %s, %lu tensor%s%s, %llu bytes of data%s", c->pos[0], mcf_reader_format(r), (unsigned long)n,
                  n == 1 ? "" : "s", sh, (unsigned long long)total, strcmp(mcf_reader_format(r), "torch") == 0 ? ", zip CRC-32 checked" : "");
    }
    status = EXIT_OK;
done:
    free(buf);
    mcf_close(r);
    return status;
}

/* ---- get --------------------------------------------------------------------- */

static const char *const GET_HELP =
    "usage: mcf get URL NAME -o FILE [--slice S] [--as DTYPE] [options]\n"
    "\n"
    "Writes the raw bytes of tensor NAME (contiguous, row-major, little-endian)\n"
    "to FILE, any URL; '-o -' writes to stdout. The bare tensor of a file written\n"
    "by torch.save(tensor) is named \"\" (pass '').\n"
    "\n"
    "  -o, --output FILE       destination (required)\n"
    "  --slice S               only t[S], Python/numpy syntax: one item per leading\n"
    "                          dimension, comma-separated: a:b, a:b:c, :, -3:, ::2;\n"
    "                          an integer i keeps its dimension with size 1 (i:i+1);\n"
    "                          negative values count from the end, slice bounds\n"
    "                          clamp, an index must exist; steps are >= 1. Only the\n"
    "                          bytes the slice needs are read.\n"
    "  --as DTYPE              convert to F64, F32, F16 or BF16 (as PyTorch's .to())\n"
    "  --format F              read as F instead of sniffing\n"
    "  -s, --storage-option K=V  backend option (S3, HTTP; local paths take none)\n";

/* Parses --slice text into s[] (at most max items). index_mask bit d: item
 * d was a plain integer i, read as i:i+1 (i = -1: -1 to the end). Returns
 * the item count, or -1 with *bad pointing at the item that does not parse. */
static int parse_slices(const char *text, mcf_slice *s, int max, unsigned *index_mask, const char **bad)
{
    const char *p = text;
    int n = 0;
    *index_mask = 0;
    for (;;) {
        long long v[3];
        int have[3] = {0, 0, 0}, part = 0;
        while (*p == ' ') p++;
        *bad = p;
        if (n == max) return -1;
        for (;;) {
            char *end;
            while (*p == ' ') p++;
            if (*p == '-' || *p == '+' || (*p >= '0' && *p <= '9')) {
                v[part] = strtoll(p, &end, 10);
                if (end == p) return -1;
                have[part] = 1;
                p = end;
                while (*p == ' ') p++;
            }
            if (*p != ':' || part == 2) break;
            part++;
            p++;
        }
        if (*p != ',' && *p != '\0') return -1;
        if (part == 0) {                      /* an integer index */
            if (!have[0]) return -1;
            s[n].start = v[0];
            s[n].stop = v[0] == -1 || v[0] == INT64_MAX ? MCF_SLICE_END : v[0] + 1;
            s[n].step = 1;
            *index_mask |= 1u << n;
        } else {
            s[n].start = have[0] ? v[0] : 0;
            s[n].stop = have[1] ? v[1] : MCF_SLICE_END;
            s[n].step = part == 2 && have[2] ? v[2] : 1;
        }
        n++;
        if (*p == '\0') return n;
        p++;
    }
}

static int cmd_get(cli *c)
{
    mcf_options o, out;
    mcf_reader *r = NULL;
    uint64_t nb = 0;
    unsigned char *buf = NULL;
    progress p;
    mcf_slice sl[MCF_MAX_DIMS];
    int ns = 0, d, idx, rc, status = EXIT_FAILED;
    unsigned index_mask = 0;
    mcf_dtype to = MCF_F32;
    mcf_tensor info;
    int64_t shape[MCF_MAX_DIMS];
    if (c->slice) {
        const char *bad = c->slice;
        if ((ns = parse_slices(c->slice, sl, MCF_MAX_DIMS, &index_mask, &bad)) < 0) {
            fprintf(stderr, "mcf get: --slice '%s': cannot parse '%s' (items like 0:128, :, -3:, ::2 or 5, comma-separated, at most %d)\n",
                    c->slice, bad, MCF_MAX_DIMS);
            return EXIT_USAGE;
        }
    }
    if (c->as && mcf_dtype_parse(c->as, &to) != MCF_OK && mcf_dtype_parse_torch(c->as, &to) != MCF_OK) {
        fprintf(stderr, "mcf get: --as '%s': unknown dtype (F64, F32, F16 or BF16)\nTry 'mcf get --help'.\n", c->as);
        return EXIT_USAGE;
    }
    options_init(c, &o, 0, c->pos[0]);
    o.format = c->format;
    if (mcf_open(c->pos[0], &o, &r) != MCF_OK) return failed();
    idx = mcf_find(r, c->pos[1]);
    if (idx < 0) {
        size_t i, n = mcf_count(r);
        status = failed();
        fputs("mcf: ", stderr);
        term_text(stderr, c->pos[0]);
        fprintf(stderr, " has %lu tensor%s:", (unsigned long)n, n == 1 ? "" : "s");
        for (i = 0; i < n && i < 10; i++) {
            mcf_tensor t;
            (void)mcf_entry(r, i, &t);
            fputs(" \"", stderr);
            term_text(stderr, t.name);
            fputc('"', stderr);
        }
        fprintf(stderr, "%s\n", n > 10 ? " ..." : "");
        goto done;
    }
    if (mcf_entry(r, (size_t)idx, &info) != MCF_OK) { status = failed(); goto done; }
    if (!c->as) to = info.dtype;
    /* an integer index must name an element, as in numpy */
    for (d = 0; d < ns && d < info.ndim; d++)
        if (((index_mask >> d) & 1u) && (sl[d].start >= info.shape[d] || sl[d].start < -info.shape[d])) {
            mcf_set_error(MCF_INVALID_PARAMS, "%s: tensor \"%s\": index %lld is out of range for dimension %d of size %lld", c->pos[0],
                          c->pos[1], (long long)sl[d].start, d, (long long)info.shape[d]);
            status = failed();
            goto done;
        }
    if (mcf_slice_shape(r, (size_t)idx, sl, ns, shape) != MCF_OK) { status = failed(); goto done; }
    if (mcf_dtype_size(to) == 0) {          /* sub-byte dtypes: the whole tensor only */
        if (mcf_entry_location(r, (size_t)idx, NULL, &nb) != MCF_OK) { status = failed(); goto done; }
    } else {
        nb = mcf_dtype_size(to);
        for (d = 0; d < info.ndim; d++) {
            if (shape[d] && nb > UINT64_MAX / (uint64_t)shape[d]) { nb = UINT64_MAX; break; }
            nb *= (uint64_t)shape[d];
        }
    }
    if (nb > (uint64_t)(size_t)-1) { mcf_set_error(MCF_NOT_SUPPORTED, "tensor too large for this host"); status = failed(); goto done; }
    buf = (unsigned char *)malloc(nb ? (size_t)nb : 1);
    if (!buf) { mcf_set_error(MCF_INTERNAL_ERROR, "out of memory for %llu bytes", (unsigned long long)nb); status = failed(); goto done; }
    if (mcf_read_as(r, (size_t)idx, to, sl, ns, buf, (size_t)nb) != MCF_OK) { status = failed(); goto done; }
    if (strcmp(c->output, "-") == 0) {
        if (nb && fwrite(buf, 1, (size_t)nb, stdout) != (size_t)nb) { fprintf(stderr, "mcf: cannot write %llu bytes to stdout\n", (unsigned long long)nb); goto done; }
        if (fflush(stdout) != 0) { fprintf(stderr, "mcf: cannot write to stdout\n"); goto done; }
    } else {
        options_init(c, &out, 1, c->output);
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

/* ---- seed ---------------------------------------------------------------------- */

static const char *const SEED_HELP =
    "usage: mcf seed CHECKPOINT MODEL --rank R [--chunk-bytes N] [--dry-run] [options]\n"
    "\n"
    "Puts every tensor of a safetensors checkpoint into a store the way Mooncake's\n"
    "remote model loader (SGLang, vLLM) reads it: the raw little-endian bytes under\n"
    "MODEL/keys/rank_R/NAME. CHECKPOINT is one .safetensors file, an .index.json,\n"
    "or a directory holding model.safetensors.index.json (else its *.safetensors\n"
    "files); a local directory's config, tokenizer and template files go under\n"
    "MODEL/files/NAME, listed by the key __index__MODEL/files/.\n"
    "\n"
    "  --rank R            tensor-parallel rank R >= 0 in the keys (required)\n"
    "  --chunk-bytes N     store a tensor larger than N bytes as KEY.__chunk__.I\n"
    "                      values and a KEY.__chunk_manifest__ (the loader's\n"
    "                      standalone mode uses 8388608)\n"
    "  --dry-run           print each key and its byte count; put nothing\n"
    "  -q, --quiet         no summary line on stderr\n"
    "  --no-mmap, -s KEY=VALUE   as for the other commands\n"
    "\n"
#ifdef MOONCAKE_FILEIO_MOONCAKE_STORE
    "Without --dry-run the keys go to a Mooncake store, reached with the\n"
    "MOONCAKE_LOCAL_HOSTNAME, MOONCAKE_METADATA_SERVER, MOONCAKE_PROTOCOL,\n"
    "MOONCAKE_DEVICE and MOONCAKE_MASTER environment variables (defaults\n"
    "localhost, P2PHANDSHAKE, tcp, none, localhost:50051).\n";
#else
    "Without --dry-run the keys go to a Mooncake store; this mcf has no Mooncake\n"
    "client (build tools/mcf.c with -DMOONCAKE_FILEIO_MOONCAKE_STORE and link\n"
    "Mooncake's store library), so only --dry-run works here.\n";
#endif

/* --dry-run: a store that prints each put and keeps nothing. */
typedef struct dry_store { mcf_store vt; unsigned long long keys, bytes; } dry_store;

static int dry_put(void *u, const char *key, const void *obj, size_t len)
{
    dry_store *d = (dry_store *)u;
    (void)obj;
    term_text(stdout, key);
    printf(" %llu\n", (unsigned long long)len);
    d->keys++;
    d->bytes += len;
    return MCF_OK;
}

static int dry_get(void *u, const char *key, void **obj, size_t *len)
{
    (void)u; (void)obj; (void)len;
    return mcf_set_error(MCF_OBJECT_NOT_FOUND, "dry run: no key \"%s\"", key);
}

static void dry_release(void *u, void *obj) { (void)u; (void)obj; }

/* A decimal number in [0, max]; 0 if s is not one. */
static int parse_count(const char *s, unsigned long long max, unsigned long long *v)
{
    char *end;
    if (!s || !*s || *s < '0' || *s > '9') return 0;
    errno = 0;
    *v = strtoull(s, &end, 10);
    return errno == 0 && *end == '\0' && *v <= max;
}

#ifdef MOONCAKE_FILEIO_MOONCAKE_STORE
static const char *env_or(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

/* The keys into a Mooncake store reached through the environment. */
static int seed_mooncake(cli *c, const mcf_options *o, int rank)
{
    mcf_store s;
    void *client = mooncake_store_create();
    int rc;
    if (!client) { fprintf(stderr, "mcf: cannot create a Mooncake client\n"); return EXIT_FAILED; }
    rc = mooncake_store_setup(client, env_or("MOONCAKE_LOCAL_HOSTNAME", "localhost"), env_or("MOONCAKE_METADATA_SERVER", "P2PHANDSHAKE"),
                              3355443200ull, 1073741824ull, env_or("MOONCAKE_PROTOCOL", "tcp"), env_or("MOONCAKE_DEVICE", ""),
                              env_or("MOONCAKE_MASTER", "localhost:50051"));
    if (rc != 0) {
        fprintf(stderr, "mcf: Mooncake client setup failed with %d (%s)\n", rc, mcf_result_name(rc));
        mooncake_store_destroy(client);
        return EXIT_FAILED;
    }
    rc = mcf_mooncake_store_init(&s, client);
    if (rc == MCF_OK) rc = mcf_seed_model(&s, c->pos[0], c->pos[1], rank, o);
    mooncake_store_destroy(client);
    return rc == MCF_OK ? EXIT_OK : failed();
}
#endif

static int cmd_seed(cli *c)
{
    mcf_options o;
    dry_store d;
    unsigned long long rank = 0, chunk = 0;
    double t0 = now_s();
    if (!c->rank) return usage_error(c->cmd, "missing --rank R", NULL);
    if (!parse_count(c->rank, 2147483647ull, &rank)) return usage_error(c->cmd, "--rank is not a number >= 0:", c->rank);
    if (c->chunk_bytes && !parse_count(c->chunk_bytes, ~0ull, &chunk))
        return usage_error(c->cmd, "--chunk-bytes is not a number >= 0:", c->chunk_bytes);
    options_init(c, &o, 0, c->pos[0]);
    o.chunk_bytes = chunk;
    if (!c->dry_run) {
#ifdef MOONCAKE_FILEIO_MOONCAKE_STORE
        int rc = seed_mooncake(c, &o, (int)rank);
        if (rc == EXIT_OK && !c->quiet) fprintf(stderr, "mcf seed: done (%.2f s)\n", now_s() - t0);
        return rc;
#else
        fprintf(stderr, "mcf seed: this mcf has no Mooncake client; pass --dry-run, or build tools/mcf.c with "
                        "-DMOONCAKE_FILEIO_MOONCAKE_STORE and link Mooncake's store library\n");
        return EXIT_FAILED;
#endif
    }
    memset(&d, 0, sizeof d);
    d.vt.user = &d;
    d.vt.put = dry_put;
    d.vt.get = dry_get;
    d.vt.release = dry_release;
    if (mcf_seed_model(&d.vt, c->pos[0], c->pos[1], (int)rank, &o) != MCF_OK) {
        fflush(stdout);
        return failed();
    }
    fflush(stdout);
    if (!c->quiet) fprintf(stderr, "mcf seed: dry run: %llu keys, %llu bytes (%.2f s)\n", d.keys, d.bytes, now_s() - t0);
    return EXIT_OK;
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
    "  cp SRC DST                     copy an object's bytes between two URLs ('-': stdout)\n"
    "  verify URL                     full validation and zip CRCs; reads every tensor\n"
    "  get URL NAME -o FILE           raw bytes of one tensor [--slice S] [--as DTYPE]\n"
    "  seed CHECKPOINT MODEL --rank R a checkpoint into a Mooncake store [--dry-run]\n"
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
    {"convert", "--format --from --no-overwrite --durable -q --quiet --lenient --no-mmap --strict --max-shard-size -s --storage-option", 2, 2, cmd_convert},
    {"cp", "--no-overwrite --durable -q --quiet -s --storage-option", 2, 2, cmd_cp},
    {"verify", "--format --lenient --no-mmap -s --storage-option", 1, 1, cmd_verify},
    {"get", "-o --output --slice --as --format --lenient --no-mmap --durable -s --storage-option", 2, 2, cmd_get},
    {"seed", "--rank --chunk-bytes --dry-run -q --quiet --no-mmap -s --storage-option", 2, 2, cmd_seed},
};

static const char *command_help(const char *name)
{
    if (strcmp(name, "inspect") == 0) return INSPECT_HELP;
    if (strcmp(name, "convert") == 0) return CONVERT_HELP;
    if (strcmp(name, "cp") == 0) return CP_HELP;
    if (strcmp(name, "verify") == 0) return VERIFY_HELP;
    if (strcmp(name, "get") == 0) return GET_HELP;
    if (strcmp(name, "seed") == 0) return SEED_HELP;
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
            rc = check_format(c.cmd, c.format, NULL);
        if (rc == EXIT_OK) rc = check_urls(&c);
        if (rc == EXIT_OK) rc = cmd->run(&c);
        cli_free(&c);
        return rc;
    }
    return usage_error(NULL, "unknown command", name);
}
