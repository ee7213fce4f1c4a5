/* The DHCPv6 message codec (RFC 8415; RFC 3646 DNS options, RFC 7083 SOL_MAX_RT):
 * pure functions over byte buffers, shared by the PD client, the delegating
 * server and the stateless server of arbor-dhcp6pd, unit-tested and fuzzed alone.
 * Nothing here reads outside the bytes it is given, allocates, or aborts on bad
 * input: functions return -EBADMSG for a malformed message (with a reason), -ELOOP
 * for relay messages nested deeper than DHCP6_RELAY_MAX, -ENOSPC when an output
 * does not fit, -EINVAL for a bad argument.
 *
 * A parsed message borrows the buffer it was parsed from (client and server
 * identifiers, the domain list point into it): keep the buffer while the message
 * is used. Numbers are in host byte order, addresses as struct in6_addr. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Message types (RFC 8415 §7.3). */
enum {
	DHCP6_SOLICIT = 1,
	DHCP6_ADVERTISE = 2,
	DHCP6_REQUEST = 3,
	DHCP6_CONFIRM = 4,
	DHCP6_RENEW = 5,
	DHCP6_REBIND = 6,
	DHCP6_REPLY = 7,
	DHCP6_RELEASE = 8,
	DHCP6_DECLINE = 9,
	DHCP6_RECONFIGURE = 10,
	DHCP6_INFORMATION_REQUEST = 11,
	DHCP6_RELAY_FORW = 12,
	DHCP6_RELAY_REPL = 13,
};

/* Option codes this codec reads or writes (IANA "DHCPv6 Option Codes"). */
enum {
	DHCP6_OPT_CLIENTID = 1,
	DHCP6_OPT_SERVERID = 2,
	DHCP6_OPT_IA_NA = 3,
	DHCP6_OPT_IA_TA = 4,
	DHCP6_OPT_IAADDR = 5,
	DHCP6_OPT_ORO = 6,
	DHCP6_OPT_PREFERENCE = 7,
	DHCP6_OPT_ELAPSED_TIME = 8,
	DHCP6_OPT_RELAY_MSG = 9,
	DHCP6_OPT_AUTH = 11,
	DHCP6_OPT_UNICAST = 12,
	DHCP6_OPT_STATUS_CODE = 13,
	DHCP6_OPT_RAPID_COMMIT = 14,
	DHCP6_OPT_USER_CLASS = 15,
	DHCP6_OPT_VENDOR_CLASS = 16,
	DHCP6_OPT_VENDOR_OPTS = 17,
	DHCP6_OPT_INTERFACE_ID = 18,
	DHCP6_OPT_RECONF_MSG = 19,
	DHCP6_OPT_RECONF_ACCEPT = 20,
	DHCP6_OPT_DNS_SERVERS = 23,
	DHCP6_OPT_DOMAIN_LIST = 24,
	DHCP6_OPT_IA_PD = 25,
	DHCP6_OPT_IAPREFIX = 26,
	DHCP6_OPT_INFORMATION_REFRESH_TIME = 32,
	DHCP6_OPT_SOL_MAX_RT = 82,
	DHCP6_OPT_INF_MAX_RT = 83,
};

/* Status codes (RFC 8415 §21.13). */
enum {
	DHCP6_STATUS_SUCCESS = 0,
	DHCP6_STATUS_UNSPEC_FAIL = 1,
	DHCP6_STATUS_NO_ADDRS_AVAIL = 2,
	DHCP6_STATUS_NO_BINDING = 3,
	DHCP6_STATUS_NOT_ON_LINK = 4,
	DHCP6_STATUS_USE_MULTICAST = 5,
	DHCP6_STATUS_NO_PREFIX_AVAIL = 6,
};

#define DHCP6_CLIENT_PORT 546
#define DHCP6_SERVER_PORT 547
#define DHCP6_HEADER_LEN 4          /* msg-type and a 24-bit transaction id */
#define DHCP6_RELAY_HEADER_LEN 34   /* msg-type, hop-count, link-address, peer-address */
#define DHCP6_MAX_PACKET 16384      /* longer is -EMSGSIZE: nothing real comes near it */
#define DHCP6_DUID_MAX 130          /* 2-byte type + at most 128 bytes (RFC 8415 §11.1) */
#define DHCP6_IA_MAX 8              /* IAs kept per message; more are counted, not kept */
#define DHCP6_IA_ENTRIES_MAX 8      /* addresses or prefixes kept per IA */
#define DHCP6_ORO_MAX 32
#define DHCP6_DNS_MAX 8
#define DHCP6_DOMAINS_MAX 8
#define DHCP6_STATUS_TEXT_MAX 96    /* a status message kept, printable, truncated */
#define DHCP6_NAME_TEXT_MAX 256     /* a domain name as text, with its NUL */
/* HOP_COUNT_LIMIT (RFC 8415 §7.6): a relay never forwards a message that has been
 * through this many relays, so a deeper nesting is no message anyone sent. */
#define DHCP6_RELAY_MAX 8
#define DHCP6_INFINITY 0xffffffffu

const char *dhcp6_type_name(int type);
const char *dhcp6_status_name(int code);

/* --- Parsing -------------------------------------------------------------------- */

struct dhcp6_status {
	bool present;
	uint16_t code;
	char text[DHCP6_STATUS_TEXT_MAX]; /* bytes outside 0x20..0x7e shown as '?' */
};

/* An IA Address (plen 128) or an IA Prefix, with its own status code. */
struct dhcp6_lease_entry {
	struct in6_addr addr; /* the address, or the prefix (bits past plen as sent) */
	uint8_t plen;
	uint32_t preferred, valid;
	struct dhcp6_status status;
};

/* IA_NA or IA_PD (IA_TA is parsed for well-formedness and not kept). */
struct dhcp6_ia {
	uint16_t type; /* DHCP6_OPT_IA_NA or DHCP6_OPT_IA_PD */
	uint32_t iaid, t1, t2;
	struct dhcp6_status status;
	struct dhcp6_lease_entry e[DHCP6_IA_ENTRIES_MAX];
	size_t n;
	size_t dropped; /* well-formed entries beyond DHCP6_IA_ENTRIES_MAX */
};

struct dhcp6_message {
	uint8_t type;
	uint32_t xid; /* 24 bits */
	const uint8_t *client_id, *server_id; /* DUIDs, NULL when absent */
	uint16_t client_id_len, server_id_len;
	struct dhcp6_status status; /* message level */
	struct dhcp6_ia ia[DHCP6_IA_MAX];
	size_t nia, ia_dropped;
	uint16_t oro[DHCP6_ORO_MAX];
	size_t noro;
	bool has_elapsed, has_preference, rapid_commit, reconf_accept;
	uint16_t elapsed; /* hundredths of a second */
	uint8_t preference;
	struct in6_addr dns[DHCP6_DNS_MAX];
	size_t ndns;
	const uint8_t *domains; /* option 24 value, checked to be flat wire names */
	uint16_t domains_len;
	bool has_info_refresh, has_sol_max_rt, has_inf_max_rt;
	uint32_t info_refresh, sol_max_rt, inf_max_rt;
	size_t unknown; /* options this codec does not know (skipped) */
};

/* Parses a client/server message (types 1..11). Returns 0, or -EBADMSG with a
 * reason in err (err may be NULL): shorter than the header, a relay type, an
 * option running past its container, a length an option cannot have, a prefix
 * longer than 128, a DUID of a bad size, a client or server id twice. */
int dhcp6_parse(const uint8_t *buf, size_t len, struct dhcp6_message *m, char *err, size_t errlen);

/* One relay agent's wrapper (RELAY-FORW or RELAY-REPL). */
struct dhcp6_relay {
	uint8_t type, hop_count;
	struct in6_addr link_addr, peer_addr;
	const uint8_t *interface_id; /* option 18, echoed in the answer; NULL if absent */
	uint16_t interface_id_len;
	const uint8_t *msg; /* the Relay Message option's value */
	size_t msg_len;
};

/* Unwraps a RELAY-FORW (or RELAY-REPL) and every relay message nested in it, outermost
 * first, into chain[0..*n); *inner and *inner_len get the client's message.
 * -EBADMSG (no Relay Message option, or two, or a truncated header), -ELOOP for more
 * than DHCP6_RELAY_MAX levels. A buffer that is not a relay message gives *n = 0
 * and itself as the inner message. */
int dhcp6_unwrap_relays(const uint8_t *buf, size_t len, struct dhcp6_relay chain[DHCP6_RELAY_MAX], size_t *n,
			const uint8_t **inner, size_t *inner_len, char *err, size_t errlen);

/* The names of a domain list (option 24, or an RA's DNSSL without its padding) as
 * absolute text ("home.arpa."); at most max are written. Returns the number of
 * names in the list, or -EBADMSG for something that is not a run of flat names. */
int dhcp6_parse_domain_list(const uint8_t *v, size_t len, char names[][DHCP6_NAME_TEXT_MAX], size_t max);

/* Whether the option list of a message asks for code (the ORO). */
bool dhcp6_requested(const struct dhcp6_message *m, uint16_t code);
/* The first IA of type with this iaid, or NULL. */
const struct dhcp6_ia *dhcp6_find_ia(const struct dhcp6_message *m, uint16_t type, uint32_t iaid);

/* --- Building ------------------------------------------------------------------- */

/* Errors are sticky: every put after a failure does nothing, and finish returns
 * the first error (-ENOSPC, or -EINVAL for an unbalanced open/close). */
struct dhcp6_builder {
	uint8_t *buf;
	size_t cap, len;
	int error;
	size_t open[4]; /* offsets of options still open (IA, then IAPREFIX...) */
	int depth;
};

void dhcp6_build_start(struct dhcp6_builder *b, uint8_t *buf, size_t cap, uint8_t type, uint32_t xid);
void dhcp6_put_option(struct dhcp6_builder *b, uint16_t code, const void *data, size_t len);
void dhcp6_put_u8(struct dhcp6_builder *b, uint16_t code, uint8_t v);
void dhcp6_put_u16(struct dhcp6_builder *b, uint16_t code, uint16_t v);
void dhcp6_put_u32(struct dhcp6_builder *b, uint16_t code, uint32_t v);
/* An option whose value is the options that follow, up to dhcp6_close. */
void dhcp6_open(struct dhcp6_builder *b, uint16_t code);
void dhcp6_close(struct dhcp6_builder *b);
/* Raw bytes into the value of the option that is open (fixed fields). */
void dhcp6_put_bytes(struct dhcp6_builder *b, const void *data, size_t len);
void dhcp6_put_status(struct dhcp6_builder *b, uint16_t code, const char *text);
/* IA_NA or IA_PD header, left open for its IAADDR/IAPREFIX options and status. */
void dhcp6_open_ia(struct dhcp6_builder *b, uint16_t type, uint32_t iaid, uint32_t t1, uint32_t t2);
/* An IA Prefix (or IA Address when plen is 128 and addr is true) with an optional
 * status (status < 0: none). */
void dhcp6_put_iaprefix(struct dhcp6_builder *b, const struct in6_addr *prefix, uint8_t plen, uint32_t preferred,
			uint32_t valid, int status, const char *text);
void dhcp6_put_iaaddr(struct dhcp6_builder *b, const struct in6_addr *addr, uint32_t preferred, uint32_t valid,
		      int status, const char *text);
/* Option 23 and option 24 (names as text; -EINVAL sticks for a bad name). */
void dhcp6_put_dns(struct dhcp6_builder *b, const struct in6_addr *servers, size_t n);
void dhcp6_put_domain_list(struct dhcp6_builder *b, const char *const *names, size_t n);
/* Returns the message length, or the first error. */
int dhcp6_finish(struct dhcp6_builder *b);

/* Wraps msg in RELAY-REPL messages answering chain[0..n) (outermost first, as
 * dhcp6_unwrap_relays gave it): hop count, link and peer addresses and the
 * Interface-ID echoed (RFC 8415 §19.3). Returns the length or -ENOSPC. */
int dhcp6_build_relay_reply(uint8_t *buf, size_t cap, const struct dhcp6_relay *chain, size_t n, const uint8_t *msg,
			    size_t msg_len);
