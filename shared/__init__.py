"""Helpers that several demos share (few-shot heads, audio, images, de-identification)."""
