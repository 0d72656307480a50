/*
 * replay_main: runs a libFuzzer harness without libFuzzer (gcc builds).
 *
 *   replay_<name> DIR|FILE...
 *
 * Calls LLVMFuzzerInitialize once, then LLVMFuzzerTestOneInput on every
 * regular file of each directory (in name order, each in a buffer of its
 * exact size) or on each file given directly.  Prints one TAP line per
 * argument: "ok N - replayed K inputs of <name>", "not ok" for an empty
 * or unreadable directory.  A harness that finds a broken invariant
 * aborts, so the exit status is non-zero then too.  Exits 1 if any
 * argument failed, 0 otherwise; prints no plan (the caller does).
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Reads path into a malloc'd buffer of exactly its size; -1 on error. */
static int read_file(const char *path, uint8_t **data, size_t *size)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    size_t got;

    if (!f || fstat(fileno(f), &st) != 0 || st.st_size < 0) {
        if (f) {
            fclose(f);
        }
        return -1;
    }
    *size = (size_t)st.st_size;
    *data = malloc(*size ? *size : 1);
    got = *data ? fread(*data, 1, *size, f) : 0;
    fclose(f);
    if (!*data || got != *size) {
        free(*data);
        return -1;
    }
    return 0;
}

static int run_file(const char *path)
{
    uint8_t *data;
    size_t size;

    if (read_file(path, &data, &size) != 0) {
        fprintf(stderr, "# cannot read %s: %s\n", path, strerror(errno));
        return -1;
    }
    FUZZ_NOTE("%s\n", path);
    LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Replays every regular file of dir; returns the count or -1. */
static int run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL, path[4096];
    size_t n = 0, cap = 0, i;
    int count = 0;
    struct stat st;

    if (!d) {
        return -1;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') {
            continue;
        }
        if (n == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, cap * sizeof(*names));
            if (!names) {
                abort();
            }
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) {
        qsort(names, n, sizeof(*names), by_name);
    }
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            count = run_file(path) == 0 && count >= 0 ? count + 1 : -1;
        }
        free(names[i]);
    }
    free(names);
    return count;
}

static const char *base_name(const char *path)
{
    const char *end = path + strlen(path), *p;
    static char name[256];

    while (end > path && end[-1] == '/') {
        end--;
    }
    for (p = end; p > path && p[-1] != '/'; p--) {
    }
    snprintf(name, sizeof(name), "%.*s", (int)(end - p), p);
    return name;
}

int main(int argc, char **argv)
{
    int i, failed = 0;
    struct stat st;

    LLVMFuzzerInitialize(&argc, &argv);
    for (i = 1; i < argc; i++) {
        int k = stat(argv[i], &st) != 0 ? -1
                : S_ISDIR(st.st_mode) ? run_dir(argv[i])
                : run_file(argv[i]) == 0 ? 1 : -1;
        if (k > 0) {
            printf("ok %d - replayed %d inputs of %s\n", i, k,
                   base_name(argv[i]));
        }
        else {
            printf("not ok %d - replay of %s (%s)\n", i, base_name(argv[i]),
                   k == 0 ? "no inputs" : "unreadable");
            failed = 1;
        }
        fflush(stdout);
    }
    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR|FILE...\n", argv[0]);
        return 2;
    }
    return failed;
}
