/*
 * bcrypt_rate: how many password verifications per second this machine
 * can do, through the same core function POST /auth/login calls
 * (lcrm_password_verify, i.e. apr-util's bcrypt), without process start-up
 * in the measurement.  bench/run compiles it on the fly against the core
 * library and derives the login ceiling from it.
 *
 *   bcrypt_rate [COST [VERIFIES [THREADS]]]      defaults: 10 20 nproc
 *
 * Prints one JSON object: seconds per verification on one thread, the
 * single-thread rate, and the rate measured with THREADS threads verifying
 * at once (what the cores really deliver together).
 */
#include <apr_general.h>
#include <apr_pools.h>
#include <apr_time.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lcrm_password.h"

static const char *const password = "bench-password-1";

typedef struct {
    const char *hash;
    int count;
    int failures;
} worker_t;

/* Verifies the password count times; counts mismatches (there must be 0). */
static void *verify_loop(void *arg)
{
    worker_t *w = arg;
    int i;

    for (i = 0; i < w->count; i++) {
        if (lcrm_password_verify(password, strlen(password), w->hash)
            != APR_SUCCESS) {
            w->failures++;
        }
    }
    return NULL;
}

/* Runs threads workers of count verifications each; returns seconds. */
static double timed_run(const char *hash, int threads, int count,
                        int *failures)
{
    pthread_t tid[64];
    worker_t w[64];
    apr_time_t t0 = apr_time_now();
    int i;

    for (i = 0; i < threads; i++) {
        w[i].hash = hash;
        w[i].count = count;
        w[i].failures = 0;
        pthread_create(&tid[i], NULL, verify_loop, &w[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(tid[i], NULL);
        *failures += w[i].failures;
    }
    return (double)(apr_time_now() - t0) / APR_USEC_PER_SEC;
}

int main(int argc, char **argv)
{
    int cost = argc > 1 ? atoi(argv[1]) : LCRM_BCRYPT_COST_DEFAULT;
    int verifies = argc > 2 ? atoi(argv[2]) : 20;
    int threads = argc > 3 ? atoi(argv[3]) : (int)sysconf(_SC_NPROCESSORS_ONLN);
    int failures = 0, per_thread;
    apr_pool_t *pool;
    const char *hash;
    double single, parallel;

    if (cost < LCRM_BCRYPT_COST_MIN || cost > LCRM_BCRYPT_COST_MAX
        || verifies < 1 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: bcrypt_rate [COST [VERIFIES [THREADS]]]\n");
        return 1;
    }
    apr_initialize();
    apr_pool_create(&pool, NULL);
    if (lcrm_password_hash(pool, password, strlen(password), cost, &hash)) {
        fprintf(stderr, "bcrypt_rate: cannot hash\n");
        return 1;
    }
    single = timed_run(hash, 1, verifies, &failures);
    per_thread = (verifies + threads - 1) / threads;
    parallel = timed_run(hash, threads, per_thread, &failures);
    if (failures) {
        fprintf(stderr, "bcrypt_rate: %d verifications failed\n", failures);
        return 1;
    }
    printf("{\"cost\": %d, \"verifies\": %d, \"seconds_per_hash\": %.6f,"
           " \"single_thread_rate\": %.2f, \"threads\": %d,"
           " \"parallel_rate\": %.2f}\n",
           cost, verifies, single / verifies, verifies / single, threads,
           (double)(per_thread * threads) / parallel);
    apr_pool_destroy(pool);
    apr_terminate();
    return 0;
}
