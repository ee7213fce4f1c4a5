/* DNS over TCP (RFC 7766) on the main loop: pipelined queries answered in the
 * order they complete, an idle timeout, a deadline for a message that trickles
 * in, a connection limit. Answers come from the main loop's zone copy; what the
 * answerer hands back goes to relay.c, which answers on the connection later. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

struct dnsd;
struct tcp_conn;
struct tcp_serving;

/* Listens on every configured address. NULL with err. */
struct tcp_serving *tcp_serving_new(struct dnsd *h, char *err, size_t errlen);
/* Closes the listeners and every connection; NULL is fine. Resolutions still
 * pending for a connection must have been cancelled (resolver_cancel_all). */
void tcp_serving_free(struct tcp_serving *t);
/* Adds "tcp": {open, accepted, refused, timeouts}. */
void tcp_serving_status(const struct tcp_serving *t, cJSON *obj);

/* For relay.c: a resolution for c is in flight (c stays allocated until it is
 * done), and its answer. */
void tcp_conn_hold(struct tcp_conn *c);
void tcp_conn_send(struct tcp_conn *c, const uint8_t *msg, size_t len);
void tcp_conn_unhold(struct tcp_conn *c);
