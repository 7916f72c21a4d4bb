# unit: accept
# functions: rule_l4
# expect: typed_rule_l4_loop_invariant_2_preserved
# select: @invariant
# mutation: the model's L4 off by one (an ND view whose last element is the one just past its storage is accepted; its footprint then reaches past the storage L6 and L7 assume)
s/if (t && t->format == QMAR_FORMAT_ND && last_elem(t) >= storage_elems(t)) {/if (t \&\& t->format == QMAR_FORMAT_ND \&\& last_elem(t) > storage_elems(t)) {/
