"""Reusable widgets for the settings window's pages (no business logic: they show what they are given)."""
