# unit: elementwise
# functions: dequantize
# expect: typed_dequantize_assert_rte_mem_access_2
# select: mem_access
# mutation: dequantize reads each q2 value one element to the right of its place (the last row's last read past q2)
s|qmar__ew_dequantize_one(q2\[i \* n + j\], s2\[j\], y)|qmar__ew_dequantize_one(q2[i * n + j + 1], s2[j], y)|
