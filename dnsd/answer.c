/* Answering a query from the zone index (policy in answer.h). The hot path: parse
 * the header, question and OPT (query.c), lower-case the name and hash all its
 * suffixes in one pass (dname.h), probe the hash table for the name and, when it is
 * missing, its ancestors (the closest encloser), and write the records with name
 * compression (writer.c). Nothing allocates, nothing becomes text. */
#include "answer.h"

#include <errno.h>
#include <string.h>

#include "dname.h"
#include "query.h"
#include "reply.h"
#include "zone.h"
#include "zone_index.h"

#define MAX_ADDED 16 /* nodes whose addresses went into the additional section */

struct ctx {
	const struct zone_index *idx;
	const struct dnsd_answer_opts *opts;
	struct dnsd_answer_info *info;
	struct dnsd_reply r;
	uint16_t flags; /* AA, TC */
	bool full;      /* an answer or authority RRset did not fit: TC, nothing more */
	const struct zidx_node *added[MAX_ADDED];
	unsigned nadded;
};

/* The name being looked up: lower-cased, split, hashed. */
struct lname {
	uint8_t key[ARBOR_DNS_NAME_WIRE_MAX];
	size_t len;
	struct dname_labels l;
};

static void lname_set(struct lname *n, const uint8_t *name, size_t len)
{
	n->len = len;
	dname_lower(name, len, n->key);
	dname_split(n->key, &n->l);
}

/* The node for the name or, failing that, its closest existing ancestor (the
 * closest encloser); NULL when no zone of ours holds the name. */
static const struct zidx_node *locate(const struct zone_index *idx, const struct lname *n, bool *exact)
{
	*exact = false;
	if (idx == NULL)
		return NULL;
	const struct zidx_node *node = zidx_lookup(idx, n->key, n->len, n->l.hash[0]);
	if (node) {
		*exact = true;
		return node;
	}
	for (unsigned i = 1; i <= n->l.n; i++) {
		size_t off = i < n->l.n ? n->l.off[i] : n->len - 1;
		node = zidx_lookup(idx, n->key + off, n->len - off, n->l.hash[i]);
		if (node)
			return node;
	}
	return NULL;
}

static const uint8_t *node_name(const struct ctx *c, const struct zidx_node *node)
{
	return c->idx->arena + node->name_off;
}

static const uint8_t *rr_data(const struct ctx *c, const struct zidx_set *set, uint32_t i)
{
	return c->idx->arena + c->idx->rrs[set->first + i].off;
}

/* Writes an RRset whole, or nothing. */
static bool put_set(struct ctx *c, enum dnsd_section sec, const uint8_t *owner, const struct zidx_set *set,
		    uint32_t ttl)
{
	struct dnsd_writer *w = &c->r.w;
	struct dnsd_wmark m = dnsd_writer_mark(w);
	uint16_t ref = 0;
	for (uint32_t i = 0; i < set->n; i++) {
		const struct zidx_rr *rr = &c->idx->rrs[set->first + i];
		int rc = i == 0 ? dnsd_writer_name(w, owner, true, &ref) : dnsd_writer_owner(w, owner, ref);
		if (rc == 0)
			rc = dnsd_writer_rr_body(w, sec, set->type, ARBOR_DNS_CLASS_IN, ttl, c->idx->arena + rr->off,
						 rr->len);
		if (rc < 0) {
			dnsd_writer_rollback(w, &m);
			return false;
		}
	}
	return true;
}

/* An answer or authority RRset: when it does not fit, TC and nothing more. */
static bool put_required(struct ctx *c, enum dnsd_section sec, const uint8_t *owner, const struct zidx_set *set,
			 uint32_t ttl)
{
	if (c->full)
		return false;
	if (put_set(c, sec, owner, set, ttl))
		return true;
	c->full = true;
	c->flags |= ARBOR_DNS_FLAG_TC;
	return false;
}

/* A and AAAA of a name we hold, in the additional section. Glue inside a
 * delegation is required (TC when it does not fit); other addresses are a
 * courtesy, dropped when they do not fit. Occluded data (below a delegation) is
 * only used as glue. */
static void add_addresses(struct ctx *c, const uint8_t *name, bool glue, bool required)
{
	if (c->full)
		return;
	struct lname n;
	lname_set(&n, name, dname_len(name));
	const struct zidx_node *node = zidx_lookup(c->idx, n.key, n.len, n.l.hash[0]);
	if (node == NULL || (node->cut && !glue))
		return;
	for (unsigned i = 0; i < c->nadded; i++)
		if (c->added[i] == node)
			return;
	if (c->nadded < MAX_ADDED)
		c->added[c->nadded++] = node;
	static const uint16_t types[2] = { ARBOR_DNS_TYPE_A, ARBOR_DNS_TYPE_AAAA };
	for (int t = 0; t < 2; t++) {
		const struct zidx_set *set = zidx_find_set(c->idx, node, types[t]);
		if (set && !put_set(c, DNSD_SEC_ADDITIONAL, node_name(c, node), set, set->ttl)) {
			if (required) {
				c->full = true;
				c->flags |= ARBOR_DNS_FLAG_TC;
			}
			return;
		}
	}
}

/* Addresses of the names an answered NS, MX or SRV RRset points to. */
static void additional_for(struct ctx *c, const struct zidx_set *set)
{
	size_t skip;
	switch (set->type) {
	case ARBOR_DNS_TYPE_NS:
		skip = 0;
		break;
	case ARBOR_DNS_TYPE_MX:
		skip = 2;
		break;
	case ARBOR_DNS_TYPE_SRV:
		skip = 6;
		break;
	default:
		return;
	}
	for (uint32_t i = 0; i < set->n; i++)
		add_addresses(c, rr_data(c, set, i) + skip, false, false);
}

static int finish(struct ctx *c, uint16_t rcode)
{
	struct dnsd_answer_info *info = c->info;
	const struct dnsd_question *q = &info->q;
	info->verdict = DNSD_ANSWERED;
	info->rcode = rcode;
	info->aa = c->flags & ARBOR_DNS_FLAG_AA;
	info->tc = c->flags & ARBOR_DNS_FLAG_TC;
	uint16_t flags = c->flags | (q->rd ? ARBOR_DNS_FLAG_RD : 0) | (q->cd ? ARBOR_DNS_FLAG_CD : 0) |
			 (q->ra ? ARBOR_DNS_FLAG_RA : 0);
	return dnsd_reply_end(&c->r, flags, rcode);
}

/* The zone's SOA in the authority section, at the negative-caching TTL. */
static void put_soa(struct ctx *c, uint16_t zone)
{
	const struct zidx_zone *z = &c->idx->zones[zone];
	put_required(c, DNSD_SEC_AUTHORITY, node_name(c, &c->idx->nodes[z->apex_node]), &c->idx->sets[z->soa_set],
		     z->neg_ttl);
}

static int nodata(struct ctx *c, uint16_t zone)
{
	c->info->nodata = true;
	put_soa(c, zone);
	return finish(c, ARBOR_DNS_RCODE_NOERROR);
}

static int referral(struct ctx *c, const struct zidx_node *cut)
{
	const struct zidx_set *ns = zidx_find_set(c->idx, cut, ARBOR_DNS_TYPE_NS);
	c->info->referral = true;
	if (ns && put_required(c, DNSD_SEC_AUTHORITY, node_name(c, cut), ns, ns->ttl)) {
		for (uint32_t i = 0; i < ns->n; i++) {
			const uint8_t *target = rr_data(c, ns, i);
			bool inside = dname_is_below(target, dname_len(target), node_name(c, cut), cut->name_len);
			add_addresses(c, target, true, inside);
		}
	}
	return finish(c, ARBOR_DNS_RCODE_NOERROR);
}

/* RD=1 below a child delegation: hand the caller the child's name servers and
 * the addresses we know for them. */
static int recurse_child(struct ctx *c, const struct zidx_node *cut)
{
	struct dnsd_delegation *d = &c->info->deleg;
	memcpy(d->apex, node_name(c, cut), cut->name_len);
	d->apex_len = cut->name_len;
	d->nns = d->nv4 = d->nv6 = 0;
	const struct zidx_set *ns = zidx_find_set(c->idx, cut, ARBOR_DNS_TYPE_NS);
	for (uint32_t i = 0; ns && i < ns->n && d->nns < DNSD_MAX_DELEG_NS; i++) {
		const uint8_t *target = rr_data(c, ns, i);
		size_t len = dname_len(target);
		memcpy(d->ns[d->nns].name, target, len);
		d->ns[d->nns++].len = (uint8_t)len;
		struct lname n;
		lname_set(&n, target, len);
		const struct zidx_node *node = zidx_lookup(c->idx, n.key, n.len, n.l.hash[0]);
		if (node == NULL)
			continue;
		const struct zidx_set *a = zidx_find_set(c->idx, node, ARBOR_DNS_TYPE_A);
		const struct zidx_set *aaaa = zidx_find_set(c->idx, node, ARBOR_DNS_TYPE_AAAA);
		for (uint32_t k = 0; a && k < a->n && d->nv4 < DNSD_MAX_GLUE; k++)
			memcpy(d->v4[d->nv4++], rr_data(c, a, k), 4);
		for (uint32_t k = 0; aaaa && k < aaaa->n && d->nv6 < DNSD_MAX_GLUE; k++)
			memcpy(d->v6[d->nv6++], rr_data(c, aaaa, k), 16);
	}
	c->info->verdict = DNSD_RECURSE_CHILD;
	return 0;
}

/* Names outside every zone of ours. */
static int outside(struct ctx *c)
{
	const struct dnsd_question *q = &c->info->q;
	if (q->rd && c->opts->allow_recursion && c->opts->recursion_available) {
		c->info->verdict = DNSD_FORWARD;
		return 0;
	}
	return finish(c, ARBOR_DNS_RCODE_REFUSED);
}

/* RFC 8482: one RRset for ANY, the most useful one the name has. */
static const struct zidx_set *any_choice(const struct ctx *c, const struct zidx_node *node)
{
	static const uint16_t prefer[] = { ARBOR_DNS_TYPE_A,   ARBOR_DNS_TYPE_AAAA, ARBOR_DNS_TYPE_CNAME,
					   ARBOR_DNS_TYPE_MX,  ARBOR_DNS_TYPE_TXT,  ARBOR_DNS_TYPE_SRV,
					   ARBOR_DNS_TYPE_PTR, ARBOR_DNS_TYPE_CAA,  ARBOR_DNS_TYPE_NS,
					   ARBOR_DNS_TYPE_SOA };
	for (size_t i = 0; i < sizeof prefer / sizeof prefer[0]; i++) {
		const struct zidx_set *set = zidx_find_set(c->idx, node, prefer[i]);
		if (set)
			return set;
	}
	return node->nsets ? &c->idx->sets[node->first_set] : NULL;
}

/* The lookup proper, following CNAMEs inside our zones. n holds the question's
 * name on entry and each CNAME target after. */
static int lookup(struct ctx *c, struct lname *n)
{
	const struct dnsd_question *q = &c->info->q;
	const uint8_t *owner = q->name; /* compresses to a pointer to the question */
	const struct zidx_node *visited[DNSD_MAX_CHAIN];
	for (unsigned step = 0;; step++) {
		bool exact;
		const struct zidx_node *node = locate(c->idx, n, &exact);
		if (node == NULL) /* outside our zones; a CNAME leading out is the client's to follow */
			return step == 0 ? outside(c) : finish(c, ARBOR_DNS_RCODE_NOERROR);
		if (step == 0)
			c->info->zone = node->zone;
		if (node->cut) {
			const struct zidx_node *cut = &c->idx->nodes[node->cut - 1];
			if (step > 0) /* a CNAME into a child zone: the client follows it */
				return finish(c, ARBOR_DNS_RCODE_NOERROR);
			if (exact && node == cut && q->qtype == ARBOR_DNS_TYPE_DS) {
				/* DS lives on the parent side of the cut (RFC 4035 §3.1.4.1). */
				c->flags |= ARBOR_DNS_FLAG_AA;
				const struct zidx_set *ds = zidx_find_set(c->idx, node, ARBOR_DNS_TYPE_DS);
				if (ds == NULL)
					return nodata(c, node->zone);
				put_required(c, DNSD_SEC_ANSWER, owner, ds, ds->ttl);
				return finish(c, ARBOR_DNS_RCODE_NOERROR);
			}
			if (q->rd && c->opts->allow_recursion)
				return recurse_child(c, cut);
			return referral(c, cut);
		}
		if (step == 0)
			c->flags |= ARBOR_DNS_FLAG_AA;
		if (!exact) {
			put_soa(c, node->zone);
			return finish(c, ARBOR_DNS_RCODE_NXDOMAIN);
		}
		const struct zidx_set *set;
		if (q->qtype == ARBOR_DNS_TYPE_ANY) {
			set = any_choice(c, node);
			if (set == NULL)
				return nodata(c, node->zone);
			c->info->any_minimal = true;
			put_required(c, DNSD_SEC_ANSWER, owner, set, set->ttl);
			return finish(c, ARBOR_DNS_RCODE_NOERROR);
		}
		set = zidx_find_set(c->idx, node, q->qtype);
		if (set) {
			if (put_required(c, DNSD_SEC_ANSWER, owner, set, set->ttl))
				additional_for(c, set);
			return finish(c, ARBOR_DNS_RCODE_NOERROR);
		}
		const struct zidx_set *cname =
			q->qtype == ARBOR_DNS_TYPE_CNAME ? NULL : zidx_find_set(c->idx, node, ARBOR_DNS_TYPE_CNAME);
		if (cname == NULL)
			return nodata(c, node->zone);
		for (unsigned i = 0; i < step; i++)
			if (visited[i] == node) /* a loop: what is written so far is the answer */
				return finish(c, ARBOR_DNS_RCODE_NOERROR);
		visited[step] = node;
		if (!put_required(c, DNSD_SEC_ANSWER, owner, cname, cname->ttl) || step + 1 == DNSD_MAX_CHAIN)
			return finish(c, ARBOR_DNS_RCODE_NOERROR);
		owner = rr_data(c, cname, 0);
		lname_set(n, owner, c->idx->rrs[cname->first].len);
	}
}

static int answer_query(const struct zone_db *db, struct ctx *c, struct lname *n)
{
	const struct dnsd_question *q = &c->info->q;
	switch (q->qtype) {
	case ARBOR_DNS_TYPE_OPT:
	case 249: /* TKEY */
	case 250: /* TSIG */
		return finish(c, ARBOR_DNS_RCODE_FORMERR);
	default:
		break;
	}
	if (q->qclass != ARBOR_DNS_CLASS_IN || q->qtype == ARBOR_DNS_TYPE_AXFR || q->qtype == ARBOR_DNS_TYPE_IXFR)
		return finish(c, ARBOR_DNS_RCODE_REFUSED);
	c->idx = zone_db_index(db);
	return lookup(c, n);
}

int dnsd_answer(const struct zone_db *db, const uint8_t *query, size_t qlen, const struct dnsd_answer_opts *opts,
		uint8_t *out, size_t cap, struct dnsd_answer_info *info)
{
	if (info == NULL)
		return -EINVAL;
	info->verdict = DNSD_DROP;
	info->have_question = false;
	info->rcode = 0;
	info->aa = info->tc = info->referral = info->nodata = info->any_minimal = false;
	info->zone = -1;
	if (db == NULL || query == NULL || opts == NULL || out == NULL)
		return -EINVAL;

	struct dnsd_query pq;
	enum dnsd_query_status st = dnsd_query_parse(query, qlen, &pq);
	if (st == DNSD_Q_DROP)
		return 0;
	struct dnsd_question *q = &info->q;
	q->id = pq.id;
	q->opcode = (uint8_t)((pq.flags & ARBOR_DNS_OPCODE_MASK) >> ARBOR_DNS_OPCODE_SHIFT);
	q->rd = pq.flags & ARBOR_DNS_FLAG_RD;
	q->cd = pq.flags & ARBOR_DNS_FLAG_CD;
	q->ad = pq.flags & ARBOR_DNS_FLAG_AD;
	q->edns = pq.edns;
	q->edns_payload = pq.payload;
	q->do_bit = pq.do_bit;
	q->transport = opts->transport;
	q->ra = opts->allow_recursion;
	q->qtype = pq.qtype;
	q->qclass = pq.qclass;
	q->name_len = pq.qname_len;
	if (pq.question)
		memcpy(q->name, query + ARBOR_DNS_HEADER_LEN, pq.qname_len);
	info->have_question = pq.question;

	struct ctx c; /* not zeroed whole: the writer's name table is only read up to its count */
	c.idx = NULL;
	c.opts = opts;
	c.info = info;
	c.flags = 0;
	c.full = false;
	c.nadded = 0;
	struct lname n;
	if (pq.question)
		lname_set(&n, q->name, q->name_len);
	int rc = dnsd_reply_begin(&c.r, out, cap, q, pq.question, pq.question ? &n.l : NULL);
	if (rc < 0)
		return rc;
	switch (st) {
	case DNSD_Q_FORMERR:
		return finish(&c, ARBOR_DNS_RCODE_FORMERR);
	case DNSD_Q_NOTIMP:
		return finish(&c, ARBOR_DNS_RCODE_NOTIMP);
	case DNSD_Q_BADVERS:
		return finish(&c, ARBOR_DNS_RCODE_BADVERS);
	default:
		return answer_query(db, &c, &n);
	}
}

static void count_rcode(struct dnsd_counters *c, unsigned rcode)
{
	switch (rcode) {
	case ARBOR_DNS_RCODE_NOERROR:
		c->noerror++;
		break;
	case ARBOR_DNS_RCODE_FORMERR:
		c->formerr++;
		break;
	case ARBOR_DNS_RCODE_SERVFAIL:
		c->servfail++;
		break;
	case ARBOR_DNS_RCODE_NXDOMAIN:
		c->nxdomain++;
		break;
	case ARBOR_DNS_RCODE_NOTIMP:
		c->notimp++;
		break;
	case ARBOR_DNS_RCODE_REFUSED:
		c->refused++;
		break;
	case ARBOR_DNS_RCODE_BADVERS:
		c->badvers++;
		break;
	default:
		c->other_rcode++;
		break;
	}
}

void dnsd_counters_add(struct dnsd_counters *c, const struct dnsd_answer_info *info)
{
	c->queries++;
	switch (info->verdict) {
	case DNSD_DROP:
		c->dropped++;
		return;
	case DNSD_RECURSE_CHILD:
		c->recurse_child++;
		return;
	case DNSD_FORWARD:
		c->forwarded++;
		return;
	case DNSD_ANSWERED:
		break;
	}
	c->answered++;
	count_rcode(c, info->rcode);
	c->nodata += info->nodata;
	c->truncated += info->tc;
	c->referrals += info->referral;
	c->any_minimal += info->any_minimal;
}

void dnsd_counters_reply(struct dnsd_counters *c, const uint8_t *reply, size_t len)
{
	if (reply == NULL || len < ARBOR_DNS_HEADER_LEN)
		return;
	c->answered++;
	count_rcode(c, reply[3] & ARBOR_DNS_RCODE_MASK);
	c->truncated += (reply[2] & (ARBOR_DNS_FLAG_TC >> 8)) != 0;
}
