# unit: pack
# functions: rows4
# expect: typed_cast_rows4_assert_rte_mem_access_28
# select: mem_access
# mutation: rows4 reads the fourth row of each group one column to the right (the last column of a rectangle's last group reads one byte past x2's rectangle)
s|    const int8_t \*s1 = s0 + r->st, \*s2 = s1 + r->st, \*s3 = s2 + r->st;|    const int8_t *s1 = s0 + r->st, *s2 = s1 + r->st, *s3 = s2 + r->st + 1;|
