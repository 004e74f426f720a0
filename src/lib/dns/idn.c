/* International names: U-labels to A-labels and back, with libidn2.
 *
 * A label that holds non-ASCII characters is mapped by UTS #46
 * (non-transitional: 'ß' stays 'ß') and converted to its A-label under
 * IDNA2008 (RFC 5891): disallowed code points, bad bidi or joiner context,
 * leading combining marks and hyphen rules are libidn2's to refuse. The
 * STD3 rule (letters, digits and hyphens only) is checked here on the
 * result rather than with IDN2_USE_STD3_ASCII_RULES: libidn2 2.3 drops the
 * characters that rule disallows ("_x" becomes "x", "\u2474" nothing)
 * instead of refusing them, which would silently give another name.
 * ASCII labels are left alone for the callers' own rules. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <idn2.h>
#include <libknot/consts.h>

#include "base/err.h"
#include "base/log.h"
#include "dns/dns.h"
#include "dns/dns_internal.h"

/* Longest UTF-8 label looked at: 63 code points of 4 bytes, with room. */
#define ULABEL_MAX 512
/* Longest name token in RDATA converted: a name of such labels. */
#define NAME_TOKEN_MAX 1024

bool dns_text_ascii(const char *text)
{
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++)
		if (*p >= 0x80)
			return false;
	return true;
}

/* The code point of the UTF-8 sequence at 's' and its length, or 0 if the
 * bytes are not a well-formed sequence (RFC 3629). */
static size_t utf8_next(const unsigned char *s, size_t left, unsigned long *cp)
{
	size_t n;
	unsigned long c, min;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f, min = 0x80;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f, min = 0x800;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (left < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* Characters that are invisible or reorder text around them: shown as
 * U+XXXX, so that nothing hides in a message or a log line. The C0 and C1
 * controls, the bidi marks, embeddings, overrides and isolates, zero-width
 * characters and fillers, variation selectors, tags and noncharacters. */
static bool invisible(unsigned long c)
{
	static const unsigned long ranges[][2] = {
		{ 0x0000, 0x001f },   { 0x007f, 0x009f },   { 0x00ad, 0x00ad }, { 0x034f, 0x034f },
		{ 0x061c, 0x061c },   { 0x115f, 0x1160 },   { 0x17b4, 0x17b5 }, { 0x180b, 0x180f },
		{ 0x200b, 0x200f },   { 0x2028, 0x202e },   { 0x205f, 0x206f }, { 0x3164, 0x3164 },
		{ 0xfe00, 0xfe0f },   { 0xfeff, 0xfeff },   { 0xffa0, 0xffa0 }, { 0xfff0, 0xffff },
		{ 0x1d173, 0x1d17a }, { 0xe0000, 0xe0fff },
	};

	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		if (c >= ranges[i][0] && c <= ranges[i][1])
			return true;
	return false;
}

void dns_idn_show(const char *text, size_t len, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (size_t i = 0; i < len && text[i] != '\0';) {
		const unsigned char *s = (const unsigned char *)text + i;
		char piece[16];
		unsigned long cp;
		size_t n = utf8_next(s, len - i, &cp), pl;

		if (n > 1 && !invisible(cp)) {
			memcpy(piece, s, n);
			pl = n;
		} else if (n > 1) {
			pl = (size_t)snprintf(piece, sizeof(piece), "<U+%04lX>", cp);
		} else if (n == 1 && cp >= 0x20 && cp < 0x7f && cp != '\'' && cp != '"' &&
			   cp != '\\') {
			piece[0] = (char)cp;
			pl = 1;
		} else {
			pl = (size_t)snprintf(piece, sizeof(piece), "\\x%02x", s[0]);
		}
		if (o + pl + 4 > outlen) {
			snprintf(out + o, outlen - o, "...");
			return;
		}
		memcpy(out + o, piece, pl);
		o += pl;
		i += n > 0 ? n : 1;
	}
	out[o] = '\0';
}

/* The first character of the UTF-8 label 'text' that IDNA2008 disallows
 * on its own, as "U+2665 '♥'", into 'out'; "" if none is found. */
static void disallowed_char(const char *text, char *out, size_t outlen)
{
	size_t len = strlen(text);

	out[0] = '\0';
	for (size_t i = 0; i < len;) {
		char one[8], *a = NULL, q[32];
		unsigned long cp;
		size_t n = utf8_next((const unsigned char *)text + i, len - i, &cp);

		if (n == 0)
			return;
		memcpy(one, text + i, n);
		one[n] = '\0';
		int r = idn2_to_ascii_8z(one, &a, IDN2_NONTRANSITIONAL);
		idn2_free(a);
		if (r == IDN2_DISALLOWED) {
			dns_idn_show(one, n, q, sizeof(q));
			if (invisible(cp))
				snprintf(out, outlen, "U+%04lX", cp);
			else
				snprintf(out, outlen, "U+%04lX '%s'", cp, q);
			return;
		}
		i += n;
	}
}

/* One label of 'len' bytes holding non-ASCII characters, converted and
 * appended to 'out' (at 'o', 'outlen' in all). */
static int label_to_ascii(const char *label, size_t len, char *out, size_t *o, size_t outlen,
			  char *why, size_t whylen)
{
	char text[ULABEL_MAX + 1], q[160];
	char *alabel = NULL;
	int r;

	dns_idn_show(label, len, q, sizeof(q));
	if (len > ULABEL_MAX) {
		snprintf(why, whylen, "label '%s' is longer than 63 octets as an A-label", q);
		return ERR_INVALID;
	}
	memcpy(text, label, len);
	text[len] = '\0';
	r = idn2_to_ascii_8z(text, &alabel, IDN2_NONTRANSITIONAL);
	if (r == IDN2_MALLOC)
		return -ENOMEM;
	if (r != IDN2_OK) {
		char c[48];

		if (r == IDN2_DISALLOWED)
			disallowed_char(text, c, sizeof(c));
		if (r == IDN2_TOO_BIG_LABEL || r == IDN2_PUNYCODE_BIG_OUTPUT ||
		    r == IDN2_TOO_BIG_DOMAIN)
			snprintf(why, whylen, "label '%s' is longer than 63 octets as an A-label",
				 q);
		else if (r == IDN2_DISALLOWED && c[0] != '\0')
			snprintf(why, whylen,
				 "label '%s' is not a valid international name: character %s is "
				 "not allowed (IDNA2008, RFC 5892)",
				 q, c);
		else
			snprintf(why, whylen,
				 "label '%s' is not a valid international name: %s (IDNA2008, "
				 "RFC 5891)",
				 q, idn2_strerror(r));
		return ERR_INVALID;
	}
	size_t al = strlen(alabel), start = 0;
	for (size_t i = 0; i <= al; i++) {
		char c = alabel[i];

		if (i < al && c != '.') {
			if (isascii((unsigned char)c) && (isalnum((unsigned char)c) || c == '-'))
				continue;
			char a[200];
			log_sanitize(alabel, a, sizeof(a));
			snprintf(why, whylen,
				 "label '%s' maps to '%s': an international label has only "
				 "letters, digits and '-' (STD 3, UTS #46)",
				 q, a);
			idn2_free(alabel);
			return ERR_INVALID;
		}
		if (i - start > KNOT_DNAME_MAXLABELLEN) {
			snprintf(why, whylen,
				 "label '%s' is longer than 63 octets as the A-label '%.*s'", q,
				 (int)(i - start), alabel + start);
			idn2_free(alabel);
			return ERR_INVALID;
		}
		if (i == start) {
			snprintf(why, whylen, "label '%s' maps to an empty label (UTS #46)", q);
			idn2_free(alabel);
			return ERR_INVALID;
		}
		start = i + 1;
	}
	if (*o + al >= outlen) {
		idn2_free(alabel);
		snprintf(why, whylen, "the name is longer than 255 octets");
		return ERR_INVALID;
	}
	memcpy(out + *o, alabel, al + 1);
	*o += al;
	idn2_free(alabel);
	return 0;
}

int dns_idn_to_ascii(const char *text, size_t len, char *out, size_t outlen, char *why,
		     size_t whylen)
{
	size_t o = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != '.')
			continue;
		const char *label = text + start;
		size_t ll = i - start;
		bool ascii = true;

		for (size_t k = 0; k < ll; k++)
			ascii &= (unsigned char)label[k] < 0x80;
		if (ascii) {
			if (o + ll >= outlen) {
				snprintf(why, whylen, "the name is longer than 255 octets");
				return ERR_INVALID;
			}
			memcpy(out + o, label, ll);
			o += ll;
		} else {
			int r = label_to_ascii(label, ll, out, &o, outlen, why, whylen);
			if (r < 0)
				return r;
		}
		if (i < len) {
			if (o + 1 >= outlen) {
				snprintf(why, whylen, "the name is longer than 255 octets");
				return ERR_INVALID;
			}
			out[o++] = '.';
		}
		start = i + 1;
	}
	out[o] = '\0';
	return 0;
}

int dname_to_unicode(const char *name, char *out, size_t outlen)
{
	size_t len = strlen(name), o = 0, start = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '.')
			continue;
		const char *label = name + start;
		size_t ll = i - start;
		char text[KNOT_DNAME_MAXLABELLEN + 1], *u = NULL;

		/* Only valid A-labels reach the store (dns_name_check). */
		if (ll >= 4 && ll <= KNOT_DNAME_MAXLABELLEN && strncasecmp(label, "xn--", 4) == 0) {
			/* Punycode keeps the case of "mixed-case annotation". */
			for (size_t k = 0; k < ll; k++)
				text[k] = (char)tolower((unsigned char)label[k]);
			text[ll] = '\0';
			int r = idn2_to_unicode_8z8z(text, &u, 0);
			if (r == IDN2_MALLOC)
				return -ENOMEM;
			if (r == IDN2_OK) {
				label = u;
				ll = strlen(u);
			}
		}
		if (o + ll + 2 > outlen) {
			idn2_free(u);
			return -ENAMETOOLONG;
		}
		memcpy(out + o, label, ll);
		o += ll;
		idn2_free(u);
		if (i < len)
			out[o++] = '.';
		start = i + 1;
	}
	out[o] = '\0';
	return 0;
}

/* The end of the presentation token at 'p' (not a blank): a quoted string
 * with its quotes, or a bare word; backslash escapes either way. */
static const char *token_end(const char *p)
{
	bool quoted = *p == '"';

	for (p += quoted; *p != '\0'; p++) {
		if (*p == '\\' && p[1] != '\0') {
			p++;
			continue;
		}
		if (quoted ? *p == '"'
			   : (*p == ' ' || *p == '\t' || *p == '(' || *p == ')' || *p == ';' ||
			      *p == '"'))
			break;
	}
	return quoted && *p == '"' ? p + 1 : p;
}

int dns_idn_rdata(const char *rdata, uint32_t name_tokens, char **ret, char *why, size_t whylen)
{
	size_t len = strlen(rdata), o = 0, alloc;
	unsigned k = 0;
	char *out;

	*ret = NULL;
	if (name_tokens == 0 || dns_text_ascii(rdata))
		return 0;
	/* Each converted name takes at most NAME_TOKEN_MAX + 1 bytes. */
	alloc = len + (size_t)__builtin_popcount(name_tokens) * (NAME_TOKEN_MAX + 1) + 1;
	out = malloc(alloc);
	if (out == NULL)
		return -ENOMEM;
	for (const char *p = rdata; *p != '\0';) {
		if (*p == ' ' || *p == '\t' || *p == '(' || *p == ')' || *p == ';') {
			/* A comment runs to the end: rr_parse() refuses it. */
			size_t n = *p == ';' ? strlen(p) : 1;
			memcpy(out + o, p, n);
			o += n;
			p += n;
			continue;
		}
		const char *end = token_end(p);
		size_t tl = (size_t)(end - p);
		bool ascii = true;

		for (size_t i = 0; i < tl; i++)
			ascii &= (unsigned char)p[i] < 0x80;
		if (!ascii && k < 32 && (name_tokens & (1u << k)) && *p != '"' &&
		    tl <= NAME_TOKEN_MAX && memchr(p, '\\', tl) == NULL) {
			int r = dns_idn_to_ascii(p, tl, out + o, NAME_TOKEN_MAX + 1, why, whylen);
			if (r < 0) {
				free(out);
				return r;
			}
			o += strlen(out + o);
			p = end;
			k++;
			continue;
		}
		memcpy(out + o, p, tl);
		o += tl;
		p = end;
		k++;
	}
	out[o] = '\0';
	*ret = out;
	return 0;
}
