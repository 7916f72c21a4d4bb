# unit: validate
# functions: qmar__validate
# expect: typed_qmar_validate_rejected_ensures
# select: @ensures
# mutation: the top-level validator never runs the A checks (stream_mode 0 is accepted)
s/r = check_attributes(call);/r = passed();/
