/* Per-type rules for RDATA that libzscanner parsed: what its grammar lets
 * through but dns-rules.md refuses (digest lengths, CAA tags and values,
 * NUL bytes in strings, the null MX), each with a message that names the
 * rule. The wire form is checked, never the text. */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <libknot/consts.h>
#include <libknot/descriptor.h>
#include <libknot/dname.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/dns_internal.h"

static int txt_check(const uint8_t *rd, size_t len, char *why, size_t whylen)
{
	for (size_t p = 0; p < len; p += 1 + rd[p]) {
		if (p + 1 + rd[p] > len) {
			snprintf(why, whylen, "malformed character string");
			return ERR_INVALID;
		}
		/* C code downstream (PowerDNS's API, logs) would cut the text. */
		if (memchr(rd + p + 1, 0, rd[p]) != NULL) {
			snprintf(why, whylen, "'\\000' (NUL) is not allowed in strings");
			return ERR_INVALID;
		}
	}
	return 0;
}

/* Counts only: the bytes are libzscanner's to read. */
size_t dns_txt_text_strings(const char *text)
{
	size_t n = 0;
	const char *p = text;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '(' || *p == ')')
			p++;
		if (*p == '\0')
			return n;
		n++;
		bool quoted = *p == '"';
		if (quoted)
			p++;
		while (*p != '\0') {
			if (*p == '\\' && p[1] != '\0') {
				p += 2;
				continue;
			}
			if (quoted ? *p == '"'
				   : (*p == ' ' || *p == '\t' || *p == '(' || *p == ')'))
				break;
			p++;
		}
		if (quoted && *p == '"')
			p++;
	}
}

size_t dns_txt_wire_strings(const uint8_t *rd, size_t len)
{
	size_t n = 0;
	for (size_t p = 0; p < len; p += 1 + rd[p])
		n++;
	return n;
}

static bool is_wsp(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_alnum(char ch)
{
	return isascii((unsigned char)ch) && isalnum((unsigned char)ch);
}

/* RFC 8659 section 4.2: a label of the issuer domain name and a parameter
 * tag share one form, (ALPHA / DIGIT) *( *("-") (ALPHA / DIGIT)). */
static bool caa_word(const char *w, size_t len)
{
	if (len == 0 || !is_alnum(w[0]) || !is_alnum(w[len - 1]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(w[i]) && w[i] != '-')
			return false;
	return true;
}

/* Quote 'len' bytes of a CAA value, which may hold any byte. */
static void caa_show(const char *v, size_t len, char *out, size_t outlen)
{
	char raw[64];
	size_t n = 0;

	for (size_t i = 0; i < len && n + 1 < sizeof(raw); i++)
		raw[n++] = (char)(v[i] != '\0' ? v[i] : 1);
	raw[n] = '\0';
	log_sanitize(raw, out, (unsigned)outlen);
}

/* The value of issue and issuewild (RFC 8659 section 4.2):
 *   issue-value = *WSP [issuer-domain-name *WSP] [";" *WSP [parameters *WSP]]
 *   parameters = (parameter *WSP ";" *WSP parameters) / parameter
 *   parameter = tag *WSP "=" *WSP value; value = *(%x21-3A / %x3C-7E)
 * A value outside the grammar leaves each CA to guess, and some then refuse
 * every certificate. */
static int caa_issue_check(const char *v, size_t vl, char *why, size_t whylen)
{
	char q[128];
	size_t p = 0, s, tl;
	bool first;

	while (p < vl && is_wsp(v[p]))
		p++;
	for (s = p; p < vl && !is_wsp(v[p]) && v[p] != ';'; p++)
		;
	if (p > s) {
		caa_show(v + s, p - s, q, sizeof(q));
		for (size_t l = s, e; l <= p; l = e + 1) {
			for (e = l; e < p && v[e] != '.'; e++)
				;
			if (e - l > KNOT_DNAME_MAXLABELLEN || !caa_word(v + l, e - l)) {
				snprintf(
				    why, whylen,
				    "issuer domain name '%s' must be labels of letters, digits "
				    "and inner '-' joined by single dots, without a trailing dot "
				    "(RFC 8659 section 4.2)",
				    q);
				return ERR_INVALID;
			}
		}
	}
	while (p < vl && is_wsp(v[p]))
		p++;
	if (p == vl)
		return 0;
	if (v[p] != ';') {
		caa_show(v + p, vl - p, q, sizeof(q));
		snprintf(why, whylen,
			 "unexpected '%s' after the issuer domain name; parameters follow a ';' "
			 "(RFC 8659 section 4.2)",
			 q);
		return ERR_INVALID;
	}
	/* "ca;" and ";" end here: parameters are optional after the first ';'
	 * only, a later ';' must be followed by one. */
	for (p++, first = true;; first = false) {
		while (p < vl && is_wsp(v[p]))
			p++;
		if (p == vl) {
			if (first)
				return 0;
			snprintf(why, whylen,
				 "a ';' after a parameter must be followed by another parameter "
				 "(RFC 8659 section 4.2)");
			return ERR_INVALID;
		}
		for (s = p; p < vl && !is_wsp(v[p]) && v[p] != '=' && v[p] != ';'; p++)
			;
		tl = p - s;
		while (p < vl && is_wsp(v[p]))
			p++;
		if (p == vl || v[p] != '=') {
			for (p = s; p < vl && v[p] != ';'; p++)
				;
			caa_show(v + s, p - s, q, sizeof(q));
			snprintf(why, whylen,
				 "parameter '%s' is not 'tag=value' (RFC 8659 section 4.2)", q);
			return ERR_INVALID;
		}
		if (!caa_word(v + s, tl)) {
			caa_show(v + s, tl, q, sizeof(q));
			snprintf(why, whylen,
				 "parameter tag '%s' must be letters, digits and inner '-' (RFC "
				 "8659 section 4.2)",
				 q);
			return ERR_INVALID;
		}
		for (p++; p < vl && is_wsp(v[p]); p++)
			;
		while (p < vl && (unsigned char)v[p] > 0x20 && (unsigned char)v[p] < 0x7f &&
		       v[p] != ';')
			p++;
		while (p < vl && is_wsp(v[p]))
			p++;
		if (p == vl)
			return 0;
		if (v[p] != ';') {
			caa_show(v + p, vl - p, q, sizeof(q));
			snprintf(why, whylen,
				 "unexpected '%s' in the parameters: a value has no spaces or "
				 "control characters, and parameters are separated by ';' (RFC "
				 "8659 section 4.2)",
				 q);
			return ERR_INVALID;
		}
		p++;
	}
}

/* RFC 8659 section 4 and the IANA "Certification Authority Restriction
 * Properties" registry; a misspelt tag would silently restrict nothing. */
static int caa_check(uint8_t *rd, size_t len, char *why, size_t whylen)
{
	static const char *const tags[] = {
		"issue",    "issuewild",    "iodef",	    "issuemail",
		"issuevmc", "contactemail", "contactphone",
	};
	static const char *const schemes[] = { "mailto:", "http://", "https://" };
	char tag[256], q[64];
	size_t tl, vl;
	const char *value;
	bool known = false;

	if (len < 2 || (size_t)rd[1] + 2 > len) {
		snprintf(why, whylen, "malformed CAA data");
		return ERR_INVALID;
	}
	if (rd[0] != 0 && rd[0] != 128) {
		snprintf(why, whylen, "flags must be 0 or 128 (issuer critical), not %u", rd[0]);
		return ERR_INVALID;
	}
	tl = rd[1];
	memcpy(tag, rd + 2, tl);
	tag[tl] = '\0';
	for (size_t i = 0; i < tl; i++)
		if (!isascii((unsigned char)tag[i]) || !isalnum((unsigned char)tag[i]))
			tl = 0;
	if (tl == 0 || tl > 15) {
		log_sanitize(tag, q, sizeof(q));
		snprintf(why, whylen,
			 "tag '%s' must be 1 to 15 letters or digits (RFC 8659 section 4.1)", q);
		return ERR_INVALID;
	}
	/* Tags match case-insensitively: store them in lowercase. */
	for (size_t i = 0; i < tl; i++)
		rd[2 + i] = (uint8_t)tolower(rd[2 + i]);
	for (size_t i = 0; i < sizeof(tags) / sizeof(tags[0]); i++)
		if (strcasecmp(tag, tags[i]) == 0)
			known = true;
	if (!known) {
		log_sanitize(tag, q, sizeof(q));
		snprintf(why, whylen,
			 "unknown tag '%s' (issue, issuewild, iodef, issuemail, issuevmc, "
			 "contactemail, contactphone)",
			 q);
		return ERR_INVALID;
	}
	value = (const char *)rd + 2 + tl;
	vl = len - 2 - tl;
	if (strcasecmp(tag, "issue") == 0 || strcasecmp(tag, "issuewild") == 0)
		return caa_issue_check(value, vl, why, whylen);
	if (strcasecmp(tag, "iodef") == 0) {
		for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]); i++) {
			size_t sl = strlen(schemes[i]);

			if (vl > sl && strncasecmp(value, schemes[i], sl) == 0)
				return 0;
		}
		snprintf(why, whylen,
			 "iodef must be a mailto:, http:// or https:// URL (RFC 8659 section 4.4)");
		return ERR_INVALID;
	}
	return 0;
}

/* The last SVCB key libknot 3.2 and PowerDNS 4.7 know by name (ipv6hint). */
#define SVCB_KEY_NAMED 6

/* RFC 9460 section 14.3.2: key 65535 is reserved ("invalid key"). The
 * rest of the grammar (ascending keys, mandatory keys present, value
 * sizes) is libzscanner's. */
static int svcb_check(const uint8_t *rd, size_t len, char *why, size_t whylen)
{
	int h = len > 2 ? knot_dname_wire_check(rd + 2, rd + len, NULL) : -1;

	if (h <= 0) {
		snprintf(why, whylen, "malformed SVCB data");
		return ERR_INVALID;
	}
	for (size_t p = 2 + (size_t)h; p + 4 <= len;
	     p += 4 + (size_t)(rd[p + 2] << 8 | rd[p + 3])) {
		unsigned key = (unsigned)(rd[p] << 8 | rd[p + 1]);

		if (key == 65535) {
			snprintf(why, whylen,
				 "parameter key65535 is reserved (RFC 9460 section 14.3.2)");
			return ERR_INVALID;
		}
		/* Keys past ipv6hint are printed "keyNNNNN"; PowerDNS 4.7 reads
		 * such a key only with "=value" and answers SERVFAIL for it. */
		if (key > SVCB_KEY_NAMED && rd[p + 2] == 0 && rd[p + 3] == 0) {
			snprintf(why, whylen,
				 "parameter key%u has no value, which PowerDNS 4.7 cannot serve",
				 key);
			return ERR_INVALID;
		}
	}
	return 0;
}

/* RFC 1876: SIZE, HORIZ PRE and VERT PRE are a digit and a power of ten of
 * centimetres. PowerDNS 4.7 reads them into 32 bits: from 5e9 cm
 * (50,000 km) on it serves another value than the one stored. */
static int loc_check(const uint8_t *rd, size_t len, char *why, size_t whylen)
{
	static const char *const fields[] = { "size", "horizontal precision",
					      "vertical precision" };

	if (len != 16)
		return 0; /* libzscanner's to refuse */
	for (int i = 0; i < 3; i++) {
		unsigned mant = rd[1 + i] >> 4, exp = rd[1 + i] & 0x0f;
		if (exp >= 9 && mant >= 5) {
			snprintf(why, whylen,
				 "%s %ue%u cm is over 42,949,672 m, which PowerDNS 4.7 cannot "
				 "serve",
				 fields[i], mant, exp);
			return ERR_INVALID;
		}
	}
	return 0;
}

/* A digest of the wrong length is accepted by PowerDNS and breaks
 * validators and dig: 'want' is the length for 'dtype', 0 if unknown. */
static int digest_check(const char *field, unsigned dtype, size_t want, size_t got, char *why,
			size_t whylen)
{
	if (want == 0) {
		snprintf(why, whylen, "%s type %u is not accepted", field, dtype);
		return ERR_INVALID;
	}
	if (got != want) {
		snprintf(why, whylen, "%s type %u needs %zu bytes, got %zu", field, dtype, want,
			 got);
		return ERR_INVALID;
	}
	return 0;
}

int dns_type_check(uint16_t type, uint8_t *rd, size_t len, char *why, size_t whylen)
{
	size_t want;

	switch (type) {
	case KNOT_RRTYPE_TXT:
	case KNOT_RRTYPE_SPF:
		return txt_check(rd, len, why, whylen);
	case KNOT_RRTYPE_CAA:
		return caa_check(rd, len, why, whylen);
	case KNOT_RRTYPE_DS:
		if (len < 5)
			break;
		/* RFC 4034 appendix A.1: 0 and 255 are reserved, no key uses them
		 * (0 means "delete" only in CDS, RFC 8078). */
		if (rd[2] == 0 || rd[2] == 255) {
			snprintf(why, whylen, "algorithm %u is reserved (RFC 4034 appendix A.1)",
				 rd[2]);
			return ERR_INVALID;
		}
		/* RFC 3658, RFC 4509, RFC 6605: SHA-1, SHA-256, SHA-384. */
		want = rd[3] == 1 ? 20 : rd[3] == 2 ? 32 : rd[3] == 4 ? 48 : 0;
		if (want == 0) {
			snprintf(why, whylen, "digest type %u is not accepted (1, 2 or 4)", rd[3]);
			return ERR_INVALID;
		}
		return digest_check("digest", rd[3], want, len - 4, why, whylen);
	case KNOT_RRTYPE_SSHFP:
		if (len < 3)
			break;
		if (rd[0] == 0) {
			snprintf(why, whylen, "algorithm 0 is reserved");
			return ERR_INVALID;
		}
		/* RFC 4255, RFC 6594: SHA-1, SHA-256. */
		want = rd[1] == 1 ? 20 : rd[1] == 2 ? 32 : 0;
		return digest_check("fingerprint", rd[1], want, len - 2, why, whylen);
	case KNOT_RRTYPE_TLSA:
	case KNOT_RRTYPE_SMIMEA:
		if (len < 4)
			break;
		/* RFC 6698 section 2.1; SMIMEA has the same fields (RFC 8162). */
		if (rd[0] > 3 || rd[1] > 1 || rd[2] > 2) {
			snprintf(why, whylen,
				 "usage %u, selector %u, matching type %u: allowed are usage 0-3, "
				 "selector 0-1, matching type 0-2",
				 rd[0], rd[1], rd[2]);
			return ERR_INVALID;
		}
		if (rd[2] == 0)
			return 0;
		return digest_check("matching", rd[2], rd[2] == 1 ? 32 : 64, len - 3, why, whylen);
	case KNOT_RRTYPE_SVCB:
	case KNOT_RRTYPE_HTTPS:
		return svcb_check(rd, len, why, whylen);
	case KNOT_RRTYPE_LOC:
		return loc_check(rd, len, why, whylen);
	case KNOT_RRTYPE_IPSECKEY:
		/* RFC 4025 writes "no gateway" as '.', which PowerDNS 4.7
		 * cannot read back (it answers SERVFAIL). */
		if (len >= 3 && rd[1] == 0) {
			snprintf(why, whylen,
				 "gateway type 0 (no gateway, '.') is not supported: PowerDNS 4.7 "
				 "cannot serve it");
			return ERR_INVALID;
		}
		return 0;
	case KNOT_RRTYPE_URI:
		/* RFC 7553 section 4.4: the target is a URI (RFC 3986), never empty. */
		if (len <= 4) {
			snprintf(why, whylen, "the target URI is empty (RFC 7553 section 4.4)");
			return ERR_INVALID;
		}
		return 0;
	case KNOT_RRTYPE_MX:
		/* RFC 7505: the null MX is "0 ." and nothing else. */
		if (len == 3 && rd[2] == 0 && (rd[0] != 0 || rd[1] != 0)) {
			snprintf(why, whylen,
				 "a null MX (target '.') must have preference 0 (RFC 7505)");
			return ERR_INVALID;
		}
		return 0;
	default:
		return 0;
	}
	snprintf(why, whylen, "data is too short");
	return ERR_INVALID;
}
