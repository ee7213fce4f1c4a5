/* libFuzzer harness for the DHCPv6 codec: arbitrary bytes are unwrapped as relay
 * chains and parsed as messages; they must parse or be refused with a reason,
 * never crash or read outside the input. What parses is rebuilt with the builders
 * (identifiers, every IA with its status codes and entries, the options the codec
 * keeps) and must parse back to the same thing; a relay chain that unwraps must
 * re-wrap as RELAY-REPL and unwrap to the same levels and inner message. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "dhcp6_wire.h"

static struct dhcp6_message msg, again;
static uint8_t out[DHCP6_MAX_PACKET * 2];

static bool same_status(const struct dhcp6_status *a, const struct dhcp6_status *b)
{
	return a->present == b->present && (!a->present || (a->code == b->code && strcmp(a->text, b->text) == 0));
}

static void put_status(struct dhcp6_builder *b, const struct dhcp6_status *s)
{
	if (s->present)
		dhcp6_put_status(b, s->code, s->text);
}

static void rebuild(void)
{
	struct dhcp6_builder b;
	dhcp6_build_start(&b, out, sizeof out, msg.type, msg.xid);
	if (msg.client_id)
		dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, msg.client_id, msg.client_id_len);
	if (msg.server_id)
		dhcp6_put_option(&b, DHCP6_OPT_SERVERID, msg.server_id, msg.server_id_len);
	put_status(&b, &msg.status);
	for (size_t i = 0; i < msg.nia; i++) {
		const struct dhcp6_ia *ia = &msg.ia[i];
		dhcp6_open_ia(&b, ia->type, ia->iaid, ia->t1, ia->t2);
		put_status(&b, &ia->status);
		for (size_t k = 0; k < ia->n; k++) {
			const struct dhcp6_lease_entry *e = &ia->e[k];
			int st = e->status.present ? e->status.code : -1;
			if (ia->type == DHCP6_OPT_IA_NA)
				dhcp6_put_iaaddr(&b, &e->addr, e->preferred, e->valid, st, e->status.text);
			else
				dhcp6_put_iaprefix(&b, &e->addr, e->plen, e->preferred, e->valid, st, e->status.text);
		}
		dhcp6_close(&b);
	}
	if (msg.has_elapsed)
		dhcp6_put_u16(&b, DHCP6_OPT_ELAPSED_TIME, msg.elapsed);
	if (msg.has_preference)
		dhcp6_put_u8(&b, DHCP6_OPT_PREFERENCE, msg.preference);
	if (msg.rapid_commit)
		dhcp6_put_option(&b, DHCP6_OPT_RAPID_COMMIT, NULL, 0);
	if (msg.ndns)
		dhcp6_put_dns(&b, msg.dns, msg.ndns);
	if (msg.domains)
		dhcp6_put_option(&b, DHCP6_OPT_DOMAIN_LIST, msg.domains, msg.domains_len);
	if (msg.has_sol_max_rt)
		dhcp6_put_u32(&b, DHCP6_OPT_SOL_MAX_RT, msg.sol_max_rt);
	if (msg.has_info_refresh)
		dhcp6_put_u32(&b, DHCP6_OPT_INFORMATION_REFRESH_TIME, msg.info_refresh);
	int n = dhcp6_finish(&b);
	if (n < 0)
		violated("a parsed message does not rebuild (it fits twice the input)");
	char err[200];
	if (dhcp6_parse(out, (size_t)n, &again, err, sizeof err) != 0)
		violated("the rebuilt message does not parse: %s", err);
	if (again.type != msg.type || again.xid != msg.xid || again.nia != msg.nia || again.ndns != msg.ndns ||
	    !same_status(&again.status, &msg.status) || again.has_elapsed != msg.has_elapsed ||
	    again.elapsed != msg.elapsed || again.rapid_commit != msg.rapid_commit)
		violated("the rebuilt message differs in its header, status or options");
	if ((again.client_id == NULL) != (msg.client_id == NULL) ||
	    (msg.client_id && (again.client_id_len != msg.client_id_len ||
			       memcmp(again.client_id, msg.client_id, msg.client_id_len) != 0)))
		violated("the rebuilt message has another client identifier");
	for (size_t i = 0; i < msg.nia; i++) {
		const struct dhcp6_ia *x = &msg.ia[i], *y = &again.ia[i];
		if (x->type != y->type || x->iaid != y->iaid || x->t1 != y->t1 || x->t2 != y->t2 || x->n != y->n ||
		    !same_status(&x->status, &y->status))
			violated("IA %zu rebuilds differently", i);
		for (size_t k = 0; k < x->n; k++)
			if (memcmp(&x->e[k].addr, &y->e[k].addr, 16) != 0 || x->e[k].valid != y->e[k].valid ||
			    x->e[k].preferred != y->e[k].preferred || !same_status(&x->e[k].status, &y->e[k].status) ||
			    (x->type == DHCP6_OPT_IA_PD && x->e[k].plen != y->e[k].plen) || x->e[k].plen > 128)
				violated("IA %zu entry %zu rebuilds differently", i, k);
	}
}

static void relays(const uint8_t *data, size_t size)
{
	struct dhcp6_relay chain[DHCP6_RELAY_MAX], back[DHCP6_RELAY_MAX];
	size_t n, n2;
	const uint8_t *inner, *inner2;
	size_t ilen, ilen2;
	char err[200] = "";
	int rc = dhcp6_unwrap_relays(data, size, chain, &n, &inner, &ilen, err, sizeof err);
	if (rc != 0) {
		if ((rc != -EBADMSG && rc != -ELOOP && rc != -EMSGSIZE) || err[0] == '\0')
			violated("unwrap refused with %d and no reason", rc);
		return;
	}
	if (n > DHCP6_RELAY_MAX || inner < data || inner + ilen > data + size)
		violated("an unwrapped chain of %zu levels points outside the input", n);
	if (n == 0)
		return;
	int len = dhcp6_build_relay_reply(out, sizeof out, chain, n, inner, ilen);
	if (len < 0)
		violated("a RELAY-REPL chain of %zu levels does not build", n);
	if (dhcp6_unwrap_relays(out, (size_t)len, back, &n2, &inner2, &ilen2, err, sizeof err) != 0)
		violated("the RELAY-REPL chain does not unwrap: %s", err);
	/* an inner message that is itself relay-shaped unwraps further: compare the levels we built */
	if (n2 < n)
		violated("the RELAY-REPL chain unwraps to %zu levels, not %zu", n2, n);
	for (size_t i = 0; i < n; i++)
		if (back[i].type != DHCP6_RELAY_REPL || back[i].hop_count != chain[i].hop_count ||
		    memcmp(&back[i].link_addr, &chain[i].link_addr, 16) != 0 ||
		    back[i].interface_id_len != chain[i].interface_id_len ||
		    (chain[i].interface_id && memcmp(back[i].interface_id, chain[i].interface_id, chain[i].interface_id_len)))
			violated("RELAY-REPL level %zu differs from the RELAY-FORW it answers", i);
	if (n2 == n && (ilen2 != ilen || memcmp(inner2, inner, ilen) != 0))
		violated("the RELAY-REPL chain holds another inner message");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[200] = "";
	char names[DHCP6_DOMAINS_MAX][DHCP6_NAME_TEXT_MAX];
	int nn = dhcp6_parse_domain_list(data, size, names, DHCP6_DOMAINS_MAX);
	if (nn < 0 && nn != -EBADMSG)
		violated("the domain list parser returned %d", nn);
	relays(data, size);
	int rc = dhcp6_parse(data, size, &msg, err, sizeof err);
	if (rc != 0) {
		if ((rc != -EBADMSG && rc != -EMSGSIZE) || err[0] == '\0')
			violated("a message refused with %d and no reason", rc);
		return 0;
	}
	if (msg.nia > DHCP6_IA_MAX || msg.ndns > DHCP6_DNS_MAX || msg.noro > DHCP6_ORO_MAX)
		violated("a parsed message beyond its bounds (%zu IAs, %zu DNS, %zu ORO)", msg.nia, msg.ndns, msg.noro);
	if (msg.client_id && (msg.client_id < data || msg.client_id + msg.client_id_len > data + size))
		violated("the client identifier points outside the input");
	rebuild();
	return 0;
}
