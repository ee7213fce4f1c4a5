/* The peer registry: IPv4 allocation (lowest free, not the network,
 * broadcast or gateway address, exhaustion), IPv6 derived from the name as
 * docs/addressing.md says, the file round trip, and a strict loader. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "addr_derive.h"
#include "registry.h"
#include "tap.h"
#include "wg_key.h"

static struct in_addr A(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a;
}

static struct wgd_peer peer(const char *name, const char *ifname, int keybyte)
{
	struct wgd_peer p = { .enabled = true, .created_at = 1760000000 };
	snprintf(p.name, sizeof p.name, "%s", name);
	snprintf(p.interface, sizeof p.interface, "%s", ifname);
	memset(p.public_key, keybyte, sizeof p.public_key);
	return p;
}

/* tmpl with every "@K" replaced by key. */
static void with_key(char *out, size_t len, const char *tmpl, const char *key)
{
	size_t o = 0;
	for (const char *p = tmpl; *p && o + 45 < len; p++) {
		if (p[0] == '@' && p[1] == 'K') {
			o += (size_t)snprintf(out + o, len - o, "%s", key);
			p++;
		} else {
			out[o++] = *p;
		}
	}
	out[o] = '\0';
}

static int load_text(struct wgd_registry *r, const char *text, char *err)
{
	cJSON *doc = cJSON_Parse(text);
	int rc = wgd_registry_from_json(r, doc, err, 256);
	cJSON_Delete(doc);
	return rc;
}

int main(void)
{
	CHECK(wgd_peer_name_valid("laptop") && wgd_peer_name_valid("a") && wgd_peer_name_valid("phone-2"), "good names");
	CHECK(!wgd_peer_name_valid("") && !wgd_peer_name_valid("-x") && !wgd_peer_name_valid("x-") &&
	      !wgd_peer_name_valid("Laptop") && !wgd_peer_name_valid("a.b") && !wgd_peer_name_valid("a_b"),
	      "bad names: empty, leading/trailing '-', upper case, dots, underscores");
	char long_name[70];
	memset(long_name, 'a', 64);
	long_name[64] = '\0';
	CHECK(!wgd_peer_name_valid(long_name), "64 characters is too long");

	struct wgd_registry r = { 0 };
	struct in_addr a;
	/* 10.200.0.0/29: .1 is the gateway, .2-.6 for peers, .7 broadcast. */
	CHECK(wgd_registry_alloc_ipv4(&r, "wg0", A("10.200.0.0"), 29, A("10.200.0.1"), &a) == 0 &&
	      a.s_addr == A("10.200.0.2").s_addr, "the first peer gets .2");
	const char *want[] = { "10.200.0.2", "10.200.0.3", "10.200.0.4", "10.200.0.5", "10.200.0.6" };
	for (int i = 0; i < 5; i++) {
		char name[8];
		snprintf(name, sizeof name, "p%d", i);
		struct wgd_peer p = peer(name, "wg0", i + 1);
		CHECK(wgd_registry_alloc_ipv4(&r, "wg0", A("10.200.0.0"), 29, A("10.200.0.1"), &p.ipv4) == 0 &&
		      p.ipv4.s_addr == A(want[i]).s_addr, want[i]);
		p.has_ipv4 = true;
		wgd_registry_add(&r, &p);
	}
	CHECK(wgd_registry_alloc_ipv4(&r, "wg0", A("10.200.0.0"), 29, A("10.200.0.1"), &a) == -ENOSPC,
	      "the pool is exhausted (the broadcast address is not given out)");
	CHECK(wgd_registry_alloc_ipv4(&r, "wg1", A("10.200.0.0"), 29, A("10.200.0.1"), &a) == 0 &&
	      a.s_addr == A("10.200.0.2").s_addr, "another interface has its own pool");
	CHECK(wgd_registry_remove(&r, "p1") == 0 && wgd_registry_remove(&r, "p1") == -ENOENT, "remove, then -ENOENT");
	CHECK(wgd_registry_alloc_ipv4(&r, "wg0", A("10.200.0.0"), 29, A("10.200.0.1"), &a) == 0 &&
	      a.s_addr == A("10.200.0.3").s_addr, "a freed address is the lowest free again");
	/* A gateway in the middle of the range is skipped. */
	struct wgd_registry empty = { 0 };
	CHECK(wgd_registry_alloc_ipv4(&empty, "wg0", A("10.1.0.0"), 30, A("10.1.0.1"), &a) == 0 &&
	      a.s_addr == A("10.1.0.2").s_addr, "a /30: .2 after the gateway .1");

	/* IPv6: the /64 plus the interface id of the name (addressing.md). */
	struct in6_addr prefix, subnet, v6, expect;
	arbor_addr_machine_prefix("0123456789abcdef0123456789abcdef", &prefix);
	arbor_addr_subnet(&prefix, 1, &subnet);
	CHECK(wgd_registry_derive_ipv6(&r, "wg0", &subnet, NULL, "web1", &v6) == 0, "derive an IPv6 address");
	arbor_addr_derive("0123456789abcdef0123456789abcdef", 1, "web1", &expect);
	char t6[64];
	inet_ntop(AF_INET6, &v6, t6, sizeof t6);
	CHECK(memcmp(&v6, &expect, 16) == 0 && strcmp(t6, "fd5a:965f:8fee:1:d0f0:8bd4:f607:4dd7") == 0,
	      "host id = the name: fd5a:965f:8fee:1:d0f0:8bd4:f607:4dd7 (the addressing.md vector)");
	CHECK(wgd_registry_derive_ipv6(&r, "wg0", &subnet, &expect, "web1", &v6) == -EEXIST, "the gateway's own: -EEXIST");

	/* Round trip through JSON. */
	struct wgd_peer *p0 = wgd_registry_find(&r, "p0");
	p0->has_psk = true;
	memset(p0->psk, 7, 32);
	p0->has_ipv6 = true;
	p0->ipv6 = expect;
	p0->keepalive = 25;
	p0->expires = 1800000000;
	p0->nroutes = 0;
	struct wgd_peer site = peer("site", "wg0", 0x55);
	struct wg_allowed_ip routes[2];
	wg_allowed_ip_parse(&routes[0], "192.168.50.0/24", false);
	wg_allowed_ip_parse(&routes[1], "fd99::/48", false);
	site.routes = routes;
	site.nroutes = 2;
	site.enabled = false;
	wgd_registry_add(&r, &site);
	wgd_registry_set_subnet_id(&r, "wg0", 3);
	cJSON *doc = wgd_registry_to_json(&r);
	char *text = cJSON_Print(doc);
	cJSON_Delete(doc);
	struct wgd_registry back = { 0 };
	char err[256] = "";
	CHECK(load_text(&back, text, err) == 0, "the written file loads");
	cJSON_free(text);
	CHECK(back.n == r.n && wgd_registry_subnet_id(&back, "wg0") == 3, "same peers, subnet id kept");
	struct wgd_peer *b0 = wgd_registry_find(&back, "p0"), *bs = wgd_registry_find(&back, "site");
	CHECK(b0 && b0->has_psk && b0->psk[5] == 7 && b0->keepalive == 25 && b0->expires == 1800000000 &&
	      memcmp(&b0->ipv6, &expect, 16) == 0, "fields of p0");
	CHECK(bs && !bs->enabled && bs->nroutes == 2 && bs->routes[1].family == AF_INET6, "fields of site");

	/* desired(): enabled, not expired, on this interface; allowed IPs. */
	struct wg_device d = { 0 };
	wgd_registry_desired(&back, "wg0", 1790000000, &d);
	CHECK(d.npeers == 4, "disabled site left out: four peers");
	CHECK(d.peers[0].nallowed_ips == 2 && d.peers[0].allowed_ips[0].cidr == 32 &&
	      d.peers[0].allowed_ips[1].cidr == 128, "p0's /32 and /128");
	wg_device_free(&d);
	wgd_registry_desired(&back, "wg0", 1800000001, &d);
	CHECK(d.npeers == 3, "expired p0 left out after its time");
	wg_device_free(&d);
	wgd_registry_free(&back);

	/* The loader is strict and says where. */
	const char *K = "3p7bfXt9wbTTW2HC7OQ1Nz+DQ8hbeGdNrfx+FG+IK08=";
	char buf[1024];
	struct {
		const char *body, *where;
	} bad[] = {
		{ "[]", "object" },
		{ "{\"version\":2,\"peers\":[]}", "version" },
		{ "{\"version\":1}", "peers" },
		{ "{\"version\":1,\"peers\":[],\"extra\":1}", "extra" },
		{ "{\"version\":1,\"peers\":[{\"name\":\"Bad\",\"interface\":\"wg0\",\"public_key\":\"@K\",\"enabled\":true,\"created_at\":1}]}", "peers[0].name" },
		{ "{\"version\":1,\"peers\":[{\"name\":\"a\",\"interface\":\"wg0\",\"public_key\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\",\"enabled\":true,\"created_at\":1}]}", "zero" },
		{ "{\"version\":1,\"peers\":[{\"name\":\"a\",\"interface\":\"wg0\",\"public_key\":\"@K\",\"enabled\":true}]}", "created_at" },
		{ "{\"version\":1,\"peers\":[{\"name\":\"a\",\"interface\":\"wg0\",\"public_key\":\"@K\",\"enabled\":true,\"created_at\":1,\"ipv4\":\"10.0.0.300\"}]}", "ipv4" },
		{ "{\"version\":1,\"peers\":[{\"name\":\"a\",\"interface\":\"wg0\",\"public_key\":\"@K\",\"enabled\":true,\"created_at\":1,\"allowed_ips\":[\"10.0.0.1/24\"]}]}", "allowed_ips" },
		{ "{\"version\":1,\"peers\":[{\"name\":\"a\",\"interface\":\"wg0\",\"public_key\":\"@K\",\"enabled\":true,\"created_at\":1,\"persistent_keepalive\":70000}]}", "persistent_keepalive" },
		{ "{\"version\":1,\"interfaces\":{\"wg0\":{\"subnet_id\":0}},\"peers\":[]}", "subnet_id" },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		with_key(buf, sizeof buf, bad[i].body, K);
		struct wgd_registry x = { 0 };
		int rc = load_text(&x, buf, err);
		char what[128];
		snprintf(what, sizeof what, "refused, naming %s (%s)", bad[i].where, err);
		CHECK(rc == -EINVAL && strstr(err, bad[i].where), what);
		wgd_registry_free(&x);
	}
	/* Duplicates: name, key, address. */
#define DUP_FMT                                                                                          \
	"{\"version\":1,\"peers\":[{\"name\":\"a\",\"interface\":\"wg0\",\"public_key\":\"%s\",\"enabled\":true,"     \
	"\"created_at\":1,\"ipv4\":\"10.0.0.2\"},{\"name\":\"%s\",\"interface\":\"wg0\",\"public_key\":\"%s\","      \
	"\"enabled\":true,\"created_at\":1,\"ipv4\":\"%s\"}]}"
	const char *K2 = "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
	struct {
		const char *name, *key, *ip, *what;
	} dups[] = { { "a", K2, "10.0.0.3", "twice" }, { "b", K, "10.0.0.3", "same key" }, { "b", K2, "10.0.0.2", "address" } };
	for (size_t i = 0; i < 3; i++) {
		snprintf(buf, sizeof buf, DUP_FMT, K, dups[i].name, dups[i].key, dups[i].ip);
		struct wgd_registry x = { 0 };
		CHECK(load_text(&x, buf, err) == -EINVAL && strstr(err, dups[i].what), dups[i].what);
		wgd_registry_free(&x);
	}
	/* A failed load leaves the registry as it was. */
	size_t before = r.n;
	CHECK(load_text(&r, "{\"version\":1,\"peers\":[1]}", err) == -EINVAL && r.n == before, "a failed load changes nothing");
	wgd_registry_free(&r);
	return tap_done();
}
