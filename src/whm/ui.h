/* The dashboard: static files compiled into the controller (web/, turned
 * into ui_assets.c at build time by scripts/embed_ui.py) and served at /ui/
 * without a token — the page itself signs in with one and every API call it
 * makes needs it. A file is found by exact name in a fixed table, so no
 * request can reach anything else on the host. */
#ifndef YUMNA_WHM_UI_H
#define YUMNA_WHM_UI_H

#include <stdbool.h>
#include <stddef.h>

#include "http/server.h"

struct ui_asset {
	const char *name; /* "app.js" */
	const char *content_type;
	const unsigned char *data;
	size_t len;
};

/* Generated; ends with a zeroed entry. */
extern const struct ui_asset ui_assets[];

/* True for the paths the dashboard's routes serve ("/ui", "/ui/..."):
 * those need no credentials. */
bool ui_path(const char *method, const char *path);

/* GET /ui and /ui/: index.html; GET /ui/:file: that file, or 404. */
void ui_index(struct http_request *req, struct http_reply *rep, void *ctx);
void ui_file(struct http_request *req, struct http_reply *rep, void *ctx);

#endif
