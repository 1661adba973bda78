"""cv_excel — suivi et évaluation du contrat de ville d'Orly par classeurs Excel."""

__version__ = "0.1.0"
