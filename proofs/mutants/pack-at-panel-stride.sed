# unit: pack
# functions: at
# expect: typed_cast_at_ensures
# select: @ensures
# mutation: the panel stride is one group longer than kp * nr (each panel's elements shifted past where the size formula puts them)
s|    return (j / f->nr) \* kp \* f->nr + |    return (j / f->nr) * (kp + f->group) * f->nr + |
