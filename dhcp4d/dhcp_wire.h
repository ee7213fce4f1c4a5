/* The DHCPv4 message codec (RFC 2131/2132, 3046, 3396, 3397, 3442, 4361, 4702, 6842):
 * pure functions over byte buffers, no I/O, so the server and the client of
 * arbor-dhcp4d share one parser that is unit-tested and fuzzed alone. Nothing here
 * reads outside the bytes it is given, allocates, or aborts on bad input: functions
 * return a negative errno instead: -EBADMSG for a malformed message or option,
 * -ENOENT for an absent option, -EINVAL for a bad argument, -ENOSPC when the output
 * does not fit.
 *
 * Conventions: IPv4 addresses are struct in_addr (network byte order, as the socket
 * API and inet_ntop take them); every other number is in host byte order. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sizes. A message is the 236-byte fixed header, the 4-byte magic cookie, then the
 * options. Every DHCP peer accepts a 576-byte IP datagram (RFC 2131 §2), which is a
 * 548-byte DHCP message once the IP and UDP headers (28 bytes) are taken off. */
#define DHCP_FIXED_LEN 236
#define DHCP_OPTIONS_OFFSET 240 /* the fixed header plus the magic cookie */
#define DHCP_MAGIC_COOKIE 0x63825363u /* 99.130.83.99 */
#define DHCP_SNAME_OFFSET 44
#define DHCP_SNAME_LEN 64
#define DHCP_FILE_OFFSET 108
#define DHCP_FILE_LEN 128
#define DHCP_CHADDR_LEN 16
#define DHCP_IP_UDP_OVERHEAD 28
#define DHCP_MIN_DATAGRAM 576 /* the smallest option 57 value, and its default */
#define DHCP_MIN_MSG_LEN (DHCP_MIN_DATAGRAM - DHCP_IP_UDP_OVERHEAD) /* 548 */
#define DHCP_BOOTP_MIN_LEN 300 /* dhcp_finish pads shorter messages to this */
#define DHCP_BUILDER_MIN_CAP 576 /* the smallest buffer the builders take */
/* The longest message dhcp_parse takes: DHCP is never fragmented in practice (a
 * client without an address receives on a raw socket), so a message fits one frame,
 * and this is more than a 9000-byte jumbo frame carries. Longer is -EMSGSIZE. */
#define DHCP_MAX_PACKET 16384

/* Text limits: a host name label is at most 63 characters, a domain name at most
 * 253 (255 bytes on the wire); both sizes below count the terminating NUL. */
#define DHCP_HOSTNAME_MAX 63
#define DHCP_NAME_TEXT_MAX 254
#define DHCP_LEASE_KEY_MAX 255

/* Message types (option 53, RFC 2132 §9.6): the one list the codec, the server
 * and the client share. */
enum dhcp_message_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

#define DHCP_OP_REQUEST 1 /* BOOTREQUEST: client (or relay) to server */
#define DHCP_OP_REPLY 2   /* BOOTREPLY: server to client */
#define DHCP_HTYPE_ETHERNET 1
#define DHCP_FLAG_BROADCAST 0x8000

/* Option codes this codec knows by name (IANA "BOOTP Vendor Extensions and DHCP
 * Options"); every other code is still parsed and kept. */
enum {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS_SERVER = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN_NAME = 15,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_BROADCAST = 28,
	DHCP_OPT_NTP_SERVER = 42,
	DHCP_OPT_VENDOR_SPECIFIC = 43,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MESSAGE_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_REQUEST_LIST = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_MESSAGE_SIZE = 57,
	DHCP_OPT_RENEWAL_TIME = 58,   /* T1 */
	DHCP_OPT_REBINDING_TIME = 59, /* T2 */
	DHCP_OPT_VENDOR_CLASS = 60,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_USER_CLASS = 77,
	DHCP_OPT_RAPID_COMMIT = 80,
	DHCP_OPT_CLIENT_FQDN = 81,
	DHCP_OPT_RELAY_AGENT_INFO = 82,
	DHCP_OPT_DOMAIN_SEARCH = 119,
	DHCP_OPT_CLASSLESS_ROUTES = 121,
	DHCP_OPT_END = 255,
};

/* Option overload (52) values: which fixed fields carry options. */
#define DHCP_OVERLOAD_FILE 1
#define DHCP_OVERLOAD_SNAME 2

/* --- Parsing -------------------------------------------------------------------- */

/* One option's value: every instance of the code, concatenated in the order RFC 3396
 * gives (the options field, then file, then sname). An offset into the message's own
 * storage rather than a pointer, so a struct dhcp_message can be copied; read it
 * with dhcp_option(). */
struct dhcp_option_slot {
	bool present; /* seen at least once (a zero-length option is present) */
	uint16_t off, len;
};

struct dhcp_message {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs;
	uint16_t flags;
	bool broadcast; /* the broadcast bit of flags */
	struct in_addr ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[DHCP_CHADDR_LEN]; /* all 16 bytes; hlen of them are the address */
	/* The BOOTP server name and boot file fields as they came (not NUL-terminated
	 * when full), or all zeros when overload says they carry options. */
	uint8_t sname[DHCP_SNAME_LEN];
	uint8_t file[DHCP_FILE_LEN];
	uint8_t overload; /* option 52: 0, or DHCP_OVERLOAD_FILE | DHCP_OVERLOAD_SNAME */
	uint8_t type;     /* option 53, or 0 when absent (allowed in replies only) */
	struct dhcp_option_slot opt[256]; /* indexed by code; 0 (pad) and 255 (end) never present */
	/* The option values, back to back. Each value byte comes from a distinct byte of
	 * the packet, so this can never need more than the packet size. */
	size_t storage_len;
	uint8_t storage[DHCP_MAX_PACKET];
};

/* Parses and validates a DHCP message: at least 240 bytes with the magic cookie; op
 * 1 or 2; hlen at most 16, 6 for Ethernet, 0 for htype 0 (no hardware address, as in
 * RFC 4388 leasequery); every option inside its area; END in the options field;
 * option 52 one byte of value 1..3, read from the options field only (inside file
 * and sname it is ignored, and each area is read once, so overload cannot loop);
 * option 53 one byte, not 0, and present in every request (op 1). Returns 0,
 * -EBADMSG with a sentence in err naming the problem ("option 12 length 200 runs
 * past the end of the packet"), or -EMSGSIZE when len > DHCP_MAX_PACKET. err may be
 * NULL; it is always NUL-terminated when errlen > 0. */
int dhcp_parse(const uint8_t *pkt, size_t len, struct dhcp_message *out, char *err, size_t errlen);

/* Option value by code: a pointer into m (valid while m is) and its length, or NULL
 * with *len = 0 when absent. A present zero-length option gives a non-NULL pointer. */
const uint8_t *dhcp_option(const struct dhcp_message *m, uint8_t code, size_t *len);

/* Fixed-size values: 0, -ENOENT when absent, -EBADMSG when the length is not 1, 2, 4
 * (or 4 for an address). */
int dhcp_option_u8(const struct dhcp_message *m, uint8_t code, uint8_t *out);
int dhcp_option_u16(const struct dhcp_message *m, uint8_t code, uint16_t *out);
int dhcp_option_u32(const struct dhcp_message *m, uint8_t code, uint32_t *out);
int dhcp_option_ipv4(const struct dhcp_message *m, uint8_t code, struct in_addr *out);

/* Typed accessors, same returns. */
int dhcp_requested_ip(const struct dhcp_message *m, struct in_addr *out); /* 50 */
int dhcp_server_id(const struct dhcp_message *m, struct in_addr *out);    /* 54 */
int dhcp_lease_time(const struct dhcp_message *m, uint32_t *seconds);     /* 51; 0xffffffff is infinite */
/* 57: the largest IP datagram the sender accepts; -EBADMSG below 576 too. */
int dhcp_max_message_size(const struct dhcp_message *m, uint16_t *out);
/* How long a reply to m may be, in DHCP bytes: option 57 (or 576 when it is absent
 * or malformed) less the IP and UDP headers, since RFC 2131 counts them in (576 is
 * "the minimum IP datagram"). dhcpcd sends its MTU less 28, so this is 28 bytes more
 * careful than it needs for dhcpcd, and never too long for anyone. */
size_t dhcp_max_reply_len(const struct dhcp_message *m);

/* Raw values (pointer into m, or NULL when absent): 55 (the codes in the client's
 * order), 82 (relay agent information, kept whole to echo back, RFC 3046), 60 and 77
 * (vendor and user class, RFC 3004 leaves 77's inner format to the user). */
const uint8_t *dhcp_param_request_list(const struct dhcp_message *m, size_t *len);
const uint8_t *dhcp_relay_agent_info(const struct dhcp_message *m, size_t *len);
const uint8_t *dhcp_vendor_class(const struct dhcp_message *m, size_t *len);
const uint8_t *dhcp_user_class(const struct dhcp_message *m, size_t *len);
/* Whether the client's parameter request list (55) names code. */
bool dhcp_param_requested(const struct dhcp_message *m, uint8_t code);

/* Client identifier (61), 2..255 bytes (RFC 2132 §9.14). Type 255 is RFC 4361's
 * IAID (4 bytes) + DUID (3..130 bytes); its parts are split out. Pointers are into m.
 * Returns 0, -ENOENT, or -EBADMSG for a length outside those bounds. */
struct dhcp_client_id {
	uint8_t type;      /* 0 opaque, 1 Ethernet (+ MAC), ..., 255 RFC 4361 */
	const uint8_t *id; /* the whole option, type byte included */
	size_t id_len;
	bool rfc4361;
	uint32_t iaid;
	const uint8_t *duid;
	size_t duid_len;
};
int dhcp_client_id(const struct dhcp_message *m, struct dhcp_client_id *out);

/* The bytes a server keys a client's lease by (RFC 2131 §4.2): the client identifier
 * when there is one, else htype followed by chaddr[0..hlen). For an Ethernet client
 * the fallback is the same bytes as the usual type-1 client id (01 + MAC), so a
 * client that sends 61 = 01:MAC and one that sends nothing share the lease. Returns
 * the key length, -EBADMSG for a malformed client id or, without one, hlen 0, and
 * -ENOSPC when cap is too small (DHCP_LEASE_KEY_MAX always suffices). */
int dhcp_lease_key(const struct dhcp_message *m, uint8_t *out, size_t cap);

/* Host name (12), made safe to use as one DNS label (RFC 1123: letters, digits,
 * hyphen): trailing NULs (a common client bug) are dropped silently; the name is cut
 * at its first dot; any other byte (NUL, control, space, non-ASCII, punctuation) is
 * dropped; hyphens at either end are trimmed; at most DHCP_HOSTNAME_MAX characters
 * are kept. *sanitized says whether anything but trailing NULs was changed. out
 * holds DHCP_HOSTNAME_MAX + 1 bytes. Returns the length (0 when nothing usable was
 * left) or -ENOENT. */
int dhcp_hostname(const struct dhcp_message *m, char *out, bool *sanitized);

/* Client FQDN (81, RFC 4702): flags, two (deprecated) rcodes and a name, in DNS wire
 * form when the E flag is set (no compression), else ASCII. The name comes out as
 * dotted text without the trailing dot, "" for an empty name. Labels must be 1..63
 * letters, digits and hyphens; anything else is -EBADMSG, as is a wire name with
 * bytes after its root label. */
#define DHCP_FQDN_S 0x01 /* the server updates the A record */
#define DHCP_FQDN_O 0x02 /* the server overrode the client's S (server to client) */
#define DHCP_FQDN_E 0x04 /* the name is in wire form */
#define DHCP_FQDN_N 0x08 /* the server does no updates */
struct dhcp_fqdn {
	uint8_t flags;
	uint8_t rcode1, rcode2;
	bool fully_qualified; /* wire: ended in the root label; ASCII: ended in '.' */
	char name[DHCP_NAME_TEXT_MAX];
};
int dhcp_client_fqdn(const struct dhcp_message *m, struct dhcp_fqdn *out);

/* --- Options a client consumes -------------------------------------------------- */

struct dhcp_route {
	struct in_addr dest; /* host bits beyond prefix_len are zero */
	uint8_t prefix_len;
	struct in_addr router; /* 0.0.0.0: the destination is on the link */
};

#define DHCP_SEARCH_MAX 16
struct dhcp_domain_list {
	size_t n;     /* names stored */
	size_t total; /* names in the option; past DHCP_SEARCH_MAX they are checked, not stored */
	char name[DHCP_SEARCH_MAX][DHCP_NAME_TEXT_MAX]; /* dotted, no trailing dot */
};

/* A list of addresses (3, 6, 42, ...): a non-zero multiple of 4 bytes. Stores the
 * first max, returns how many there are, or -EBADMSG. */
int dhcp_parse_ipv4_list(const uint8_t *v, size_t len, struct in_addr *out, size_t max);

/* Classless static routes (121, RFC 3442), strictly: each route is a prefix length
 * (0..32), the ceil(prefix/8) significant octets of the destination (host bits
 * zero), and a 4-byte router; at least one route, nothing left over. Stores the first
 * max, returns how many there are, or -EBADMSG. */
int dhcp_parse_classless_routes(const uint8_t *v, size_t len, struct dhcp_route *out, size_t max);

/* Domain search list (119, RFC 3397): DNS wire names, compression pointers allowed;
 * an offset is counted from the start of the (concatenated) value. A pointer must
 * go strictly back, before the labels that hold it, so loops are impossible. Names
 * are non-empty, labels letters, digits, '-' and '_' (they end up in resolv.conf).
 * Returns the number of names or -EBADMSG. */
int dhcp_parse_domain_search(const uint8_t *v, size_t len, struct dhcp_domain_list *out);

/* Domain name (15): ASCII, trailing NULs and one trailing dot dropped, labels 1..63
 * letters, digits, '-' and '_', at most 253 characters. out holds
 * DHCP_NAME_TEXT_MAX bytes. Returns the length or -EBADMSG. */
int dhcp_parse_domain_name(const uint8_t *v, size_t len, char *out);

#define DHCP_ADDRS_MAX 8
#define DHCP_ROUTES_MAX 32
struct dhcp_client_options {
	bool has_server_id;
	struct in_addr server_id;
	bool has_subnet_mask;
	struct in_addr subnet_mask; /* contiguous */
	uint8_t prefix_len;
	bool has_broadcast;
	struct in_addr broadcast;
	/* Routers (3) are left empty when well-formed classless routes (121) are there:
	 * RFC 3442 says a client that gets both MUST ignore the router option. */
	size_t n_routers, n_dns, n_ntp;
	struct in_addr routers[DHCP_ADDRS_MAX], dns[DHCP_ADDRS_MAX], ntp[DHCP_ADDRS_MAX];
	uint16_t mtu; /* 26, at least 68; 0 when absent */
	bool has_lease_time, has_t1, has_t2;
	uint32_t lease_time, t1, t2; /* seconds; 0xffffffff is infinite */
	char domain_name[DHCP_NAME_TEXT_MAX]; /* 15, "" when absent */
	bool has_classless_routes;
	size_t n_routes;
	struct dhcp_route routes[DHCP_ROUTES_MAX];
	struct dhcp_domain_list search; /* 119; n = 0 when absent */
};

/* Fills out from a server's reply. Every option is read on its own: a malformed one
 * is left absent and the first is reported (-EBADMSG, err naming the option and the
 * problem), while every well-formed one is still filled in, so a client can decide
 * whether to take the lease anyway. Lists longer than the arrays keep their head. */
int dhcp_parse_client_options(const struct dhcp_message *m, struct dhcp_client_options *out, char *err,
			      size_t errlen);

/* --- Building --------------------------------------------------------------------- */

/* A message under construction in a caller's buffer. Start it with dhcp_build_reply
 * or dhcp_build_request, add options with the dhcp_put_* functions, end it with
 * dhcp_finish. An option that does not fit is an error (-ENOSPC), never truncated
 * (there is no overload into file/sname); the first error sticks: every later call
 * and dhcp_finish return it. */
struct dhcp_builder {
	uint8_t *buf;
	size_t limit;    /* the message never grows past this */
	size_t len;      /* bytes written */
	size_t reserved; /* kept back for what dhcp_finish appends (relay info, END) */
	const uint8_t *relay_info; /* option 82 to echo before END, or NULL */
	size_t relay_info_len;
	bool reply;
	bool finished;
	int error;
};

/* Starts a reply to req in buf (cap >= DHCP_BUILDER_MIN_CAP, else -EINVAL): op 2,
 * htype, hlen, chaddr, xid, flags and giaddr copied from req; ciaddr copied for an
 * ACK (RFC 2131 table 3), else 0; yiaddr and siaddr as given; then the magic cookie,
 * option 53 = type, and the client identifier echoed when req had one (RFC 6842).
 * The reply is limited to dhcp_max_reply_len(req) bytes (and cap). Relay agent
 * information (82) in req is echoed by dhcp_finish, and its room is kept from the
 * start, so req must stay unchanged until then. Returns 0, -EINVAL, or -ENOSPC when
 * the echoed 61 and 82 alone do not fit. */
int dhcp_build_reply(struct dhcp_builder *b, uint8_t *buf, size_t cap, const struct dhcp_message *req,
		     uint8_t type, struct in_addr yiaddr, struct in_addr siaddr);

/* What a client puts in its messages (RFC 2131 table 5). A zero address or a NULL
 * pointer means "not sent". */
struct dhcp_request_params {
	uint8_t type; /* DISCOVER, REQUEST, DECLINE, RELEASE or INFORM */
	uint32_t xid;
	uint16_t secs;
	bool broadcast;
	uint8_t htype, hlen; /* hlen <= 16 */
	uint8_t chaddr[DHCP_CHADDR_LEN];
	struct in_addr ciaddr;       /* required for RELEASE and INFORM, 0 for DISCOVER, DECLINE */
	struct in_addr requested_ip; /* 50: required for DECLINE; DISCOVER, REQUEST only otherwise */
	struct in_addr server_id;    /* 54: required for DECLINE, RELEASE; not in DISCOVER, INFORM */
	const uint8_t *client_id;    /* 61, 2..255 bytes */
	size_t client_id_len;
	/* Not in DECLINE or RELEASE (left out there): */
	const char *hostname;            /* 12 */
	const char *fqdn;                /* 81, wire form; "name." is fully qualified, "name" partial */
	uint8_t fqdn_flags;              /* DHCP_FQDN_S, DHCP_FQDN_N (E is set by the builder) */
	const uint8_t *params;           /* 55 */
	size_t nparams;
	uint16_t max_message_size;       /* 57, 0 or >= 576 */
	const uint8_t *vendor_class;     /* 60 */
	size_t vendor_class_len;
};

/* Starts a client message in buf (cap >= DHCP_BUILDER_MIN_CAP): op 1, the fixed
 * fields, the cookie, then 53, 61, 50, 54, 57, 55, 12, 81, 60 as the type allows.
 * The message is kept within DHCP_MIN_MSG_LEN bytes, which every server accepts.
 * Returns 0, or -EINVAL for a field the type requires missing or forbids present. */
int dhcp_build_request(struct dhcp_builder *b, uint8_t *buf, size_t cap, const struct dhcp_request_params *p);

/* Appends option code with len bytes of data; a value over 255 bytes goes out as
 * several instances of the code, which RFC 3396 receivers concatenate. Returns 0,
 * -EINVAL for code 0 or 255, -ENOSPC when it does not fit. */
int dhcp_put_option(struct dhcp_builder *b, uint8_t code, const void *data, size_t len);
int dhcp_put_u8(struct dhcp_builder *b, uint8_t code, uint8_t v);
int dhcp_put_u16(struct dhcp_builder *b, uint8_t code, uint16_t v);
int dhcp_put_u32(struct dhcp_builder *b, uint8_t code, uint32_t v);
int dhcp_put_ipv4(struct dhcp_builder *b, uint8_t code, struct in_addr a);
int dhcp_put_ipv4_list(struct dhcp_builder *b, uint8_t code, const struct in_addr *a, size_t n); /* n >= 1 */
int dhcp_put_string(struct dhcp_builder *b, uint8_t code, const char *s); /* no NUL sent; not empty */
/* 121 (RFC 3442): prefix length, significant octets, router. -EINVAL for n = 0, a
 * prefix over 32 or host bits set in a destination. */
int dhcp_put_classless_routes(struct dhcp_builder *b, const struct dhcp_route *routes, size_t n);
/* 119 (RFC 3397): names as dotted text (a trailing dot allowed), each suffix already
 * sent replaced by a compression pointer. -EINVAL for n = 0 or a name that
 * dhcp_parse_domain_search would refuse. */
int dhcp_put_domain_search(struct dhcp_builder *b, const char *const *names, size_t n);
/* 81 (RFC 4702) in wire form, E set: rcodes 255 in a reply, 0 in a request; "name."
 * is encoded fully qualified, "name" as a partial name, "" as no name. */
int dhcp_put_client_fqdn(struct dhcp_builder *b, uint8_t flags, const char *name);

/* Which options a server sends without being asked: 1 (subnet mask), 3 (routers),
 * 6 (DNS servers), 51, 53, 54, 58 and 59 (lease, type, server, T1, T2), as RFC 2132
 * practice has it (clients that send no or a short request list still work). */
bool dhcp_option_always_sent(uint8_t code);
/* Orders a reply's options: of the codes in have[0..n), those the request's
 * parameter request list names, in its order, then those dhcp_option_always_sent
 * names and the list did not, in have's order. Codes neither requested nor always
 * sent are dropped, and so is 53 (dhcp_build_reply puts it) and 82 (dhcp_finish).
 * out holds n codes; returns how many it got. */
size_t dhcp_reply_option_order(const struct dhcp_message *req, const uint8_t *have, size_t n, uint8_t *out);

/* Ends the message: the relay agent information echoed from the request (if any),
 * END, and zero padding up to DHCP_BOOTP_MIN_LEN bytes. Returns the message length,
 * or the builder's first error. */
int dhcp_finish(struct dhcp_builder *b);
