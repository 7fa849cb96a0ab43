"""HTTP translation of the backend, one module per API area (thin: parse, call, render)."""
