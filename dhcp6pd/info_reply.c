/* Information-Request answers (see info_reply.h). */
#include "info_reply.h"

#include <string.h>

int info_reply_build(const struct dhcp6_message *req, const uint8_t *server_duid, size_t server_duid_len,
		     const struct info_content *c, uint8_t *buf, size_t cap)
{
	if (req->type != DHCP6_INFORMATION_REQUEST || req->nia || req->ia_dropped)
		return 0;
	if (req->server_id &&
	    (req->server_id_len != server_duid_len || memcmp(req->server_id, server_duid, server_duid_len) != 0))
		return 0;
	struct dhcp6_builder b;
	dhcp6_build_start(&b, buf, cap, DHCP6_REPLY, req->xid);
	dhcp6_put_option(&b, DHCP6_OPT_SERVERID, server_duid, server_duid_len);
	if (req->client_id)
		dhcp6_put_option(&b, DHCP6_OPT_CLIENTID, req->client_id, req->client_id_len);
	/* What the client asked for; everything when it sent no ORO. */
	bool all = req->noro == 0;
	if (c->ndns && (all || dhcp6_requested(req, DHCP6_OPT_DNS_SERVERS)))
		dhcp6_put_dns(&b, c->dns, c->ndns);
	if (c->nsearch && (all || dhcp6_requested(req, DHCP6_OPT_DOMAIN_LIST)))
		dhcp6_put_domain_list(&b, c->search, c->nsearch);
	dhcp6_put_u32(&b, DHCP6_OPT_INFORMATION_REFRESH_TIME, c->refresh);
	return dhcp6_finish(&b);
}
