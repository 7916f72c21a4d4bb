# unit: validate
# functions: check_fits_storage
# expect: typed_check_fits_storage_ensures_2
# select: @ensures
# mutation: L4 off by one (a view whose last element is the one just past its storage is accepted)
s/t->offset > storage - count)/t->offset > storage - count + 1)/
