"""The statuses of a received file, shared by intake (which decides them), the store (which
records them) and the consolidation (which counts them): a neutral module, so that none of
them imports another for four words."""

from __future__ import annotations

ACCEPTE = "accepté"
ACCEPTE_AVERTISSEMENTS = "accepté avec avertissements"
REJETE = "rejeté"
DOUBLON = "doublon"
ECARTE = "écarté"  # an entry of the inbox that is not a file to process
ACCEPTES = (ACCEPTE, ACCEPTE_AVERTISSEMENTS)
