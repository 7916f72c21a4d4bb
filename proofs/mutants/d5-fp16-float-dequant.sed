# unit: validate
# functions: check_dtypes
# expect: typed_check_dtypes_ensures_2
# select: @ensures
# mutation: D5 also accepts a FLOAT dequant_scale for FLOAT16 output without pertoken
s/dq_ok = dq == QMAR_INT64 || dq == QMAR_UINT64;/dq_ok = dq == QMAR_INT64 || dq == QMAR_UINT64 || dq == QMAR_FLOAT;/
