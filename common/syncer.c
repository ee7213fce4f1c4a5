/* The sync worker (see syncer.h): one thread, one request slot, an eventfd to
 * tell the loop a sync finished. */
#include "syncer.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "xalloc.h"

struct arbor_syncer {
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int fd;          /* the file to sync; -1: nothing to do */
	int rc;
	bool busy;       /* a sync was started and its done has not run */
	bool finished;   /* the worker finished it */
	bool quit;
	int efd;
	struct event *ev;
	arbor_sync_done_fn done;
	void *ctx;
};

static void *worker(void *arg)
{
	struct arbor_syncer *s = arg;
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (s->fd < 0 && !s->quit)
			pthread_cond_wait(&s->wake, &s->lock);
		if (s->fd < 0 && s->quit)
			break;
		int fd = s->fd;
		pthread_mutex_unlock(&s->lock);
		int rc = fdatasync(fd) == 0 ? 0 : -errno;
		pthread_mutex_lock(&s->lock);
		s->rc = rc;
		s->fd = -1;
		s->finished = true;
		pthread_cond_broadcast(&s->wake);
		uint64_t one = 1;
		if (write(s->efd, &one, sizeof one) < 0) {
			/* cannot happen with an eventfd below its limit */
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

static void on_done(evutil_socket_t fd, short what, void *arg)
{
	struct arbor_syncer *s = arg;
	uint64_t n;
	if (read(s->efd, &n, sizeof n) < 0)
		return;
	pthread_mutex_lock(&s->lock);
	bool finished = s->finished;
	int rc = s->rc;
	s->finished = false;
	pthread_mutex_unlock(&s->lock);
	if (!finished)
		return;
	s->busy = false;
	if (s->done)
		s->done(s->ctx, rc);
}

struct arbor_syncer *arbor_syncer_new(struct event_base *base, char *err, size_t errlen)
{
	struct arbor_syncer *s = xcalloc(1, sizeof *s);
	s->fd = -1;
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->wake, NULL);
	int rc = s->efd < 0 ? errno : pthread_create(&s->thread, NULL, worker, s);
	if (rc != 0) {
		snprintf(err, errlen, "sync worker: %s", strerror(rc));
		if (s->efd >= 0)
			close(s->efd);
		free(s);
		return NULL;
	}
	s->ev = event_new(base, s->efd, EV_READ | EV_PERSIST, on_done, s);
	event_add(s->ev, NULL);
	return s;
}

int arbor_syncer_start(struct arbor_syncer *s, int fd, arbor_sync_done_fn done, void *ctx)
{
	if (s->busy)
		return -EBUSY;
	if (fd < 0)
		return -EBADF; /* -1 means "no work" to the worker */
	s->busy = true;
	s->done = done;
	s->ctx = ctx;
	pthread_mutex_lock(&s->lock);
	s->fd = fd;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	return 0;
}

bool arbor_syncer_busy(const struct arbor_syncer *s)
{
	return s->busy;
}

void arbor_syncer_wait(struct arbor_syncer *s)
{
	if (s == NULL || !s->busy)
		return;
	pthread_mutex_lock(&s->lock);
	while (s->fd >= 0)
		pthread_cond_wait(&s->wake, &s->lock);
	pthread_mutex_unlock(&s->lock);
	on_done(s->efd, EV_READ, s);
}

void arbor_syncer_free(struct arbor_syncer *s)
{
	if (s == NULL)
		return;
	while (s->busy)
		arbor_syncer_wait(s); /* its done may start another: wait for that too */
	pthread_mutex_lock(&s->lock);
	s->quit = true;
	pthread_cond_signal(&s->wake);
	pthread_mutex_unlock(&s->lock);
	pthread_join(s->thread, NULL);
	event_free(s->ev);
	close(s->efd);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->wake);
	free(s);
}
