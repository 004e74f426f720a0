/* NSEC3 owner hashes (RFC 5155 section 5): what a signer names a zone's
 * NSEC3 records by, and what PowerDNS orders a presigned NSEC3 zone's
 * names by. */
#ifndef YUMNA_DNS_NSEC3_H
#define YUMNA_DNS_NSEC3_H

/* 32 base32hex digits (a SHA-1 hash) and a NUL. */
#define DNS_NSEC3_HASH_TEXT 33

/* The hash of name 'name' (absolute, trailing dot) under the parameters
 * of NSEC3PARAM presentation text 'nsec3param' ("1 0 10 AABBCCDD",
 * "1 0 0 -"): algorithm 1 (SHA-1) only, at most 2500 iterations, in
 * lowercase base32hex without padding (RFC 4648 section 7), as an NSEC3
 * owner's first label. 0, or -EINVAL for a name or parameters it cannot
 * read, -EIO when hashing fails. */
int dns_nsec3_hash(const char *name, const char *nsec3param, char out[DNS_NSEC3_HASH_TEXT]);

#endif
