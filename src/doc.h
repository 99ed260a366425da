/* A small document tree with source positions, built from YAML (doc.c, the only
 * file that includes <yaml.h>) or JSON (json.c, the only file that includes
 * <cJSON.h>).  Loaders read descriptors through this tree so that every semantic
 * error can point at path:line:col.  It knows nothing of hardware or models. */
#ifndef AR_DOC_H
#define AR_DOC_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

enum ar_node_kind { AR_NODE_SCALAR, AR_NODE_MAP, AR_NODE_SEQ };

struct ar_node {
	enum ar_node_kind kind;
	const char *key;     /* key text for a member of a map, else NULL */
	int key_line, key_col;
	const char *value;   /* scalar text ("" for maps and sequences) */
	int quoted;          /* scalar was a quoted string (2: a block, | or >) */
	int is_null;         /* YAML ~/null, JSON null */
	int line, col;       /* 1-based position of the value */
	struct ar_node *child; /* first member / element */
	struct ar_node *next;  /* next sibling */
	int n_children;
};

struct ar_doc {
	char path[512];
	struct ar_node *root;
	struct ar_arena_block *arena; /* owns every node and string */
};

/* Limits that keep hostile documents cheap. */
enum { AR_DOC_MAX_DEPTH = 32, AR_DOC_MAX_BYTES = 1 << 22 };

/* Load a YAML (ar_doc_load_yaml) or JSON (ar_doc_load_json) file into doc, which
 * must be zeroed.  0 on success, -1 with err set (path:line:col) on failure:
 * unreadable file, syntax error, empty document, aliases, more than one
 * document, duplicate keys, nesting deeper than AR_DOC_MAX_DEPTH.  The caller
 * releases doc with ar_doc_release in both cases. */
int ar_doc_load_yaml(struct ar_doc *doc, const char *path, struct ar_err *err);
int ar_doc_load_json(struct ar_doc *doc, const char *path, struct ar_err *err);
/* The same from memory; name is used as the path in errors. */
int ar_doc_parse_yaml(struct ar_doc *doc, const char *name, const char *text,
		      size_t len, struct ar_err *err);
int ar_doc_parse_json(struct ar_doc *doc, const char *name, const char *text,
		      size_t len, struct ar_err *err);
void ar_doc_release(struct ar_doc *doc);

/* Read a whole regular file into a NUL-terminated heap buffer (caller frees).
 * Rejects directories and files over AR_DOC_MAX_BYTES.  -1 with err set. */
int ar_read_file(const char *path, char **out, size_t *len, struct ar_err *err);

/* Member `key` of a map, or NULL. */
const struct ar_node *ar_node_get(const struct ar_node *map, const char *key);

/* Typed access with errors at the node's position.  `what` names the value in
 * messages ("layers", "matrix_flops_per_s.fp16").  Each returns 0 or -1. */
int ar_node_expect(const struct ar_doc *doc, const struct ar_node *n,
		   enum ar_node_kind kind, const char *what, struct ar_err *err);
int ar_node_int(const struct ar_doc *doc, const struct ar_node *n,
		const char *what, long min, long max, long *out,
		struct ar_err *err);
/* A finite number > 0 (or >= 0 when allow_zero) and <= max. */
int ar_node_num(const struct ar_doc *doc, const struct ar_node *n,
		const char *what, int allow_zero, double max, double *out,
		struct ar_err *err);
int ar_node_bool(const struct ar_doc *doc, const struct ar_node *n,
		 const char *what, int *out, struct ar_err *err);
/* A string scalar; writes at most n-1 bytes.  Too long is an error. */
/* A name (of a model, device, arch or memory level): ar_node_str, and then
 * only letters, digits and . _ - +, so that every format can print it bare */
int ar_node_name(const struct ar_doc *doc, const struct ar_node *n,
		 const char *what, char *out, size_t size, struct ar_err *err);
int ar_name_ok(const char *s);
int ar_name_char(int c); /* one character of a name */
int ar_node_str(const struct ar_doc *doc, const struct ar_node *n,
		const char *what, char *out, size_t size, struct ar_err *err);
/* Every member key of map must be in known (NULL-terminated); an unknown key
 * is reported with the nearest known one as a suggestion. */
int ar_node_check_keys(const struct ar_doc *doc, const struct ar_node *map,
		       const char *const *known, struct ar_err *err);
/* -1 with err at the second occurrence of a key that map holds twice (the
 * parsers call it on every mapping). */
int ar_node_check_duplicates(const struct ar_doc *doc, const struct ar_node *map,
			     struct ar_err *err);
/* Error at a node's position (its key's position for a member). */
int ar_node_errf(const struct ar_doc *doc, const struct ar_node *n,
		 struct ar_err *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Nearest string to s among cands (edit distance <= 1/3 of its length), or NULL. */
const char *ar_nearest(const char *s, const char *const *cands);

/* Parse a whole decimal number: strict, no trailing text, finite. */
int ar_parse_double(const char *s, double *out);
int ar_parse_long(const char *s, long *out);

/* Arena allocation inside a document (used by the parsers). */
void *ar_doc_alloc(struct ar_doc *doc, size_t n);
char *ar_doc_strndup(struct ar_doc *doc, const char *s, size_t n);

#endif
