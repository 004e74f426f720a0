/* What the fuzz targets share (tests/fuzz).
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput() over one parser that
 * reads input from outside. It is linked two ways: with libFuzzer in the
 * fuzz build (make fuzz), and with replay.c in every other build, where the
 * unit suite runs it over its corpus and its regressions. A target frees
 * everything it allocates, writes no file outside a temporary directory,
 * opens no socket and never exits; it aborts only when an oracle fails
 * (fuzz_fail), which libFuzzer reports as a crash. */
#ifndef YUMNA_FUZZ_H
#define YUMNA_FUZZ_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle failed: say which and abort. */
static inline __attribute__((noreturn, format(printf, 1, 2))) void fuzz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("fuzz oracle failed: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	abort();
}

/* The input as a NUL-terminated string (cut at its first NUL byte, as C
 * callers see it); the caller frees it. NULL if out of memory. */
static inline char *fuzz_str(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s == NULL)
		return NULL;
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

/* The length of the well-formed UTF-8 sequence at 'p' (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF) that is not a C1
 * control, or 0. */
static inline size_t fuzz_utf8_char(const unsigned char *p)
{
	unsigned long cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2;
		cp = p[0] & 0x1fu;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		cp = p[0] & 0x0fu;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		cp = p[0] & 0x07u;
	} else {
		return 0;
	}
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3fu);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/* A refusal must say what is wrong in one printable line that JSON can
 * carry: no empty message, no control characters and no bytes from the
 * input that are not well-formed UTF-8 (they must have been quoted with
 * log_sanitize() or dns_idn_show(); international names are shown as
 * their characters). 'what' names the call. */
static inline void fuzz_check_message(const char *what, int r, const char *text)
{
	if (text[0] == '\0')
		fuzz_fail("%s: error %d without a message", what, r);
	for (const unsigned char *p = (const unsigned char *)text; *p != '\0';) {
		size_t n = *p >= 0x20 && *p <= 0x7e ? 1 : fuzz_utf8_char(p);

		if (n == 0)
			fuzz_fail("%s: byte 0x%02x in the message '%s'", what, *p, text);
		p += n;
	}
}

#endif
