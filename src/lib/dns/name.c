/* Domain names: zone names, record owners and the label rules shared with
 * names inside RDATA.
 *
 * Text is first screened byte by byte for what can never be part of a name
 * we accept (escapes, spaces, control and non-ASCII bytes, '@', '/', ';'),
 * which gives the client a precise message; then libknot turns it into wire
 * form and every label is checked on that wire form, the same code that
 * checks the names libzscanner finds in RDATA. */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <libknot/consts.h>
#include <libknot/dname.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

/* Longest text looked at; anything longer cannot be a name. */
#define NAME_TEXT_SCAN_MAX 1024

/* Quote a label (which may hold any byte when it comes from RDATA). */
static void label_show(const uint8_t *label, size_t len, char *out, size_t outlen)
{
	char raw[KNOT_DNAME_MAXLABELLEN + 1];
	size_t n = 0;

	/* A NUL byte would cut the text short: show it as log_sanitize() shows
	 * every other control byte. */
	for (size_t i = 0; i < len && n + 1 < sizeof(raw); i++)
		raw[n++] = (char)(label[i] != '\0' ? label[i] : 1);
	raw[n] = '\0';
	log_sanitize(raw, out, (unsigned)outlen);
}

/* RFC 5891 section 5.4 for one 'xn--' label: it must decode, and the
 * decoded U-label must encode back to the same A-label. */
static bool alabel_valid(const char *label)
{
	char *ulabel = NULL;
	char *alabel = NULL;
	bool ok = false;

	if (idn2_to_unicode_8z8z(label, &ulabel, 0) != IDN2_OK || ulabel == NULL ||
	    ulabel[0] == '\0')
		goto out;
	if (idn2_lookup_u8((const uint8_t *)ulabel, (uint8_t **)&alabel, IDN2_NONTRANSITIONAL) !=
	    IDN2_OK)
		goto out;
	ok = strcasecmp(alabel, label) == 0;
out:
	idn2_free(ulabel);
	idn2_free(alabel);
	return ok;
}

static int label_check(const uint8_t *label, size_t len, bool leftmost, unsigned flags, char *why,
		       size_t whylen)
{
	char q[4 * KNOT_DNAME_MAXLABELLEN + 8];
	bool underscore = flags & NAME_UNDERSCORE;

	if (len == 1 && label[0] == '*') {
		if (leftmost && (flags & NAME_WILDCARD))
			return 0;
		snprintf(why, whylen, "%s",
			 (flags & NAME_WILDCARD)
			     ? "'*' is only allowed as the whole leftmost label (RFC 4592)"
			     : "wildcards ('*') are not allowed here");
		return ERR_INVALID;
	}
	label_show(label, len, q, sizeof(q));
	for (size_t i = 0; i < len; i++) {
		uint8_t c = label[i];

		if (isascii(c) && (isalnum(c) || c == '-' || (c == '_' && underscore)))
			continue;
		if (c >= 0x80) {
			snprintf(why, whylen,
				 "label '%s' has non-ASCII characters; use its IDNA A-label (xn--)",
				 q);
		} else if (c == '*') {
			snprintf(why, whylen, "label '%s': '*' is only allowed as a whole label",
				 q);
		} else if (c == '_') {
			snprintf(why, whylen, "label '%s': '_' is not allowed here", q);
		} else {
			snprintf(why, whylen, "label '%s': only letters, digits, '-'%s are allowed",
				 q, underscore ? " and '_'" : "");
		}
		return ERR_INVALID;
	}
	if (len >= 4 && strncasecmp((const char *)label, "xn--", 4) == 0) {
		char text[KNOT_DNAME_MAXLABELLEN + 1];

		memcpy(text, label, len);
		text[len] = '\0';
		/* An A-label is letters, digits and '-' (RFC 5890 section 2.3.2.1). */
		if (memchr(text, '_', len) != NULL || !alabel_valid(text)) {
			snprintf(why, whylen,
				 "label '%s' is not a valid IDNA2008 A-label (RFC 5891)", q);
			return ERR_INVALID;
		}
	}
	if (label[0] == '-' || label[len - 1] == '-') {
		snprintf(why, whylen, "label '%s' starts or ends with '-' (RFC 1123)", q);
		return ERR_INVALID;
	}
	return 0;
}

int dns_name_check(const uint8_t *name, unsigned flags, char *why, size_t whylen)
{
	if (name[0] == 0) {
		if (flags & NAME_ROOT)
			return 0;
		snprintf(why, whylen, "the root name '.' is not allowed here");
		return ERR_INVALID;
	}
	for (const uint8_t *p = name; *p != 0; p += *p + 1) {
		int r = label_check(p + 1, *p, p == name, flags, why, whylen);

		if (r < 0)
			return r;
	}
	return 0;
}

int dns_name_canon_cmp(const char *a, const char *b)
{
	const char *ea = a + strlen(a), *eb = b + strlen(b);

	/* Both end with the root label: drop the trailing dots. */
	if (ea > a && ea[-1] == '.')
		ea--;
	if (eb > b && eb[-1] == '.')
		eb--;
	for (;;) {
		const char *pa = ea, *pb = eb;
		size_t na, nb;
		int c;

		/* A name that runs out of labels first sorts first. */
		if (ea == a || eb == b)
			return (ea != a) - (eb != b);
		while (pa > a && pa[-1] != '.')
			pa--;
		while (pb > b && pb[-1] != '.')
			pb--;
		na = (size_t)(ea - pa);
		nb = (size_t)(eb - pb);
		c = memcmp(pa, pb, na < nb ? na : nb);
		if (c != 0)
			return c;
		if (na != nb)
			return na < nb ? -1 : 1;
		ea = pa > a ? pa - 1 : a;
		eb = pb > b ? pb - 1 : b;
	}
}

/* Screen text for bytes that never belong in a name, with a message that
 * names the problem. 'what' is the quoted context ("owner 'x'"). */
static int text_screen(const char *text, const char *what, struct errmsg *err)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
		unsigned char c = *p;

		if (isascii(c) && (isalnum(c) || c == '-' || c == '_' || c == '.' || c == '*'))
			continue;
		if (c >= 0x80)
			errmsg_set(err, 0,
				   "%s: non-ASCII characters; use the IDNA A-label (xn--...)",
				   what);
		else if (c < 0x20 || c == 0x7f)
			errmsg_set(err, 0, "%s: control characters are not allowed", what);
		else if (c == '\\')
			errmsg_set(err, 0, "%s: escapes ('\\') are not allowed in names", what);
		else if (c == ' ')
			errmsg_set(err, 0, "%s: spaces are not allowed in names", what);
		else
			errmsg_set(err, 0, "%s: character '%c' is not allowed in names", what, c);
		return ERR_INVALID;
	}
	return 0;
}

/* Quote name text from a client for a message. */
static void quote_text(const char *text, size_t len, char *out, size_t outlen)
{
	if (dns_text_ascii(text))
		log_sanitize(text, out, (unsigned)outlen);
	else
		dns_idn_show(text, len, out, outlen);
}

/* U-labels in '*text' to A-labels in 'ascii' (NAME_TEXT_SCAN_MAX + 1
 * bytes), '*text' then pointing there; ASCII text stays where it is. */
static int to_ascii(const char **text, char *ascii, const char *what, struct errmsg *err)
{
	char why[400];

	if (dns_text_ascii(*text))
		return 0;
	int r =
	    dns_idn_to_ascii(*text, strlen(*text), ascii, NAME_TEXT_SCAN_MAX + 1, why, sizeof(why));
	if (r == -ENOMEM)
		return errmsg_set(err, r, "%s: out of memory", what);
	if (r < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", what, why);
	*text = ascii;
	return 0;
}

/* Check the label structure of 'text' ('len' bytes, no trailing dot). */
static int text_labels(const char *text, size_t len, const char *what, struct errmsg *err)
{
	size_t start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '.')
			continue;
		if (i == start)
			return errmsg_set(err, ERR_INVALID,
					  "%s: empty label (RFC 1035 section 2.3.4)", what);
		if (i - start > KNOT_DNAME_MAXLABELLEN)
			return errmsg_set(err, ERR_INVALID,
					  "%s: label '%.20s...' is longer than 63 octets", what,
					  text + start);
		start = i + 1;
	}
	return 0;
}

/* Turn the absolute name 'full' (screened, trailing dot) into checked,
 * lowercase wire and text forms. */
static int name_finish(const char *full, unsigned flags, const char *what, uint8_t *wire,
		       char ret[DNAME_TEXT_MAX], struct errmsg *err)
{
	char why[320];

	/* Without escapes the wire form is one byte longer than the text. */
	if (strlen(full) + 1 > KNOT_DNAME_MAXLEN)
		return errmsg_set(err, ERR_INVALID,
				  "%s: longer than 255 octets (RFC 1035 section 2.3.4)", what);
	if (knot_dname_from_str(wire, full, KNOT_DNAME_MAXLEN) == NULL)
		return errmsg_set(err, ERR_INVALID, "%s: not a valid domain name", what);
	knot_dname_to_lower(wire);
	if (dns_name_check(wire, flags, why, sizeof(why)) < 0)
		return errmsg_set(err, ERR_INVALID, "%s: %s", what, why);
	if (knot_dname_to_str(ret, wire, DNAME_TEXT_MAX) == NULL)
		return errmsg_set(err, ERR_INVALID, "%s: not a valid domain name", what);
	return 0;
}

int dname_zone_normalize(const char *text, char ret[DNAME_TEXT_MAX], struct errmsg *err)
{
	char what[240], q[192], full[DNAME_TEXT_MAX + 1], ascii[NAME_TEXT_SCAN_MAX + 1];
	uint8_t wire[KNOT_DNAME_MAXLEN];
	size_t len;
	int r;

	if (text == NULL || text[0] == '\0')
		return errmsg_set(err, ERR_INVALID, "zone name is empty");
	len = strnlen(text, NAME_TEXT_SCAN_MAX + 1);
	quote_text(text, len, q, sizeof(q));
	snprintf(what, sizeof(what), "zone name '%s'", q);
	if (len > NAME_TEXT_SCAN_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: longer than 255 octets", what);
	r = to_ascii(&text, ascii, what, err);
	if (r < 0)
		return r;
	len = strlen(text);
	r = text_screen(text, what, err);
	if (r < 0)
		return r;
	if (text[len - 1] == '.')
		len--;
	if (len == 0)
		return errmsg_set(err, ERR_INVALID, "%s: the root zone cannot be managed here",
				  what);
	r = text_labels(text, len, what, err);
	if (r < 0)
		return r;
	if (len + 1 >= sizeof(full))
		return errmsg_set(err, ERR_INVALID,
				  "%s: longer than 255 octets (RFC 1035 section 2.3.4)", what);
	memcpy(full, text, len);
	full[len] = '.';
	full[len + 1] = '\0';
	/* Zone names are hostnames: no wildcard, no '_' service labels. */
	return name_finish(full, 0, what, wire, ret, err);
}

int dname_owner_normalize(const char *text, const char *origin, char ret[DNAME_TEXT_MAX],
			  struct errmsg *err)
{
	char what[240], q[192], full[2 * DNAME_TEXT_MAX], ascii[NAME_TEXT_SCAN_MAX + 1];
	uint8_t wire[KNOT_DNAME_MAXLEN], owire[KNOT_DNAME_MAXLEN];
	size_t len, olen;
	int r;

	if (origin == NULL || knot_dname_from_str(owire, origin, sizeof(owire)) == NULL)
		return errmsg_set(err, -EINVAL, "invalid zone name");
	olen = strlen(origin);
	if (text == NULL || text[0] == '\0')
		return errmsg_set(err, ERR_INVALID,
				  "owner name is empty; use '@' for the zone apex");
	len = strnlen(text, NAME_TEXT_SCAN_MAX + 1);
	quote_text(text, len, q, sizeof(q));
	snprintf(what, sizeof(what), "owner '%s'", q);
	if (len > NAME_TEXT_SCAN_MAX)
		return errmsg_set(err, ERR_INVALID, "%s: longer than 255 octets", what);
	r = to_ascii(&text, ascii, what, err);
	if (r < 0)
		return r;
	len = strlen(text);
	if (strcmp(text, "@") == 0) {
		snprintf(full, sizeof(full), "%s", origin);
	} else {
		bool absolute = text[len - 1] == '.';
		size_t body = len - absolute;
		/* The zone name without its trailing dot. */
		size_t zl = olen > 0 && origin[olen - 1] == '.' ? olen - 1 : olen;

		r = text_screen(text, what, err);
		if (r < 0)
			return r;
		if (body == 0)
			return errmsg_set(err, ERR_INVALID, "%s: not inside zone '%s'", what,
					  origin);
		r = text_labels(text, body, what, err);
		if (r < 0)
			return r;
		/* "www.example.com" in zone example.com. is either a forgotten
		 * trailing dot or a real www.example.com.example.com.: refuse
		 * to guess, and never double the zone name silently. */
		if (!absolute && zl > 0 && body == zl && strncasecmp(text, origin, zl) == 0)
			return errmsg_set(
			    err, ERR_INVALID,
			    "%s has no trailing dot but is the zone name: write '@' or '%s'", what,
			    origin);
		if (!absolute && zl > 0 && body > zl && text[body - zl - 1] == '.' &&
		    strncasecmp(text + body - zl, origin, zl) == 0) {
			return errmsg_set(
			    err, ERR_INVALID,
			    "%s has no trailing dot but ends with the zone name: write "
			    "'%.*s' or '%s.'",
			    what, (int)(body - zl - 1), text, text);
		}
		if (absolute)
			snprintf(full, sizeof(full), "%s", text);
		else
			snprintf(full, sizeof(full), "%s.%s", text, origin);
	}
	r = name_finish(full, NAME_WILDCARD | NAME_UNDERSCORE, what, wire, ret, err);
	if (r < 0)
		return r;
	if (knot_dname_in_bailiwick(wire, owire) < 0)
		return errmsg_set(err, ERR_INVALID, "%s: not inside zone '%s'", what, origin);
	return 0;
}

bool dname_is_at_or_below(const char *name, const char *zone)
{
	size_t nl, zl;

	if (name == NULL || zone == NULL)
		return false;
	nl = strlen(name);
	zl = strlen(zone);
	if (zl == 1 && zone[0] == '.')
		return nl > 0 && name[nl - 1] == '.';
	if (nl < zl || strcasecmp(name + nl - zl, zone) != 0)
		return false;
	return nl == zl || name[nl - zl - 1] == '.';
}

void dname_pdns_id(const char *name, char out[DNAME_PDNS_ID_MAX])
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)name;
	     *p != '\0' && o + 4 < DNAME_PDNS_ID_MAX; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '-') {
			out[o++] = (char)*p;
		} else {
			out[o++] = '=';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = '\0';
}

int dns_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int dname_pdns_id_read(const char *id, char out[DNAME_TEXT_MAX], struct errmsg *err)
{
	size_t o = 0;

	for (const char *p = id; *p != '\0'; p++) {
		int c = (unsigned char)*p;
		if (*p == '=') {
			int hi = dns_hex_digit(p[1]), lo = hi >= 0 ? dns_hex_digit(p[2]) : -1;
			if (hi < 0 || lo < 0)
				return errmsg_set(err, ERR_MALFORMED,
						  "the zone id has a broken =XX escape");
			c = hi << 4 | lo;
			p += 2;
		}
		if (c == 0 || o + 1 >= DNAME_TEXT_MAX)
			return errmsg_set(err, ERR_INVALID, "the zone id is not a zone name");
		out[o++] = (char)c;
	}
	out[o] = '\0';
	return 0;
}
