"""The store and the officer's decisions: the embedded SQLite file every stage leaves its work in, and what is derived from it."""
