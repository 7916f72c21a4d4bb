# unit: plan
# functions: qmar__workspace_size
# expect: typed_qmar_workspace_size_ensures
# select: @ensures
# mutation: the case-3 workspace has one int8 row buffer instead of two
s/size += 2 \* align64(cells);/size += align64(cells);/
