/* Reply building (see reply.h). Options the admin configured go out when the
 * client asked for them or when RFC 2132 practice sends them anyway
 * (dhcp_reply_option_order decides). */
#include "reply.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static struct in_addr in(uint32_t host_order)
{
	struct in_addr a = { htonl(host_order) };
	return a;
}

static int put(struct dhcp_builder *b, const struct server *s, const struct dhcp_decision *d, uint8_t code)
{
	const struct server_spec *sp = s->spec;
	const struct server_options *o = &sp->options;
	struct in_addr list[8];
	switch (code) {
	case 1:
		return dhcp_put_ipv4(b, 1, in(sp->prefixlen ? ~0u << (32 - sp->prefixlen) : 0));
	case 3:
		return dhcp_put_ipv4(b, 3, in(o->router));
	case 6:
		for (size_t i = 0; i < o->ndns; i++)
			list[i] = in(o->dns[i]);
		return dhcp_put_ipv4_list(b, 6, list, o->ndns);
	case 15:
		return dhcp_put_string(b, 15, o->domain_name);
	case 26:
		return dhcp_put_u16(b, 26, (uint16_t)o->mtu);
	case 28:
		return dhcp_put_ipv4(b, 28, in(sp->network | ~(~0u << (32 - sp->prefixlen))));
	case 42:
		for (size_t i = 0; i < o->nntp; i++)
			list[i] = in(o->ntp[i]);
		return dhcp_put_ipv4_list(b, 42, list, o->nntp);
	case 51:
		return dhcp_put_u32(b, 51, (uint32_t)d->lease_time);
	case 54:
		return dhcp_put_ipv4(b, 54, in(s->server_id));
	case 58:
		return dhcp_put_u32(b, 58, (uint32_t)d->t1);
	case 59:
		return dhcp_put_u32(b, 59, (uint32_t)d->t2);
	case 119: {
		size_t n = 0;
		while (o->search[n])
			n++;
		return dhcp_put_domain_search(b, (const char *const *)o->search, n);
	}
	case 121: {
		struct dhcp_route routes[32];
		for (size_t i = 0; i < o->nroutes; i++) {
			routes[i].dest = in(o->routes[i].dest);
			routes[i].prefix_len = (uint8_t)o->routes[i].prefixlen;
			routes[i].router = in(o->routes[i].router);
		}
		return dhcp_put_classless_routes(b, routes, o->nroutes);
	}
	default:
		for (size_t i = 0; i < o->ncustom; i++)
			if (o->custom[i].code == code)
				return dhcp_put_option(b, code, o->custom[i].data, o->custom[i].len);
		return 0;
	}
}

int reply_build(const struct server *s, const struct dhcp_message *req, const struct dhcp_decision *d, uint8_t *buf,
		size_t cap)
{
	struct dhcp_builder b;
	uint8_t type = (uint8_t)d->reply;
	int rc = dhcp_build_reply(&b, buf, cap, req, type, in(d->yiaddr), in(0));
	if (rc < 0)
		return rc;
	if (type == DHCP_NAK) {
		/* A NAK carries the server id and a message, nothing else (RFC 2131 table 3). */
		dhcp_put_ipv4(&b, 54, in(s->server_id));
		if (d->reason[0])
			dhcp_put_string(&b, 56, d->reason);
		return dhcp_finish(&b);
	}
	const struct server_options *o = &s->spec->options;
	uint8_t have[32 + 64], order[32 + 64];
	size_t n = 0;
	have[n++] = 1;
	if (o->router)
		have[n++] = 3;
	if (o->ndns)
		have[n++] = 6;
	if (o->domain_name)
		have[n++] = 15;
	if (o->mtu)
		have[n++] = 26;
	have[n++] = 28;
	if (o->nntp)
		have[n++] = 42;
	if (d->yiaddr) { /* an INFORM answer has no lease */
		have[n++] = 51;
		have[n++] = 58;
		have[n++] = 59;
	}
	have[n++] = 54;
	if (o->search && o->search[0])
		have[n++] = 119;
	if (o->nroutes)
		have[n++] = 121;
	for (size_t i = 0; i < o->ncustom && n < sizeof have; i++)
		have[n++] = o->custom[i].code;
	size_t m = dhcp_reply_option_order(req, have, n, order);
	for (size_t i = 0; i < m; i++) {
		rc = put(&b, s, d, order[i]);
		if (rc < 0)
			return rc;
	}
	return dhcp_finish(&b);
}
