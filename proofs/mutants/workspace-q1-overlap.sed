# unit: layout
# functions: qmar__workspace_layout
# expect: typed_qmar_workspace_layout_ensures_2
# select: @ensures
# mutation: case 3's int8 rows q1 start one byte early, on the last byte of the e rows
s|    l.q1 = (l.e_bytes + 63u) / 64u \* 64u;|    l.q1 = (l.e_bytes + 63u) / 64u * 64u - 1u;|
