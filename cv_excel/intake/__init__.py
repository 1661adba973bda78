"""Intake of the returned workbooks: archive, staged checks, reports, annotated copies.

flatten (read by names) → one check per concern (file, workbook, tamper, values,
cross) → findings as data → a status per file; nothing is lost, nothing is
modified: every received file is archived by its SHA-256 first.
"""
