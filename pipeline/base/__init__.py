"""What every stage shares: errors, text, files, the problem table, the output guard, worker processes."""
