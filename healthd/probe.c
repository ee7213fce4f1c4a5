/* Probe life cycle: resolve, start the kind, enforce the timeout, report once. */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/util.h>

#include "clock.h"
#include "xalloc.h"

const char *probe_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, ntohs(sin->sin_port));
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
	return buf;
}

int probe_bind_interface(struct probe *p, int fd)
{
	const char *ifname = p->check->spec->interface;
	if (ifname == NULL)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, ifname, (socklen_t)strlen(ifname)) != 0)
		return -errno;
	return 0;
}

static void probe_free(struct probe *p)
{
	if (p->timeout)
		event_free(p->timeout);
	if (p->start)
		event_free(p->start);
	free(p);
}

void probe_finish(struct probe *p, bool ok, const char *fmt, ...)
{
	if (p->finished)
		return;
	p->finished = true;
	char error[256] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(error, sizeof error, fmt, ap);
		va_end(ap);
	}
	if (p->resolving) {
		evdns_getaddrinfo_cancel(p->resolving);
		p->resolving = NULL;
	}
	if (p->kind_cancel)
		p->kind_cancel(p); /* releases the kind's sockets and events */
	struct check *c = p->check;
	double latency = arbor_time_monotonic() - p->started;
	c->probe = NULL;
	probe_free(p);
	healthd_probe_done(c, ok, latency, error);
}

void probe_cancel(struct probe *p)
{
	if (p == NULL)
		return;
	p->finished = true;
	if (p->resolving)
		evdns_getaddrinfo_cancel(p->resolving);
	if (p->kind_cancel)
		p->kind_cancel(p);
	p->check->probe = NULL;
	probe_free(p);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	if (p->resolving)
		probe_finish(p, false, "timed out after %.2f s resolving %s", p->check->spec->timeout,
			     p->check->spec->host);
	else
		probe_finish(p, false, "timed out after %.2f s", p->check->spec->timeout);
}

static void start_kind(struct probe *p)
{
	switch (p->check->spec->kind) {
	case CHECK_ICMP: probe_icmp_start(p); break;
	case CHECK_TCP: probe_tcp_start(p); break;
	case CHECK_HTTP: probe_http_start(p); break;
	case CHECK_DNS: probe_dns_start(p); break;
	case CHECK_DAEMON: probe_http_start(p); break;
	case CHECK_EXEC: probe_exec_start(p); break;
	}
}

static void on_deferred_start(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	if (p->deferred_error[0])
		probe_finish(p, false, "%s", p->deferred_error);
	else
		start_kind(p);
}

/* Runs the kind (or reports a failure) on the next loop turn, so that nothing
 * reports back while the scheduler or the resolver is still on the stack. */
static void defer_start(struct probe *p)
{
	static const struct timeval now = { 0, 0 };
	p->start = evtimer_new(p->check->hd->base, on_deferred_start, p);
	evtimer_add(p->start, &now);
}

static void on_resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	struct probe *p = arg;
	/* libevent reports a cancelled lookup later, from the loop, when the
	 * probe is already freed: check before touching p. */
	if (result == EVUTIL_EAI_CANCEL) {
		if (res)
			evutil_freeaddrinfo(res);
		return;
	}
	p->resolving = NULL;
	if (result != 0 || res == NULL)
		snprintf(p->deferred_error, sizeof p->deferred_error, "cannot resolve %s: %s", p->check->spec->host,
			 evutil_gai_strerror(result));
	else {
		memcpy(&p->addr, res->ai_addr, res->ai_addrlen);
		p->addrlen = (socklen_t)res->ai_addrlen;
	}
	if (res)
		evutil_freeaddrinfo(res);
	defer_start(p);
}

/* Literal addresses need no resolver; names go through evdns (non-blocking). */
static bool parse_literal(struct probe *p, const char *host, uint16_t port)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&p->addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&p->addr;
	memset(&p->addr, 0, sizeof p->addr);
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		p->addrlen = sizeof *sin;
		return true;
	}
	if (inet_pton(AF_INET6, host, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		p->addrlen = sizeof *sin6;
		return true;
	}
	return false;
}

void probe_start(struct check *c)
{
	struct healthd *hd = c->hd;
	const struct check_spec *s = c->spec;
	struct probe *p = xcalloc(1, sizeof *p);
	p->check = c;
	p->started = arbor_time_monotonic();
	c->probe = p;
	double t = s->timeout;
	struct timeval tv = { (time_t)t, (suseconds_t)((t - (double)(time_t)t) * 1e6) };
	p->timeout = evtimer_new(hd->base, on_timeout, p);
	evtimer_add(p->timeout, &tv);

	bool needs_address = s->host != NULL && s->socket_path == NULL;
	if (!needs_address || parse_literal(p, s->host, s->port)) {
		defer_start(p);
		return;
	}
	if (hd->dns == NULL) {
		snprintf(p->deferred_error, sizeof p->deferred_error, "cannot resolve %s: no resolver configured",
			 s->host);
		defer_start(p);
		return;
	}
	struct evutil_addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	char port[8];
	snprintf(port, sizeof port, "%u", s->port);
	/* evdns may call on_resolved before returning (from /etc/hosts); that path
	 * only defers, so p is still alive here. */
	struct evdns_getaddrinfo_request *req = evdns_getaddrinfo(hd->dns, s->host, port, &hints, on_resolved, p);
	if (p->start == NULL)
		p->resolving = req;
}
