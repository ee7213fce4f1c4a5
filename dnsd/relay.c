/* Resolution on behalf of a client (relay.h). */
#include "relay.h"

#include <stdlib.h>
#include <string.h>

#include "dnsd.h"
#include "resolver.h"
#include "tcp_serving.h"
#include "xalloc.h"

/* A query waiting on the resolver. */
struct pending {
	struct dnsd *h;
	struct dnsd_answer_info info;
	int udp_fd; /* >= 0: answer over UDP to peer */
	struct sockaddr_storage peer;
	socklen_t peer_len;
	struct tcp_conn *conn; /* or over this TCP connection */
};

static void on_resolved(void *ctx, const uint8_t *resp, size_t len)
{
	struct pending *p = ctx;
	struct dnsd *h = p->h;
	uint8_t out[65535 + 2];
	int n = resp ? dnsd_answer_from_upstream(&p->info, resp, len, out, sizeof out) : -1;
	if (n < 0)
		n = dnsd_answer_servfail(&p->info, out, sizeof out);
	if (n > 0) {
		dnsd_counters_reply(&h->main_counters, out, (size_t)n);
		if (p->conn)
			tcp_conn_send(p->conn, out, (size_t)n);
		else
			sendto(p->udp_fd, out, (size_t)n, 0, (struct sockaddr *)&p->peer, p->peer_len);
	}
	if (p->conn)
		tcp_conn_unhold(p->conn);
	free(p);
}

static void resolve(struct pending *p)
{
	if (p->conn)
		tcp_conn_hold(p->conn);
	if (resolver_resolve(p->h->resolver, &p->info, on_resolved, p) < 0)
		on_resolved(p, NULL, 0);
}

void relay_udp(struct dnsd *h, const struct dnsd_answer_info *info, int fd, const struct sockaddr_storage *peer,
	       socklen_t peer_len)
{
	struct pending *p = xcalloc(1, sizeof *p);
	*p = (struct pending){ .h = h, .info = *info, .udp_fd = fd, .peer_len = peer_len };
	memcpy(&p->peer, peer, peer_len);
	resolve(p);
}

void relay_tcp(struct dnsd *h, const struct dnsd_answer_info *info, struct tcp_conn *c)
{
	struct pending *p = xcalloc(1, sizeof *p);
	*p = (struct pending){ .h = h, .info = *info, .udp_fd = -1, .conn = c };
	resolve(p);
}
