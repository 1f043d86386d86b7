/* Persistent thread pool: workers are created once (and only added when a call wants more threads),
 * then wait for jobs by spinning briefly (a decode loop calls back within microseconds) and then
 * sleeping on a condition variable, so an idle pool costs no CPU on a shared machine.
 *
 * A job is n_units of work (kernel row blocks) cut into a few items per thread, and each thread owns a contiguous
 * share of the items: it runs its own share front to back, then takes items from the BACK of the other shares
 * until none is left. So a thread reads one contiguous stretch of the weights, as one sequential stream the
 * hardware prefetcher follows (a GEMV is a read of the matrix at memory bandwidth; claiming items from one
 * shared counter scattered each thread's reads over 4 stretches and measured ~3% slower at the 2B shape), while a
 * thread that starts late still leaves its share to the others: the caller returns when every item is done and
 * never waits for a worker that has not started, which on a shared machine (other processes on our cores) is the
 * difference between a 2-thread call taking the 1-thread time and taking a scheduler time slice.
 * tq_pool_run_static gives each thread exactly its one equal part instead (concurrent readers for the
 * bandwidth probe). Jobs from several caller threads are serialised.
 * NUMA: where the machine has more than one node, worker t is pinned to the CPUs of node t % nodes.
 * Rows then go to whichever thread claims them, so page placement is left to first touch by the
 * layout build and is not guaranteed to match; this machine has one node, where nothing is pinned
 * and none of this can be measured.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ~50-100 us of pause instructions before a worker goes to sleep. */
#define TQ_SPIN 4096

static struct {
    pthread_mutex_t call_lock;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint gen;            /* job number; 0 = none yet */
    atomic_int sleepers;
    /* Share t of the job's items is claimed from one word: job number << 32 | front << 16 | back, the
     * unclaimed items being [front, back). A claim succeeds only while that job still has unclaimed items
     * there, so a worker that wakes late (its job finished, even later jobs begun) claims nothing and never
     * reads stale arguments. */
    _Atomic uint64_t share[TQ_MAX_THREADS];
    atomic_int n_shares, n_items;
    atomic_int done;            /* items of the current job finished */
    _Atomic(tq_task_fn) fn;
    _Atomic(void *) arg;
    atomic_int n_units, one_each;
    int n_workers;
    pid_t owner;
} P = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) { __builtin_ia32_pause(); }

int tq_numa_nodes(void) {
    int nodes = 0;
    for (;; nodes++) {
        char path[64];
        snprintf(path, sizeof path, "/sys/devices/system/node/node%d", nodes);
        if (access(path, F_OK) != 0) break;
    }
    return nodes > 0 ? nodes : 1;
}

int tq_max_threads(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : (n > TQ_MAX_THREADS ? TQ_MAX_THREADS : (int)n);
}

/* Pin the calling thread to the CPUs of `node` (a cpulist such as "0-3,8-11"). */
static void pin_to_node(int node) {
    char path[80], list[1024];
    snprintf(path, sizeof path, "/sys/devices/system/node/node%d/cpulist", node);
    FILE *f = fopen(path, "r");
    if (!f) return;
    size_t len = fread(list, 1, sizeof list - 1, f);
    fclose(f);
    list[len] = 0;
    cpu_set_t set;
    CPU_ZERO(&set);
    for (char *p = list; *p;) {
        char *end;
        long lo = strtol(p, &end, 10), hi = lo;
        if (end == p) break;
        if (*end == '-') hi = strtol(end + 1, &end, 10);
        for (long c = lo; c <= hi && c < CPU_SETSIZE; c++) CPU_SET((int)c, &set);
        p = *end == ',' ? end + 1 : end;
        if (*p == '\n') break;
    }
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Claim the front (own share) or back (another's) item of share t of job g. */
static int grab(unsigned g, int t, int back, int *item) {
    uint64_t c = atomic_load_explicit(&P.share[t], memory_order_acquire);
    for (;;) {
        int front = (int)((c >> 16) & 0xFFFF), end = (int)(c & 0xFFFF);
        if ((unsigned)(c >> 32) != g || front >= end) return 0;
        uint64_t next = back ? c - 1 : c + (1u << 16);
        if (atomic_compare_exchange_weak_explicit(&P.share[t], &c, next, memory_order_acq_rel, memory_order_acquire)) {
            *item = back ? end - 1 : front;
            return 1;
        }
    }
}

static void run_item(int i) {
    /* job g is unfinished while we hold one of its items, so these are job g's */
    tq_task_fn fn = atomic_load_explicit(&P.fn, memory_order_relaxed);
    void *arg = atomic_load_explicit(&P.arg, memory_order_relaxed);
    int units = atomic_load_explicit(&P.n_units, memory_order_relaxed);
    int n = atomic_load_explicit(&P.n_items, memory_order_relaxed);
    fn(arg, (int)((int64_t)units * i / n), (int)((int64_t)units * (i + 1) / n));
    atomic_fetch_add_explicit(&P.done, 1, memory_order_release);
}

/* Thread `me` runs items of job g: its own share front to back, then (unless the job gives each thread one part)
 * the others' from the back, until none is left. A worker beyond the job's thread count (the pool grew for an
 * earlier job) stays out: the job runs on at most n_threads threads, and workers 1 .. n_threads - 1 exist. */
static void participate(unsigned g, int me, int own_only) {
    const int shares = atomic_load_explicit(&P.n_shares, memory_order_relaxed);
    int i;
    if (me >= shares) return;
    while (grab(g, me, 0, &i)) {
        run_item(i);
        if (own_only) return;
    }
    if (own_only) return;
    for (int k = 1; k <= shares; k++) {
        const int t = (me + k) % shares;
        while (grab(g, t, 1, &i)) run_item(i);
    }
}

static void *worker(void *p) {
    int tid = (int)(intptr_t)p, nodes = tq_numa_nodes();
    if (nodes > 1) pin_to_node(tid % nodes);
    unsigned seen = atomic_load(&P.gen) - 1; /* created inside tq_pool_run: the current job is ours too */
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&P.gen, memory_order_acquire)) == seen) {
            if (++spins < TQ_SPIN) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&P.mu);
            atomic_fetch_add(&P.sleepers, 1);
            while ((g = atomic_load(&P.gen)) == seen) pthread_cond_wait(&P.cv, &P.mu);
            atomic_fetch_sub(&P.sleepers, 1);
            pthread_mutex_unlock(&P.mu);
            break;
        }
        seen = g;
        participate(g, tid, atomic_load_explicit(&P.one_each, memory_order_relaxed));
    }
    return NULL;
}

/* fork(): the prepare handler takes the call lock, so no job is in flight in the parent at the fork;
 * the child, which inherits no worker threads, starts a fresh pool. */
static void before_fork(void) { pthread_mutex_lock(&P.call_lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&P.call_lock); }
static void after_fork_child(void) {
    pthread_mutex_init(&P.call_lock, NULL);
    pthread_mutex_init(&P.mu, NULL);
    pthread_cond_init(&P.cv, NULL);
    P.n_workers = 0;
    P.owner = getpid();
    atomic_store(&P.sleepers, 0);
}
static pthread_once_t fork_handlers_once = PTHREAD_ONCE_INIT;
static void install_fork_handlers(void) { pthread_atfork(before_fork, after_fork_parent, after_fork_child); }

static void run(tq_task_fn fn, void *arg, int n_units, int n_threads, int one_each) {
    if (n_units < 1) return;
    if (n_threads > TQ_MAX_THREADS) n_threads = TQ_MAX_THREADS;
    if (n_threads > n_units) n_threads = n_units;
    if (n_threads <= 1) {
        fn(arg, 0, n_units);
        return;
    }
    /* a few items per thread, so a thread that starts late leaves little for the others to wait on */
    int n_items = one_each ? n_threads : (n_units < 4 * n_threads ? n_units : 4 * n_threads);
    pthread_once(&fork_handlers_once, install_fork_handlers);
    pthread_mutex_lock(&P.call_lock);
    if (P.owner != getpid()) { /* a forked child inherits no worker threads */
        P.owner = getpid();
        P.n_workers = 0;
        atomic_store(&P.sleepers, 0);
    }
    atomic_store_explicit(&P.fn, fn, memory_order_relaxed);
    atomic_store_explicit(&P.arg, arg, memory_order_relaxed);
    atomic_store_explicit(&P.n_units, n_units, memory_order_relaxed);
    atomic_store_explicit(&P.one_each, one_each, memory_order_relaxed);
    atomic_store_explicit(&P.done, 0, memory_order_relaxed);
    unsigned g = atomic_load(&P.gen) + 1;
    atomic_store_explicit(&P.n_items, n_items, memory_order_relaxed);
    atomic_store_explicit(&P.n_shares, n_threads, memory_order_relaxed);
    for (int t = 0; t < n_threads; t++)
        atomic_store_explicit(&P.share[t], ((uint64_t)g << 32) | ((uint64_t)(n_items * t / n_threads) << 16) |
                                               (uint64_t)(n_items * (t + 1) / n_threads), memory_order_release);
    atomic_store(&P.gen, g); /* wakes the workers */
    while (P.n_workers < n_threads - 1) {
        pthread_t th;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&th, &attr, worker, (void *)(intptr_t)(P.n_workers + 1));
        pthread_attr_destroy(&attr);
        if (rc != 0) break; /* cannot grow: the caller claims what no worker does */
        P.n_workers++;
    }
    if (atomic_load(&P.sleepers) > 0) {
        pthread_mutex_lock(&P.mu);
        pthread_cond_broadcast(&P.cv);
        pthread_mutex_unlock(&P.mu);
    }
    int short_of_workers = P.n_workers < n_threads - 1;
    participate(g, 0, one_each && !short_of_workers);
    for (int spins = 0; atomic_load_explicit(&P.done, memory_order_acquire) < n_items; spins++) {
        if (spins < (1 << 16)) cpu_relax();
        else sched_yield(); /* a worker holding an item lost its core to another process */
    }
    pthread_mutex_unlock(&P.call_lock);
}

void tq_pool_run(tq_task_fn fn, void *arg, int n_units, int n_threads) { run(fn, arg, n_units, n_threads, 0); }

void tq_pool_run_static(tq_task_fn fn, void *arg, int n_units, int n_threads) { run(fn, arg, n_units, n_threads, 1); }
