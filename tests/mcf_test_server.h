/* mcf_test_server.h - real servers on 127.0.0.1 for the curl tests: nginx
 * (DAV PUT, Range; HTTPS on a second port), @20minutes/s3rver (checks SigV4
 * signatures) and python3 -m http.server (ignores Range), each started
 * through tests/servers/mcf-servers.sh on free ports the first time a test
 * needs it and stopped by PID at exit. NEED_HTTP(), NEED_S3() and NEED_PY()
 * start one or skip the test with the launcher's reason (exit status 77:
 * a prerequisite is missing). POSIX and MOONCAKE_FILEIO_CURL only. */
#ifndef MCF_TEST_SERVER_H
#define MCF_TEST_SERVER_H
#include "mcf_test.h"
#if defined(MOONCAKE_FILEIO_CURL) && !defined(_WIN32)
#include "mcf_test_net.h"
#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define S3_KEY "mcf-test-access"
#define S3_SECRET "mcf-test-secret-do-not-print"
#define S3_BUCKET "mcf-bucket"

typedef struct mcf_test_server {
    pid_t pid;
    int port, port2;    /* nginx: port2 serves HTTPS */
    int state;          /* 0 not tried, 1 up, 2 skip (why), 3 failed (why) */
    char dir[64];
    char why[600];
} mcf_test_server;

static mcf_test_server g_http, g_s3, g_py;
MCF_TEST_UNUSED static char g_http_base[64], g_s3_endpoint[64], g_py_base[64];   /* set by NEED_HTTP, NEED_S3, NEED_PY */

static void mcf_test_server_stop(mcf_test_server *s) { mcf_test_stop_server(&s->pid, s->dir); }

static void mcf_test_servers_stop(void) { mcf_test_server_stop(&g_http); mcf_test_server_stop(&g_s3); mcf_test_server_stop(&g_py); }

static void mcf_test_server_log(mcf_test_server *s, const char *prefix)
{
    char path[128];
    size_t n;
    FILE *f;
    (void)snprintf(path, sizeof path, "%s/launch.log", s->dir);
    n = (size_t)snprintf(s->why, sizeof s->why, "%s", prefix);
    if ((f = fopen(path, "r")) != NULL) {
        size_t got = fread(s->why + n, 1, sizeof s->why - n - 1, f);
        s->why[n + got] = '\0';
        while (got > 0 && (s->why[n + got - 1] == '\n')) s->why[n + --got] = '\0';
        fclose(f);
    }
}

/* kind "nginx", "s3" or "python-http": fork + exec the launcher, wait until
 * the port answers. */
static int mcf_test_server_start(mcf_test_server *s, const char *kind)
{
    static int cleanup_registered;
    char port[16], port2[16], sub[96], log[96];
    int i, st;
    if (s->state) return s->state;
    s->state = 3;
    (void)snprintf(s->dir, sizeof s->dir, "/tmp/mcf-remote-XXXXXX");
    if (!mkdtemp(s->dir)) { s->dir[0] = '\0'; (void)snprintf(s->why, sizeof s->why, "mkdtemp failed"); return s->state; }
    if ((s->port = mcf_test_free_port()) < 0) { (void)snprintf(s->why, sizeof s->why, "no free port"); return s->state; }
    (void)snprintf(port, sizeof port, "%d", s->port);
    do s->port2 = mcf_test_free_port(); while (s->port2 == s->port);
    (void)snprintf(port2, sizeof port2, "%d", s->port2);
    (void)snprintf(sub, sizeof sub, "%s/%s", s->dir, strcmp(kind, "s3") == 0 ? "store" : "www");
    (void)snprintf(log, sizeof log, "%s/launch.log", s->dir);
    fflush(NULL);
    s->pid = fork();
    if (s->pid < 0) { s->pid = 0; (void)snprintf(s->why, sizeof s->why, "fork failed"); return s->state; }
    if (s->pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
#ifdef __linux__
        (void)prctl(PR_SET_PDEATHSIG, SIGTERM);   /* no orphan server if the test dies */
#endif
        if (fd >= 0) { (void)dup2(fd, 1); (void)dup2(fd, 2); close(fd); }
        if (strcmp(kind, "s3") == 0)
            execl("/bin/sh", "sh", "tests/servers/mcf-servers.sh", "s3", sub, port, S3_KEY, S3_SECRET, S3_BUCKET, (char *)NULL);
        else if (strcmp(kind, "python-http") == 0)
            execl("/bin/sh", "sh", "tests/servers/mcf-servers.sh", "python-http", sub, port, (char *)NULL);
        else
            execl("/bin/sh", "sh", "tests/servers/mcf-servers.sh", "nginx", sub, port, port2, (char *)NULL);
        _exit(127);
    }
    if (!cleanup_registered) { cleanup_registered = 1; (void)atexit(mcf_test_servers_stop); }
    for (i = 0; i < 1200; i++) {   /* 60 s: the first s3 start runs npm ci */
        struct timespec ts;
        pid_t w = waitpid(s->pid, &st, WNOHANG);
        if (w == s->pid) {
            s->pid = 0;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 77) { mcf_test_server_log(s, ""); s->state = 2; }
            else mcf_test_server_log(s, "server exited: ");
            return s->state;
        }
        if (mcf_test_port_open(s->port)) { s->state = 1; return s->state; }
        ts.tv_sec = 0; ts.tv_nsec = 50000000L;
        (void)nanosleep(&ts, NULL);
    }
    mcf_test_server_log(s, "server did not answer within 60 s: ");
    return s->state;
}

#define NEED_HTTP() do { int st_ = mcf_test_server_start(&g_http, "nginx"); \
    if (st_ == 2) MCF_SKIP("%s", g_http.why); \
    if (st_ != 1) { fprintf(stderr, "  nginx: %s\n", g_http.why); return 1; } \
    (void)snprintf(g_http_base, sizeof g_http_base, "http://127.0.0.1:%d", g_http.port); } while (0)
#define NEED_PY() do { int st_ = mcf_test_server_start(&g_py, "python-http"); \
    if (st_ == 2) MCF_SKIP("%s", g_py.why); \
    if (st_ != 1) { fprintf(stderr, "  python http.server: %s\n", g_py.why); return 1; } \
    (void)snprintf(g_py_base, sizeof g_py_base, "http://127.0.0.1:%d", g_py.port); } while (0)
#define NEED_S3() do { int st_ = mcf_test_server_start(&g_s3, "s3"); \
    if (st_ == 2) MCF_SKIP("%s", g_s3.why); \
    if (st_ != 1) { fprintf(stderr, "  s3rver: %s\n", g_s3.why); return 1; } \
    (void)snprintf(g_s3_endpoint, sizeof g_s3_endpoint, "http://127.0.0.1:%d", g_s3.port); } while (0)

/* n bytes of xorshift noise from seed (malloc'd; NULL when out of memory). */
MCF_TEST_UNUSED
static unsigned char *noise(size_t n, unsigned seed)
{
    unsigned char *p = (unsigned char *)malloc(n ? n : 1);
    size_t i;
    uint32_t x = 2463534242u ^ seed;
    for (i = 0; p && i < n; i++) { x ^= x << 13; x ^= x >> 17; x ^= x << 5; p[i] = (unsigned char)x; }
    return p;
}

static const char *g_s3_good[12], *g_s3_bad[12];
/* Options for the s3rver bucket with this secret (S3_SECRET or a wrong one). */
MCF_TEST_UNUSED
static mcf_options s3_options(const char *secret)
{
    const char **g_s3_opts = strcmp(secret, S3_SECRET) == 0 ? g_s3_good : g_s3_bad;
    mcf_options o;
    memset(&o, 0, sizeof o);
    g_s3_opts[0] = "key"; g_s3_opts[1] = S3_KEY;
    g_s3_opts[2] = "secret"; g_s3_opts[3] = secret;
    g_s3_opts[4] = "endpoint_url"; g_s3_opts[5] = g_s3_endpoint;
    g_s3_opts[6] = "region"; g_s3_opts[7] = "us-east-1";
    g_s3_opts[8] = NULL;
    o.storage_options = g_s3_opts;
    return o;
}

/* The good options with part_size (bytes, as text): uploads larger than
 * that go multipart, in parts that size. */
MCF_TEST_UNUSED
static mcf_options s3_part_options(const char *part_size)
{
    static const char *opts[12];
    mcf_options o = s3_options(S3_SECRET);
    memcpy(opts, g_s3_good, sizeof opts);
    opts[8] = "part_size"; opts[9] = part_size;
    opts[10] = NULL;
    o.storage_options = opts;
    return o;
}
#endif
#endif
