# unit: pack
# functions: src_offset
# expect: typed_cast_src_offset_ensures
# select: @ensures
# mutation: the element loop of qmar__pack_b_rect reads column j of x2's rectangle at j instead of j - j0 (forgets where the rectangle starts: reads past it for any j0 > 0)
s|    int64_t dt = t - r->t0, dj = j - r->j0;|    int64_t dt = t - r->t0, dj = j;|
