"""The form: the contract between its writer and its readers, and the writer."""
