"""Collect: the inbox, the pre-parse checks, reading, validation, storing and the feedback to each unit."""
