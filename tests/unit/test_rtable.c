/* test_rtable.c -- the RCU hash table against a plain model, and a reader racing the writer. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <urcu.h>

#include "rtable.h"

#define N	20000

/* Entry i: its pointer is &item[i], its hash hashes[i]; live[i] says whether the model has it. */
static int	 item[N], other[N];
static uint64_t	 hashes[N];
static bool	 live[N];

/* How often entry i is found; with either, its stand-in other[i] counts too. */
static size_t
found_as(const struct rtable *t, size_t i, bool either)
{
	struct rtable_iter	it;
	size_t			n = 0;

	rcu_read_lock();
	for (void *p = rtable_first(t, hashes[i], &it); p != NULL;
	    p = rtable_next(&it))
		n += p == &item[i] || (either && p == &other[i]);
	rcu_read_unlock();
	return n;
}

static size_t
found(const struct rtable *t, size_t i)
{
	return found_as(t, i, false);
}

/* Every entry the model has is found once, every other not at all, and each walks the live set. */
static void
check_model(const struct rtable *t)
{
	struct rtable_iter	 it = { 0 };
	size_t			 nlive = 0, seen = 0;
	void			*p;

	for (size_t i = 0; i < N; i++) {
		assert_int_equal(found(t, i), live[i] ? 1 : 0);
		nlive += live[i];
	}
	assert_int_equal(rtable_count(t), nlive);
	rcu_read_lock();
	while ((p = rtable_each(t, &it)) != NULL) {
		size_t	i = (size_t)((int *)p - item);

		assert_true(i < N && live[i]);
		seen++;
	}
	rcu_read_unlock();
	assert_int_equal(seen, nlive);
}

/*
 * Hashes with many duplicates (one in 16 shares with others), some at the
 * top of the range (the home slot is the last: probes wrap to slot 0).
 */
static void
fill_hashes(unsigned seed)
{
	srandom(seed);
	for (size_t i = 0; i < N; i++) {
		uint64_t	h = (uint64_t)random() << 33 ^ (uint64_t)random();

		if (i % 16 == 0)
			h = 0x1234 + (i % 64);
		if (i % 97 == 0)
			h = UINT64_MAX - (i % 3);
		hashes[i] = h;
		live[i] = false;
	}
}

/* A table holding every entry of fill_hashes(seed). */
static struct rtable *
full_table(unsigned seed)
{
	struct rtable	*t = rtable_new();

	fill_hashes(seed);
	for (size_t i = 0; i < N; i++) {
		rtable_add(t, hashes[i], &item[i]);
		live[i] = true;
	}
	return t;
}

static void
test_add_del_replace(void **state)
{
	struct rtable	*t = full_table(1);

	(void)state;
	check_model(t);
	/*
	 * Every third out: deletions leave markers or empty the end of a run,
	 * later adds reuse slots or rebuild.
	 */
	for (size_t i = 0; i < N; i += 3) {
		assert_true(rtable_del(t, hashes[i], &item[i]));
		live[i] = false;
	}
	assert_false(rtable_del(t, hashes[0], &item[0]));
	check_model(t);
	/* A pointer under another hash is not that entry. */
	assert_false(rtable_del(t, hashes[1] + 1, &item[1]));
	for (size_t round = 0; round < 4; round++) {
		for (size_t i = round; i < N; i += 5) {
			if (live[i])
				assert_true(rtable_del(t, hashes[i], &item[i]));
			else
				rtable_add(t, hashes[i], &item[i]);
			live[i] = !live[i];
		}
		check_model(t);
	}
	/* Replace puts the new pointer where the old was; the old is gone. */
	for (size_t i = 1; i < 100; i++) {
		if (!live[i])
			continue;
		assert_true(rtable_replace(t, hashes[i], &item[i], &other[i]));
		assert_int_equal(found(t, i), 0);
		assert_true(rtable_replace(t, hashes[i], &other[i], &item[i]));
		assert_int_equal(found(t, i), 1);
	}
	for (size_t i = 0; i < N; i++)
		if (!live[i]) {
			assert_false(rtable_replace(t, hashes[i], &item[i],
			    &other[i]));
			break;
		}
	rtable_free(t);
	rcu_barrier();
}

/* Down to nothing and up again: the array shrinks on rebuild and stays correct. */
static void
test_empty_again(void **state)
{
	struct rtable	*t = full_table(2);

	(void)state;
	for (size_t i = 0; i < N; i++) {
		assert_true(rtable_del(t, hashes[i], &item[i]));
		live[i] = false;
	}
	check_model(t);
	for (size_t i = 0; i < N; i += 2) {
		rtable_add(t, hashes[i], &item[i]);
		live[i] = true;
	}
	check_model(t);
	rtable_free(t);
	rcu_barrier();
}

/* A reader looks up entries that stay while the writer churns others through many rebuilds. */
struct race {
	struct rtable	*t;
	atomic_bool	 stop;
	atomic_ulong	 lookups, misses;
};

#define STAY	1000

static void *
reader(void *arg)
{
	struct race	*r = arg;

	rcu_register_thread();
	while (!atomic_load(&r->stop)) {
		for (size_t i = 0; i < STAY; i++) {
			atomic_fetch_add(&r->lookups, 1);
			if (found_as(r->t, i, true) != 1)
				atomic_fetch_add(&r->misses, 1);
		}
	}
	rcu_unregister_thread();
	return NULL;
}

static void
test_reader_never_misses(void **state)
{
	struct race	 r = { .t = rtable_new() };
	pthread_t	 th;

	(void)state;
	fill_hashes(3);
	for (size_t i = 0; i < STAY; i++)
		rtable_add(r.t, hashes[i], &item[i]);
	assert_int_equal(pthread_create(&th, NULL, reader, &r), 0);
	/* Until the reader has done enough lookups to overlap many rebuilds and replaces. */
	for (size_t k = 0; k < 200 || atomic_load(&r.lookups) < 200000; k++) {
		for (size_t i = STAY; i < N; i++)
			rtable_add(r.t, hashes[i], &item[i]);
		for (size_t i = 0; i < STAY; i += 7) {
			assert_true(rtable_replace(r.t, hashes[i], &item[i],
			    &other[i]));
			assert_true(rtable_replace(r.t, hashes[i], &other[i],
			    &item[i]));
		}
		for (size_t i = STAY; i < N; i++)
			assert_true(rtable_del(r.t, hashes[i], &item[i]));
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	assert_true(atomic_load(&r.lookups) >= 200000);
	assert_int_equal(atomic_load(&r.misses), 0);
	rtable_free(r.t);
	rcu_barrier();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_del_replace),
		cmocka_unit_test(test_empty_again),
		cmocka_unit_test(test_reader_never_misses),
	};
	int	rc;

	rcu_register_thread();
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	rcu_unregister_thread();
	return rc;
}
