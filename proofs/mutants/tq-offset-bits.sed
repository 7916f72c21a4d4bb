# unit: transquant
# functions: encode_word
# expect: typed_real_encode_word_ensures_2
# select: @ensures
# mutation: TransQuantParamV2 keeps 8 bits of the offset code instead of 9 (negative offsets lose their sign)
s/(uint64_t)(code & 0x1FF)/(uint64_t)(code \& 0xFF)/
