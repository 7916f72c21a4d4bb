# unit: fp
# functions: qmar__rint_sat8_bits
# expect: typed_qmar_rint_sat8_bits_ensures
# select: @ensures
# mutation: sat8 clamps at -127 instead of -128 (|v| >= 128, -inf included)
s/return negative ? -128 : 127;/return negative ? -127 : 127;/
