/* Secrets: constant-time comparison and random generation. */
#ifndef YUMNA_SECRET_H
#define YUMNA_SECRET_H

#include <stdbool.h>
#include <stddef.h>

/* An agent's secret, in the agent's config and in the controller's store
 * (a VARCHAR(512) column): 32 to 512 characters. */
#define SECRET_AGENT_MIN 32
#define SECRET_AGENT_MAX 512

/* True if 'given' (may be NULL) equals 'expected'. Both are hashed with
 * SHA-256 and the fixed-length digests compared in constant time, so
 * neither the length nor a common prefix of the secret leaks. */
bool secret_equal(const char *given, const char *expected);

/* Fill 'out' (size 'len', at least 2*nbytes+1) with 'nbytes' random bytes
 * from the kernel, hex encoded and NUL-terminated. */
int secret_random_hex(char *out, size_t len, size_t nbytes);

/* The SHA-256 of 'text' as 64 lowercase hex digits and a NUL in 'out':
 * how API tokens are stored and looked up. */
int secret_sha256_hex(const char *text, char out[65]);

/* 0 if 'path' is a regular file that neither group nor others may access;
 * -EACCES if they may, other negative errno if it cannot be inspected. */
int secret_file_is_private(const char *path);

#endif
