/* Standalone driver for the fuzz targets, used when libFuzzer is not available.
 *
 * usage: fuzz_X [PATH...] — each PATH is a file or a directory of files (a seed corpus).
 * Every input is run as is, then RR_FUZZ_MUTATIONS (default 200) deterministic
 * mutations of it (bit flips, truncations, byte insertions, splices), so the sanitizer
 * build exercises the parsers beyond the seeds in every test run.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void run_one(const uint8_t *data, size_t size)
{
    /* A private copy so reads past the end are caught by ASan. */
    uint8_t *copy = g_malloc(size ? size : 1);
    memcpy(copy, data, size);
    LLVMFuzzerTestOneInput(copy, size);
    g_free(copy);
}

static void mutate_and_run(GRand *rand, const uint8_t *data, size_t size, guint rounds)
{
    for (guint r = 0; r < rounds; r++) {
        size_t cap = size + 16;
        uint8_t *buf = g_malloc(cap);
        memcpy(buf, data, size);
        size_t len = size;
        guint edits = 1 + g_rand_int_range(rand, 0, 8);
        for (guint e = 0; e < edits; e++) {
            switch (g_rand_int_range(rand, 0, 5)) {
            case 0: /* flip a bit */
                if (len)
                    buf[g_rand_int_range(rand, 0, len)] ^= 1u << g_rand_int_range(rand, 0, 8);
                break;
            case 1: /* truncate */
                if (len)
                    len = g_rand_int_range(rand, 0, len);
                break;
            case 2: /* insert a byte */
                if (len < cap) {
                    size_t at = g_rand_int_range(rand, 0, len + 1);
                    memmove(buf + at + 1, buf + at, len - at);
                    buf[at] = (uint8_t)g_rand_int(rand);
                    len++;
                }
                break;
            case 3: /* interesting value */
                if (len) {
                    static const uint8_t vals[] = {0x00, 0xff, 0x7f, 0x80, 0x01, 0xfe};
                    buf[g_rand_int_range(rand, 0, len)] = vals[g_rand_int_range(rand, 0, 6)];
                }
                break;
            default: /* duplicate a chunk over another place */
                if (len > 2) {
                    size_t a = g_rand_int_range(rand, 0, len), b = g_rand_int_range(rand, 0, len);
                    size_t want = (size_t)g_rand_int_range(rand, 1, 16);
                    size_t n = MIN(len - MAX(a, b), want);
                    memmove(buf + b, buf + a, n);
                }
                break;
            }
        }
        run_one(buf, len);
        g_free(buf);
    }
}

static guint run_path(GRand *rand, const char *path, guint rounds)
{
    guint n = 0;
    if (g_file_test(path, G_FILE_TEST_IS_DIR)) {
        GDir *dir = g_dir_open(path, 0, NULL);
        const char *name;
        GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
        while (dir && (name = g_dir_read_name(dir)))
            g_ptr_array_add(names, g_build_filename(path, name, NULL));
        if (dir)
            g_dir_close(dir);
        g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
        for (guint i = 0; i < names->len; i++)
            n += run_path(rand, g_ptr_array_index(names, i), rounds);
        g_ptr_array_unref(names);
        return n;
    }
    gchar *data = NULL;
    gsize size = 0;
    if (!g_file_get_contents(path, &data, &size, NULL)) {
        fprintf(stderr, "fuzz driver: cannot read %s\n", path);
        exit(2);
    }
    run_one((const uint8_t *)data, size);
    mutate_and_run(rand, (const uint8_t *)data, size, rounds);
    g_free(data);
    return 1;
}

int main(int argc, char **argv)
{
    const char *env = g_getenv("RR_FUZZ_MUTATIONS");
    guint rounds = env ? (guint)g_ascii_strtoull(env, NULL, 10) : 200;
    GRand *rand = g_rand_new_with_seed(0x726f6f6d);
    guint n = 0;
    for (int i = 1; i < argc; i++)
        n += run_path(rand, argv[i], rounds);
    g_rand_free(rand);
    if (n == 0) {
        fprintf(stderr, "fuzz driver: no inputs\n");
        return 2;
    }
    printf("fuzz driver: %u inputs, %u mutations each, no crash\n", n, rounds);
    return 0;
}
