/* tcp checks: a non-blocking connect to host:port. Passing means the handshake
 * completed; nothing is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "probe.h"
#include "xalloc.h"

struct tcp_state {
	int fd;
	struct event *ev;
};

static void tcp_cancel(struct probe *p)
{
	struct tcp_state *t = p->kind_state;
	if (t->ev)
		event_free(t->ev);
	if (t->fd >= 0)
		close(t->fd);
	free(t);
	p->kind_state = NULL;
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
	struct probe *p = arg;
	int err = 0;
	socklen_t len = sizeof err;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	char where[64];
	probe_addr_text(&p->addr, where, sizeof where);
	if (err == 0)
		probe_finish(p, true, NULL);
	else
		probe_finish(p, false, "connect to %s: %s", where, strerror(err));
}

void probe_tcp_start(struct probe *p)
{
	struct tcp_state *t = xcalloc(1, sizeof *t);
	t->fd = -1;
	p->kind_state = t;
	p->kind_cancel = tcp_cancel;
	char where[64];
	probe_addr_text(&p->addr, where, sizeof where);
	t->fd = socket(p->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		probe_finish(p, false, "socket: %s", strerror(errno));
		return;
	}
	int rc = probe_bind_interface(p, t->fd);
	if (rc != 0) {
		probe_finish(p, false, "bind to interface %s: %s", p->check->spec->interface, strerror(-rc));
		return;
	}
	if (connect(t->fd, (struct sockaddr *)&p->addr, p->addrlen) == 0) {
		probe_finish(p, true, NULL);
		return;
	}
	if (errno != EINPROGRESS) {
		probe_finish(p, false, "connect to %s: %s", where, strerror(errno));
		return;
	}
	t->ev = event_new(p->check->hd->base, t->fd, EV_WRITE, on_writable, p);
	event_add(t->ev, NULL);
}
