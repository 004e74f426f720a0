/* cmocka's test allocator for a module under test.
 *
 * Force-included (-include) into a unit test and into the library sources it
 * links, when those allocate only through malloc, calloc, realloc, strdup
 * and free: every block then goes through cmocka, so a block a test leaks or
 * writes past fails that test by name instead of waiting for valgrind.
 * Memory allocated inside other libraries (jansson, libc's fopen) is not
 * tracked and must not be freed by code compiled with this header.
 *
 * This declares cmocka's allocator functions itself rather than including
 * cmocka.h with UNIT_TESTING, which would also bring macros such as fail()
 * into library code. */
#ifndef YUMNA_TEST_ALLOC_H
#define YUMNA_TEST_ALLOC_H

/* The C library headers first, so their declarations are not rewritten. */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

void *_test_malloc(const size_t size, const char *file, const int line);
void *_test_realloc(void *ptr, const size_t size, const char *file, const int line);
void *_test_calloc(const size_t number_of_elements, const size_t size, const char *file,
		   const int line);
void _test_free(void *const ptr, const char *file, const int line);

static inline char *test_alloc_strdup(const char *s, const char *file, int line)
{
	size_t n = strlen(s) + 1;
	char *p = _test_malloc(n, file, line);

	if (p != NULL)
		memcpy(p, s, n);
	return p;
}

#undef malloc
#undef realloc
#undef calloc
#undef free
#undef strdup
#define malloc(n) _test_malloc((n), __FILE__, __LINE__)
#define realloc(p, n) _test_realloc((p), (n), __FILE__, __LINE__)
#define calloc(n, size) _test_calloc((n), (size), __FILE__, __LINE__)
#define free(p) _test_free((p), __FILE__, __LINE__)
#define strdup(s) test_alloc_strdup((s), __FILE__, __LINE__)

#endif
