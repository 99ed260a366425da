/* The closed-form causal flash tile count against the plain loop over row
 * blocks, over a grid of shapes (including Sk > Sq: a prompt after a prefix). */
#include "testutil.h"

#include "graph.h"

static void test_tiles__closed_form_equals_loop(void **state)
{
	long cases = 0;

	(void)state;
	for (long Sq = 1; Sq < 300; Sq += 7)
		for (long extra = 0; extra < 40; extra += 13)
			for (long P = 1; P < 70; P += 5)
				for (long bc = 1; bc < 90; bc += 11) {
					double a, b, c, d;
					ar_flash_causal_tiles(Sq, Sq + extra, P, bc, &a, &b);
					ar_flash_causal_tiles_ref(Sq, Sq + extra, P, bc, &c, &d);
					assert_true(a == c);
					assert_true(b == d);
					cases++;
				}
	assert_int_equal(cases, 43 * 4 * 14 * 9);
}

static void test_tiles__hand_counted_example(void **state)
{
	double pos_keys, keys;

	(void)state;
	/* Sq = Sk = 10, blocks of 4 positions, key tiles of 3:
	 * block [0,4) loads ceil(4/3)·3 = 6 keys, [4,8) loads 9, [8,10) loads 10 (capped)
	 * pos_keys = 4·6 + 4·9 + 2·10 = 80; keys = 25 */
	ar_flash_causal_tiles(10, 10, 4, 3, &pos_keys, &keys);
	assert_close(pos_keys, 80, 0, 0);
	assert_close(keys, 25, 0, 0);
	/* a prefix: the last Sq = 4 of Sk = 10 positions (6..9), blocks of 2,
	 * tiles of 3: [6,8) needs keys 0..7, loads 9; [8,10) needs 10, loads
	 * ceil(10/3)·3 = 12 capped at 10: pos_keys = 2·9 + 2·10 = 38, keys 19 */
	ar_flash_causal_tiles(4, 10, 2, 3, &pos_keys, &keys);
	assert_close(pos_keys, 38, 0, 0);
	assert_close(keys, 19, 0, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tiles__closed_form_equals_loop),
		cmocka_unit_test(test_tiles__hand_counted_example),
	};
	return cmocka_run_group_tests_name("tiles", tests, NULL, NULL);
}
