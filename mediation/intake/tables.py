"""Tables of the intake domain."""
