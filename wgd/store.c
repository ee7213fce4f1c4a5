/* wgd's files in its state directory:
 *   peers.json     the registry (0600: it holds preshared keys)
 *   counters.json  cumulative transfer totals (counters_file.h)
 *   IFNAME.key     an interface's private key, base64 (0600, never logged)
 * All are replaced atomically (statefile.h); a damaged one stops the start
 * with the file and the key named. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base64.h"
#include "counters_file.h"
#include "log.h"
#include "statefile.h"
#include "wg_key.h"
#include "wgd.h"
#include "xalloc.h"

#define PEERS_FILE "peers.json"
#define COUNTERS_FILE "counters.json"
#define FILE_MAX (64u << 20)

static int write_json(struct wgd *h, const char *name, cJSON *doc, unsigned mode, char *err, size_t errlen)
{
	char *text = cJSON_Print(doc);
	size_t n = strlen(text);
	char *withnl = xrealloc(text, n + 2);
	withnl[n] = '\n';
	withnl[n + 1] = '\0';
	int rc = arbor_state_write_mode(arbor_daemon_state_dir(h->d), name, withnl, n + 1, mode, err, errlen);
	wg_key_wipe(withnl, n + 1);
	free(withnl);
	return rc;
}

int store_save_registry(struct wgd *h, const struct wgd_registry *reg, char *err, size_t errlen)
{
	cJSON *doc = wgd_registry_to_json(reg);
	int rc = write_json(h, PEERS_FILE, doc, 0600, err, errlen);
	cJSON_Delete(doc);
	return rc;
}

int store_save_counters(struct wgd *h, char *err, size_t errlen)
{
	struct counters_entry *v = xcalloc(h->reg.n + 1, sizeof *v);
	for (size_t k = 0; k < h->reg.n; k++) {
		snprintf(v[k].name, sizeof v[k].name, "%s", h->reg.peers[k].name);
		v[k].c = wgd_rt(h, k)->c;
	}
	cJSON *doc = counters_to_json(v, h->reg.n);
	free(v);
	int rc = write_json(h, COUNTERS_FILE, doc, 0640, err, errlen);
	cJSON_Delete(doc);
	if (rc == 0)
		h->counters_dirty = false;
	return rc;
}

static int read_json(struct wgd *h, const char *name, cJSON **doc, char *err, size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	const char *dir = arbor_daemon_state_dir(h->d);
	int rc = arbor_state_read(dir, name, &text, &len, FILE_MAX);
	*doc = NULL;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-rc));
		return rc;
	}
	*doc = cJSON_ParseWithLength(text, len);
	wg_key_wipe(text, len);
	free(text);
	if (*doc == NULL) {
		snprintf(err, errlen, "%s/%s: not JSON", dir, name);
		return -EINVAL;
	}
	return 0;
}

int store_load(struct wgd *h, char *err, size_t errlen)
{
	const char *dir = arbor_daemon_state_dir(h->d);
	cJSON *doc;
	char why[256];
	int rc = read_json(h, PEERS_FILE, &doc, err, errlen);
	if (rc == 0 && doc && (rc = wgd_registry_from_json(&h->reg, doc, why, sizeof why)) < 0)
		snprintf(err, errlen, "%s/%s: %s", dir, PEERS_FILE, why);
	cJSON_Delete(doc);
	if (rc < 0)
		return rc;
	rc = read_json(h, COUNTERS_FILE, &doc, err, errlen);
	if (rc < 0)
		return rc;
	struct counters_entry *v = NULL;
	size_t n = 0;
	if (doc && (rc = counters_from_json(doc, &v, &n, why, sizeof why)) < 0)
		snprintf(err, errlen, "%s/%s: %s", dir, COUNTERS_FILE, why);
	cJSON_Delete(doc);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < h->reg.n; k++)
			if (strcmp(h->reg.peers[k].name, v[i].name) == 0)
				wgd_rt(h, k)->c = v[i].c;
	}
	free(v);
	return rc;
}

int store_write_interface_key(struct wgd *h, const char *ifname, const uint8_t key[WG_KEY_LEN], char *err,
			      size_t errlen)
{
	char name[WG_IFNAME_MAX + 8], text[WG_KEY_B64_LEN + 2];
	snprintf(name, sizeof name, "%s.key", ifname);
	wg_key_to_base64(key, text);
	text[WG_KEY_B64_LEN] = '\n';
	text[WG_KEY_B64_LEN + 1] = '\0';
	int rc = arbor_state_write_mode(arbor_daemon_state_dir(h->d), name, text, WG_KEY_B64_LEN + 1, 0600, err, errlen);
	wg_key_wipe(text, sizeof text);
	return rc;
}

int store_interface_key(struct wgd *h, const char *ifname, uint8_t key[WG_KEY_LEN], bool *created, char *err,
			size_t errlen)
{
	char name[WG_IFNAME_MAX + 8];
	snprintf(name, sizeof name, "%s.key", ifname);
	const char *dir = arbor_daemon_state_dir(h->d);
	char *text = NULL;
	size_t len = 0;
	*created = false;
	int rc = arbor_state_read(dir, name, &text, &len, 4096);
	if (rc == -ENOENT) {
		wg_key_generate_private(key);
		*created = true;
		return store_write_interface_key(h, ifname, key, err, errlen);
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s/%s: %s", dir, name, strerror(-rc));
		return rc;
	}
	/* Like wg genkey's output: the key and one newline. */
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		text[--len] = '\0';
	enum wg_key_error e = wg_key_from_base64(text, key);
	wg_key_wipe(text, len);
	free(text);
	if (e != WG_KEY_OK) {
		snprintf(err, errlen, "%s/%s: the private key %s", dir, name, wg_key_error_text(e));
		return -EINVAL;
	}
	return 0;
}
