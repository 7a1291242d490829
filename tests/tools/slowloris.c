/* slowloris: slow HTTP clients for the abuse test. Opens --conns
 * connections to 127.0.0.1:--port and sends, on each, a request whose
 * headers never end, one byte every --interval-ms (or nothing at all with
 * --idle), for --seconds. With --post PATH the headers go at once
 * (--header adds one, e.g. a token) and the body is what trickles: a
 * Content-Length the client never gets to. It watches when the server
 * closes each one and
 * prints one line of key=value pairs the shell can read:
 *   opened=N failed=N closed=N open=N answered=N early=N first_close_ms=N last_close_ms=N
 * failed: connect() itself failed; closed: the server ended the
 * connection; early: closed within 500 ms of opening (refused, not timed
 * out); answered: the server sent bytes (an error status) before closing;
 * first/last_close_ms: after opening, over the connections that the
 * server closed (-1 when none). */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util.h"

#define CONNS_MAX 1024

struct slow_conn {
	int fd;              /* -1 once closed */
	int64_t opened_ms;
	int64_t closed_ms;   /* 0 while open */
	size_t sent;         /* bytes of the endless request sent so far */
	bool answered;
};

static volatile sig_atomic_t stop;
static void on_signal(int sig) { (void)sig; stop = 1; }

static char head[2048];   /* what is sent before the endless part */
static size_t head_len;
static bool post;         /* the endless part is a body, not headers */

/* Byte n of a request that never ends: the head, then header lines
 * "X-Pad: aaaa…" (or, for --post, a body of "[") forever, so the server
 * never sees its end. */
static char request_byte(size_t n)
{
	static const char pad[] = "X-Pad: aaaaaaaaaaaaaaaa\r\n";
	if (n < head_len)
		return head[n];
	return post ? '[' : pad[(n - head_len) % (sizeof pad - 1)];
}

static int open_conn(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_port = htons((uint16_t)port) };
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	/* one byte must leave as one segment, as a slow client's would */
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void mark_closed(struct slow_conn *c, int64_t now)
{
	close(c->fd);
	c->fd = -1;
	c->closed_ms = now;
}

static int parse_arg(const char *v, long long min, long long max, int *out)
{
	long long n;
	if (!v || util_parse_ll(v, min, max, &n) < 0)
		return -1;
	*out = (int)n;
	return 0;
}

int main(int argc, char **argv)
{
	int port = 0, nconns = 10, interval_ms = 200, seconds = 5;
	bool idle = false;
	const char *path = "/healthz", *extra = NULL;
	int bad = 0;
	for (int i = 1; i < argc && !bad; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--port"))
			bad = parse_arg(v, 1, 65535, &port), i++;
		else if (!strcmp(argv[i], "--conns"))
			bad = parse_arg(v, 1, CONNS_MAX, &nconns), i++;
		else if (!strcmp(argv[i], "--interval-ms"))
			bad = parse_arg(v, 1, 60000, &interval_ms), i++;
		else if (!strcmp(argv[i], "--seconds"))
			bad = parse_arg(v, 1, 3600, &seconds), i++;
		else if (!strcmp(argv[i], "--idle"))
			idle = true;
		else if (!strcmp(argv[i], "--post") && v)
			post = true, path = v, i++;
		else if (!strcmp(argv[i], "--header") && v)
			extra = v, i++;
		else
			bad = -1;
	}
	int n = bad || !port ? -1 : snprintf(head, sizeof head,
		"%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s%s%s",
		post ? "POST" : "GET", path, extra ? extra : "",
		extra ? "\r\n" : "",
		post ? "Content-Type: application/json\r\n"
		       "Content-Length: 100000\r\n\r\n" : "");
	if (n < 0 || (size_t)n >= sizeof head) {
		fprintf(stderr, "usage: slowloris --port P [--conns N] "
			"[--interval-ms MS] [--seconds S] [--idle] "
			"[--post PATH] [--header 'Name: value']\n");
		return 2;
	}
	head_len = (size_t)n;
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);

	static struct slow_conn conns[CONNS_MAX];
	int failed = 0;
	for (int i = 0; i < nconns; i++) {
		conns[i].fd = open_conn(port);
		conns[i].opened_ms = util_now_ms();
		if (conns[i].fd < 0)
			failed++;
		else if (post && !idle &&
			 send(conns[i].fd, head, head_len, MSG_NOSIGNAL) ==
				 (ssize_t)head_len)
			conns[i].sent = head_len;
	}
	int64_t end = util_now_ms() + (int64_t)seconds * 1000;
	int64_t next_send = util_now_ms();
	struct pollfd pfd[CONNS_MAX];
	while (!stop && util_now_ms() < end) {
		int64_t now = util_now_ms();
		if (!idle && now >= next_send) {
			for (int i = 0; i < nconns; i++) {
				struct slow_conn *c = &conns[i];
				if (c->fd < 0)
					continue;
				char b = request_byte(c->sent);
				if (send(c->fd, &b, 1, MSG_NOSIGNAL) == 1)
					c->sent++;
				else if (errno != EAGAIN && errno != EINTR)
					mark_closed(c, now);
			}
			next_send = now + interval_ms;
		}
		int np = 0;
		int map[CONNS_MAX];
		for (int i = 0; i < nconns; i++)
			if (conns[i].fd >= 0) {
				pfd[np] = (struct pollfd){ .fd = conns[i].fd,
							   .events = POLLIN };
				map[np++] = i;
			}
		int64_t wait = idle ? 50 : next_send - util_now_ms();
		if (wait < 0)
			wait = 0;
		if (wait > 50)
			wait = 50;
		if (poll(pfd, (nfds_t)np, (int)wait) <= 0)
			continue;
		now = util_now_ms();
		for (int k = 0; k < np; k++) {
			if (!(pfd[k].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			struct slow_conn *c = &conns[map[k]];
			char buf[512];
			ssize_t got = recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
			if (got > 0)
				c->answered = true;
			else if (got == 0 || (errno != EAGAIN && errno != EINTR))
				mark_closed(c, now);
		}
	}

	int closed = 0, open = 0, answered = 0, early = 0;
	int64_t first = -1, last = -1;
	for (int i = 0; i < nconns; i++) {
		struct slow_conn *c = &conns[i];
		answered += c->answered;
		if (c->closed_ms) {
			int64_t after = c->closed_ms - c->opened_ms;
			closed++;
			early += after < 500;
			if (first < 0 || after < first)
				first = after;
			if (after > last)
				last = after;
		} else if (c->fd >= 0) {
			open++;
			close(c->fd);
		}
	}
	printf("opened=%d failed=%d closed=%d open=%d answered=%d early=%d "
	       "first_close_ms=%lld last_close_ms=%lld\n",
	       nconns - failed, failed, closed, open, answered, early,
	       (long long)first, (long long)last);
	return 0;
}
