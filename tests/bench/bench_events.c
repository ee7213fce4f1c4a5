/*
 * bench_events: what the event seq reservation (common/events.c) costs the
 * daemons' hot path. dhcp4d emits one event per lease, so this is the cost per
 * lease too.
 *
 *   bench_events [-n EVENTS] [-d DIR]
 *
 * Emits EVENTS events (default 300000, about the lease.bound of 4.5 runs of
 * bench_dhcp4d.py) into an empty event log in DIR (default: a new directory in
 * the current one, so on the disk the daemons use, not a tmpfs), first without
 * a reservation (as before it existed), then with one, alternating 5 rounds of
 * each; prints the best round of each in ns per event, how many reservations
 * were written, and how long each write (an atomic state file: write, fsync,
 * rename, fsync the directory) held the loop.
 *
 * A benchmark tool; it asserts nothing about speed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "statefile.h"

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One round: n events into a fresh log; returns ns per event, the slowest
 * single emit in *worst (s), the reservations written in *writes. */
static double round_of(const char *base, int k, const char *boot, long n, double *worst, unsigned long long *writes)
{
	char dir[4096], err[256], cmd[4200];
	snprintf(dir, sizeof dir, "%s/r%d", base, k);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", dir, dir);
	if (system(cmd) != 0)
		exit(1);
	struct arbor_events *ev = arbor_events_open(dir, "bench", boot, 1024, 1ULL << 40, err, sizeof err);
	if (ev == NULL) {
		fprintf(stderr, "%s\n", err);
		exit(1);
	}
	unsigned long long before = arbor_events_reservation_writes(ev);
	*worst = 0;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		double a = now();
		cJSON *data = cJSON_CreateObject();
		cJSON_AddStringToObject(data, "interface", "lan0");
		cJSON_AddStringToObject(data, "address", "10.0.0.100");
		cJSON_AddStringToObject(data, "mac", "52:54:00:12:34:56");
		arbor_event_emit(ev, "lease.bound", "info", "10.0.0.100", data, "bound 10.0.0.100 to 52:54:00:12:34:56");
		double b = now() - a;
		if (b > *worst)
			*worst = b;
	}
	double t = now() - t0;
	*writes = arbor_events_reservation_writes(ev) - before;
	arbor_events_close(ev);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		exit(1);
	return t / (double)n * 1e9;
}

int main(int argc, char **argv)
{
	long n = 300000;
	char base[4096] = "";
	int opt;
	while ((opt = getopt(argc, argv, "n:d:")) != -1) {
		if (opt == 'n')
			n = atol(optarg);
		else if (opt == 'd')
			snprintf(base, sizeof base, "%s", optarg);
		else
			return 2;
	}
	if (base[0] == '\0') {
		snprintf(base, sizeof base, "bench-events-XXXXXX");
		if (mkdtemp(base) == NULL)
			return 1;
	}
	double best_off = 1e99, best_on = 1e99, worst_off = 0, worst_on = 0;
	unsigned long long writes_on = 0;
	for (int r = 0; r < 5; r++) {
		double worst;
		unsigned long long writes;
		double off = round_of(base, 2 * r, NULL, n, &worst, &writes);
		if (off < best_off)
			best_off = off;
		if (worst > worst_off)
			worst_off = worst;
		double on = round_of(base, 2 * r + 1, "bench-boot", n, &worst, &writes);
		if (on < best_on)
			best_on = on;
		if (worst > worst_on)
			worst_on = worst;
		writes_on = writes;
	}
	/* One reservation write alone: the stall it puts on the loop. */
	double w[21];
	for (int i = 0; i < 21; i++) {
		char err[256];
		double a = now();
		arbor_state_write(base, "events.seq.json", "{\"boot_id\": \"bench-boot\", \"reserved\": 65536}\n", 48, err,
				  sizeof err);
		w[i] = now() - a;
		for (int k = i; k > 0 && w[k] < w[k - 1]; k--) {
			double t = w[k];
			w[k] = w[k - 1];
			w[k - 1] = t;
		}
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/events.seq.json", base);
	unlink(path);
	rmdir(base);
	printf("one reservation write     %.2f ms median, %.2f ms slowest of 21\n", w[10] * 1e3, w[20] * 1e3);
	printf("events per round          %ld\n", n);
	printf("without reservation       %.0f ns/event (slowest emit %.2f ms)\n", best_off, worst_off * 1e3);
	printf("with reservation          %.0f ns/event (slowest emit %.2f ms)\n", best_on, worst_on * 1e3);
	printf("reservations written      %llu per round after the one at open (1 per 65536 events)\n", writes_on);
	printf("difference                %+.1f%%\n", (best_on - best_off) / best_off * 100);
	return 0;
}
