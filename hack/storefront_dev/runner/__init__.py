"""`make up`: the whole platform on one port, each service its own process behind a small gateway."""
