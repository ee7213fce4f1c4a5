/* Network addresses in text ("192.0.2.1:4790", "[2001:db8::1]:4790", a bare
 * address with a default port) and TCP listeners, for daemons that serve or
 * call over the network rather than the contract's Unix socket. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Parses a numeric address with an optional port (default_port when there is
 * none; 0: a port is required). No name resolution. 0 or -EINVAL. */
int arbor_sockaddr_parse(const char *text, uint16_t default_port, struct sockaddr_storage *ss, socklen_t *len);
/* "192.0.2.1:4790" / "[2001:db8::1]:4790" into buf; returns buf. */
const char *arbor_sockaddr_format(const struct sockaddr *sa, char *buf, size_t buflen);
/* True for 0.0.0.0 and ::. */
bool arbor_sockaddr_is_any(const struct sockaddr *sa);
/* A listening, non-blocking, close-on-exec TCP socket (SO_REUSEADDR, and
 * IP_FREEBIND: the address need not be configured yet), or -errno with err
 * set. */
int arbor_tcp_listen(const struct sockaddr *sa, socklen_t len, int backlog, char *err, size_t errlen);
