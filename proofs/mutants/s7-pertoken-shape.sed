# unit: validate
# functions: check_vector_shapes
# expect: typed_check_vector_shapes_ensures_2
# select: @ensures
# mutation: S7 dropped (a pertoken_scale of any shape is accepted)
/if (t\[QMAR__PERTOKEN\] != NULL && !is_vector(t\[QMAR__PERTOKEN\], m, 0))/{N;/return invalid(QMAR__S7_PERTOKEN/d;}
