"""OpenModels Gallery: discover demo folders and serve them as one Gradio app."""

__version__ = "0.1.0"
