# unit: accept
# functions: elems
# expect: typed_elems_assert_3
# select: @assert
# mutation: the model's dim product saturates one dim too late (p * di may pass the element limit)
s|        if (di > LIMIT / p) {|        if (di > LIMIT / p + 1) {|
