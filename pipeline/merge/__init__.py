"""Merge: the district's figures against the targets, and the consolidated workbook."""
