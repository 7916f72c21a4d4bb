# unit: pack
# functions: qmar__packed_b_bytes
# expect: typed_cast_qmar_packed_b_bytes_ensures
# select: @ensures
# mutation: the packed size pads n to the k alignment instead of the panel width nr (a buffer too short for the last panel)
s|(uint64_t)align_up(n, f->nr);|(uint64_t)align_up(n, f->kalign);|
