"""The pure core: text, tokens and arrays in, values out; no I/O, no other layer."""
