# unit: validate
# functions: check_nulls
# expect: typed_check_nulls_loop_invariant_4_preserved
# select: @invariant
# mutation: N2 skips the output slot (an output with NULL data is accepted)
s/if (c->t\[s\] != NULL && c->t\[s\]->data == NULL)/if (c->t[s] != NULL \&\& s != QMAR__OUT \&\& c->t[s]->data == NULL)/
