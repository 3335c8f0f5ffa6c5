"""Tables of the cases domain."""
