"""Plain, frozen data read from AWS (the output of gather, the input of decide)."""
