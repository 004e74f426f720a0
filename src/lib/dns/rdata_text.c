/* Text data the way the panel writes it: TXT and SPF as one unquoted text,
 * the CAA value unquoted after its flags and tag.
 *
 * Going in, such a value is only quoted (and cut into 255-octet strings),
 * so that libzscanner parses it like any presentation text; coming out, the
 * wire form decides whether the plain form says exactly the same. Nothing
 * here validates: rr_parse() does, on the quoted text. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libknot/descriptor.h>

#include "dns/dns.h"

/* RFC 1035 section 3.3: a character-string holds at most 255 octets. */
#define CHARSTR_MAX 255

static bool plain_type(uint16_t type)
{
	return type == KNOT_RRTYPE_TXT || type == KNOT_RRTYPE_SPF || type == KNOT_RRTYPE_CAA;
}

/* A plain value starting with "\#" is what RFC 3597 generic data looks
 * like: taking it as text would silently change what was meant. */
static bool generic_like(const char *v)
{
	return v[0] == '\\' && v[1] == '#';
}

/* Append the 'len' (> 0) bytes of 'v' to 'o' as quoted strings of at
 * most 'cut' octets each ('cut' 0: one string), separated by spaces. */
static char *quote(char *o, const char *v, size_t len, size_t cut)
{
	for (size_t i = 0; i < len;) {
		size_t end = cut > 0 && len - i > cut ? i + cut : len;

		if (i > 0)
			*o++ = ' ';
		*o++ = '"';
		for (; i < end; i++) {
			if (v[i] == '"' || v[i] == '\\')
				*o++ = '\\';
			*o++ = v[i];
		}
		*o++ = '"';
	}
	return o;
}

int rr_text_from_plain(uint16_t type, const char *content, char **ret)
{
	const char *value = content;
	size_t head = 0, len, need;
	char *out, *o;

	*ret = NULL;
	if (!plain_type(type) || content[0] == '"' || content[0] == '\0' || generic_like(content))
		return 0;
	if (type == KNOT_RRTYPE_CAA) {
		/* "<flags> <tag> <value>": the value is the rest of the text. */
		const char *p = content + strspn(content, " ");

		for (int field = 0; field < 2; field++) {
			p += strcspn(p, " ");
			p += strspn(p, " ");
		}
		if (*p == '\0' || *p == '"')
			return 0;
		head = (size_t)(p - content);
		value = p;
	}
	len = strlen(value);
	/* Every byte escaped, plus quotes and a space per string. */
	need = head + 2 * len + 3 * (len / CHARSTR_MAX + 1) + 1;
	out = malloc(need);
	if (out == NULL)
		return -ENOMEM;
	memcpy(out, content, head);
	o = quote(out + head, value, len, type == KNOT_RRTYPE_CAA ? 0 : CHARSTR_MAX);
	*o = '\0';
	*ret = out;
	return 0;
}

/* Bytes a plain value may hold and still read back the same. */
static bool plain_bytes(const uint8_t *v, size_t len)
{
	if (len == 0 || v[0] == '"' || v[0] == ' ' || v[len - 1] == ' ')
		return false;
	if (len > 1 && v[0] == '\\' && v[1] == '#')
		return false;
	for (size_t i = 0; i < len; i++)
		if (v[i] < 0x20 || v[i] > 0x7e)
			return false;
	return true;
}

static int txt_plain(const uint8_t *rd, size_t len, char **ret)
{
	size_t n = 0;

	/* One text cut only where rr_text_from_plain() cuts: every string
	 * but the last is full. */
	for (size_t p = 0; p < len; p += 1 + rd[p]) {
		if (p + 1 + rd[p] > len || (p + 1 + rd[p] < len && rd[p] != CHARSTR_MAX))
			return 0;
	}
	char *text = malloc(len + 1);
	if (text == NULL)
		return -ENOMEM;
	for (size_t p = 0; p < len; p += 1 + rd[p]) {
		memcpy(text + n, rd + p + 1, rd[p]);
		n += rd[p];
	}
	text[n] = '\0';
	if (!plain_bytes((const uint8_t *)text, n)) {
		free(text);
		return 0;
	}
	*ret = text;
	return 0;
}

static int caa_plain(const uint8_t *rd, size_t len, char **ret)
{
	size_t tl, vl;
	char *out;

	if (len < 2 || (size_t)rd[1] + 2 > len)
		return 0;
	tl = rd[1];
	vl = len - 2 - tl;
	if (!plain_bytes(rd + 2 + tl, vl))
		return 0;
	/* "255 " and the tag, a space, the value. */
	out = malloc(4 + tl + 1 + vl + 1);
	if (out == NULL)
		return -ENOMEM;
	int n = snprintf(out, 5, "%u ", rd[0]);
	memcpy(out + n, rd + 2, tl);
	out[n + tl] = ' ';
	memcpy(out + n + tl + 1, rd + 2 + tl, vl);
	out[n + tl + 1 + vl] = '\0';
	*ret = out;
	return 0;
}

int rr_text_to_plain(const struct rr *rr, char **ret)
{
	*ret = NULL;
	if (rr->wire == NULL)
		return 0;
	if (rr->type == KNOT_RRTYPE_TXT || rr->type == KNOT_RRTYPE_SPF)
		return txt_plain(rr->wire, rr->wire_len, ret);
	if (rr->type == KNOT_RRTYPE_CAA)
		return caa_plain(rr->wire, rr->wire_len, ret);
	return 0;
}
