# unit: fp
# functions: qmar__round_shift
# expect: typed_qmar_round_shift_ensures
# select: @ensures
# mutation: a tie rounds to the odd neighbour instead of the even one
s/(rem == half \&\& q % 2u == 1u)/(rem == half \&\& q % 2u == 0u)/
