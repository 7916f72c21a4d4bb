# unit: nz
# functions: nz_elements
# expect: typed_nz_elements_ensures
# select: @ensures
# mutation: the NZ size rounds the columns up wrongly (Align(W,32) off by one: 32 columns count as 64)
s|c = (cols + 31) / 32 \* 32|c = (cols + 32) / 32 * 32|
