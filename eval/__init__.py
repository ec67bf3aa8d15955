"""Evaluation of the assistant against a question set (imports assistant, never the reverse)."""
