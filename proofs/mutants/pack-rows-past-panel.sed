# unit: pack
# functions: rows4
# expect: typed_cast_rows4_assert_2
# select: @assert
# mutation: rows4 copies each run of columns up to the end of the next panel instead of this one (the words of the columns after it land past this panel's groups)
s|        int64_t end = min64(jb, (j / f->nr + 1) \* f->nr); /\* the rest of this panel \*/|        int64_t end = min64(jb, (j / f->nr + 2) * f->nr); /* the rest of this panel */|
