# unit: epilogue
# functions: qmar__epilogue_block
# expect: typed_cast_qmar_epilogue_block_assert_rte_mem_access_7 typed_cast_qmar_epilogue_block_assert_rte_mem_access_11
# select: mem_access
# mutation: each e value is written one element to the right of its place (the last one past the block)
s|            e\[r \* lde + (j - j0)\] = p->x3|            e[r * lde + (j - j0) + 1] = p->x3|
