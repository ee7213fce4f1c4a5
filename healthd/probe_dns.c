/* dns checks: our own non-blocking query over UDP (not getaddrinfo): send the
 * question to the server, then check the id, the question, the rcode and,
 * optionally, that one answer's data reads as expected (dig's text form). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dns_wire.h"
#include "probe.h"
#include "xalloc.h"

struct dns_state {
	int fd;
	struct event *ev;
	uint16_t id;
};

static void dns_cancel(struct probe *p)
{
	struct dns_state *st = p->kind_state;
	if (st->ev)
		event_free(st->ev);
	if (st->fd >= 0)
		close(st->fd);
	free(st);
	p->kind_state = NULL;
}

/* Compares names case-insensitively, ignoring a trailing dot. */
static bool same_name(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la && a[la - 1] == '.')
		la--;
	if (lb && b[lb - 1] == '.')
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

static void on_answer(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	struct dns_state *st = p->kind_state;
	const struct check_spec *s = p->check->spec;
	uint8_t msg[4096];
	ssize_t n = recv(fd, msg, sizeof msg, 0);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		char where[64];
		probe_finish(p, false, "query to %s: %s", probe_addr_text(&p->addr, where, sizeof where), strerror(errno));
		return;
	}
	struct arbor_dns_message *m = xmalloc(sizeof *m);
	int rc = arbor_dns_parse(msg, (size_t)n, m);
	if (rc != 0 || !m->header.qr || m->header.id != st->id) {
		/* Not our answer (or garbage): keep waiting until the timeout. */
		free(m);
		return;
	}
	if (!m->has_question || m->question.qtype != s->dns_type || !same_name(m->question.name, s->dns_name)) {
		free(m);
		return;
	}
	if (m->header.rcode != s->dns_rcode) {
		probe_finish(p, false, "rcode %s, expected %s", arbor_dns_rcode_name(m->header.rcode),
			     arbor_dns_rcode_name(s->dns_rcode));
		free(m);
		return;
	}
	if (s->dns_answer == NULL) {
		probe_finish(p, true, NULL);
		free(m);
		return;
	}
	if (m->header.tc) {
		probe_finish(p, false, "answer truncated (TC): the dns check asks over UDP only");
		free(m);
		return;
	}
	char text[1024], seen[256] = "";
	for (size_t i = 0; i < m->nrr; i++) {
		const struct arbor_dns_rr *rr = &m->rr[i];
		if (rr->section != ARBOR_DNS_SECTION_ANSWER || rr->type != s->dns_type)
			continue;
		if (arbor_dns_rdata_to_text(msg, (size_t)n, rr, text, sizeof text) < 0)
			continue;
		if (strcmp(text, s->dns_answer) == 0 || same_name(text, s->dns_answer)) {
			probe_finish(p, true, NULL);
			free(m);
			return;
		}
		if (seen[0] == '\0')
			snprintf(seen, sizeof seen, "%s", text);
	}
	probe_finish(p, false, "no %s answer \"%s\" (%s)", arbor_dns_type_name(s->dns_type), s->dns_answer,
		     seen[0] ? seen : "no answer of that type");
	free(m);
}

void probe_dns_start(struct probe *p)
{
	const struct check_spec *s = p->check->spec;
	struct dns_state *st = xcalloc(1, sizeof *st);
	st->fd = -1;
	p->kind_state = st;
	p->kind_cancel = dns_cancel;
	if (getrandom(&st->id, sizeof st->id, GRND_NONBLOCK) != sizeof st->id)
		st->id = (uint16_t)(uintptr_t)p;
	uint8_t query[512];
	int len = arbor_dns_build_query(query, sizeof query, st->id, s->dns_name, s->dns_type, true, 1232);
	if (len < 0) {
		probe_finish(p, false, "cannot build a query for %s: %s", s->dns_name, strerror(-len));
		return;
	}
	char where[64];
	probe_addr_text(&p->addr, where, sizeof where);
	st->fd = socket(p->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (st->fd < 0) {
		probe_finish(p, false, "socket: %s", strerror(errno));
		return;
	}
	/* connect() so that an ICMP port unreachable comes back as ECONNREFUSED
	 * and only the server's datagrams reach us. */
	if (connect(st->fd, (struct sockaddr *)&p->addr, p->addrlen) != 0 ||
	    send(st->fd, query, (size_t)len, 0) != len) {
		probe_finish(p, false, "query to %s: %s", where, strerror(errno));
		return;
	}
	st->ev = event_new(p->check->hd->base, st->fd, EV_READ | EV_PERSIST, on_answer, p);
	event_add(st->ev, NULL);
}
