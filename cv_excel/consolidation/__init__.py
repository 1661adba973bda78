"""Consolidation: tableaux de bord par pilier, complétude, reporting Département / État."""
