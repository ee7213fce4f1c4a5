/* Probes: one non-blocking attempt of a check. Each kind has its own file
 * (probe_tcp.c, probe_icmp.c, probe_http.c, probe_dns.c, probe_exec.c); this
 * layer resolves the target, runs the timeout, and reports exactly once through
 * healthd_probe_done. */
#pragma once
#include <stdbool.h>
#include <sys/socket.h>

#include <event2/dns.h>
#include <event2/event.h>

#include "healthd.h"

struct probe {
	struct check *check;
	double started;                  /* monotonic */
	struct event *timeout;
	struct evdns_getaddrinfo_request *resolving;
	struct event *start;             /* deferred start of the kind */
	char deferred_error[200];        /* a failure to report from the deferred start */
	struct sockaddr_storage addr;    /* resolved target */
	socklen_t addrlen;
	/* the kind's own state */
	void *kind_state;
	void (*kind_cancel)(struct probe *p);
	bool finished;
};

/* Starts a probe for c now; the result arrives through healthd_probe_done. */
void probe_start(struct check *c);
/* Abandons a probe without reporting (reload removed its check, daemon stops). */
void probe_cancel(struct probe *p);
/* Reports the result and frees the probe: kinds call this exactly once. */
void probe_finish(struct probe *p, bool ok, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Kind entry points, called once the target address is known. */
void probe_tcp_start(struct probe *p);
void probe_icmp_start(struct probe *p);
void probe_http_start(struct probe *p);
void probe_dns_start(struct probe *p);
void probe_exec_start(struct probe *p);

void icmp_sockets_close(struct healthd *hd);

/* Binds fd to the check's source interface, if it has one. 0 or -errno. */
int probe_bind_interface(struct probe *p, int fd);
/* "192.0.2.1:80" / "[2001:db8::1]:53" for messages. */
const char *probe_addr_text(const struct sockaddr_storage *ss, char *buf, size_t len);
