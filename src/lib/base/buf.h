/* A growable byte buffer with a hard cap, for everything fed from outside. */
#ifndef YUMNA_BUF_H
#define YUMNA_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char *data; /* NUL-terminated after every successful append */
	size_t len;
	size_t alloc;
	size_t max; /* appends that would pass this fail with -E2BIG */
};

/* Start an empty buffer that may grow to 'max' bytes. Allocates nothing. */
void buf_init(struct buf *b, size_t max);

/* Release the memory; the buffer is empty and reusable afterwards. */
void buf_free(struct buf *b);

/* Forget the content but keep the memory. */
void buf_reset(struct buf *b);

/* Append bytes; -E2BIG past the cap, -ENOMEM if allocation fails. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
/* Grow by 'len' bytes left for the caller to fill; *ret points at them
 * (valid until the next append). */
int buf_extend(struct buf *b, size_t len, char **ret);
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Append 's' as a JSON string literal, quotes included. */
int buf_json_str(struct buf *b, const char *s);

/* Move the content out; the caller frees it. The buffer becomes empty. */
char *buf_take(struct buf *b);

#endif
