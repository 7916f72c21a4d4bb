# unit: model
# functions: model_acc
# expect: typed_model_acc_assert_rte_mem_access_2
# select: mem_access
# mutation: the model's dot product reads x2 one row further down (the last row's read lies past x2)
s|acc += (int64_t)x1\[i \* k + kk\] \* x2\[kk \* n + j\];|acc += (int64_t)x1[i * k + kk] * x2[(kk + 1) * n + j];|
