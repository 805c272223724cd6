"""treem: the Children's Action Programme reporting pipeline."""

__version__ = "0.1.0"
