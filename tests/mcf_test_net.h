/* mcf_test_net.h - what the test servers' launchers need from the system,
 * shared by tests/mcf_test_server.h and the bench: a free 127.0.0.1 port,
 * whether a port answers, and stopping a server by PID and removing its
 * directory. POSIX only; standalone (no test harness). */
#ifndef MCF_TEST_NET_H
#define MCF_TEST_NET_H
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__GNUC__) || defined(__clang__)
#define MCF_TEST_NET_UNUSED __attribute__((unused))
#else
#define MCF_TEST_NET_UNUSED
#endif

static void mcf_test_loopback(struct sockaddr_in *a, int port)
{
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a->sin_port = htons((unsigned short)port);
}

/* A port on 127.0.0.1 that nothing listens on now, or -1. */
MCF_TEST_NET_UNUSED static int mcf_test_free_port(void)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0) return -1;
    mcf_test_loopback(&a, 0);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

/* 1 when something accepts connections on 127.0.0.1:port. */
MCF_TEST_NET_UNUSED static int mcf_test_port_open(int port)
{
    struct sockaddr_in a;
    int fd = socket(AF_INET, SOCK_STREAM, 0), ok;
    if (fd < 0) return 0;
    mcf_test_loopback(&a, port);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* SIGTERM to *pid and wait for it (then *pid = 0); rm -rf dir (then dir = ""). */
MCF_TEST_NET_UNUSED static void mcf_test_stop_server(pid_t *pid, char *dir)
{
    if (*pid > 0) {
        int st;
        (void)kill(*pid, SIGTERM);
        (void)waitpid(*pid, &st, 0);
        *pid = 0;
    }
    if (dir[0]) {
        size_t n = strlen(dir) + 16;
        char *cmd = (char *)malloc(n);
        if (cmd) (void)snprintf(cmd, n, "rm -rf '%s'", dir);
        if (!cmd || system(cmd) != 0) fprintf(stderr, "  could not remove %s\n", dir);
        free(cmd);
        dir[0] = '\0';
    }
}
#endif
