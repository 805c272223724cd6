"""Analysis: the pandas API, the export, and the import of earlier years."""
