"""Decoding of uploaded media (audio, images): format by content, size limits before decoding.

Part of the core: every front end's inputs pass through it (gallery.inputs). Demos use it too.
"""
