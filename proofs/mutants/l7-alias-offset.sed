# unit: validate
# functions: check_overlaps
# expect: typed_check_overlaps_loop_invariant_2_preserved
# select: @invariant
# mutation: L7 in-place alias without the offset comparison (x3 = output shifted is accepted)
s/if (t->data != out->data || t->offset != out->offset || !same_view(t, out))/if (t->data != out->data || !same_view(t, out))/
