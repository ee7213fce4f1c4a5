/* The client's lease file: encode and decode. Times are Unix seconds (for code)
 * and ISO 8601 (for people); addresses dotted quads. */
#include "client_lease_file.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "clock.h"

static void add_ip(cJSON *o, const char *key, struct in_addr a)
{
	char buf[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &a, buf, sizeof buf);
	cJSON_AddStringToObject(o, key, buf);
}

static cJSON *ip_array(const struct in_addr *a, size_t n)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		char buf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a[i], buf, sizeof buf);
		cJSON_AddItemToArray(arr, cJSON_CreateString(buf));
	}
	return arr;
}

static cJSON *route_json(struct in_addr dest, uint8_t plen, struct in_addr gw)
{
	cJSON *r = cJSON_CreateObject();
	char d[INET_ADDRSTRLEN], text[INET_ADDRSTRLEN + 4];
	inet_ntop(AF_INET, &dest, d, sizeof d);
	snprintf(text, sizeof text, "%s/%u", d, plen);
	cJSON_AddStringToObject(r, "destination", text);
	if (gw.s_addr)
		add_ip(r, "router", gw);
	return r;
}

static void add_time(cJSON *o, const char *key, double t)
{
	if (t >= 1e17) {
		cJSON_AddNullToObject(o, key); /* infinite */
		return;
	}
	arbor_json_add_fixed(o, key, t, 3);
}

cJSON *client_lease_file_encode(const char *ifname, const char *state, const struct client_lease *l,
				const struct applied_state *ap)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON_AddStringToObject(doc, "interface", ifname);
	cJSON_AddStringToObject(doc, "state", state);
	if (l && l->valid) {
		const struct dhcp_client_options *o = &l->opts;
		cJSON *j = cJSON_AddObjectToObject(doc, "lease");
		add_ip(j, "address", l->addr);
		cJSON_AddNumberToObject(j, "prefix_len", o->prefix_len);
		if (o->has_broadcast)
			add_ip(j, "broadcast", o->broadcast);
		add_ip(j, "server_id", o->server_id);
		cJSON_AddItemToObject(j, "routers", ip_array(o->routers, o->n_routers < DHCP_ADDRS_MAX ? o->n_routers : DHCP_ADDRS_MAX));
		cJSON_AddItemToObject(j, "dns_servers", ip_array(o->dns, o->n_dns < DHCP_ADDRS_MAX ? o->n_dns : DHCP_ADDRS_MAX));
		cJSON_AddItemToObject(j, "ntp_servers", ip_array(o->ntp, o->n_ntp < DHCP_ADDRS_MAX ? o->n_ntp : DHCP_ADDRS_MAX));
		cJSON_AddStringToObject(j, "domain_name", o->domain_name);
		cJSON *search = cJSON_AddArrayToObject(j, "domain_search");
		for (size_t i = 0; i < o->search.n; i++)
			cJSON_AddItemToArray(search, cJSON_CreateString(o->search.name[i]));
		cJSON *routes = cJSON_AddArrayToObject(j, "classless_routes");
		for (size_t i = 0; o->has_classless_routes && i < o->n_routes && i < DHCP_ROUTES_MAX; i++)
			cJSON_AddItemToArray(routes, route_json(o->routes[i].dest, o->routes[i].prefix_len, o->routes[i].router));
		if (o->mtu)
			cJSON_AddNumberToObject(j, "mtu", o->mtu);
		if (o->lease_time == 0xffffffffu)
			cJSON_AddNullToObject(j, "lease_time");
		else
			cJSON_AddNumberToObject(j, "lease_time", o->lease_time);
		add_time(j, "start", l->start);
		add_time(j, "t1", l->t1);
		add_time(j, "t2", l->t2);
		add_time(j, "expiry", l->expiry);
		if (l->expiry < 1e17) {
			/* The millisecond "expiry" is rounded to, not a truncated one. */
			char iso[40];
			long long ms = (long long)(l->expiry * 1000 + 0.5);
			struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000 };
			arbor_time_rfc3339(&ts, iso, sizeof iso);
			cJSON_AddStringToObject(j, "ends", iso);
		}
	}
	if (ap) {
		cJSON *a = cJSON_AddObjectToObject(doc, "applied");
		if (ap->address) {
			add_ip(a, "address", ap->addr);
			cJSON_AddNumberToObject(a, "prefix_len", ap->prefix_len);
		}
		cJSON *routes = cJSON_AddArrayToObject(a, "routes");
		for (size_t i = 0; i < ap->nroutes; i++)
			cJSON_AddItemToArray(routes, route_json(ap->routes[i].dest, ap->routes[i].prefix_len, ap->routes[i].gateway));
		cJSON_AddNumberToObject(a, "metric", ap->metric);
		if (ap->mtu_restore)
			cJSON_AddNumberToObject(a, "mtu_restore", ap->mtu_restore);
	}
	return doc;
}

static bool get_ip(const cJSON *o, const char *key, struct in_addr *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) && inet_pton(AF_INET, v->valuestring, out) == 1;
}

static bool get_num(const cJSON *o, const char *key, double min, double max, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || v->valuedouble < min || v->valuedouble > max)
		return false;
	*out = v->valuedouble;
	return true;
}

/* A number, or null for infinite (1e18): only the lease time and the times
 * can be infinite (fuzz_client_lease_file: a null prefix length became 1e18,
 * which does not fit its field). */
static bool get_num_or_infinite(const cJSON *o, const char *key, double min, double max, double *out)
{
	if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, key))) {
		*out = 1e18;
		return true;
	}
	return get_num(o, key, min, max, out);
}

/* A time: null (infinite) or from 0 to ARBOR_TIME_MAX, which "ends" can show. */
static bool get_time(const cJSON *o, const char *key, double *out)
{
	return get_num_or_infinite(o, key, 0, ARBOR_TIME_MAX, out);
}

static size_t get_ip_list(const cJSON *o, const char *key, struct in_addr *out, size_t max)
{
	size_t n = 0;
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, key), *it;
	cJSON_ArrayForEach(it, arr)
		if (n < max && cJSON_IsString(it) && inet_pton(AF_INET, it->valuestring, &out[n]) == 1)
			n++;
	return n;
}

static bool get_route(const cJSON *r, struct in_addr *dest, uint8_t *plen, struct in_addr *gw)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(r, "destination");
	char buf[INET_ADDRSTRLEN + 4];
	unsigned len;
	if (!cJSON_IsString(d) || strlen(d->valuestring) >= sizeof buf)
		return false;
	strcpy(buf, d->valuestring);
	char *slash = strchr(buf, '/');
	if (slash == NULL || sscanf(slash + 1, "%u", &len) != 1 || len > 32)
		return false;
	*slash = '\0';
	if (inet_pton(AF_INET, buf, dest) != 1)
		return false;
	*plen = (uint8_t)len;
	gw->s_addr = 0;
	if (cJSON_GetObjectItemCaseSensitive(r, "router") && !get_ip(r, "router", gw))
		return false;
	return true;
}

int client_lease_file_decode(const cJSON *doc, struct client_lease *l, struct applied_state *ap, char *err,
			     size_t errlen)
{
	memset(l, 0, sizeof *l);
	memset(ap, 0, sizeof *ap);
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(doc, "applied");
	if (cJSON_IsObject(a)) {
		double v;
		if (get_ip(a, "address", &ap->addr) && get_num(a, "prefix_len", 0, 32, &v)) {
			ap->address = true;
			ap->prefix_len = (uint8_t)v;
		}
		const cJSON *r;
		cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(a, "routes"))
			if (ap->nroutes < APPLIED_ROUTES_MAX &&
			    get_route(r, &ap->routes[ap->nroutes].dest, &ap->routes[ap->nroutes].prefix_len,
				      &ap->routes[ap->nroutes].gateway))
				ap->nroutes++;
		if (get_num(a, "metric", 0, 4294967295.0, &v))
			ap->metric = (uint32_t)v;
		if (get_num(a, "mtu_restore", 68, 65535, &v))
			ap->mtu_restore = (unsigned)v;
	}
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(doc, "lease");
	if (j == NULL || cJSON_IsNull(j))
		return 0;
	struct dhcp_client_options *o = &l->opts;
	double plen, lt;
	if (!get_ip(j, "address", &l->addr) || !get_ip(j, "server_id", &o->server_id) ||
	    !get_num(j, "prefix_len", 0, 32, &plen) || !get_num_or_infinite(j, "lease_time", 0, 4294967295.0, &lt) ||
	    !get_time(j, "start", &l->start) || !get_time(j, "t1", &l->t1) || !get_time(j, "t2", &l->t2) ||
	    !get_time(j, "expiry", &l->expiry)) {
		snprintf(err, errlen, "lease: address, server_id, prefix_len, lease_time and times are required");
		return -EBADMSG;
	}
	o->has_server_id = o->has_subnet_mask = o->has_lease_time = true;
	o->prefix_len = (uint8_t)plen;
	o->subnet_mask.s_addr = plen ? htonl(0xffffffffu << (32 - (unsigned)plen)) : 0;
	o->lease_time = lt >= 1e17 ? 0xffffffffu : (uint32_t)lt;
	o->has_broadcast = get_ip(j, "broadcast", &o->broadcast);
	o->n_routers = get_ip_list(j, "routers", o->routers, DHCP_ADDRS_MAX);
	o->n_dns = get_ip_list(j, "dns_servers", o->dns, DHCP_ADDRS_MAX);
	o->n_ntp = get_ip_list(j, "ntp_servers", o->ntp, DHCP_ADDRS_MAX);
	const cJSON *dn = cJSON_GetObjectItemCaseSensitive(j, "domain_name");
	if (cJSON_IsString(dn))
		snprintf(o->domain_name, sizeof o->domain_name, "%s", dn->valuestring);
	const cJSON *it;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "domain_search"))
		if (cJSON_IsString(it) && o->search.n < DHCP_SEARCH_MAX)
			snprintf(o->search.name[o->search.n++], DHCP_NAME_TEXT_MAX, "%s", it->valuestring);
	o->search.total = o->search.n;
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(j, "classless_routes"))
		if (o->n_routes < DHCP_ROUTES_MAX &&
		    get_route(it, &o->routes[o->n_routes].dest, &o->routes[o->n_routes].prefix_len,
			      &o->routes[o->n_routes].router))
			o->n_routes++;
	o->has_classless_routes = o->n_routes > 0;
	double mtu;
	if (get_num(j, "mtu", 68, 65535, &mtu))
		o->mtu = (uint16_t)mtu;
	l->valid = true;
	return 0;
}
