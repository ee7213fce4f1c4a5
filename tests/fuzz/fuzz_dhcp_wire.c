/* libFuzzer harness for the DHCPv4 codec: arbitrary bytes must parse or be refused,
 * never crash. What parses goes through every typed accessor and the client-option
 * parsers, whose results must hold their documented shape; classless routes and
 * domain search lists must re-encode to what was read; and a reply built from the
 * message (echoing every option it carries) must fit or fail cleanly, then parse
 * back. The raw bytes also feed the option-value parsers directly. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "dhcp_wire.h"

static struct dhcp_message msg, again;
static struct dhcp_client_options co;
static struct dhcp_domain_list list, list2;
static struct dhcp_route routes[DHCP_ROUTES_MAX], routes2[DHCP_ROUTES_MAX];
static uint8_t reply[DHCP_MAX_PACKET];

static bool ldh_text(const char *s, bool dots, bool underscore)
{
	for (; *s; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
			  (dots && c == '.') || (underscore && c == '_');
		if (!ok)
			return false;
	}
	return true;
}

/* A list that parsed must survive the builder and parse to the same names (compared
 * without case: compression matches names case-insensitively). */
static void search_round_trip(const struct dhcp_domain_list *l)
{
	const char *names[DHCP_SEARCH_MAX];
	for (size_t i = 0; i < l->n; i++) {
		if (strlen(l->name[i]) >= DHCP_NAME_TEXT_MAX || !ldh_text(l->name[i], true, true))
			abort();
		names[i] = l->name[i];
	}
	struct dhcp_builder b;
	struct dhcp_request_params p = { .type = DHCP_DISCOVER, .htype = 1, .hlen = 6 };
	if (dhcp_build_request(&b, reply, sizeof reply, &p) != 0)
		abort();
	int rc = dhcp_put_domain_search(&b, names, l->n);
	if (rc == -ENOSPC)
		return;
	int n = dhcp_finish(&b);
	if (rc != 0 || n <= 0 || dhcp_parse(reply, (size_t)n, &again, NULL, 0) != 0)
		abort();
	size_t len;
	const uint8_t *v = dhcp_option(&again, DHCP_OPT_DOMAIN_SEARCH, &len);
	if (!v || dhcp_parse_domain_search(v, len, &list2) != (int)l->n || list2.n != l->n)
		abort();
	for (size_t i = 0; i < l->n; i++)
		if (strcasecmp(list2.name[i], l->name[i]) != 0)
			abort();
}

/* Strict RFC 3442 leaves one encoding per route list: re-encoding gives the bytes back. */
static void routes_round_trip(const uint8_t *v, size_t len, int n)
{
	if (n > DHCP_ROUTES_MAX)
		return;
	struct dhcp_builder b;
	struct dhcp_request_params p = { .type = DHCP_DISCOVER, .htype = 1, .hlen = 6 };
	if (dhcp_build_request(&b, reply, sizeof reply, &p) != 0)
		abort();
	int rc = dhcp_put_classless_routes(&b, routes, (size_t)n);
	if (rc == -ENOSPC)
		return;
	int total = dhcp_finish(&b);
	if (rc != 0 || total <= 0 || dhcp_parse(reply, (size_t)total, &again, NULL, 0) != 0)
		abort();
	size_t len2;
	const uint8_t *v2 = dhcp_option(&again, DHCP_OPT_CLASSLESS_ROUTES, &len2);
	if (!v2 || len2 != len || memcmp(v2, v, len) != 0)
		abort();
	if (dhcp_parse_classless_routes(v2, len2, routes2, DHCP_ROUTES_MAX) != n)
		abort();
}

static void raw_value_parsers(const uint8_t *data, size_t size)
{
	struct in_addr addrs[DHCP_ADDRS_MAX];
	char name[DHCP_NAME_TEXT_MAX];
	int n = dhcp_parse_ipv4_list(data, size, addrs, DHCP_ADDRS_MAX);
	if (n >= 0 && (size_t)n * 4 != size)
		abort();
	n = dhcp_parse_classless_routes(data, size, routes, DHCP_ROUTES_MAX);
	if (n >= 0) {
		for (int i = 0; i < n && i < DHCP_ROUTES_MAX; i++)
			if (routes[i].prefix_len > 32)
				abort();
		routes_round_trip(data, size, n);
	}
	n = dhcp_parse_domain_search(data, size, &list);
	if (n >= 0) {
		if ((size_t)n != list.total || list.n > DHCP_SEARCH_MAX ||
		    (list.n < DHCP_SEARCH_MAX && list.n != list.total))
			abort();
		search_round_trip(&list);
	}
	n = dhcp_parse_domain_name(data, size, name);
	if (n >= 0 && ((size_t)n != strlen(name) || n > 253 || !ldh_text(name, true, true)))
		abort();
}

static void accessors(const uint8_t *data, size_t size)
{
	if (msg.storage_len > size)
		abort(); /* the decoded options never outgrow the packet */
	for (int code = 0; code < 256; code++) {
		size_t len;
		const uint8_t *v = dhcp_option(&msg, (uint8_t)code, &len);
		if (v && (v < msg.storage || v + len > msg.storage + msg.storage_len))
			abort();
		if ((code == DHCP_OPT_PAD || code == DHCP_OPT_END) && v)
			abort();
	}
	if (msg.op != 1 && msg.op != 2)
		abort();
	if (msg.op == 1 && msg.type == 0)
		abort();
	if (msg.hlen > DHCP_CHADDR_LEN)
		abort();

	struct in_addr a;
	uint32_t t;
	uint16_t mms;
	dhcp_requested_ip(&msg, &a);
	dhcp_server_id(&msg, &a);
	dhcp_lease_time(&msg, &t);
	if (dhcp_max_message_size(&msg, &mms) == 0 && mms < DHCP_MIN_DATAGRAM)
		abort();
	size_t max_reply = dhcp_max_reply_len(&msg);
	if (max_reply < DHCP_MIN_MSG_LEN || max_reply > 65535 - DHCP_IP_UDP_OVERHEAD)
		abort();
	size_t len;
	dhcp_param_request_list(&msg, &len);
	dhcp_relay_agent_info(&msg, &len);
	dhcp_vendor_class(&msg, &len);
	dhcp_user_class(&msg, &len);
	dhcp_param_requested(&msg, DHCP_OPT_CLASSLESS_ROUTES);

	struct dhcp_client_id id;
	if (dhcp_client_id(&msg, &id) == 0 &&
	    (id.id_len < 2 || id.id_len > 255 || (id.rfc4361 && id.duid_len + 5 != id.id_len)))
		abort();
	uint8_t key[DHCP_LEASE_KEY_MAX];
	int klen = dhcp_lease_key(&msg, key, sizeof key);
	if (klen == 0 || klen > DHCP_LEASE_KEY_MAX || klen == -ENOSPC)
		abort();

	char host[DHCP_HOSTNAME_MAX + 1];
	bool sanitized;
	int hlen = dhcp_hostname(&msg, host, &sanitized);
	if (hlen >= 0 && ((size_t)hlen != strlen(host) || hlen > DHCP_HOSTNAME_MAX || !ldh_text(host, false, false) ||
			  (hlen > 0 && (host[0] == '-' || host[hlen - 1] == '-'))))
		abort();
	struct dhcp_fqdn fq;
	if (dhcp_client_fqdn(&msg, &fq) == 0 && (strlen(fq.name) > 253 || !ldh_text(fq.name, true, false)))
		abort();

	char err[256];
	int rc = dhcp_parse_client_options(&msg, &co, err, sizeof err);
	if (rc != 0 && (rc != -EBADMSG || err[0] == '\0'))
		abort();
	if (co.n_routers > DHCP_ADDRS_MAX || co.n_dns > DHCP_ADDRS_MAX || co.n_ntp > DHCP_ADDRS_MAX ||
	    co.n_routes > DHCP_ROUTES_MAX || (co.has_classless_routes && co.n_routers) ||
	    (co.has_subnet_mask && co.prefix_len > 32) || (co.mtu && co.mtu < 68))
		abort();
	(void)data;
}

/* A reply echoing every option of the message, in the order the helper gives and
 * then the rest: it fits, or the builder says -ENOSPC; what it builds parses back. */
static void build_reply(void)
{
	uint8_t have[256], order[256];
	size_t n = 0;
	for (int code = 1; code < 255; code++)
		if (msg.opt[code].present)
			have[n++] = (uint8_t)code;
	size_t ordered = dhcp_reply_option_order(&msg, have, n, order);
	if (ordered > n)
		abort();
	struct dhcp_builder b;
	struct in_addr yi = { htonl(0xc0000264) }, si = { 0 };
	size_t cap = 576 + (msg.xid % 2048);
	if (dhcp_build_reply(&b, reply, cap, &msg, DHCP_OFFER, yi, si) < 0) {
		if (b.error != -ENOSPC)
			abort(); /* only a huge echoed 61 or 82 can fail here */
		return;
	}
	int rc = 0;
	bool sent[256] = { false };
	/* 53, 61 and 82 the builder writes itself; 52 would turn file and sname into options. */
	sent[DHCP_OPT_MESSAGE_TYPE] = sent[DHCP_OPT_CLIENT_ID] = sent[DHCP_OPT_RELAY_AGENT_INFO] = true;
	sent[DHCP_OPT_OVERLOAD] = true;
	for (size_t i = 0; i < ordered + n && rc == 0; i++) {
		uint8_t code = i < ordered ? order[i] : have[i - ordered];
		if (sent[code])
			continue;
		sent[code] = true;
		size_t len;
		const uint8_t *v = dhcp_option(&msg, code, &len);
		rc = dhcp_put_option(&b, code, v, len);
	}
	int total = dhcp_finish(&b);
	if (rc != 0) {
		if (rc != -ENOSPC || total != rc)
			abort();
		return;
	}
	if (total < 0)
		abort(); /* the room for 82 and END was kept from the start */
	size_t limit = dhcp_max_reply_len(&msg) < cap ? dhcp_max_reply_len(&msg) : cap;
	if ((size_t)total > limit || total < DHCP_BOOTP_MIN_LEN)
		abort();
	char err[256];
	if (dhcp_parse(reply, (size_t)total, &again, err, sizeof err) != 0)
		abort();
	if (again.op != 2 || again.type != DHCP_OFFER || again.xid != msg.xid || again.flags != msg.flags ||
	    memcmp(again.chaddr, msg.chaddr, DHCP_CHADDR_LEN) != 0 || again.giaddr.s_addr != msg.giaddr.s_addr)
		abort();
	for (int code = 1; code < 255; code++) {
		if (code == DHCP_OPT_MESSAGE_TYPE || code == DHCP_OPT_OVERLOAD || !msg.opt[code].present)
			continue;
		size_t l1, l2;
		const uint8_t *v1 = dhcp_option(&msg, (uint8_t)code, &l1);
		const uint8_t *v2 = dhcp_option(&again, (uint8_t)code, &l2);
		if (!v2 || l1 != l2 || memcmp(v1, v2, l1) != 0)
			abort(); /* every option, echoed, reads back the same */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];
	raw_value_parsers(data, size);
	int rc = dhcp_parse(data, size, &msg, err, sizeof err);
	if (rc != 0) {
		if ((rc != -EBADMSG && rc != -EMSGSIZE) || err[0] == '\0')
			abort();
		return 0;
	}
	accessors(data, size);
	build_reply();
	return 0;
}
