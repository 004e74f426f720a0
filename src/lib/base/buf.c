#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void buf_init(struct buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->alloc = 0;
	b->max = max;
}

void buf_free(struct buf *b)
{
	free(b->data);
	buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static int reserve(struct buf *b, size_t extra)
{
	/* The last test keeps 'need' below from wrapping when max is SIZE_MAX. */
	if (extra > b->max || b->len > b->max - extra || b->len + extra == SIZE_MAX)
		return -E2BIG;
	size_t need = b->len + extra + 1;
	if (need <= b->alloc)
		return 0;
	size_t n = b->alloc ? b->alloc : 256;
	while (n < need)
		n = n > SIZE_MAX / 2 ? need : n * 2;
	char *p = realloc(b->data, n);
	if (p == NULL)
		return -ENOMEM;
	b->data = p;
	b->alloc = n;
	return 0;
}

int buf_append(struct buf *b, const void *data, size_t len)
{
	int r = reserve(b, len);
	if (r < 0)
		return r;
	if (len > 0)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_extend(struct buf *b, size_t len, char **ret)
{
	int r = reserve(b, len);
	if (r < 0)
		return r;
	*ret = b->data + b->len;
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int buf_puts(struct buf *b, const char *s)
{
	return buf_append(b, s, strlen(s));
}

int buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char small[256];

	va_start(ap, fmt);
	int n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);

	int r = reserve(b, (size_t)n);
	if (r < 0)
		return r;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

int buf_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	int r = buf_append(b, "\"", 1);

	for (const unsigned char *p = (const unsigned char *)s; r == 0 && *p != '\0'; p++) {
		const unsigned char *run = p;
		while (*p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			r = buf_append(b, run, (size_t)(p - run));
		if (r < 0 || *p == '\0')
			break;
		char esc[6] = { '\\', 'u', '0', '0', hex[*p >> 4], hex[*p & 15] };
		if (*p == '"' || *p == '\\') {
			esc[1] = (char)*p;
			r = buf_append(b, esc, 2);
		} else {
			r = buf_append(b, esc, 6);
		}
	}
	if (r == 0)
		r = buf_append(b, "\"", 1);
	return r;
}

char *buf_take(struct buf *b)
{
	char *p = b->data;
	if (p == NULL)
		p = calloc(1, 1);
	buf_init(b, b->max);
	return p;
}
