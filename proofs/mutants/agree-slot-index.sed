# unit: agree
# functions: make_header
# expect: typed_make_header_assert_rte_mem_access_21
# select: mem_access
# mutation: a slot's words start one word late: the last slot's dims are written past the header
s|        int64_t \*w = h + H_SLOTS + s \* SLOT_WORDS;|        int64_t *w = h + H_SLOTS + s * SLOT_WORDS + 1;|
