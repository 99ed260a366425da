/* YAML → ar_node tree with positions, plus the typed accessors every loader
 * uses.  The only file that includes <yaml.h>.  Aliases and anchors are refused
 * (descriptors never need them and they allow exponential documents). */
#include "doc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

struct ar_arena_block {
	struct ar_arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

void *ar_doc_alloc(struct ar_doc *doc, size_t n)
{
	struct ar_arena_block *b = doc->arena;
	size_t a = sizeof(max_align_t);

	n = (n + a - 1) / a * a;
	if (!b || b->cap - b->used < n) {
		size_t cap = n > 16384 ? n : 16384;
		b = malloc(sizeof(*b) + cap);
		if (!b)
			return NULL;
		b->cap = cap;
		b->used = 0;
		b->next = doc->arena;
		doc->arena = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += n;
	memset(p, 0, n);
	return p;
}

char *ar_doc_strndup(struct ar_doc *doc, const char *s, size_t n)
{
	char *p = ar_doc_alloc(doc, n + 1);

	if (p) {
		memcpy(p, s, n);
		p[n] = 0;
	}
	return p;
}

void ar_doc_release(struct ar_doc *doc)
{
	struct ar_arena_block *b = doc->arena, *next;

	for (; b; b = next) {
		next = b->next;
		free(b);
	}
	doc->arena = NULL;
	doc->root = NULL;
}

int ar_read_file(const char *path, char **out, size_t *len, struct ar_err *err)
{
	struct stat st;
	FILE *f;
	char *buf;
	size_t n;

	*out = NULL;
	if (stat(path, &st) != 0)
		return ar_errf(err, path, 0, 0, "cannot open '%s': %s", path,
			       strerror(errno));
	if (S_ISDIR(st.st_mode))
		return ar_errf(err, path, 0, 0, "'%s' is a directory, not a file",
			       path);
	/* a FIFO or a device could block or never end */
	if (!S_ISREG(st.st_mode))
		return ar_errf(err, path, 0, 0, "'%s' is not a regular file", path);
	if (st.st_size > AR_DOC_MAX_BYTES)
		return ar_errf(err, path, 0, 0, "file too large (%lld bytes; the limit is %d)",
			       (long long)st.st_size, AR_DOC_MAX_BYTES);
	f = fopen(path, "rb");
	if (!f)
		return ar_errf(err, path, 0, 0, "cannot open '%s': %s", path,
			       strerror(errno));
	buf = malloc((size_t)AR_DOC_MAX_BYTES + 1);
	if (!buf) {
		fclose(f);
		return ar_errf(err, path, 0, 0, "out of memory");
	}
	errno = 0;
	n = fread(buf, 1, AR_DOC_MAX_BYTES + 1, f);
	if (ferror(f) || n > AR_DOC_MAX_BYTES) {
		int e = ferror(f), code = errno;
		fclose(f);
		free(buf);
		return e ? ar_errf(err, path, 0, 0, "cannot read '%s': %s", path,
				   code ? strerror(code) : "read error")
			 : ar_errf(err, path, 0, 0, "file too large (the limit is %d bytes)",
				   AR_DOC_MAX_BYTES);
	}
	fclose(f);
	buf[n] = 0;
	*out = buf;
	*len = n;
	return 0;
}

/* ---- YAML ---- */

struct ybuild {
	struct ar_doc *doc;
	yaml_parser_t parser;
	struct ar_err *err;
	const char *text; /* the input, for messages about the byte at an error */
	size_t len;
};

/* 1-based line and column (in UTF-8 characters, as libyaml counts them) of
 * byte offset off in text. */
static void offset_pos(const char *text, size_t len, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xC0) != 0x80) {
			(*col)++;
		}
	}
}

/* The byte at a libyaml mark (0-based line and column), or -1 past the end. */
static int byte_at(const struct ybuild *y, const yaml_mark_t *m)
{
	size_t i = 0, line = 0, col = 0;

	while (i < y->len && line < m->line)
		if (y->text[i++] == '\n')
			line++;
	for (; i < y->len && y->text[i] != '\n'; i++) {
		if (((unsigned char)y->text[i] & 0xC0) == 0x80)
			continue;
		if (col++ == m->column)
			return (unsigned char)y->text[i];
	}
	return i < y->len && col == m->column ? (unsigned char)y->text[i] : -1;
}

static int yerr(struct ybuild *y, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int yerr(struct ybuild *y, const yaml_mark_t *m, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return ar_errf(y->err, y->doc->path, (int)m->line + 1, (int)m->column + 1,
		       "%s", msg);
}

static int next_event(struct ybuild *y, yaml_event_t *ev)
{
	if (yaml_parser_parse(&y->parser, ev))
		return 0;
	const char *p = y->parser.problem ? y->parser.problem : "syntax error";
	yaml_mark_t m = y->parser.problem_mark, c = y->parser.context_mark;
	if (y->parser.error == YAML_READER_ERROR) {
		size_t off = y->parser.problem_offset;
		int line, col, b = off < y->len ? (unsigned char)y->text[off] : 0;
		offset_pos(y->text, y->len, off, &line, &col);
		if (strstr(p, "control"))
			return ar_errf(y->err, y->doc->path, line, col,
				       "not a text file: %s (byte 0x%02X)", p, (unsigned)b);
		return ar_errf(y->err, y->doc->path, line, col,
			       "not UTF-8 text (save the file as UTF-8): %s", p);
	}
	if (byte_at(y, &m) == '\t' || strstr(p, "tab"))
		return yerr(y, &m, "YAML syntax error: tab character (YAML indents with spaces only)");
	if (y->parser.context && c.line != m.line)
		return yerr(y, &m, "YAML syntax error: %s %s (begun at line %d)", p,
			    y->parser.context, (int)c.line + 1);
	if (y->parser.context)
		return yerr(y, &m, "YAML syntax error: %s %s", p, y->parser.context);
	return yerr(y, &m, "YAML syntax error: %s", p);
}

static int is_null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	return !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
	       !strcmp(v, "NULL") || !v[0];
}

/* Build the node that starts with event ev (already parsed, owned here). */
static int build(struct ybuild *y, yaml_event_t *ev, int depth, struct ar_node **out)
{
	struct ar_node *n = ar_doc_alloc(y->doc, sizeof(*n));
	int rc = -1;

	if (!n) {
		yaml_event_delete(ev);
		return ar_errf(y->err, y->doc->path, 0, 0, "out of memory");
	}
	n->line = (int)ev->start_mark.line + 1;
	n->col = (int)ev->start_mark.column + 1;
	n->value = "";
	if (depth > AR_DOC_MAX_DEPTH) {
		rc = yerr(y, &ev->start_mark, "document nested deeper than %d levels",
			  AR_DOC_MAX_DEPTH);
		goto cleanup;
	}
	if (ev->type == YAML_ALIAS_EVENT) {
		rc = yerr(y, &ev->start_mark, "aliases are not supported");
		goto cleanup;
	}
	const yaml_char_t *tag = ev->type == YAML_SCALAR_EVENT ? ev->data.scalar.tag
			       : ev->type == YAML_MAPPING_START_EVENT ? ev->data.mapping_start.tag
			       : ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
			       : NULL;
	if (tag) { /* a tag would change what a value is (!!str 54 is no number) */
		rc = yerr(y, &ev->start_mark, "tags are not supported ('%s')", (const char *)tag);
		goto cleanup;
	}
	if ((ev->type == YAML_SCALAR_EVENT && ev->data.scalar.anchor) ||
	    (ev->type == YAML_MAPPING_START_EVENT && ev->data.mapping_start.anchor) ||
	    (ev->type == YAML_SEQUENCE_START_EVENT && ev->data.sequence_start.anchor)) {
		rc = yerr(y, &ev->start_mark, "anchors are not supported");
		goto cleanup;
	}
	if (ev->type == YAML_SCALAR_EVENT) {
		n->kind = AR_NODE_SCALAR;
		n->value = ar_doc_strndup(y->doc, (const char *)ev->data.scalar.value,
					  ev->data.scalar.length);
		if (!n->value) {
			rc = ar_errf(y->err, y->doc->path, 0, 0, "out of memory");
			goto cleanup;
		}
		if (strlen(n->value) != ev->data.scalar.length) {
			rc = yerr(y, &ev->start_mark, "NUL byte in a scalar");
			goto cleanup;
		}
		n->quoted = ev->data.scalar.style == YAML_LITERAL_SCALAR_STYLE ||
				    ev->data.scalar.style == YAML_FOLDED_SCALAR_STYLE
			    ? 2
			    : ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		n->is_null = is_null_scalar(ev);
		*out = n;
		rc = 0;
		goto cleanup;
	}
	if (ev->type != YAML_MAPPING_START_EVENT && ev->type != YAML_SEQUENCE_START_EVENT) {
		rc = yerr(y, &ev->start_mark, "unexpected YAML event");
		goto cleanup;
	}
	int is_map = ev->type == YAML_MAPPING_START_EVENT;
	n->kind = is_map ? AR_NODE_MAP : AR_NODE_SEQ;
	yaml_event_delete(ev);
	struct ar_node **tail = &n->child;
	for (;;) {
		yaml_event_t e;
		struct ar_node *c = NULL;
		const char *key = NULL;
		int kl = 0, kc = 0;

		if (next_event(y, &e))
			return -1;
		if (e.type == YAML_MAPPING_END_EVENT || e.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&e);
			break;
		}
		if (is_map) {
			if (e.type != YAML_SCALAR_EVENT) {
				int r = yerr(y, &e.start_mark, "mapping keys must be plain scalars");
				yaml_event_delete(&e);
				return r;
			}
			kl = (int)e.start_mark.line + 1;
			kc = (int)e.start_mark.column + 1;
			key = ar_doc_strndup(y->doc, (const char *)e.data.scalar.value,
					     e.data.scalar.length);
			yaml_event_delete(&e);
			if (!key)
				return ar_errf(y->err, y->doc->path, 0, 0, "out of memory");
			if (next_event(y, &e))
				return -1;
		}
		if (build(y, &e, depth + 1, &c))
			return -1;
		c->key = key;
		c->key_line = kl;
		c->key_col = kc;
		*tail = c;
		tail = &c->next;
		n->n_children++;
	}
	if (is_map && ar_node_check_duplicates(y->doc, n, y->err))
		return -1;
	*out = n;
	return 0;
cleanup:
	yaml_event_delete(ev);
	return rc;
}

int ar_doc_parse_yaml(struct ar_doc *doc, const char *name, const char *text,
		      size_t len, struct ar_err *err)
{
	struct ybuild y = { .doc = doc, .err = err, .text = text, .len = len };
	yaml_event_t ev;
	int rc = -1;

	snprintf(doc->path, sizeof(doc->path), "%s", name);
	if (!yaml_parser_initialize(&y.parser))
		return ar_errf(err, name, 0, 0, "out of memory");
	yaml_parser_set_input_string(&y.parser, (const unsigned char *)text, len);
	/* stream start, document start */
	if (next_event(&y, &ev))
		goto cleanup;
	yaml_event_delete(&ev);
	if (next_event(&y, &ev))
		goto cleanup;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		rc = ar_errf(err, name, 1, 1, "empty document");
		goto cleanup;
	}
	yaml_event_delete(&ev);
	if (next_event(&y, &ev))
		goto cleanup;
	if (build(&y, &ev, 0, &doc->root))
		goto cleanup;
	if (next_event(&y, &ev)) /* document end */
		goto cleanup;
	yaml_event_delete(&ev);
	if (next_event(&y, &ev))
		goto cleanup;
	if (ev.type != YAML_STREAM_END_EVENT) {
		rc = yerr(&y, &ev.start_mark, "more than one YAML document");
		yaml_event_delete(&ev);
		goto cleanup;
	}
	yaml_event_delete(&ev);
	rc = 0;
cleanup:
	yaml_parser_delete(&y.parser);
	if (rc)
		doc->root = NULL;
	return rc;
}

/* Read path and hand its text to parse (YAML or JSON). */
static int load_file(struct ar_doc *doc, const char *path, struct ar_err *err,
		     int (*parse)(struct ar_doc *, const char *, const char *, size_t,
				  struct ar_err *))
{
	char *text;
	size_t len;
	int rc;

	snprintf(doc->path, sizeof(doc->path), "%s", path);
	if (ar_read_file(path, &text, &len, err))
		return -1;
	rc = parse(doc, path, text, len, err);
	free(text);
	return rc;
}

int ar_doc_load_yaml(struct ar_doc *doc, const char *path, struct ar_err *err)
{
	return load_file(doc, path, err, ar_doc_parse_yaml);
}

int ar_doc_load_json(struct ar_doc *doc, const char *path, struct ar_err *err)
{
	return load_file(doc, path, err, ar_doc_parse_json);
}

/* ---- accessors ---- */

struct keyed { const struct ar_node *n; int idx; };

static int by_key(const void *a, const void *b)
{
	const struct keyed *x = a, *y = b;
	int c = strcmp(x->n->key, y->n->key);

	return c ? c : x->idx - y->idx;
}

int ar_node_check_duplicates(const struct ar_doc *doc, const struct ar_node *map,
			     struct ar_err *err)
{
	struct keyed *v, *first = NULL, *dup = NULL;
	int n = map->n_children, i = 0;

	if (n < 2)
		return 0;
	/* sorted, not pairwise: a mapping may have hundreds of thousands of keys */
	v = malloc((size_t)n * sizeof(*v));
	if (!v)
		return ar_errf(err, doc->path, 0, 0, "out of memory");
	for (const struct ar_node *c = map->child; c && i < n; c = c->next, i++)
		v[i] = (struct keyed){ c, i };
	qsort(v, (size_t)i, sizeof(*v), by_key);
	for (int j = 1; j < i; j++) /* the earliest second occurrence in the text */
		if (!strcmp(v[j].n->key, v[j - 1].n->key) && (!dup || v[j].idx < dup->idx) &&
		    (j < 2 || strcmp(v[j].n->key, v[j - 2].n->key))) {
			dup = &v[j];
			first = &v[j - 1];
		}
	int rc = dup ? ar_errf(err, doc->path, dup->n->key_line, dup->n->key_col,
			       "duplicate key '%s' (first at line %d)", dup->n->key,
			       first->n->key_line)
		     : 0;
	free(v);
	return rc;
}

const struct ar_node *ar_node_get(const struct ar_node *map, const char *key)
{
	if (!map || map->kind != AR_NODE_MAP)
		return NULL;
	for (const struct ar_node *c = map->child; c; c = c->next)
		if (!strcmp(c->key, key))
			return c;
	return NULL;
}

int ar_node_errf(const struct ar_doc *doc, const struct ar_node *n,
		 struct ar_err *err, const char *fmt, ...)
{
	char msg[480];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!n)
		return ar_errf(err, doc->path, 0, 0, "%s", msg);
	return ar_errf(err, doc->path, n->line, n->col, "%s", msg);
}

static const char *kind_name(enum ar_node_kind k)
{
	return k == AR_NODE_MAP ? "a mapping" : k == AR_NODE_SEQ ? "a list" : "a scalar";
}

int ar_node_expect(const struct ar_doc *doc, const struct ar_node *n,
		   enum ar_node_kind kind, const char *what, struct ar_err *err)
{
	if (n->kind != kind)
		return ar_node_errf(doc, n, err, "'%s' must be %s, not %s", what,
				    kind_name(kind), kind_name(n->kind));
	return 0;
}

int ar_parse_double(const char *s, double *out)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	if (!*s || s[strspn(s, "0123456789+-.eE")]) /* strtod also takes hex, nan, inf */
		return -1;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || !isfinite(v) || errno == ERANGE)
		return -1;
	*out = v;
	return 0;
}

int ar_parse_long(const char *s, long *out)
{
	double v;

	if (ar_parse_double(s, &v) || v != floor(v) || fabs(v) > 9.0e15)
		return -1;
	*out = (long)v;
	return 0;
}

static int scalar(const struct ar_doc *doc, const struct ar_node *n,
		  const char *what, const char *type, struct ar_err *err)
{
	if (n->kind != AR_NODE_SCALAR)
		return ar_node_errf(doc, n, err, "'%s' must be %s, not %s", what,
				    type, kind_name(n->kind));
	if (n->is_null)
		return ar_node_errf(doc, n, err, "'%s' must be %s, not null", what, type);
	return 0;
}

/* The error for a scalar that ar_parse_double refused; limit is the largest
 * value allowed, as text. */
static int bad_number(const struct ar_doc *doc, const struct ar_node *n, const char *what,
		      const char *type, const char *limit, struct ar_err *err)
{
	const char *v = n->value;
	char low[8] = "";

	if (n->quoted == 2)
		return ar_node_errf(doc, n, err, "'%s' must be %s, not a block of text (| or >)", what,
				    type);
	if (n->quoted)
		return ar_node_errf(doc, n, err, "'%s' must be %s, not the string '%s' (drop the quotes)",
				    what, type, v);
	while (isspace((unsigned char)*v))
		v++;
	if (*v && !v[strspn(v, "0123456789+-.eE")] && strpbrk(v, "0123456789")) {
		/* numeric syntax, but strtod overflowed or underflowed */
		double x = strtod(v, NULL);
		if (isinf(x))
			return ar_node_errf(doc, n, err, "'%s' is too large (%s; the limit is %s)",
					    what, n->value, limit);
		return ar_node_errf(doc, n, err, "'%s' is too small to represent (%s)", what,
				    n->value);
	}
	for (size_t i = 0; i < sizeof(low) - 1 && v[i]; i++)
		low[i] = (char)tolower((unsigned char)v[i]);
	if (strstr(low, "nan") || strstr(low, "inf"))
		return ar_node_errf(doc, n, err, "'%s' must be a finite number, not '%s'", what,
				    n->value);
	return ar_node_errf(doc, n, err, "'%s' must be %s, not '%s'", what, type, n->value);
}

int ar_node_num(const struct ar_doc *doc, const struct ar_node *n,
		const char *what, int allow_zero, double max, double *out,
		struct ar_err *err)
{
	char limit[32];
	double v;

	if (scalar(doc, n, what, "a number", err))
		return -1;
	snprintf(limit, sizeof(limit), "%g", max);
	if (n->quoted || ar_parse_double(n->value, &v))
		return bad_number(doc, n, what, "a number", limit, err);
	if (v < 0 || (v == 0 && !allow_zero))
		return ar_node_errf(doc, n, err, "'%s' must be %s, not %s", what,
				    allow_zero ? ">= 0" : "> 0", n->value);
	if (v > max)
		return ar_node_errf(doc, n, err, "'%s' is too large (%s; the limit is %g)",
				    what, n->value, max);
	*out = v;
	return 0;
}

int ar_node_int(const struct ar_doc *doc, const struct ar_node *n,
		const char *what, long min, long max, long *out,
		struct ar_err *err)
{
	char limit[32];
	double v;

	if (scalar(doc, n, what, "an integer", err))
		return -1;
	snprintf(limit, sizeof(limit), "%ld", max);
	if (n->quoted || ar_parse_double(n->value, &v))
		return bad_number(doc, n, what, "an integer", limit, err);
	if (v != floor(v))
		return ar_node_errf(doc, n, err, "'%s' must be a whole number, not %s",
				    what, n->value);
	if (v < (double)min)
		return ar_node_errf(doc, n, err, "'%s' must be >= %ld, not %s", what,
				    min, n->value);
	if (v > (double)max)
		return ar_node_errf(doc, n, err, "'%s' is too large (%s; the limit is %ld)",
				    what, n->value, max);
	*out = (long)v;
	return 0;
}

int ar_node_bool(const struct ar_doc *doc, const struct ar_node *n,
		 const char *what, int *out, struct ar_err *err)
{
	if (scalar(doc, n, what, "true or false", err))
		return -1;
	if (!n->quoted && (!strcmp(n->value, "true") || !strcmp(n->value, "True")))
		*out = 1;
	else if (!n->quoted && (!strcmp(n->value, "false") || !strcmp(n->value, "False")))
		*out = 0;
	else
		return ar_node_errf(doc, n, err, "'%s' must be true or false, not '%s'",
				    what, n->value);
	return 0;
}

int ar_node_str(const struct ar_doc *doc, const struct ar_node *n,
		const char *what, char *out, size_t size, struct ar_err *err)
{
	if (scalar(doc, n, what, "a string", err))
		return -1;
	if (strlen(n->value) >= size)
		return ar_node_errf(doc, n, err, "'%s' is too long (%zu characters; the limit is %zu)",
				    what, strlen(n->value), size - 1);
	memcpy(out, n->value, strlen(n->value) + 1);
	return 0;
}

int ar_node_name(const struct ar_doc *doc, const struct ar_node *n,
		 const char *what, char *out, size_t size, struct ar_err *err)
{
	char shown[80];
	size_t k = 0;

	if (ar_node_str(doc, n, what, out, size, err))
		return -1;
	if (out[0] && ar_name_ok(out))
		return 0;
	/* the value as written, its control characters as \xNN */
	for (const char *c = n->value; *c && k + 5 < sizeof(shown); c++)
		k += (size_t)snprintf(shown + k, sizeof(shown) - k,
				      (unsigned char)*c < 0x20 ? "\\x%02x" : "%c", (unsigned char)*c);
	shown[k] = 0;
	return ar_node_errf(doc, n, err,
			    "'%s' must be letters, digits and . _ - + (it names columns and files), not '%s'",
			    what, shown);
}

int ar_name_char(int c)
{
	return isalnum((unsigned char)c) || (c && strchr("._-+", c));
}

int ar_name_ok(const char *s)
{
	for (; *s; s++)
		if (!ar_name_char(*s))
			return 0;
	return 1;
}

static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[64];

	if (la >= 63 || lb >= 63)
		return (size_t)-1;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			if (up + 1 < best)
				best = up + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *ar_nearest(const char *s, const char *const *cands)
{
	const char *best = NULL;
	size_t bd = (size_t)-1, lim = strlen(s) / 3 + 1;

	for (; *cands; cands++) {
		size_t d = edit_distance(s, *cands);
		if (d < bd) {
			bd = d;
			best = *cands;
		}
	}
	return bd <= lim ? best : NULL;
}

int ar_node_check_keys(const struct ar_doc *doc, const struct ar_node *map,
		       const char *const *known, struct ar_err *err)
{
	for (const struct ar_node *c = map->child; c; c = c->next) {
		const char *const *k;
		for (k = known; *k; k++)
			if (!strcmp(*k, c->key))
				break;
		if (*k)
			continue;
		const char *near = ar_nearest(c->key, known);
		if (near)
			return ar_errf(err, doc->path, c->key_line, c->key_col,
				       "unknown key '%s' (did you mean '%s'?)", c->key, near);
		return ar_errf(err, doc->path, c->key_line, c->key_col,
			       "unknown key '%s'", c->key);
	}
	return 0;
}
