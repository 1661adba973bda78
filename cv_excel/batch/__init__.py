"""Unattended processing of a working folder: lock, log, the ``traiter`` batch."""
