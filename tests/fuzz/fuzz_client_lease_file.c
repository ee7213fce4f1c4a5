/* libFuzzer harness for the DHCP client's lease file (client-<ifname>.json), read
 * as a restarted dhcp4d reads it: the text is parsed and decoded; it is taken or
 * refused, never a crash. What was taken is then written back as the daemon
 * writes it, read again and compared: a restart must neither change the lease it
 * reuses nor forget what it put in the kernel (the routes and address it must
 * remove later). abort() on any difference. */
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client_lease_file.h"
#include "fuzz_check.h"

static regex_t rfc3339;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	if (regcomp(&rfc3339, "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$", REG_EXTENDED) != 0)
		abort();
	return 0;
}

/* The file keeps times to the millisecond, and says "infinite" with null
 * (anything from 1e17 on is read that way). */
static bool same_time(double a, double b)
{
	if (a >= 1e17 || b >= 1e17)
		return a >= 1e17 && b >= 1e17;
	return fabs(a - b) < 0.001;
}

static bool same_routes(const struct dhcp_route *a, const struct dhcp_route *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i].dest.s_addr != b[i].dest.s_addr || a[i].prefix_len != b[i].prefix_len ||
		    a[i].router.s_addr != b[i].router.s_addr)
			return false;
	return true;
}

static void compare_lease(const struct client_lease *a, const struct client_lease *b)
{
	const struct dhcp_client_options *x = &a->opts, *y = &b->opts;
	if (a->valid != b->valid)
		violated("the lease is %s after a restart", b->valid ? "there" : "gone");
	if (!a->valid)
		return;
	if (a->addr.s_addr != b->addr.s_addr || x->server_id.s_addr != y->server_id.s_addr ||
	    x->prefix_len != y->prefix_len || x->subnet_mask.s_addr != y->subnet_mask.s_addr)
		violated("address, server or prefix changed");
	if (x->has_broadcast != y->has_broadcast || (x->has_broadcast && x->broadcast.s_addr != y->broadcast.s_addr))
		violated("broadcast changed");
	if (x->n_routers != y->n_routers || x->n_dns != y->n_dns || x->n_ntp != y->n_ntp ||
	    memcmp(x->routers, y->routers, x->n_routers * sizeof x->routers[0]) ||
	    memcmp(x->dns, y->dns, x->n_dns * sizeof x->dns[0]) || memcmp(x->ntp, y->ntp, x->n_ntp * sizeof x->ntp[0]))
		violated("routers, DNS or NTP servers changed");
	if (x->mtu != y->mtu || x->lease_time != y->lease_time || strcmp(x->domain_name, y->domain_name) != 0)
		violated("mtu, lease time or domain name changed");
	if (x->search.n != y->search.n)
		violated("search list length changed");
	for (size_t i = 0; i < x->search.n; i++)
		if (strcmp(x->search.name[i], y->search.name[i]) != 0)
			violated("search domain %zu changed", i);
	if (x->has_classless_routes != y->has_classless_routes || x->n_routes != y->n_routes ||
	    !same_routes(x->routes, y->routes, x->n_routes))
		violated("classless routes changed");
	if (!same_time(a->start, b->start) || !same_time(a->t1, b->t1) || !same_time(a->t2, b->t2) ||
	    !same_time(a->expiry, b->expiry))
		violated("times changed: %.17g %.17g %.17g %.17g -> %.17g %.17g %.17g %.17g", a->start, a->t1, a->t2,
			 a->expiry, b->start, b->t1, b->t2, b->expiry);
}

static void compare_applied(const struct applied_state *a, const struct applied_state *b)
{
	if (a->address != b->address || (a->address && (a->addr.s_addr != b->addr.s_addr ||
							a->prefix_len != b->prefix_len)))
		violated("the applied address is forgotten or changed");
	if (a->nroutes != b->nroutes || a->metric != b->metric || a->mtu_restore != b->mtu_restore)
		violated("applied routes, metric or MTU changed");
	for (size_t i = 0; i < a->nroutes; i++)
		if (a->routes[i].dest.s_addr != b->routes[i].dest.s_addr ||
		    a->routes[i].prefix_len != b->routes[i].prefix_len ||
		    a->routes[i].gateway.s_addr != b->routes[i].gateway.s_addr)
			violated("applied route %zu changed", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cJSON *doc = cJSON_ParseWithLength((const char *)data, size);
	if (doc == NULL)
		return 0;
	static struct client_lease lease, again;
	static struct applied_state applied, applied_again;
	char err[160] = "";
	int rc = client_lease_file_decode(doc, &lease, &applied, err, sizeof err);
	cJSON_Delete(doc);
	if (rc < 0) {
		if (err[0] == '\0')
			violated("refused without a reason");
		if (lease.valid)
			violated("refused, yet the lease is marked valid");
		return 0;
	}
	/* Written back as dhcp4d writes it (the same text on disk), then read again. */
	cJSON *out = client_lease_file_encode("eth0", "bound", &lease, &applied);
	const cJSON *ends = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(out, "lease"), "ends");
	if (ends && (!cJSON_IsString(ends) || regexec(&rfc3339, ends->valuestring, 0, NULL, 0) != 0))
		violated("\"ends\" is not an RFC 3339 time: %s", cJSON_IsString(ends) ? ends->valuestring : "?");
	char *text = cJSON_PrintUnformatted(out);
	cJSON_Delete(out);
	cJSON *back = cJSON_Parse(text);
	if (back == NULL)
		violated("the written file is not JSON: %s", text);
	if (client_lease_file_decode(back, &again, &applied_again, err, sizeof err) < 0)
		violated("the written file is refused (%s): %s", err, text);
	compare_lease(&lease, &again);
	compare_applied(&applied, &applied_again);
	/* and written again, the same file */
	cJSON *out2 = client_lease_file_encode("eth0", "bound", &again, &applied_again);
	char *text2 = cJSON_PrintUnformatted(out2);
	if (strcmp(text, text2) != 0)
		violated("the file is not written the same twice:\n%s\n%s", text, text2);
	cJSON_Delete(out2);
	cJSON_free(text2);
	cJSON_Delete(back);
	cJSON_free(text);
	return 0;
}
