# unit: validate
# functions: check_nz_storage
# expect: typed_check_nz_storage_ensures_2
# select: @ensures
# mutation: L5 without offset == 0 (an NZ x2 with an offset is accepted)
/if (x2->offset != 0)/{N;/return invalid(QMAR__L5_OFFSET/d;}
