/* DNS data validation and canonical form, over the Knot DNS libraries.
 *
 * Everything a client sends as DNS data goes through here before it is
 * stored or served: names (dname_*), single records (rr_*) and whole zones
 * (zone_*). The rules are those of shared/reference/dns-rules.md section (a),
 * stricter than PowerDNS. RDATA is parsed by libzscanner and printed back by
 * libknot, never matched with hand-written patterns.
 *
 * Error reporting: every function that can reject input fills a
 * 'struct errmsg' (base/err.h) with one human-readable line ("'www.example.com.' MX: ...")
 * in which user text is quoted and sanitised; it becomes the 4xx body. */
#ifndef YUMNA_DNS_H
#define YUMNA_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

/* A presentation-format absolute name: 253 characters, a trailing dot, NUL. */
#define DNAME_TEXT_MAX 256
/* RFC 2181 section 8. */
#define DNS_TTL_MAX 2147483647u
/* Largest RDATA accepted: one record must fit, with the header, the question
 * and an uncompressed owner, into a 65,535-byte DNS message over TCP, or
 * AXFR of the whole zone breaks: 65535 - 12 - (255 + 4) - (255 + 10). */
#define DNS_RDATA_MAX 64999u
/* Longest RDATA text accepted by rr_parse(): DNS_RDATA_MAX bytes written as
 * \DDD escapes in quoted strings, with room to spare. */
#define DNS_RDATA_TEXT_MAX 262144u

/* --- names ------------------------------------------------------------ */

/* Check and normalise a zone name ("Example.COM" or "example.com.") into
 * 'ret' as lowercase with a trailing dot. The root zone, wildcards,
 * underscores and invalid A-labels are refused. International names may be
 * given with U-labels in UTF-8 ("bücher.example"): each is mapped (UTS #46,
 * non-transitional) and stored as its IDNA2008 A-label
 * ("xn--bcher-kva.example."); a label IDNA2008 refuses, or whose A-label is
 * over 63 octets, is refused with the reason. */
int dname_zone_normalize(const char *text, char ret[DNAME_TEXT_MAX], struct errmsg *err);

/* Check and normalise a record owner given as "@", a name relative to
 * 'origin' ("www", "_dmarc", "*.dev") or an absolute name ("www.example.com.")
 * into 'ret' (lowercase, trailing dot). 'origin' is an already normalised
 * zone name. The result must be at or below 'origin'. '*' is allowed only as
 * the whole leftmost label; '_' is allowed (RFC 8552); labels may not start
 * or end with '-'; 'xn--' labels must be valid IDNA2008 A-labels; U-labels
 * become A-labels as in dname_zone_normalize().
 *
 * Trailing-dot rule: a name without a trailing dot is relative, except that
 * one whose text ends with the zone name ("www.example.com" or "example.com"
 * in zone example.com.) is refused as ambiguous, with a message suggesting
 * "www" or "www.example.com." ("@" or "example.com."): the zone name is never
 * doubled silently and never guessed. Names in RDATA follow the same rule
 * (see rr_parse()). */
int dname_owner_normalize(const char *text, const char *origin, char ret[DNAME_TEXT_MAX],
			  struct errmsg *err);

/* PowerDNS's zone ids (its HTTP API, every server's): the name with every
 * byte outside [A-Za-z0-9.-] written as "=XX". The longest one, NUL
 * included, and the id of 'name'. */
#define DNAME_PDNS_ID_MAX (3 * DNAME_TEXT_MAX + 1)
void dname_pdns_id(const char *name, char out[DNAME_PDNS_ID_MAX]);
/* An id read back ("=XX" undone) into 'out': 0, or ERR_MALFORMED for a
 * broken escape, ERR_INVALID for one too long or holding a NUL. */
int dname_pdns_id_read(const char *id, char out[DNAME_TEXT_MAX], struct errmsg *err);

/* The longest text dname_to_unicode() writes, NUL included. */
#define DNAME_UNICODE_MAX 1024

/* The normalised 'name' with every A-label ("xn--...") shown as its
 * U-label in UTF-8, for people ("xn--bcher-kva.example." gives
 * "bücher.example."); other labels as they are. 0, or -ENAMETOOLONG if
 * 'out' is too small, -ENOMEM. */
int dname_to_unicode(const char *name, char *out, size_t outlen);

/* True if 'name' equals 'zone' or lies below it. Both normalised. */
bool dname_is_at_or_below(const char *name, const char *zone);

/* --- records ---------------------------------------------------------- */

/* One validated resource record in canonical form. */
struct rr {
	char owner[DNAME_TEXT_MAX]; /* normalised absolute owner */
	uint16_t type;		    /* IANA type number */
	uint32_t ttl;
	char *content; /* canonical RDATA text, names absolute
					 * with trailing dot; owned, rr_clear() frees */
	uint8_t *wire; /* RDATA in canonical wire form (names
					 * lowercased) for duplicate detection; owned */
	uint16_t wire_len;
};

/* PowerDNS's own LUA type (its private-use number): never user data
 * (rr_type_parse refuses it), only what the controller compiles from a
 * routing policy (model/steer.h). */
#define TYPE_LUA 65402

/* The mnemonic of a type the validator accepts ("A", "MX"), of a DNSSEC
 * type rr_type_parse_presigned() accepts, "LUA" for TYPE_LUA, or NULL. */
const char *rr_type_name(uint16_t type);

/* Whether 'type' is one of the DNSSEC types a signer makes (DNSKEY, RRSIG,
 * NSEC, NSEC3, NSEC3PARAM, CDS, CDNSKEY, and BIND's signing state
 * TYPE65534, in generic data only): a zone holds them only as its primary
 * signed it (a presigned secondary zone). */
bool rr_type_is_dnssec(uint16_t type);

/* Map a mnemonic (case-insensitive) to a type the validator accepts as
 * user data: every type libknot parses and PowerDNS 4.7 serves (A, NS,
 * CNAME, SOA, PTR, HINFO, MINFO, MX, TXT, RP, AFSDB, KEY, AAAA, LOC, SRV,
 * NAPTR, KX, CERT, DNAME, APL, DS, SSHFP, IPSECKEY, DHCID, TLSA, SMIMEA,
 * OPENPGPKEY, CSYNC, SVCB, HTTPS, SPF, NID, L32, L64, LP, EUI48, EUI64,
 * URI, CAA). Refused with a message: unknown types, TYPEnnn, the DNSSEC
 * types PowerDNS maintains itself (DNSKEY, RRSIG, NSEC, NSEC3, NSEC3PARAM,
 * CDS, CDNSKEY), ZONEMD (it pins the SOA serial, which every change moves),
 * RT and NULL (PowerDNS 4.7 cannot serve them) and what libknot cannot
 * parse (PowerDNS's ALIAS and LUA, obsolete types). */
int rr_type_parse(const char *text, uint16_t *ret_type, struct errmsg *err);

/* rr_type_parse(), and the DNSSEC types a signer makes too
 * (rr_type_is_dnssec()): for the records of a zone its primary signed,
 * never for what a user writes. */
int rr_type_parse_presigned(const char *text, uint16_t *ret_type, struct errmsg *err);

/* Parse the RDATA text 'rdata' of type 'type' for the already normalised
 * 'owner' in zone 'origin' (relative names in RDATA are relative to 'origin')
 * and fill 'ret' with its canonical form. 'ttl' must be <= DNS_TTL_MAX.
 * Refuses generic "\#" RDATA, raw control characters (tab included) and raw
 * bytes over 0x7e, comments (';' outside quotes), unbalanced parentheses,
 * RDATA over DNS_RDATA_MAX bytes, TXT strings over 255 bytes (which
 * libzscanner would split silently), and the per-type rules of
 * dns-rules.md: A/AAAA forms, DS/SSHFP/TLSA digest lengths and fields, DS
 * algorithms 0 and 255 (reserved), CAA flags (0 or 128), tags (the IANA
 * registry's issue, issuewild, iodef, issuemail, issuevmc, contactemail,
 * contactphone), the issue/issuewild grammar (RFC 8659 section 4.2) and
 * iodef URLs, null MX "0 .", MX/NS/SRV/KX/AFSDB/LP targets whose last
 * label is all digits or that are an IPv4 address written relative (RFC
 * 1123 section 2.1), '\000' in TXT and SPF strings, SMIMEA fields as
 * TLSA's, the SVCB key 65535 and unnamed SVCB keys without a value, LOC
 * sizes of 5e9 cm and more, IPSECKEY gateway type 0 and empty URI targets
 * (the last three PowerDNS 4.7 cannot serve), data libknot cannot print
 * back as it was read, and names in RDATA that break the hostname rules
 * ('_' only in CNAME, DNAME, PTR, NAPTR, SVCB/HTTPS, RP, MINFO and the SOA
 * rname; the root only as null MX, SRV, NAPTR, SVCB/HTTPS, RP and MINFO
 * names) or the trailing-dot rule above. Names in RDATA may be written
 * with U-labels (dname_zone_normalize()).
 *
 * Canonical content is libknot's presentation form on one line: names
 * absolute and lowercase, AAAA per RFC 5952, hex in uppercase, TXT strings
 * quoted with \DDD escapes, CAA tags lowercase, LOC fields one space
 * apart, SVCB keys libknot does not name as keyNNNNN. 'wire' is the RDATA with
 * names lowercased (RFC 4034 section 6.2).
 *
 * Errors: ERR_INVALID for rejected data (message in 'err'),
 * -EINVAL for an owner that is not normalised, -ENOMEM. Thread-safe. On
 * success the caller owns 'ret' and releases it with rr_clear(); on failure
 * 'ret' holds nothing. */
int rr_parse(const char *owner, uint16_t type, uint32_t ttl, const char *rdata, const char *origin,
	     struct rr *ret, struct errmsg *err);

/* Flags of rr_parse_flags(). */
enum {
	/* Every name in the RDATA is written absolute: one without a trailing
	 * dot (or '@') is refused, not completed with the origin, as the
	 * PowerDNS HTTP API refuses it. */
	RR_PARSE_ABSOLUTE = 1 << 0,
};

/* rr_parse() with RR_PARSE_* 'flags'. */
int rr_parse_flags(const char *owner, uint16_t type, uint32_t ttl, const char *rdata,
		   const char *origin, unsigned flags, struct rr *ret, struct errmsg *err);

/* The panel writes text data without presentation quotes: a TXT or SPF
 * value is one text, and the value of a CAA record ("0 issue ca.example;
 * account=1") is everything after the tag. If 'content' of 'type' is such
 * a plain value, set *ret to its presentation form for rr_parse(): the text
 * cut into strings of 255 octets (RFC 1035 section 3.3), each quoted with
 * '"' and '\' escaped; the caller frees it. Otherwise set *ret to NULL and
 * 'content' is presentation text already: other types, an empty value, and
 * a value (or CAA value) that starts with '"', whose strings and escapes
 * keep their meaning ("a" "b" is two strings). A value starting with "\#"
 * stays as it is, for rr_parse() to refuse as generic data. Nothing is
 * validated here. Returns 0 or -ENOMEM. */
int rr_text_from_plain(uint16_t type, const char *content, char **ret);

/* The plain form of a validated TXT, SPF or CAA record, when there is one
 * that rr_text_from_plain() turns back into the same wire form: one text
 * cut only into full 255-octet strings, of printable ASCII, not starting
 * with '"' or "\#", without a space at either end. *ret is the caller's to
 * free, NULL when the record has no plain form (then show rr->content).
 * Returns 0 or -ENOMEM. */
int rr_text_to_plain(const struct rr *rr, char **ret);

/* Free what 'rr' owns; accepts a zeroed or already cleared rr. */
void rr_clear(struct rr *rr);

/* rr_parse() keeps one scanner per thread (about 210 KiB), created on first
 * use and freed when the thread exits. Free the calling thread's scanner
 * now; needed only for the main thread before exit (leak checkers) or to
 * return the memory early. rr_parse() remains usable afterwards. */
void dns_thread_cleanup(void);

/* --- zones ------------------------------------------------------------ */

struct zone_limits {
	unsigned max_rrset;   /* records in one RRset */
	unsigned max_records; /* records in one zone, SOA included */
};

/* A whole zone: its normalised origin and its records. */
struct zone_data {
	char origin[DNAME_TEXT_MAX];
	struct rr *rrs;
	size_t n;
	size_t alloc;
};

/* Start an empty zone for the normalised 'origin'. */
void zone_data_init(struct zone_data *z, const char *origin);

/* Append 'rr', taking ownership of what it holds (the struct is copied and
 * 'rr' is zeroed). -ENOMEM on allocation failure, in which case 'rr' still
 * owns its memory. */
int zone_data_take_rr(struct zone_data *z, struct rr *rr);

/* Free every record. */
void zone_data_clear(struct zone_data *z);

/* Check the zone as a whole and sort it canonically (owner, type, RDATA).
 * Rules: record caps; no duplicate records (canonical wire comparison); one
 * TTL per RRset; at most one SOA and only at the apex; at least one NS at the
 * apex; CNAME alone at its owner, not at the apex, not pointing to itself,
 * no CNAME cycles inside the zone; no DNAME whose target is its owner or
 * below it, directly or through other DNAMEs of the zone (RFC 6672 section
 * 2.4); MX, NS and SRV targets that are not
 * CNAME owners in the zone; no NS, SOA or DNAME at a wildcard; DS only at a
 * delegation (not at the apex); below a delegation only glue (A/AAAA);
 * DNAME not next to CNAME and with nothing below it.
 *
 * Details: the order is DNS canonical order of owners (RFC 4034 section
 * 6.1, label by label from the right, so a name's subtree follows it), then
 * type number, then RDATA wire (section 6.3); z->rrs is sorted even when a
 * rule fails. 'lim' NULL, or a zero field, means no cap. At a delegation
 * only NS and DS may exist. RRSIG and NSEC (a presigned zone's) may stand
 * beside a CNAME and at a delegation (RFC 4035 sections 2.2, 2.3, 2.5). CNAME chains inside the zone may be at most 16
 * aliases long. Targets are matched against exact owners only, not against
 * wildcards; a null MX must be the only MX at its owner (RFC 7505); only one
 * DNAME per owner. Returns 0, ERR_INVALID or ERR_TOO_LARGE with a message in
 * 'err', or -ENOMEM. */
int zone_check(struct zone_data *z, const struct zone_limits *lim, struct errmsg *err);

/* True if the record at 'rrs[i]' is authoritative data (not a delegation NS
 * or glue below a cut); valid after zone_check(). As PowerDNS's auth flag:
 * false for NS at a cut and for anything below a cut, true for DS at a cut
 * and for everything else. */
bool zone_rr_is_auth(const struct zone_data *z, size_t i);

#endif
