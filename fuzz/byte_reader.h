/* SPDX-License-Identifier: Apache-2.0 */
/* The fuzz input reader: parameters come from the input's TAIL, payload bytes from its HEAD (the
 * scheme of LLVM's FuzzedDataProvider). A mutation of a parameter therefore never shifts the
 * payload, and a longer payload never changes the parameters. Reading past the end yields zeros
 * (a parameter) or fewer bytes (the payload), never an error: every byte string is an input.
 *
 * Encoding, for generators (fuzz/gen_seeds.py): parameters are taken one after the other from the
 * end; a k-byte parameter is little-endian in the order it is taken, i.e. it is stored big-endian
 * just before the parameters taken earlier. A file is therefore
 *     payload || param_n || ... || param_2 || param_1        (param_i big-endian)
 * where param_1 is the first one read. */
#ifndef QMAR_FUZZ_BYTE_READER_H
#define QMAR_FUZZ_BYTE_READER_H
#include <stddef.h>
#include <stdint.h>

/* The reader's own branches say nothing about the library: keep them out of the coverage map
 * and the comparison tracing, which would otherwise cost a good share of every execution. */
#if defined(__clang__)
#define FZ_FN static inline __attribute__((no_sanitize("coverage")))
#else
#define FZ_FN static inline
#endif

typedef struct fz_reader {
    const uint8_t *data;
    size_t head; /* next payload byte */
    size_t tail; /* one past the next parameter byte (parameters are taken from tail - 1 down) */
} fz_reader;

FZ_FN fz_reader fz_init(const uint8_t *data, size_t size)
{
    fz_reader r = {data, 0, size};
    return r;
}

/* Bytes not yet taken from either end. */
FZ_FN size_t fz_left(const fz_reader *r)
{
    return r->tail - r->head;
}

/* A k-byte unsigned parameter (k <= 8); missing bytes read as 0. */
FZ_FN uint64_t fz_uint(fz_reader *r, int k)
{
    uint64_t v = 0;
    for (int i = 0; i < k && r->tail > r->head; i++)
        v |= (uint64_t)r->data[--r->tail] << (8 * i);
    return v;
}

FZ_FN uint8_t fz_u8(fz_reader *r) { return (uint8_t)fz_uint(r, 1); }
FZ_FN uint16_t fz_u16(fz_reader *r) { return (uint16_t)fz_uint(r, 2); }
FZ_FN uint32_t fz_u32(fz_reader *r) { return (uint32_t)fz_uint(r, 4); }
FZ_FN uint64_t fz_u64(fz_reader *r) { return fz_uint(r, 8); }

/* One of n choices (n >= 1), from one byte. */
FZ_FN uint32_t fz_pick(fz_reader *r, uint32_t n)
{
    return (uint32_t)fz_u8(r) % n;
}

/* Values that sit on the limits of the spec (validation.md "element limit", S2, L6): one byte
 * reaches each of them, so the fuzzer does not have to guess 8 bytes to hit a boundary. */
#define FZ_NSPECIAL 16
static const int64_t fz_specials[FZ_NSPECIAL] = {
    INT64_C(2147483647),         INT64_C(2147483648),     INT64_C(4294967296),
    INT64_C(8589934592),         INT64_C(8589934593),     INT64_C(140737488355328),
    INT64_C(281474976710656),    INT64_C(281474976710657), INT64_MAX,
    INT64_MIN,                   INT64_C(65535),          INT64_C(65536),
    INT64_C(32768),              INT64_C(16777216),       INT64_C(4611686018427387904),
    INT64_C(-2147483648)};

/* A variable-length int64 (dims, strides, offsets, attribute values). First byte t:
 *   0x00-0x7F  t itself                  0x80-0x8F  a 2-byte unsigned value follows
 *   0x90-0x9F  a 4-byte unsigned value   0xA0-0xAF  an 8-byte two's-complement value
 *   0xB0-0xBF  -(t - 0xAF), i.e. -1..-16 0xC0-0xFF  fz_specials[(t - 0xC0) % 16]        */
FZ_FN int64_t fz_i64v_tagged(fz_reader *r, uint8_t t)
{
    if (t < 0x80)
        return t;
    if (t < 0x90)
        return (int64_t)fz_u16(r);
    if (t < 0xA0)
        return (int64_t)fz_u32(r);
    if (t < 0xB0)
        return (int64_t)fz_u64(r); /* implementation-defined for >= 2^63: two's complement */
    if (t < 0xC0)
        return -(int64_t)(t - 0xAF);
    return fz_specials[(t - 0xC0) % FZ_NSPECIAL];
}

FZ_FN int64_t fz_i64v(fz_reader *r)
{
    return fz_i64v_tagged(r, fz_u8(r));
}

/* Up to n payload bytes from the head; *got says how many there were. */
FZ_FN const uint8_t *fz_bytes(fz_reader *r, size_t n, size_t *got)
{
    size_t avail = fz_left(r);
    const uint8_t *p = r->data + r->head;
    *got = n < avail ? n : avail;
    r->head += *got;
    return p;
}

/* splitmix64: fills what the payload does not provide, deterministically from a seed. */
FZ_FN uint64_t fz_mix(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15u);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9u;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBu;
    return z ^ (z >> 31);
}

/* k payload bytes as a little-endian value, or the generator's next value when the payload is
 * used up. */
FZ_FN uint64_t fz_payload_or_mix(fz_reader *r, int k, uint64_t *state)
{
    size_t got;
    const uint8_t *p = fz_bytes(r, (size_t)k, &got);
    uint64_t v = fz_mix(state);
    for (size_t i = 0; i < got; i++)
        v = (v & ~((uint64_t)0xFF << (8 * i))) | ((uint64_t)p[i] << (8 * i));
    return v;
}
#endif
