# unit: validate
# functions: check_attributes
# expect: typed_check_attributes_ensures_2
# select: @ensures
# mutation: A1 compares only the prefix "sum" (reduce_op "summary" is accepted)
s/r\[2\] == 'm' && r\[3\] == '\\0'/r[2] == 'm'/
