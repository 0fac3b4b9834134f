"""Translation catalogues: one module per language, each a dict from English source text to its translation."""
