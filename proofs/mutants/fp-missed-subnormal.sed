# unit: fp
# functions: qmar__f32_bits_to_f16
# expect: typed_qmar_f32_bits_to_f16_assert_tiny
# select: tiny
# mutation: fp16 subnormal results flushed to zero (the underflow threshold moved from 2^-25 up to 2^-14, the smallest normal)
s/if (ax < 0x33000000u) {/if (ax < 0x38800000u) {/
