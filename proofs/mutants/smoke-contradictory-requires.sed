# unit: chunk
# functions: qmar__chunk
# expect: smoke
# mutation: a planted requires that contradicts another (every goal would then be proven from it)
s|    requires 0 <= r < size;|    requires 0 <= r < size;\n    requires r >= size;|
