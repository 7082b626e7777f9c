"""Jinja templates of the simulated web (a package so that setuptools ships them as package data)."""
