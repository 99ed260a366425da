/* Tests of the document tree: positions, duplicate keys, limits. */
#include "testutil.h"

#include "doc.h"

static void test_doc__positions_are_one_based(void **state)
{
	const char *y = "a: 1\nb:\n  c: [x, 2]\n";
	struct ar_doc doc = { 0 };
	struct ar_err err = { 0 };

	(void)state;
	assert_int_equal(ar_doc_parse_yaml(&doc, "t.yaml", y, strlen(y), &err), 0);
	const struct ar_node *b = ar_node_get(doc.root, "b");
	const struct ar_node *c = ar_node_get(b, "c");
	assert_int_equal(c->key_line, 3);
	assert_int_equal(c->key_col, 3);
	assert_int_equal(c->child->next->line, 3);
	assert_int_equal(c->child->next->col, 10);
	ar_doc_release(&doc);
}

static void test_doc__json_positions_match_yaml(void **state)
{
	const char *j = "{\n  \"a\": 1,\n  \"b\": {\"c\": [true, 2]}\n}\n";
	struct ar_doc doc = { 0 };
	struct ar_err err = { 0 };

	(void)state;
	assert_int_equal(ar_doc_parse_json(&doc, "t.json", j, strlen(j), &err), 0);
	const struct ar_node *b = ar_node_get(doc.root, "b");
	assert_int_equal(b->key_line, 3);
	assert_int_equal(b->key_col, 3);
	const struct ar_node *c = ar_node_get(b, "c");
	assert_int_equal(c->child->next->line, 3);
	assert_int_equal(c->child->next->col, 21);
	assert_string_equal(c->child->next->value, "2");
	ar_doc_release(&doc);
}

static void test_doc__duplicate_key_is_an_error(void **state)
{
	const char *y = "a: 1\na: 2\n";
	struct ar_doc doc = { 0 };
	struct ar_err err = { 0 };
	char buf[600];

	(void)state;
	assert_int_equal(ar_doc_parse_yaml(&doc, "t.yaml", y, strlen(y), &err), -1);
	ar_err_format(&err, buf, sizeof(buf));
	assert_string_equal(buf, "t.yaml:2:1: error: duplicate key 'a' (first at line 1)");
	ar_doc_release(&doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_doc__positions_are_one_based),
		cmocka_unit_test(test_doc__json_positions_match_yaml),
		cmocka_unit_test(test_doc__duplicate_key_is_an_error),
	};
	return cmocka_run_group_tests_name("doc", tests, NULL, NULL);
}
