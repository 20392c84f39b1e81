"""Interfaces to the engine: the command line (Typer) and the web side. No rule lives here."""
