"""The `treem` commands, by the part of the year they serve. Each module registers its commands
on the one group of pipeline.cli, which imports them all."""
