"""Checkable properties of the spec, the stateful campaigns and the conformance kit.

This package sits above :mod:`model`: it may import the model, never the reverse.
"""
