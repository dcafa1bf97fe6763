"""``python -m koeeo_match`` runs the command line."""

from .cli import script

script()
