/* The standard Prometheus process metrics (process_cpu_seconds_total,
 * process_resident_memory_bytes, ...) read from /proc, with the names,
 * units and help texts of the official client libraries, so dashboards made
 * for any exporter work on both daemons. Linux only. */
#ifndef YUMNA_PROCSTAT_H
#define YUMNA_PROCSTAT_H

#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"

struct procstat {
	double cpu_seconds;	 /* user + system, every thread */
	uint64_t resident_bytes; /* resident set size */
	uint64_t virtual_bytes;	 /* virtual memory size */
	uint64_t open_fds;
	uint64_t max_fds;  /* the soft RLIMIT_NOFILE */
	double start_time; /* seconds since the Unix epoch */
};

/* Fill the fields of *ret that /proc/<pid>/stat gives (cpu_seconds,
 * resident_bytes, virtual_bytes, start_time) from that file's text.
 * 'ticks' is clock ticks per second, 'page_size' bytes per page and
 * 'boot_time' the system's boot time (see procstat_read_boot_time()).
 * The command name may hold spaces and parentheses. ERR_MALFORMED if the
 * text does not have the fields; *ret is written only on success. */
int procstat_parse_stat(const char *text, long ticks, long page_size, uint64_t boot_time,
			struct procstat *ret);

/* The boot time, in seconds since the Unix epoch, from the "btime" line of
 * /proc/stat opened as 'f' (read to that line, lines of any length).
 * -ENOENT without that line. */
int procstat_read_boot_time(FILE *f, uint64_t *ret);

/* The whole of *ret for this process: /proc/self/stat, /proc/stat,
 * /proc/self/fd (not counting the descriptor used to list it) and
 * getrlimit(). A negative errno if /proc cannot be read. Thread-safe. */
int procstat_read(struct procstat *ret);

/* Append 'p' as the six process_* metrics (HELP, TYPE and one sample
 * each) in Prometheus text format 0.0.4. */
int procstat_render(const struct procstat *p, struct buf *out);

#endif
