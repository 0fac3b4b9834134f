"""Pages of the settings window, one module each."""
