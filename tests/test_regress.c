/* Regression inputs from fuzzing (tests/data/regress/EXPECT): each is opened
 * from memory, auto-detected and with each format forced, every entry read
 * and viewed; the result code and entry count must be the recorded ones,
 * and a memory:// object of the same bytes (mapped, with positional reads,
 * as a local file is read) must open with the same code.
 * Under the asan variant this replays what the fuzzer found. */
#include "mcf_test.h"

/* Opens buf with format (NULL = auto) and reads every entry; returns the open result. */
static int regress_exercise(const unsigned char *buf, size_t len, const char *format, size_t *count)
{
    mcf_options o;
    mcf_reader *r = NULL;
    size_t i;
    int rc;
    memset(&o, 0, sizeof o);
    o.format = format;
    o.flags = MCF_VERIFY;
    rc = mcf_open_memory(buf, len, &o, &r);
    *count = 0;
    if (rc != MCF_OK) return rc;
    *count = mcf_count(r);
    for (i = 0; i < *count; i++) {
        uint64_t off, nbytes;
        const void *view;
        void *dst;
        if (mcf_entry_location(r, i, &off, &nbytes) != MCF_OK || nbytes > ((uint64_t)1 << 28)) continue;
        dst = malloc(nbytes ? (size_t)nbytes : 1);
        if (dst && mcf_read(r, i, dst, (size_t)nbytes) == MCF_OK && mcf_view(r, i, &view) == MCF_OK && nbytes)
            if (memcmp(dst, view, (size_t)nbytes) != 0) { free(dst); mcf_close(r); return 1; }
        free(dst);
    }
    mcf_close(r);
    return MCF_OK;
}

static int regress_fuzz_inputs(void)
{
    FILE *m = fopen("tests/data/regress/EXPECT", "r");
    char line[512];
    int files = 0;
    MCF_CHECK(m != NULL);
    while (fgets(line, sizeof line, m)) {
        char name[256], want[64], path[400];
        long want_count;
        unsigned char *buf;
        size_t len = 0, count;
        int rc;
        if (line[0] == '#' || sscanf(line, "%255s %63s %ld", name, want, &want_count) != 3) continue;
        snprintf(path, sizeof path, "tests/data/regress/%s", name);
        buf = mcf_test_slurp(path, &len);
        if (!buf) { fprintf(stderr, "  cannot read %s\n", path); fclose(m); return 1; }
        rc = regress_exercise(buf, len, NULL, &count);
        {
            mcf_reader *r = NULL;
            mcf_options o;
            int rc2 = mcf_write_bytes("memory://regress/input", buf, len, NULL);
            char first[1024];
            snprintf(first, sizeof first, "%s", mcf_last_error());
            memset(&o, 0, sizeof o);
            o.flags = MCF_VERIFY;
            if (rc2 == MCF_OK) rc2 = mcf_open("memory://regress/input", &o, &r);
            mcf_close(r);
            (void)mcf_remove("memory://regress/input", NULL);
            if (rc2 != (rc == 1 ? MCF_OK : rc)) {
                fprintf(stderr, "  %s: %s from memory, %s as memory:// (%s)\n", name, mcf_result_name(rc), mcf_result_name(rc2), mcf_last_error());
                free(buf); fclose(m); return 1;
            }
            (void)mcf_set_error(MCF_OK, "%s", first);
        }
        if (strcmp(mcf_result_name(rc), want) != 0 || (rc == MCF_OK && (long)count != want_count)) {
            fprintf(stderr, "  %s: %s with %lu entries (%s), expected %s with %ld\n", name, mcf_result_name(rc),
                    (unsigned long)count, mcf_last_error(), want, want_count);
            free(buf); fclose(m); return 1;
        }
        /* forced formats: any result but a crash, and a sentence on failure */
        rc = regress_exercise(buf, len, "safetensors", &count);
        if (rc != MCF_OK && !mcf_last_error()[0]) { fprintf(stderr, "  %s: safetensors failure without a sentence\n", name); free(buf); fclose(m); return 1; }
        rc = regress_exercise(buf, len, "torch", &count);
        if (rc != MCF_OK && !mcf_last_error()[0]) { fprintf(stderr, "  %s: torch failure without a sentence\n", name); free(buf); fclose(m); return 1; }
        free(buf);
        files++;
    }
    fclose(m);
    MCF_CHECK(files >= 1);
    return 0;
}

MCF_TEST_MAIN(MCF_TEST(regress_fuzz_inputs))
