"""The message catalogue: every entry renders, French, with a hint."""

import pytest

from cv_excel.findings import Report, Severity, make_finding
from cv_excel.messages import CATALOGUE, render


@pytest.mark.parametrize("code", sorted(CATALOGUE))
def test_every_entry_renders_with_its_placeholders(code):
    entry = CATALOGUE[code]
    context = {name: f"<{name}>" for name in entry.placeholders()}
    message, hint, severity = render(code, **context)
    assert "?" not in message.replace(" ?", "")  # every placeholder was filled
    assert "{" not in message and "{" not in hint
    assert message.endswith(".") and (message[0].isupper() or message[0] == "«")
    assert hint, f"{code} has no hint"
    assert severity in {s.value for s in Severity}


def test_codes_are_namespaced_and_unique():
    prefixes = {"PROG", "REF", "TPL", "FIC", "CLS", "MOD", "RET", "VAL", "CTX"}
    assert all(code.split("_")[0] in prefixes for code in CATALOGUE)


def test_missing_context_does_not_crash_a_run():
    message, _, _ = render("PROG_OO_INCONNU")
    assert "« ? »" in message


def test_finding_and_report_flatten_to_french_rows():
    f = make_finding("PROG_OO_INCONNU", value="Z999", file="p.xlsx", sheet="Programmation",
                     cell="J5", row=5, column="Objectif opérationnel",
                     field="objectif_operationnel")
    assert f.severity is Severity.BLOQUANT
    assert "« Z999 »" in f.message
    assert f.where() == "Programmation!J5, colonne « Objectif opérationnel »"
    report = Report(file="p.xlsx", findings=[f])
    assert not report.valid
    (row,) = report.to_rows()
    assert row["cellule"] == "J5" and row["gravité"] == "bloquant" and row["valeur"] == "Z999"


def test_warning_only_report_is_valid():
    report = Report(findings=[make_finding("PROG_AUCUNE_ACTION")])
    assert report.valid and len(report.warnings) == 1


def test_whole_floats_shown_as_integers():
    f = make_finding("PROG_MONTANT_NEGATIF", value=-1500.0, column="Accordé – Ville d'Orly")
    assert f.value == "-1500" and "(-1500)" in f.message


def test_governance_codes_and_their_severity():
    """Issue 10: one code per concern; a revue or a level that is not the workbook's, an
    incomplete decision or an indicator value in words block; the rest warns."""
    expected = {
        "CLS_REVUE": "bloquant",
        "VAL_STRATEGIQUE_HORS_PERIMETRE": "bloquant",
        "VAL_ORIENTATION_HORS_PERIMETRE": "bloquant",
        "VAL_DECISION_NIVEAU": "bloquant",
        "VAL_DECISION_INCOMPLETE": "bloquant",
        "VAL_INDICATEUR_PAS_UN_NOMBRE": "bloquant",
        "VAL_DECISION_CLOSE_SANS_COMMENTAIRE": "avertissement",
        "VAL_DECISION_ECHEANCE_PASSEE": "avertissement",
        "VAL_INDICATEUR_NON_DISPONIBLE": "avertissement",
    }
    assert {code: CATALOGUE[code].severity for code in expected} == expected
    for code, severity in expected.items():  # a warning says the file is accepted anyway
        assert ("accepté" in CATALOGUE[code].hint) == (severity == "avertissement"), code
    # the référentiel may change after generation: such rejections are examined again
    from cv_excel.messages import CAUSE_DIRECTION

    assert {"VAL_STRATEGIQUE_HORS_PERIMETRE", "VAL_ORIENTATION_HORS_PERIMETRE"} <= \
        CAUSE_DIRECTION
    assert "CLS_REVUE" not in CAUSE_DIRECTION
