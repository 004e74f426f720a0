/* Helpers shared by name.c, rdata.c and zone.c; not part of the module's
 * interface. */
#ifndef YUMNA_DNS_INTERNAL_H
#define YUMNA_DNS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libknot/rrset-dump.h>

#include "dns/dns.h"

/* RDATA in presentation form the way the controller stores it and zone
 * files show it: one line, single spaces, absolute names, no comments. */
extern const knot_dump_style_t dns_dump_style;

/* Flags for dns_name_check(): what a name may contain beyond LDH labels. */
enum {
	NAME_WILDCARD = 1 << 0,	  /* '*' as the whole leftmost label (RFC 4592) */
	NAME_UNDERSCORE = 1 << 1, /* '_' in labels (RFC 8552) */
	NAME_ROOT = 1 << 2,	  /* the root name '.' itself */
};

/* Check the labels of the wire-format name 'name' (lowercased, valid wire
 * form): letters, digits and '-' (plus what 'flags' allows), no label
 * starting or ending with '-' (RFC 1123), 'xn--' labels that are IDNA2008
 * A-labels (RFC 5891). On failure return ERR_INVALID and write the reason,
 * which quotes the label, to 'why'. */
int dns_name_check(const uint8_t *name, unsigned flags, char *why, size_t whylen);

/* The value of hex digit 'c' (either case), or -1. */
int dns_hex_digit(char c);

/* Compare two normalised names (lowercase, trailing dot, no escapes) in DNS
 * canonical order (RFC 4034 section 6.1): label by label from the right. */
int dns_name_canon_cmp(const char *a, const char *b);

/* --- types (rdata_types.c) --- */

struct dns_type_info {
	uint16_t type;
	const char *name;
	uint32_t names; /* presentation tokens that are domain names: bit 0 the first */
	bool reparse;	/* check that libknot's text parses back to the same data */
};

/* What rdata.c needs to know of an accepted type; NULL for others. */
const struct dns_type_info *dns_type_info(uint16_t type);

/* Whether an accepted 'type' is a private type (RFC 6895 section 3.1,
 * 65280 to 65534), whose only form is RFC 3597 generic data ('\#'). */
bool dns_type_private(uint16_t type);

/* --- international names (idn.c) --- */

/* True if 'text' holds only ASCII bytes. */
bool dns_text_ascii(const char *text);

/* Quote 'len' bytes of user text that may hold UTF-8 for a message, as
 * log_sanitize() does for ASCII; characters in UTF-8 as they are, except
 * invisible and bidi control ones, which become <U+XXXX>, and bytes that
 * are not UTF-8, which become \xNN. */
void dns_idn_show(const char *text, size_t len, char *out, size_t outlen);

/* Copy the 'len' bytes of name text 'text' (relative or absolute, any label may be a
 * U-label in UTF-8) to 'out' with every label that holds non-ASCII
 * characters replaced by its IDNA2008 A-label (UTS #46 mapping,
 * non-transitional; the result must be letters, digits and '-'). ASCII
 * labels are copied unchecked. ERR_INVALID with the reason, which quotes
 * the label, in 'why'; -ENOMEM. */
int dns_idn_to_ascii(const char *text, size_t len, char *out, size_t outlen, char *why,
		     size_t whylen);

/* RDATA presentation text 'rdata' with every name that holds U-labels
 * replaced as by dns_idn_to_ascii(): the tokens (blank-separated words and
 * quoted strings) whose index is set in 'name_tokens' (bit 0: the first)
 * and that are unquoted, without escapes and not ASCII. *ret is the new
 * text (the caller frees it), or NULL if nothing changed. ERR_INVALID
 * with the reason in 'why', -ENOMEM. */
int dns_idn_rdata(const char *rdata, uint32_t name_tokens, char **ret, char *why, size_t whylen);

/* The rules of dns-rules.md for the RDATA 'rd' of 'type' (rdata_check.c)
 * beyond libzscanner's grammar. May rewrite 'rd' into its canonical form
 * (CAA tags in lowercase). On failure return ERR_INVALID and write the
 * reason to 'why'. */
int dns_type_check(uint16_t type, uint8_t *rd, size_t len, char *why, size_t whylen);

/* How many character-strings the TXT presentation 'text' holds: quoted
 * strings and bare words, either with backslash escapes. libzscanner parses
 * the data; this only counts, so that a string it would split silently at
 * 255 bytes (RFC 1035 section 3.3) can be refused instead. */
size_t dns_txt_text_strings(const char *text);

/* How many character-strings the TXT RDATA 'rd' holds. */
size_t dns_txt_wire_strings(const uint8_t *rd, size_t len);

#endif
