"""One case, one code (一案一码): each party follows their own dispute with a code and a secret."""
