#include <stdatomic.h>
#include <stdlib.h>

#include "apply.h"
#include "base/err.h"
#include "base/log.h"
#include "batch.h"
#include "init.h"
#include "spool.h"

/* What a batch request holds while its body streams in. */
struct batch {
	struct spool *sp;
	double started; /* monotonic seconds at the body's first byte */
};

int batch_stream(struct http_request *req, const char *data, size_t len, void *ctx)
{
	struct agent *a = ctx;
	struct batch **bp = (struct batch **)http_request_state(req);
	if (*bp == NULL) {
		struct batch *b = calloc(1, sizeof(*b));
		if (b == NULL)
			return -ENOMEM;
		b->started = agent_mono_s();
		*bp = b;
		struct spool_config cfg = {
			.dir = a->conf.data_dir,
			.limits = a->limits,
			.max_zones = a->conf.max_zones_per_batch,
			.max_element = a->conf.max_body_size,
		};
		agent_soa_defaults(a, &cfg.soa);
		int r = spool_new(&cfg, &b->sp);
		if (r < 0)
			return r;
	}
	return spool_feed((*bp)->sp, data, len);
}

void batch_cleanup(void *state)
{
	struct batch *b = state;
	if (b == NULL)
		return;
	spool_free(b->sp);
	free(b);
}

void batch_handle(struct http_request *req, struct http_reply *rep, void *ctx)
{
	struct agent *a = ctx;
	struct batch *bt = *(struct batch **)http_request_state(req);
	struct spool *b = bt != NULL ? bt->sp : NULL;
	struct errmsg err;
	uint64_t applied, unchanged, records;

	if (b == NULL) {
		http_reply_error(rep, ERR_MALFORMED, "body must be {\"zones\": [...]}");
		return;
	}
	int fail = spool_finish(b);
	if (fail != 0) {
		json_t *errors = spool_errors(b);
		atomic_fetch_add(&a->stats.pushes_rejected, 1);
		json_t *j =
		    json_pack("{s:s?,s:O}", "error", json_string_value(json_array_get(errors, 0)),
			      "errors", errors);
		http_reply_json(rep, err_http_status(fail), j);
		return;
	}
	int r = spool_rewind(b);
	if (r < 0) {
		http_reply_error(rep, r,
				 r == ERR_NO_SPACE ? "spooling the batch: no space left in data-dir"
						   : "spool file error");
		return;
	}
	/* Every zone's digest, so the controller counts a zone as applied
	 * only where the node holds exactly what it committed. */
	json_t *report = json_pack("{s:o,s:o,s:o}", "digests", json_object(), "blocked",
				   json_array(), "repaired", json_array());
	r = report ? apply_batch(a, spool_next, spool_ahead, b, report, &applied, &unchanged,
				 &records, &err)
		   : -ENOMEM;
	if (r < 0) {
		json_decref(report);
		atomic_fetch_add(&a->stats.pushes_failed, 1);
		http_reply_error(rep, r, err.text);
		return;
	}
	/* From the first byte: the zones are parsed and checked as the body
	 * streams in, which for a single push happens in the handler. */
	agent_stats_observe_batch(&a->stats, agent_mono_s() - bt->started, spool_zones(b));
	atomic_fetch_add(&a->stats.pushes_applied, applied);
	atomic_fetch_add(&a->stats.pushes_unchanged, unchanged);
	log_info("batch of %zu zones: %llu applied, %llu unchanged", spool_zones(b),
		 (unsigned long long)applied, (unsigned long long)unchanged);
	http_reply_json(rep, 200,
			json_pack("{s:b,s:I,s:I,s:I,s:I,s:O,s:O,s:O}", "success", 1, "zones",
				  (json_int_t)spool_zones(b), "applied", (json_int_t)applied,
				  "unchanged", (json_int_t)unchanged, "records",
				  (json_int_t)records, "digests",
				  json_object_get(report, "digests"), "blocked",
				  json_object_get(report, "blocked"), "repaired",
				  json_object_get(report, "repaired")));
	json_decref(report);
}
