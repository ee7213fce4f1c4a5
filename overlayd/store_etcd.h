/* The registry in etcd (several hubs, one overlay), through etcd's v3 JSON
 * gateway on libcurl's multi interface (common/curl_loop.c), never blocking
 * the loop.
 *
 * Keys under <prefix>/: spokes/<id> (the entry, as registry.h writes it),
 * keys/<spoke key>, hostnames/<name> and subnets/<a.b.c.d-len> (each holding
 * the id: the uniqueness a claim checks), tokens/<id>, hubs/<name> (a hub's
 * underlay address, for the routes to its spokes). None is tied to an etcd
 * lease: an outage can never expire, and so never renumber, anything.
 *
 * A new spoke is claimed by one transaction: every one of its keys must be
 * absent, and its token present (then deleted). A hub that loses the race
 * reads the registry again and decides again. Each hub keeps a mirror (the
 * registry it is given) from a range read and a watch of the prefix, and a
 * copy of it in the state directory, so a hub restarted while etcd is away
 * still serves the spokes it knew. While etcd is unreachable, new joins (and
 * changes) are refused with a clear error; known spokes are served from the
 * mirror; after it returns, the mirror is read again and joins are taken. */
#pragma once
#include <stdbool.h>

#include <cjson/cJSON.h>
#include <event2/event.h>

#include "overlayd_config.h"
#include "registry.h"
#include "store.h"

struct ovl_etcd_store;

/* Another hub of the overlay, for the routes to its spokes. */
struct ovl_hub_peer {
	char name[OVL_HOSTNAME_MAX + 1];
	struct arbor_nl_ip underlay;
};

/* changed(ctx) runs whenever the mirror changes. */
struct ovl_etcd_store *ovl_etcd_store_open(struct event_base *base, const struct ovl_registry_config *cfg,
					   struct ovl_registry *reg, const char *state_dir, const char *hub_name,
					   const struct arbor_nl_ip *underlay, void (*changed)(void *), void *ctx,
					   char *err, size_t errlen);
void ovl_etcd_store_close(struct ovl_etcd_store *s);
/* A reload: the endpoints and timeout may change (the prefix may not). */
void ovl_etcd_store_set_config(struct ovl_etcd_store *s, const struct ovl_registry_config *cfg);
/* Synced and watching: changes can be made. */
bool ovl_etcd_store_up(const struct ovl_etcd_store *s);
const char *ovl_etcd_store_error(const struct ovl_etcd_store *s);

/* Decides req against the mirror when its turn comes and claims the result in
 * etcd (again after a lost race); t is done with t->decision set (KNOWN, NEW,
 * UPDATE, or REFUSED with status and reason), or failed (etcd unreachable). */
void ovl_etcd_store_join(struct ovl_etcd_store *s, const struct ovl_request *req, struct ovl_ticket *t);
void ovl_etcd_store_put_tokens(struct ovl_etcd_store *s, const struct ovl_token_entry *tokens, size_t n,
			       struct ovl_ticket *t);
void ovl_etcd_store_forget(struct ovl_etcd_store *s, uint32_t id, struct ovl_ticket *t);

const struct ovl_hub_peer *ovl_etcd_store_hubs(const struct ovl_etcd_store *s, size_t *n);
void ovl_etcd_store_status(const struct ovl_etcd_store *s, cJSON *out);
