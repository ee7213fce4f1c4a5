/* UAPI socket I/O (see uapi_client.h). */
#include "uapi_client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "clock.h"
#include "fileio.h"
#include "uapi_wire.h"
#include "wg_key.h"

#define UAPI_TIMEOUT_S 5.0
#define UAPI_REPLY_MAX (64u << 20) /* 100,000 peers' worth */

void uapi_socket_path(const char *dir, const char *ifname, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s.sock", dir, ifname);
}

/* Sends req, reads one whole reply into out. */
static int exchange(const char *dir, const char *ifname, const char *req, size_t len, struct arbor_buf *out, char *err,
		    size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[sizeof sa.sun_path + 64];
	uapi_socket_path(dir, ifname, path, sizeof path);
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: path too long", path);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	int rc = arbor_write_all(fd, req, len);
	double deadline = arbor_time_monotonic() + UAPI_TIMEOUT_S;
	while (rc == 0) {
		size_t done = uapi_reply_length(out->data ? out->data : "", out->len);
		if (done) {
			out->len = done;
			break;
		}
		double left = deadline - arbor_time_monotonic();
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pr = left > 0 ? poll(&p, 1, (int)(left * 1000) + 1) : 0;
		if (pr == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		arbor_buf_reserve(out, 65536);
		ssize_t n = read(fd, out->data + out->len, 65536);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			rc = n == 0 ? -ECONNRESET : -errno;
			break;
		}
		out->len += (size_t)n;
		out->data[out->len] = '\0';
		if (out->len > UAPI_REPLY_MAX) {
			rc = -EMSGSIZE;
			break;
		}
	}
	close(fd);
	if (rc < 0)
		snprintf(err, errlen, "%s: %s", path, rc == -ECONNRESET ? "closed before the reply was complete" : strerror(-rc));
	return rc;
}

static int refused(int e, const char *ifname, char *err, size_t errlen)
{
	snprintf(err, errlen, "wireguard-go (%s) refused: errno=%d (%s)", ifname, e, strerror(-e));
	return e;
}

int uapi_get(const char *dir, const char *ifname, struct wg_device *dev, char *err, size_t errlen)
{
	struct arbor_buf reply = { 0 };
	int rc = exchange(dir, ifname, UAPI_GET_REQUEST, strlen(UAPI_GET_REQUEST), &reply, err, errlen);
	if (rc == 0) {
		int e = 0;
		rc = uapi_parse_get(reply.data, reply.len, dev, &e, err, errlen);
		if (rc == 0 && e != 0)
			rc = refused(e, ifname, err, errlen);
		else if (rc == 0)
			snprintf(dev->name, sizeof dev->name, "%s", ifname);
	}
	wg_key_wipe(reply.data, reply.cap);
	arbor_buf_free(&reply);
	return rc;
}

int uapi_set(const char *dir, const char *ifname, const struct wg_device *set, char *err, size_t errlen)
{
	struct arbor_buf req = { 0 }, reply = { 0 };
	uapi_build_set(set, &req);
	int rc = exchange(dir, ifname, req.data, req.len, &reply, err, errlen);
	wg_key_wipe(req.data, req.cap);
	arbor_buf_free(&req);
	if (rc == 0) {
		int e = 0;
		rc = uapi_parse_errno(reply.data, reply.len, &e);
		if (rc < 0)
			snprintf(err, errlen, "wireguard-go (%s): malformed reply to set", ifname);
		else if (e != 0)
			rc = refused(e, ifname, err, errlen);
	}
	arbor_buf_free(&reply);
	return rc;
}
