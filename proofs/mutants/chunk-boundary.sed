# unit: chunk
# functions: qmar__chunk
# expect: typed_qmar_chunk_ensures
# select: @ensures
# mutation: a chunk ends one row past the next chunk's start (that row reduced twice)
s|\*hi = m \* (r + 1) / size;|*hi = m * (r + 1) / size + 1;|
