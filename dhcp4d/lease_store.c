/* The lease store (see lease_store.h): the journal's records and replay, the
 * group commit that makes them durable before anything announces them, the
 * lease events that follow a commit, and the expiry sweep. */
#include "lease_store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "journal.h"
#include "json.h"
#include "lease_record.h"
#include "log.h"
#include "serving.h"
#include "xalloc.h"

struct lease_store {
	struct dhcp4d *h;
	struct arbor_journal *journal;
	struct arbor_group_commit *gc;
	struct event *expiry;
	struct arbor_buf record; /* one journal record, reused */
};

/* ---- events ---- */

/* The data every lease event carries; addr and mac (16 and 64 bytes) are filled
 * for the event's text. */
static cJSON *lease_event_data(const struct served *sv, const struct lease *l, char *addr, char *mac)
{
	char cid[200];
	format_ipv4(l->addr, addr, 16);
	lease_hex(l->mac, l->mac_len, mac, 64);
	lease_hex(l->key, l->key_len, cid, sizeof cid);
	cJSON *data = cJSON_CreateObject();
	cJSON_AddStringToObject(data, "interface", sv->ifname);
	cJSON_AddStringToObject(data, "address", addr);
	cJSON_AddStringToObject(data, "mac", mac);
	cJSON_AddStringToObject(data, "client_id", cid);
	cJSON_AddStringToObject(data, "hostname", l->hostname);
	return data;
}

static void lease_event(struct dhcp4d *h, const struct served *sv, const struct lease *l, const char *type,
			const char *severity)
{
	char addr[16], mac[64];
	cJSON *data = lease_event_data(sv, l, addr, mac);
	arbor_json_add_fixed(data, "ends", l->ends, 3);
	arbor_event_emit(arbor_daemon_events(h->d), type, severity, addr, data, "%s %s to %s%s%s", type + 6, addr, mac,
			 l->hostname[0] ? " " : "", l->hostname);
}

/* lease.conflict: l is the quarantine record with the identity of the client
 * the address was meant for. */
static void conflict_event(struct dhcp4d *h, const struct served *sv, const struct lease *l)
{
	char addr[16], mac[64];
	cJSON *data = lease_event_data(sv, l, addr, mac);
	arbor_json_add_fixed(data, "quarantined_until", l->ends, 3);
	arbor_event_emit(arbor_daemon_events(h->d), "lease.conflict", "warning", addr, data,
			 "%s answered a ping on %s: in use by a host we do not know; quarantined, not offered to %s", addr,
			 sv->ifname, mac);
}

static const char *event_type(enum lease_event e)
{
	switch (e) {
	case EVENT_BOUND: return "lease.bound";
	case EVENT_RENEWED: return "lease.renewed";
	case EVENT_RELEASED: return "lease.released";
	case EVENT_DECLINED: return "lease.declined";
	default: return NULL;
	}
}

/* A batch is durable: its answers go out, then its events. */
static void deliver(void *ctx, void *answers, size_t n)
{
	struct lease_store *ls = ctx;
	struct answer *list = answers;
	serving_send(ls->h, list, n);
	for (size_t i = 0; i < n; i++) {
		struct answer *a = &list[i];
		const char *type = event_type(a->event);
		if (a->event == EVENT_CONFLICT)
			conflict_event(ls->h, a->sv, &a->lease);
		else if (type)
			lease_event(ls->h, a->sv, &a->lease, type, "info");
	}
}

/* ---- the journal ---- */

void lease_store_record(struct lease_store *ls, const struct served *sv, const struct lease *l)
{
	ls->record.len = 0;
	lease_record_write(&ls->record, sv->ifname, l);
	arbor_group_commit_record(ls->gc, ls->record.data, ls->record.len);
}

struct answer *lease_store_answer(struct lease_store *ls)
{
	return arbor_group_commit_answer(ls->gc);
}

void lease_store_flush(struct lease_store *ls)
{
	arbor_group_commit_flush(ls->gc);
}

void lease_store_drain(struct lease_store *ls)
{
	arbor_group_commit_drain(ls->gc);
}

void lease_store_compact_after(struct lease_store *ls, uint64_t records)
{
	arbor_group_commit_compact_after(ls->gc, records);
}

const struct arbor_group_commit_stats *lease_store_stats(const struct lease_store *ls)
{
	return arbor_group_commit_stats(ls->gc);
}

/* The snapshot: every lease but pending offers, one per line, so `jq` and
 * `grep` both read it. */
static void snapshot(void *ctx, struct arbor_buf *text)
{
	struct lease_store *ls = ctx;
	const struct dhcp4d *h = ls->h;
	arbor_buf_puts(text, "{\"leases\":[");
	bool first = true;
	for (size_t i = 0; i < h->nserved; i++) {
		const struct lease_table *t = &h->served[i].srv.leases;
		for (uint32_t k = 0; k < t->size; k++) {
			if (t->by_addr[k] == NULL || t->by_addr[k]->state == LEASE_OFFERED)
				continue;
			arbor_buf_puts(text, first ? "\n" : ",\n");
			lease_record_write(text, h->served[i].ifname, t->by_addr[k]);
			first = false;
		}
	}
	arbor_buf_puts(text, "\n]}");
}

/* A record for an interface no longer served, or outside its subnet now, is
 * dropped (the start's compaction leaves it out). */
static int replay_snapshot(void *ctx, const cJSON *data)
{
	struct dhcp4d *h = ctx;
	const cJSON *leases = cJSON_GetObjectItemCaseSensitive(data, "leases");
	for (const cJSON *rec = leases ? leases->child : NULL; rec; rec = rec->next) {
		struct served *sv = served_by_ifname(h, lease_record_interface(rec));
		char err[200];
		if (sv)
			lease_record_apply(&sv->srv.leases, rec, err, sizeof err);
	}
	return 0;
}

static int replay_record(void *ctx, const cJSON *rec)
{
	struct dhcp4d *h = ctx;
	struct served *sv = served_by_ifname(h, lease_record_interface(rec));
	char err[200];
	if (sv && lease_record_apply(&sv->srv.leases, rec, err, sizeof err) != 0)
		log_warn("lease journal: %s", err);
	return 0;
}

/* ---- expiry ---- */

static void expire_one(void *ctx, struct server *srv, struct lease *l)
{
	struct lease_store *ls = ctx;
	struct dhcp4d *h = ls->h;
	for (size_t i = 0; i < h->nserved; i++)
		if (&h->served[i].srv == srv) {
			lease_store_record(ls, &h->served[i], l);
			if (l->key_len && !lease_is_quarantine(l))
				lease_event(h, &h->served[i], l, "lease.expired", "info");
		}
}

void lease_store_sweep(struct lease_store *ls)
{
	struct dhcp4d *h = ls->h;
	double now = arbor_time_wall();
	for (size_t i = 0; i < h->nserved; i++)
		server_expire(&h->served[i].srv, now, expire_one, ls);
	arbor_group_commit_flush(ls->gc);
}

static void on_expiry(evutil_socket_t fd, short what, void *arg)
{
	lease_store_sweep(arg);
}

/* ---- open and close ---- */

struct lease_store *lease_store_open(struct dhcp4d *h, uint64_t compact_records, char *err, size_t errlen)
{
	struct lease_store *ls = xcalloc(1, sizeof *ls);
	ls->h = h;
	struct arbor_journal_replay replay = { replay_snapshot, replay_record, h };
	if (arbor_journal_open(arbor_daemon_state_dir(h->d), "leases.json", &replay, &ls->journal, err, errlen) != 0) {
		free(ls);
		return NULL;
	}
	struct arbor_group_commit_def def = {
		.name = "lease journal",
		.answer_size = sizeof(struct answer),
		.batch_max = ANSWERS_MAX,
		.deliver = deliver,
		.snapshot = snapshot,
		.ctx = ls,
	};
	ls->gc = arbor_group_commit_new(arbor_daemon_base(h->d), ls->journal, &def);
	arbor_group_commit_compact_after(ls->gc, compact_records);
	lease_store_sweep(ls); /* what lapsed while we were down */
	/* Start from a fresh snapshot: leases.json then always holds every lease
	 * (readable with jq), and the journal holds only what came since. */
	arbor_group_commit_compact(ls->gc);
	struct timeval second = { 1, 0 };
	ls->expiry = event_new(arbor_daemon_base(h->d), -1, EV_PERSIST, on_expiry, ls);
	event_add(ls->expiry, &second);
	return ls;
}

void lease_store_close(struct lease_store *ls)
{
	if (ls == NULL)
		return;
	event_free(ls->expiry);
	arbor_group_commit_compact(ls->gc);
	arbor_group_commit_free(ls->gc);
	arbor_journal_close(ls->journal);
	arbor_buf_free(&ls->record);
	free(ls);
}
