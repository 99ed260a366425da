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
			struct ar_node *m = NULL;
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
		if (is_map && ar_node_check_duplicates(doc, n, err))
			return -1;
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

/* Scan brackets outside strings.  Returns the offset of the first bracket
 * nested deeper than AR_DOC_MAX_DEPTH, or len; *open is set when the text
 * ends inside a string or with brackets left open (a truncated file). */
static size_t depth_scan(const char *text, size_t len, int *open)
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
				return i;
		} else if (c == '}' || c == ']') {
			d--;
		}
	}
	*open = in_str || d > 0;
	return len;
}

/* Say what is wrong at `at`, where cJSON stopped. */
static int syntax_error(const char *name, const char *text, size_t len, const char *at,
			struct ar_err *err)
{
	const char *end = text + len, *prev = at;
	int line, col;
	char low[9] = "";

	if (at >= end) {
		pos_of(text, end, &line, &col);
		return ar_errf(err, name, line, col, "JSON syntax error: unexpected end of text");
	}
	/* cJSON often stops one past the character it could not take */
	if (at > text && strchr("'}]/#", at[-1]))
		prev = --at;
	pos_of(text, at, &line, &col);
	while (prev > text && strchr(" \t\r\n", prev[-1]))
		prev--;
	for (size_t i = 0; i < sizeof(low) - 1 && at + i < end; i++)
		low[i] = (char)(at[i] >= 'A' && at[i] <= 'Z' ? at[i] - 'A' + 'a' : at[i]);
	if (*at == '\'')
		return ar_errf(err, name, line, col,
			       "JSON syntax error: strings take double quotes, not single");
	if (*at == '/' || *at == '#')
		return ar_errf(err, name, line, col, "JSON syntax error: JSON has no comments");
	if ((*at == '}' || *at == ']') && prev > text && prev[-1] == ',')
		return ar_errf(err, name, line, col, "JSON syntax error: trailing comma before '%c'",
			       *at);
	if (!strncmp(low, "nan", 3) || !strncmp(low, "inf", 3) || !strncmp(low, "-inf", 4))
		return ar_errf(err, name, line, col,
			       "JSON syntax error: NaN and Infinity are not JSON numbers");
	if (*at > ' ' && *at < 127)
		return ar_errf(err, name, line, col, "JSON syntax error: unexpected '%c'", *at);
	return ar_errf(err, name, line, col, "JSON syntax error: unexpected byte 0x%02X",
		       (unsigned)(unsigned char)*at);
}

int ar_doc_parse_json(struct ar_doc *doc, const char *name, const char *text,
		      size_t len, struct ar_err *err)
{
	const char *end = NULL;
	cJSON *root;
	int rc, line, col, open = 0;
	size_t deep;

	snprintf(doc->path, sizeof(doc->path), "%s", name);
	/* JSON's only control bytes are its whitespace (cJSON would take any
	 * byte below 0x20 as whitespace, and the scan below would lose its
	 * place); a NUL says the file is no text at all */
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		if (c >= 0x20 || c == '\t' || c == '\n' || c == '\r')
			continue;
		pos_of(text, text + i, &line, &col);
		if (!c)
			return ar_errf(err, name, line, col, "not a text file: NUL byte in JSON text");
		return ar_errf(err, name, line, col,
			       "JSON syntax error: control byte 0x%02X (write it as \\u%04X in a string)",
			       (unsigned)c, (unsigned)c);
	}
	/* a byte-order mark is no part of the text */
	if (len >= 3 && !memcmp(text, "\xEF\xBB\xBF", 3)) {
		text += 3;
		len -= 3;
	}
	struct scan s = { text, text, text + len, 1, 1 };
	skip_ws(&s);
	if (s.p == s.end)
		return ar_errf(err, name, 1, 1, "empty document");
	s = (struct scan){ text, text, text + len, 1, 1 }; /* convert's positions from the start */
	deep = depth_scan(text, len, &open);
	if (deep < len) { /* before cJSON, which recurses */
		pos_of(text, text + deep, &line, &col);
		return ar_errf(err, name, line, col, "document nested deeper than %d levels",
			       AR_DOC_MAX_DEPTH);
	}
	root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
	if (root && end) { /* only whitespace may follow the value */
		const char *p = end;
		while (p < text + len && strchr(" \t\r\n", *p))
			p++;
		if (p < text + len) {
			cJSON_Delete(root);
			pos_of(text, p, &line, &col);
			return ar_errf(err, name, line, col,
				       "JSON syntax error: more text after the end of the JSON value");
		}
	}
	if (!root) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		if (open) /* report where the text stops, not where cJSON gave up */
			at = text + len;
		if (!at || at < text || at > text + len)
			at = text;
		return syntax_error(name, text, len, at, err);
	}
	rc = convert(doc, &s, root, 0, &doc->root, err);
	cJSON_Delete(root);
	if (rc)
		doc->root = NULL;
	return rc;
}
