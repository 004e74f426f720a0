/* The record types accepted as user data, the names inside their
 * presentation text, and why the others are refused. */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <libknot/descriptor.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

#define T(n) (1u << (n))

/* Every type both libknot parses and PowerDNS 4.7 serves from its SQL
 * backends, but the DNSSEC ones its signer keeps and ZONEMD (below). */
static const struct dns_type_info accepted_types[] = {
	{ KNOT_RRTYPE_A, "A", 0, false },
	{ KNOT_RRTYPE_NS, "NS", T(0), false },
	{ KNOT_RRTYPE_CNAME, "CNAME", T(0), false },
	{ KNOT_RRTYPE_SOA, "SOA", T(0) | T(1), false },
	{ KNOT_RRTYPE_PTR, "PTR", T(0), false },
	{ KNOT_RRTYPE_HINFO, "HINFO", 0, false },
	{ KNOT_RRTYPE_MINFO, "MINFO", T(0) | T(1), false },
	{ KNOT_RRTYPE_MX, "MX", T(1), false },
	{ KNOT_RRTYPE_TXT, "TXT", 0, false },
	{ KNOT_RRTYPE_RP, "RP", T(0) | T(1), false },
	{ KNOT_RRTYPE_AFSDB, "AFSDB", T(1), false },
	{ KNOT_RRTYPE_KEY, "KEY", 0, false },
	{ KNOT_RRTYPE_AAAA, "AAAA", 0, false },
	{ KNOT_RRTYPE_LOC, "LOC", 0, true },
	{ KNOT_RRTYPE_SRV, "SRV", T(3), false },
	{ KNOT_RRTYPE_NAPTR, "NAPTR", T(5), false },
	{ KNOT_RRTYPE_KX, "KX", T(1), false },
	{ KNOT_RRTYPE_CERT, "CERT", 0, false },
	{ KNOT_RRTYPE_DNAME, "DNAME", T(0), false },
	{ KNOT_RRTYPE_APL, "APL", 0, true },
	{ KNOT_RRTYPE_DS, "DS", 0, false },
	{ KNOT_RRTYPE_SSHFP, "SSHFP", 0, false },
	{ KNOT_RRTYPE_IPSECKEY, "IPSECKEY", T(3), true },
	{ KNOT_RRTYPE_DHCID, "DHCID", 0, false },
	{ KNOT_RRTYPE_TLSA, "TLSA", 0, false },
	{ KNOT_RRTYPE_SMIMEA, "SMIMEA", 0, false },
	{ KNOT_RRTYPE_OPENPGPKEY, "OPENPGPKEY", 0, false },
	{ KNOT_RRTYPE_CSYNC, "CSYNC", 0, true },
	{ KNOT_RRTYPE_SVCB, "SVCB", T(1), true },
	{ KNOT_RRTYPE_HTTPS, "HTTPS", T(1), true },
	{ KNOT_RRTYPE_SPF, "SPF", 0, false },
	{ KNOT_RRTYPE_NID, "NID", 0, false },
	{ KNOT_RRTYPE_L32, "L32", 0, false },
	{ KNOT_RRTYPE_L64, "L64", 0, false },
	{ KNOT_RRTYPE_LP, "LP", T(1), false },
	{ KNOT_RRTYPE_EUI48, "EUI48", 0, false },
	{ KNOT_RRTYPE_EUI64, "EUI64", 0, false },
	{ KNOT_RRTYPE_URI, "URI", 0, false },
	{ KNOT_RRTYPE_CAA, "CAA", 0, false },
};

/* The DNSSEC types a signer makes: PowerDNS's own signer for the zones the
 * controller signs, so never user data; accepted only as a primary signed
 * them, in a presigned secondary zone (rr_type_parse_presigned()). Names in
 * their data are not checked against the hostname rules nor lowercased:
 * they are served byte for byte as the primary signed them. */
static const struct dns_type_info signer_types[] = {
	{ KNOT_RRTYPE_DNSKEY, "DNSKEY", 0, false },
	{ KNOT_RRTYPE_RRSIG, "RRSIG", 0, false },
	{ KNOT_RRTYPE_NSEC, "NSEC", 0, false },
	{ KNOT_RRTYPE_NSEC3, "NSEC3", 0, false },
	{ KNOT_RRTYPE_NSEC3PARAM, "NSEC3PARAM", 0, false },
	{ KNOT_RRTYPE_CDS, "CDS", 0, false },
	{ KNOT_RRTYPE_CDNSKEY, "CDNSKEY", 0, false },
	/* BIND's signing state (its default sig-signing-type, a private type
	 * of RFC 6895 section 3.1): inside every zone BIND signs, in its
	 * transfers, and in the apex NSEC's type bitmap, which PowerDNS makes
	 * again from the records it holds, so it is kept as it comes. */
	{ 65534, "TYPE65534", 0, false },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Types refused with a reason of their own. */
static const struct {
	const char *name;
	const char *why;
} refused_types[] = {
	/* Kept by PowerDNS's signer from the zone's keys. */
	{ "DNSKEY", "is maintained by the signer and cannot be set" },
	{ "RRSIG", "is maintained by the signer and cannot be set" },
	{ "NSEC", "is maintained by the signer and cannot be set" },
	{ "NSEC3", "is maintained by the signer and cannot be set" },
	{ "NSEC3PARAM", "is maintained by the signer and cannot be set" },
	{ "CDS", "is maintained by the signer and cannot be set" },
	{ "CDNSKEY", "is maintained by the signer and cannot be set" },
	/* RFC 8976 section 4: a ZONEMD whose serial is not the SOA's fails
	 * verification, and every change gives the zone a new serial. */
	{ "ZONEMD",
	  "is not supported: it digests the whole zone at one SOA serial, and the controller "
	  "gives the zone a new serial with every change" },
	/* libknot parses these, PowerDNS 4.7 has no parser for them. */
	{ "RT", "is not supported: PowerDNS 4.7 cannot serve it" },
	{ "NULL", "is not supported: PowerDNS 4.7 cannot serve it" },
	/* PowerDNS serves these, libknot cannot parse them. */
	{ "ALIAS", "is not supported: it is PowerDNS's own, not DNS data" },
	{ "LUA", "is not supported: it is PowerDNS's own, not DNS data" },
	{ "A6", "is not supported: it is obsolete (RFC 6563)" },
	{ "DLV", "is not supported: it is obsolete (RFC 8749)" },
	{ "MB", "is not supported: it was experimental (RFC 1035), and libknot cannot parse it" },
	{ "MG", "is not supported: it was experimental (RFC 1035), and libknot cannot parse it" },
	{ "MR", "is not supported: it was experimental (RFC 1035), and libknot cannot parse it" },
	{ "MD", "is not supported: it is obsolete (RFC 973); use MX" },
	{ "MF", "is not supported: it is obsolete (RFC 973); use MX" },
	{ "WKS", "is not supported: it is obsolete (RFC 1123 section 2.2)" },
	{ "SIG", "is not supported: it is obsolete (RFC 3755)" },
	{ "RKEY", "is not supported: no standard defines it" },
};

const struct dns_type_info *dns_type_info(uint16_t type)
{
	for (size_t i = 0; i < N_OF(accepted_types); i++)
		if (accepted_types[i].type == type)
			return &accepted_types[i];
	for (size_t i = 0; i < N_OF(signer_types); i++)
		if (signer_types[i].type == type)
			return &signer_types[i];
	return NULL;
}

bool dns_type_private(uint16_t type)
{
	return type >= 65280 && type <= 65534 && dns_type_info(type) != NULL;
}

bool rr_type_is_dnssec(uint16_t type)
{
	for (size_t i = 0; i < N_OF(signer_types); i++)
		if (signer_types[i].type == type)
			return true;
	return false;
}

int rr_type_parse_presigned(const char *text, uint16_t *ret_type, struct errmsg *err)
{
	for (size_t i = 0; text != NULL && i < N_OF(signer_types); i++) {
		if (strcasecmp(text, signer_types[i].name) == 0) {
			*ret_type = signer_types[i].type;
			return 0;
		}
	}
	return rr_type_parse(text, ret_type, err);
}

const char *rr_type_name(uint16_t type)
{
	const struct dns_type_info *t = dns_type_info(type);

	if (type == TYPE_LUA)
		return "LUA";
	return t != NULL ? t->name : NULL;
}

int rr_type_parse(const char *text, uint16_t *ret_type, struct errmsg *err)
{
	char q[64];
	uint16_t num;

	if (text == NULL || text[0] == '\0')
		return errmsg_set(err, ERR_INVALID, "record type is empty");
	log_sanitize(text, q, sizeof(q));
	for (size_t i = 0; i < sizeof(accepted_types) / sizeof(accepted_types[0]); i++) {
		if (strcasecmp(text, accepted_types[i].name) == 0) {
			*ret_type = accepted_types[i].type;
			return 0;
		}
	}
	for (size_t i = 0; i < sizeof(refused_types) / sizeof(refused_types[0]); i++) {
		if (strcasecmp(text, refused_types[i].name) == 0)
			return errmsg_set(err, ERR_INVALID, "type '%s' %s", q,
					  refused_types[i].why);
	}
	if (strncasecmp(text, "TYPE", 4) == 0 && text[4] != '\0' &&
	    strspn(text + 4, "0123456789") == strlen(text + 4)) {
		return errmsg_set(
		    err, ERR_INVALID,
		    "generic type '%s' is not accepted; use a supported type mnemonic", q);
	}
	if (strlen(text) < 32 && knot_rrtype_from_string(text, &num) == 0)
		return errmsg_set(err, ERR_INVALID, "type '%s' is not supported", q);
	return errmsg_set(err, ERR_INVALID, "unknown record type '%s'", q);
}
