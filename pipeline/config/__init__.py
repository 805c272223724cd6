"""The officer's data files: the catalogue of indicators, the roster of units, the settings, and the workspace folder that holds them."""
