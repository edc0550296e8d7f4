"""Layers, losses and the differentiable ops they are made of (import the modules directly)."""
