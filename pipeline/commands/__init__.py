"""The `treem` commands, by the part of the year they serve (cycle, officer, analysis), and
what they share (common: options, errors, output helpers; language: click's messages in
Vietnamese). Each command module lists its plain click commands in COMMANDS; pipeline.cli
imports the modules and adds those commands to its group. Nothing here imports pipeline.cli."""
