# unit: transquant
# functions: qmar_trans_quant_param_v2
# expect: typed_real_qmar_trans_quant_param_v2_overlapping_ensures
# select: @ensures
# mutation: TransQuantParamV2 no longer rejects words that overlap the scales or offsets
/if (overlaps(words, n, scale, scale_count) ||/{N;N;N;N;d;}
