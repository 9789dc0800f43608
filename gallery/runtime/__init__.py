"""Model runtime: turn a model spec into a loaded model on the hardware at hand."""
