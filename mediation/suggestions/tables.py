"""Tables of the suggestions domain."""
