/* libFuzzer harness for dhcp4d's config section: any config text is refused with
 * messages or parsed, and a parsed one is used as dhcp4d starts it: each served
 * subnet gets its server state machine, answers a DISCOVER (asking for every
 * option) and a REQUEST, and the replies are built. What was accepted must make
 * sense (pools, reservations and server id inside the subnet, t1 < t2 < lease
 * time) and every reply built must parse, with options a client reads without
 * error: a config that passes --check-config never sends garbage. abort() on any
 * violation. */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "byteorder.h"
#include "config.h"
#include "reply.h"
#include "server.h"
#include "server_config.h"
#include "fuzz_check.h"

static bool inside(const struct server_spec *s, uint32_t a)
{
	return ((a ^ s->network) >> (32 - s->prefixlen)) == 0;
}

static void check_spec(const struct server_spec *s)
{
	if (s->subnet_auto)
		return;
	if (s->prefixlen < 16 || s->prefixlen > 30)
		violated("%s: prefix length %u", s->interface, s->prefixlen);
	if (s->server_id && !inside(s, s->server_id))
		violated("%s: server id outside the subnet", s->interface);
	for (size_t i = 0; i < s->npools; i++)
		if (s->pools[i].range.first > s->pools[i].range.last || !inside(s, s->pools[i].range.first) ||
		    !inside(s, s->pools[i].range.last))
			violated("%s: pool %zu is not a range inside the subnet", s->interface, i);
	for (size_t i = 0; i < s->nreservations; i++)
		if (s->reservations[i].addr && !inside(s, s->reservations[i].addr))
			violated("%s: reservation %zu outside the subnet", s->interface, i);
	if (!(s->t1 < s->t2 && s->t2 < s->lease_time))
		violated("%s: t1 %g, t2 %g, lease time %g", s->interface, s->t1, s->t2, s->lease_time);
}

/* A request from one client: DISCOVER or REQUEST, asking for every option. */
static size_t request_packet(uint8_t *p, int type, uint32_t requested, uint32_t server_id)
{
	memset(p, 0, 240);
	p[0] = 1, p[1] = 1, p[2] = 6;
	put_be32(p + 4, 0x12345678);
	memcpy(p + 28, "\x52\x54\x00\x12\x34\x56", 6);
	put_be32(p + 236, 0x63825363);
	size_t n = 240;
	p[n++] = 53, p[n++] = 1, p[n++] = (uint8_t)type;
	p[n++] = 60, p[n++] = 4;
	memcpy(p + n, "fuzz", 4);
	n += 4;
	p[n++] = 12, p[n++] = 6;
	memcpy(p + n, "laptop", 6);
	n += 6;
	if (requested) {
		p[n++] = 50, p[n++] = 4;
		put_be32(p + n, requested);
		n += 4;
	}
	if (server_id) {
		p[n++] = 54, p[n++] = 4;
		put_be32(p + n, server_id);
		n += 4;
	}
	p[n++] = 55, p[n++] = 254;
	for (int c = 1; c <= 254; c++)
		p[n++] = (uint8_t)c;
	p[n++] = 255;
	return n;
}

static void view_of(const struct dhcp_message *m, struct dhcp_request_view *rq, uint8_t *key)
{
	memset(rq, 0, sizeof *rq);
	rq->type = m->type;
	key[0] = m->htype;
	memcpy(key + 1, m->chaddr, m->hlen);
	rq->key = key;
	rq->key_len = 1u + m->hlen;
	rq->mac = m->chaddr;
	rq->mac_len = m->hlen;
	rq->hostname = "laptop";
	rq->vendor_class = "fuzz";
	const struct dhcp_option_slot *o50 = &m->opt[50], *o54 = &m->opt[54];
	if (o50->present && o50->len == 4)
		rq->requested = get_be32(m->storage + o50->off);
	if (o54->present && o54->len == 4)
		rq->server_id = get_be32(m->storage + o54->off);
}

/* Builds the reply to a decision and reads it back as a client would. */
static void reply_and_read(const struct server *s, const struct dhcp_message *req, const struct dhcp_decision *d)
{
	static uint8_t buf[DHCP_MAX_PACKET];
	static struct dhcp_message back;
	if (d->reply == 0 || d->probe)
		return;
	int n = reply_build(s, req, d, buf, sizeof buf);
	if (n == -ENOSPC)
		return; /* more options than a reply can carry: it is not sent */
	char err[200];
	if (n < 0)
		violated("%s: reply_build: %s", s->spec->interface, strerror(-n));
	if (dhcp_parse(buf, (size_t)n, &back, err, sizeof err) != 0)
		violated("%s: our reply does not parse: %s", s->spec->interface, err);
	struct dhcp_client_options opts;
	if (back.type == DHCP_OFFER || back.type == DHCP_ACK) {
		if (dhcp_parse_client_options(&back, &opts, err, sizeof err) != 0)
			violated("%s: a client cannot read our options: %s", s->spec->interface, err);
	}
}

static void serve(const struct server_spec *spec)
{
	struct server s;
	uint32_t id = spec->server_id ? spec->server_id : spec->network + 1;
	if (server_init(&s, spec, id) != 0)
		return;
	static uint8_t pkt[600];
	static struct dhcp_message m;
	uint8_t key[17];
	struct dhcp_request_view rq;
	struct dhcp_decision d;
	char err[200];
	if (dhcp_parse(pkt, request_packet(pkt, DHCP_DISCOVER, 0, 0), &m, err, sizeof err) != 0)
		violated("our own DISCOVER does not parse: %s", err);
	view_of(&m, &rq, key);
	memset(&d, 0, sizeof d);
	double now = 1000;
	server_handle(&s, &rq, now, &d);
	if (d.probe) { /* the conflict probe found no one */
		uint32_t addr = d.yiaddr;
		memset(&d, 0, sizeof d);
		now += spec->probe_timeout;
		server_probe_passed(&s, &rq, addr, now, &d);
	}
	reply_and_read(&s, &m, &d);
	if (d.reply == DHCP_OFFER) {
		if (dhcp_parse(pkt, request_packet(pkt, DHCP_REQUEST, d.yiaddr, id), &m, err, sizeof err) != 0)
			violated("our own REQUEST does not parse: %s", err);
		view_of(&m, &rq, key);
		memset(&d, 0, sizeof d);
		server_handle(&s, &rq, now, &d); /* at once: any offer_timeout is longer */
		if (d.reply != DHCP_ACK)
			violated("%s: the offer was not acknowledged (%s)", spec->interface, d.reason);
		reply_and_read(&s, &m, &d);
	}
	server_free(&s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arbor_config *cfg = load_section(data, size, "dhcp4d", dhcp4d_config_parse, dhcp4d_config_free);
	if (cfg == NULL)
		return 0;
	const struct dhcp4d_config *dc = cfg->daemon;
	for (size_t i = 0; i < dc->nservers; i++) {
		check_spec(&dc->servers[i]);
		if (!dc->servers[i].subnet_auto)
			serve(&dc->servers[i]);
	}
	arbor_config_free(cfg);
	return 0;
}
