"""Quotagate's headless core: store, gateway, quota engine and CLI. Never imports Qt."""

__version__ = "0.1.0"
