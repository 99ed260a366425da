/* JSON → ar_node tree.  The only file that includes <cJSON.h>.  cJSON checks
 * the syntax and decodes strings; cJSON keeps no positions, so a scan of the
 * same text in document order gives each node its line and column. */
#include "doc.h"

#include <cJSON.h>
#include <string.h>

struct scan {
	const char *text, *p, *end;
	int line, col;
};

static void adv(struct scan *s)
{
	if (s->p >= s->end) /* the text need not be NUL-terminated */
		return;
	if (*s->p == '\n') {
		s->line++;
		s->col = 1;
	} else {
		s->col++;
	}
	s->p++;
}

static void skip_ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' ||
				 *s->p == '\r'))
		adv(s);
}

static void skip_string(struct scan *s)
{
	adv(s); /* opening quote */
	while (s->p < s->end && *s->p != '"') {
		if (*s->p == '\\' && s->p + 1 < s->end)
			adv(s);
		adv(s);
	}
	if (s->p < s->end)
		adv(s);
}

static void pos_of(const char *text, const char *at, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (const char *p = text; p < at && *p; p++) {
		if (*p == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Convert item, whose text starts at s->p (after whitespace). */
static int convert(struct ar_doc *doc, struct scan *s, const cJSON *item,
		   int depth, struct ar_node **out, struct ar_err *err)
{
	struct ar_node *n = ar_doc_alloc(doc, sizeof(*n));

	if (!n)
		return ar_errf(err, doc->path, 0, 0, "out of memory");
	skip_ws(s);
	n->line = s->line;
	n->col = s->col;
	n->value = "";
	if (depth > AR_DOC_MAX_DEPTH)
		return ar_errf(err, doc->path, n->line, n->col,
			       "document nested deeper than %d levels", AR_DOC_MAX_DEPTH);
	if (cJSON_IsObject(item) || cJSON_IsArray(item)) {
		int is_map = cJSON_IsObject(item);
		struct ar_node **tail = &n->child;

		n->kind = is_map ? AR_NODE_MAP : AR_NODE_SEQ;
		adv(s); /* { or [ */
		for (const cJSON *c = item->child; c; c = c->next) {
			struct ar_node *m;
			int kl = 0, kc = 0;

			skip_ws(s);
			if (s->p < s->end && *s->p == ',') {
				adv(s);
				skip_ws(s);
			}
			if (is_map) {
				kl = s->line;
				kc = s->col;
				skip_string(s);
				skip_ws(s);
				adv(s); /* : */
				for (struct ar_node *o = n->child; o; o = o->next)
					if (!strcmp(o->key, c->string))
						return ar_errf(err, doc->path, kl, kc,
							       "duplicate key '%s' (first at line %d)",
							       c->string, o->key_line);
			}
			if (convert(doc, s, c, depth + 1, &m, err))
				return -1;
			if (is_map) {
				m->key = ar_doc_strndup(doc, c->string, strlen(c->string));
				if (!m->key)
					return ar_errf(err, doc->path, 0, 0, "out of memory");
				m->key_line = kl;
				m->key_col = kc;
			}
			*tail = m;
			tail = &m->next;
			n->n_children++;
		}
		skip_ws(s);
		adv(s); /* } or ] */
		*out = n;
		return 0;
	}
	n->kind = AR_NODE_SCALAR;
	if (cJSON_IsString(item)) {
		n->quoted = 1;
		n->value = ar_doc_strndup(doc, item->valuestring, strlen(item->valuestring));
		skip_string(s);
	} else {
		const char *start = s->p;
		while (s->p < s->end && !strchr(",]} \t\r\n", *s->p))
			adv(s);
		n->value = ar_doc_strndup(doc, start, (size_t)(s->p - start));
		n->is_null = cJSON_IsNull(item);
	}
	if (!n->value)
		return ar_errf(err, doc->path, 0, 0, "out of memory");
	*out = n;
	return 0;
}

static int max_depth_ok(const char *text, size_t len)
{
	int d = 0, in_str = 0;

	for (size_t i = 0; i < len; i++) {
		char c = text[i];
		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == '{' || c == '[') {
			if (++d > AR_DOC_MAX_DEPTH)
				return 0;
		} else if (c == '}' || c == ']') {
			d--;
		}
	}
	return 1;
}

int ar_doc_parse_json(struct ar_doc *doc, const char *name, const char *text,
		      size_t len, struct ar_err *err)
{
	const char *end = NULL;
	cJSON *root;
	struct scan s = { text, text, text + len, 1, 1 };
	int rc;

	snprintf(doc->path, sizeof(doc->path), "%s", name);
	if (memchr(text, 0, len))
		return ar_errf(err, name, 0, 0, "NUL byte in JSON text");
	if (!max_depth_ok(text, len)) /* before cJSON, which recurses */
		return ar_errf(err, name, 1, 1, "document nested deeper than %d levels",
			       AR_DOC_MAX_DEPTH);
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root && end) { /* only whitespace may follow the value */
		const char *p = end;
		while (p < text + len && strchr(" \t\r\n", *p))
			p++;
		if (p < text + len) {
			cJSON_Delete(root);
			root = NULL;
			end = p;
		}
	}
	if (!root) {
		int line, col;
		const char *at = end ? end : cJSON_GetErrorPtr();
		if (!at || at < text || at > text + len)
			at = text;
		pos_of(text, at, &line, &col);
		skip_ws(&s);
		if (s.p == s.end)
			return ar_errf(err, name, 1, 1, "empty document");
		return ar_errf(err, name, line, col, "JSON syntax error");
	}
	rc = convert(doc, &s, root, 0, &doc->root, err);
	cJSON_Delete(root);
	if (rc)
		doc->root = NULL;
	return rc;
}

int ar_doc_load_json(struct ar_doc *doc, const char *path, struct ar_err *err)
{
	char *text;
	size_t len;
	int rc;

	snprintf(doc->path, sizeof(doc->path), "%s", path);
	if (ar_read_file(path, &text, &len, err))
		return -1;
	rc = ar_doc_parse_json(doc, path, text, len, err);
	free(text);
	return rc;
}
