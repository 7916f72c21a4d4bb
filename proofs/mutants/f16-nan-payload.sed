# unit: fp
# functions: qmar__f32_bits_to_f16
# expect: typed_qmar_f32_bits_to_f16_ensures
# select: @ensures
# mutation: a NaN is narrowed without the quiet bit, so one whose payload lies in the 13 dropped bits becomes infinity
s/return (uint16_t)(sign + 0x7E00u + ax \/ 8192u % 512u);/return (uint16_t)(sign + 0x7C00u + ax \/ 8192u % 1024u);/
