"""One module per concern; each check returns findings and never raises on bad input."""
