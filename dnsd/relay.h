/* The queries the answerer hands back (a child's names with RD=1, names outside
 * the tree) go to the resolver (resolver.h) on the main loop; what comes back is
 * turned into the client's answer (dnsd_answer_from_upstream, or SERVFAIL) and
 * sent over the transport the question came on. */
#pragma once
#include <sys/socket.h>

#include "answer.h"

struct dnsd;
struct tcp_conn;

/* Answers to peer from the UDP socket fd. */
void relay_udp(struct dnsd *h, const struct dnsd_answer_info *info, int fd, const struct sockaddr_storage *peer,
	       socklen_t peer_len);
/* Answers on the TCP connection c (kept while the resolution runs). */
void relay_tcp(struct dnsd *h, const struct dnsd_answer_info *info, struct tcp_conn *c);
