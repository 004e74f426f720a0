#include <string.h>

#include "base/err.h"
#include "ui.h"
#include "whm.h"

/* The page loads only its own script and style (no inline code, no other
 * origin), talks only to this controller, and may not be framed. */
static const struct http_header security_headers[] = {
	{ "Content-Security-Policy",
	  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
	  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'" },
	{ "X-Frame-Options", "DENY" },
	{ "Referrer-Policy", "no-referrer" },
	{ "Cross-Origin-Opener-Policy", "same-origin" },
	{ "Cross-Origin-Resource-Policy", "same-origin" },
	{ NULL, NULL },
};

bool ui_path(const char *method, const char *path)
{
	if (method == NULL || path == NULL || strcmp(method, "GET") != 0)
		return false;
	return strcmp(path, "/ui") == 0 || strncmp(path, "/ui/", 4) == 0;
}

static void serve(struct http_reply *rep, const char *name, struct whm *w)
{
	if (!w->conf.ui) {
		http_reply_error(rep, ERR_NOT_FOUND, "the dashboard is turned off (ui = no)");
		return;
	}
	for (const struct ui_asset *a = ui_assets; a->name != NULL; a++) {
		if (strcmp(a->name, name) != 0)
			continue;
		http_reply_text(rep, 200, a->content_type, (const char *)a->data, a->len);
		rep->headers = security_headers;
		return;
	}
	http_reply_error(rep, ERR_NOT_FOUND, "no such file");
}

void ui_index(struct http_request *req, struct http_reply *rep, void *ctx)
{
	serve(rep, "index.html", ctx);
}

void ui_file(struct http_request *req, struct http_reply *rep, void *ctx)
{
	/* The parameter is one decoded path segment: "%2F" may have put a '/'
	 * in it. Names in the table are plain, so anything else is not one. */
	const char *name = http_request_param(req, 0);
	size_t n = strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789.-_");
	if (name[n] != '\0' || name[0] == '.' || n > 64) {
		http_reply_error(rep, ERR_NOT_FOUND, "no such file");
		return;
	}
	serve(rep, name, ctx);
}
