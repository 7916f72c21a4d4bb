# unit: validate
# functions: check_nulls
# expect: typed_check_nulls_ensures_2
# select: @ensures
# mutation: N1 without the executor check (a NULL executor pointer is accepted)
/if (c->executor_ptr == NULL)/{N;/return reject(QMAR_ERR_PARAM_NULLPTR, QMAR__N1_NULL, QMAR__NO_SLOT, 3/d;}
