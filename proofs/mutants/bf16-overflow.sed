# unit: fp
# functions: qmar__f32_bits_to_bf16
# expect: typed_qmar_f32_bits_to_bf16_ensures_2
# select: @ensures
# mutation: rne_bf16 saturates to the largest finite value (0x7F7F) where it must overflow to infinity
/return (uint16_t)(top % 128u >= 64u ? top : top + 64u);/a\
    if (x % 0x80000000u >= 0x7F7F8000u) return (uint16_t)(top / 32768u * 32768u + 0x7F7Fu);
