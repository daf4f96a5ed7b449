"""What every figure shares."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")  # one per setting or method, in order
