# unit: validate
# functions: check_well_formed
# expect: typed_check_well_formed_ensures_2
# select: @ensures
# mutation: L1 off by one on the offset (offset -1 is accepted)
s/if (t->offset < 0)/if (t->offset < -1)/
