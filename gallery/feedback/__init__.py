"""User feedback on demos: a durable store (SQLite or PostgreSQL), its JSON endpoint, its UI control and its CLI export."""

from gallery.feedback.store import (
    FEEDBACK_FILE,
    Feedback,
    FeedbackError,
    FeedbackStore,
    FeedbackStoreError,
    default_data_dir,
)

__all__ = ["FEEDBACK_FILE", "Feedback", "FeedbackError", "FeedbackStore", "FeedbackStoreError", "default_data_dir"]
