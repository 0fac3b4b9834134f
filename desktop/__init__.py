"""Quotagate's Qt desktop: tray, windows, and the bootstrap that runs core services on a qasync loop."""
