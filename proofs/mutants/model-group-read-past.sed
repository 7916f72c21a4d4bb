# unit: accept
# functions: bounded_len
# expect: typed_bounded_len_assert_rte_mem_access typed_bounded_len_loop_invariant_preserved
# select: mem_access,@invariant
# mutation: the model's A4 length of group reads one byte more (s[128] of a group of 128 bytes without a NUL)
s/    while (len < max \&\& s\[len\] != '\\0') {/    while (len <= max \&\& s[len] != '\\0') {/
