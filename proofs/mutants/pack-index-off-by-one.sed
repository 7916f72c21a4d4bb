# unit: pack
# functions: at
# expect: typed_cast_at_ensures
# select: @ensures
# mutation: the element offset is one byte too far (row t % group + 1 of the group: the last row of each group lands on the next column's first)
s|^           t % f->group;$|           t % f->group + 1;|
