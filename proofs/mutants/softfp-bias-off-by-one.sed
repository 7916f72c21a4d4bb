# unit: softfp
# functions: bias_of
# expect: typed_bias_of_ensures typed_bias_of_ensures_2
# select: @ensures
# mutation: the exponent bias is 2^ebits - 1 instead of 2^(ebits-1) - 1 (every decoded exponent of the model off by a factor of 2^bias)
s|return (INT32_C(1) << (f.ebits - 1)) - 1;|return (INT32_C(1) << f.ebits) - 1;|
