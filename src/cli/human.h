/* yumnactl: times as people read them, for human output (pure functions,
 * unit-tested in tests/unit/test_cli_human.c). */
#ifndef YUMNA_CLI_HUMAN_H
#define YUMNA_CLI_HUMAN_H

#include <stddef.h>
#include <stdint.h>

/* A duration as people write it: a whole number of seconds, or with a
 * unit: "500ms", "30s", "10m" (or "10min"), "2h", "1d", "1w". Into
 * milliseconds; -1 when it is not one, or above 'max_ms'. */
int human_parse_duration(const char *text, int64_t max_ms, int64_t *ret_ms);

/* 'seconds' (negative counts as 0) in its two largest units:
 * "3 h 20 min", "2 d 4 h", "1 min 30 s", "45 s", "0 s". */
void human_duration(int64_t seconds, char *out, size_t len);

/* Unix time 't' as "2026-12-06 14:00 UTC". */
void human_utc(int64_t t, char *out, size_t len);

/* When something happens at 'at', seen at 'now' (both Unix seconds, the
 * controller's clock): "2026-12-06 14:00 UTC, in 3 h 20 min", or "now
 * (since 2026-12-06 14:00 UTC)" once it is due. */
void human_when(int64_t at, int64_t now, char *out, size_t len);

#endif
