/* libFuzzer harness for DNS over TCP: the bytes are a client's stream to dnsd,
 * fed in pieces whose sizes the first byte chooses (as TCP may deliver them),
 * taken apart by the server's framing (dns_tcp_frame_take, as tcp_serving.c
 * does) and each query answered over TCP from a small zone, the answers framed
 * back (dns_tcp_frame_put). Then: nothing crashed or read past a buffer; an
 * error came only from a length outside [12, 16384]; what is left unread is less
 * than a whole message; the answers, read back with the same framing, are one
 * well-formed DNS message per query answered; and fed all at once the stream
 * gives the same answers, byte for byte. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "answer.h"
#include "dname.h"
#include "dns_wire.h"
#include "rdata_text.h"
#include "tcp_frame.h"
#include "zone.h"

static struct zone_db *db;
static uint8_t scratch[DNSD_TCP_QUERY_MAX], reply[ARBOR_DNS_MAX_MSG], back[ARBOR_DNS_MAX_MSG];
static struct arbor_dns_message parsed;

static void setup(void)
{
	static const char *const rr[][3] = { { "www", "A", "192.168.1.10" }, { "alias", "CNAME", "www" },
					     { "@", "MX", "10 www" },      { "c", "NS", "ns.c" },
					     { "ns.c", "A", "192.168.1.30" } };
	struct zone_record r[5];
	uint8_t owner[5][ARBOR_DNS_NAME_WIRE_MAX], rdata[5][64], home[ARBOR_DNS_NAME_WIRE_MAX];
	int hl = arbor_dns_name_from_text("home.arpa", home, sizeof home);
	db = zone_db_new();
	const struct zone_soa soa = { .minimum = 300, .ttl = 3600 };
	const char *ns[] = { "ns1" };
	if (zone_db_add_zone(db, "home.arpa", &soa, ns, 1, 1, NULL, 0) < 0)
		abort();
	for (int i = 0; i < 5; i++) {
		int type = arbor_dns_type_from_name(rr[i][1]);
		int on = dname_from_text(rr[i][0], home, (size_t)hl, owner[i], sizeof owner[i]);
		int rn = rdata_from_text(type, rr[i][2], home, (size_t)hl, rdata[i], sizeof rdata[i], NULL, 0);
		if (on < 0 || rn < 0)
			abort();
		r[i] = (struct zone_record){ .owner = owner[i], .owner_len = (size_t)on, .type = (uint16_t)type,
					     .ttl = 60, .rdata = rdata[i], .rdata_len = (size_t)rn };
	}
	if (zone_db_replace_source(db, ZONE_SOURCE_CONFIG, r, 5, 2, NULL, NULL, 0) < 0)
		abort();
}

struct conn {
	struct evbuffer *out;
	unsigned answered;
};

static bool answer_one(void *ctx, const uint8_t *q, size_t len)
{
	struct conn *c = ctx;
	if (len < ARBOR_DNS_HEADER_LEN || len > DNSD_TCP_QUERY_MAX)
		abort(); /* the framing let through a length it must refuse */
	const struct dnsd_answer_opts o = { .transport = DNSD_TCP, .allow_recursion = false };
	struct dnsd_answer_info info;
	int n = dnsd_answer(db, q, len, &o, reply, sizeof reply, &info);
	if (n > 0) {
		if (dns_tcp_frame_put(c->out, reply, (size_t)n) != 0)
			abort();
		c->answered++;
	}
	return true;
}

static bool check_one(void *ctx, const uint8_t *msg, size_t len)
{
	unsigned *n = ctx;
	if (arbor_dns_parse(msg, len, &parsed) != 0 || !parsed.header.qr)
		abort();
	(*n)++;
	return true;
}

/* Feeds data in pieces of the sizes step gives (0: all at once) to a new
 * connection; returns its answers (the caller frees them) and the framing's
 * verdict. */
static struct evbuffer *serve(const uint8_t *data, size_t size, uint8_t step, int *rc)
{
	struct evbuffer *in = evbuffer_new();
	struct conn c = { .out = evbuffer_new() };
	size_t pos = 0;
	*rc = 0;
	while (pos < size && *rc >= 0) {
		size_t piece = step ? 1 + (size_t)(step ^ (uint8_t)pos) % 97 : size;
		if (piece > size - pos)
			piece = size - pos;
		evbuffer_add(in, data + pos, piece);
		pos += piece;
		*rc = dns_tcp_frame_take(in, ARBOR_DNS_HEADER_LEN, DNSD_TCP_QUERY_MAX, scratch, answer_one, &c);
	}
	if (*rc >= 0) {
		/* What is left is less than a whole message. */
		size_t left = evbuffer_get_length(in);
		uint8_t prefix[2];
		if (left >= 2 && evbuffer_copyout(in, prefix, 2) == 2 && left >= 2 + ((size_t)prefix[0] << 8 | prefix[1]))
			abort();
	} else if (*rc != -EBADMSG) {
		abort();
	}
	/* The answers, read back: one message per query answered, nothing left over. */
	struct evbuffer *copy = evbuffer_new();
	size_t outlen = evbuffer_get_length(c.out);
	if (outlen)
		evbuffer_add(copy, evbuffer_pullup(c.out, -1), outlen);
	unsigned n = 0;
	if (dns_tcp_frame_take(copy, ARBOR_DNS_HEADER_LEN, ARBOR_DNS_MAX_MSG, back, check_one, &n) != (int)c.answered ||
	    n != c.answered || evbuffer_get_length(copy) != 0)
		abort();
	evbuffer_free(copy);
	evbuffer_free(in);
	return c.out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (db == NULL)
		setup();
	if (size < 1)
		return 0;
	int rc1, rc2;
	struct evbuffer *a = serve(data + 1, size - 1, data[0] | 1, &rc1);
	struct evbuffer *b = serve(data + 1, size - 1, 0, &rc2);
	size_t la = evbuffer_get_length(a);
	if ((rc1 < 0) != (rc2 < 0) || la != evbuffer_get_length(b) ||
	    (la && memcmp(evbuffer_pullup(a, -1), evbuffer_pullup(b, -1), la) != 0))
		abort(); /* the pieces changed the answers */
	evbuffer_free(a);
	evbuffer_free(b);
	return 0;
}
