/* The difference between the registry and a device (see reconcile.h). Both
 * peer lists are sorted by key first, so a thousand peers cost a sort, not a
 * million comparisons. */
#include "reconcile.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int cmp_peer_ptr(const void *a, const void *b)
{
	const struct wg_peer *x = *(const struct wg_peer *const *)a, *y = *(const struct wg_peer *const *)b;
	return memcmp(x->public_key, y->public_key, WG_KEY_LEN);
}

static const struct wg_peer **sorted(const struct wg_device *d)
{
	const struct wg_peer **v = xreallocarray(NULL, d->npeers + 1, sizeof *v);
	for (size_t i = 0; i < d->npeers; i++)
		v[i] = &d->peers[i];
	qsort(v, d->npeers, sizeof *v, cmp_peer_ptr);
	return v;
}

static bool same_allowed_ips(const struct wg_peer *a, const struct wg_peer *b)
{
	if (a->nallowed_ips != b->nallowed_ips)
		return false;
	size_t n = a->nallowed_ips;
	if (n == 0)
		return true;
	struct wg_allowed_ip *x = xreallocarray(NULL, n, sizeof *x), *y = xreallocarray(NULL, n, sizeof *y);
	memcpy(x, a->allowed_ips, n * sizeof *x);
	memcpy(y, b->allowed_ips, n * sizeof *y);
	qsort(x, n, sizeof *x, wg_allowed_ip_cmp);
	qsort(y, n, sizeof *y, wg_allowed_ip_cmp);
	bool same = true;
	for (size_t i = 0; i < n && same; i++)
		same = wg_allowed_ip_equal(&x[i], &y[i]);
	free(x);
	free(y);
	return same;
}

static void copy_peer(struct wg_device *out, const struct wg_peer *src, unsigned flags)
{
	struct wg_peer *p = wg_device_add_peer(out);
	memcpy(p->public_key, src->public_key, WG_KEY_LEN);
	memcpy(p->preshared_key, src->preshared_key, WG_KEY_LEN);
	p->keepalive = src->keepalive;
	p->flags = flags;
	for (size_t i = 0; i < src->nallowed_ips && !(flags & WG_PEER_REMOVE); i++)
		*wg_peer_add_allowed_ip(p) = src->allowed_ips[i];
}

void reconcile_diff(const struct wg_device *desired, const struct wg_device *actual, struct wg_device *out,
		    struct reconcile_counts *counts)
{
	memset(counts, 0, sizeof *counts);
	snprintf(out->name, sizeof out->name, "%s", desired->name);
	if (desired->has_private_key &&
	    (!actual->has_private_key || memcmp(desired->private_key, actual->private_key, WG_KEY_LEN) != 0)) {
		out->has_private_key = true;
		memcpy(out->private_key, desired->private_key, WG_KEY_LEN);
		counts->device = true;
	}
	if (desired->has_listen_port && (!actual->has_listen_port || desired->listen_port != actual->listen_port)) {
		out->has_listen_port = true;
		out->listen_port = desired->listen_port;
		counts->device = true;
	}
	if (desired->has_fwmark && (actual->has_fwmark ? actual->fwmark : 0) != desired->fwmark) {
		out->has_fwmark = true;
		out->fwmark = desired->fwmark;
		counts->device = true;
	}
	const struct wg_peer **want = sorted(desired), **have = sorted(actual);
	size_t i = 0, k = 0;
	const unsigned full = WG_PEER_HAS_PRESHARED_KEY | WG_PEER_HAS_KEEPALIVE | WG_PEER_REPLACE_ALLOWED_IPS;
	while (i < desired->npeers || k < actual->npeers) {
		int c = i == desired->npeers ? 1 : k == actual->npeers ? -1 : cmp_peer_ptr(&want[i], &have[k]);
		if (c < 0) {
			copy_peer(out, want[i++], full);
			counts->added++;
		} else if (c > 0) {
			copy_peer(out, have[k++], WG_PEER_REMOVE);
			counts->removed++;
		} else {
			const struct wg_peer *w = want[i++], *h = have[k++];
			if (memcmp(w->preshared_key, h->preshared_key, WG_KEY_LEN) != 0 || w->keepalive != h->keepalive ||
			    !same_allowed_ips(w, h)) {
				copy_peer(out, w, full | WG_PEER_UPDATE_ONLY);
				counts->updated++;
			}
		}
	}
	free(want);
	free(have);
}

bool reconcile_empty(const struct wg_device *out)
{
	return out->npeers == 0 && !out->has_private_key && !out->has_listen_port && !out->has_fwmark;
}
