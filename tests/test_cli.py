"""The command line: French output, exit codes, --dossier everywhere."""

import json

from typer.testing import CliRunner

from cv_excel.cli import app
from cv_excel.config import write_config

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


def test_referentiel_export_json_is_one_object(tmp_path):
    write_config(tmp_path)
    result = run("referentiel", "export", "--format", "json", "--dossier", str(tmp_path))
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert len(data["objectifs_operationnels"]) == 53
    assert len(data["objectifs_strategiques"]) == 18
    assert len(data["piliers"]) == 4


def test_referentiel_prints_the_tree(tmp_path):
    write_config(tmp_path)
    result = run("referentiel", "--dossier", str(tmp_path))
    assert result.exit_code == 0
    assert "A111" in result.stdout and "T132" in result.stdout


def test_referentiel_export_xlsx(tmp_path):
    write_config(tmp_path)
    out = tmp_path / "ref.xlsx"
    result = run("referentiel", "export", "--format", "xlsx", "--sortie", str(out),
                 "--dossier", str(tmp_path))
    assert result.exit_code == 0 and out.exists()


def test_demo_then_verify_its_programmation(tmp_path):
    demo = tmp_path / "demo"
    result = run("demo", "--dossier", str(demo), "--sans-pdf")
    assert result.exit_code == 0, result.stdout
    assert "fictives" in result.stdout and "objectifs opérationnels" in result.stdout
    prog = demo / "programmation" / "Programmation 2019.xlsx"
    result = run("programmation", "verifier", str(prog), "--dossier", str(demo))
    assert result.exit_code == 0, result.stdout
    assert "Programmation valide" in result.stdout


def test_verify_reports_errors_with_row_and_column_and_exit_1(tmp_path):
    from openpyxl import load_workbook

    demo = tmp_path / "demo"
    run("demo", "--dossier", str(demo), "--sans-pdf")
    src = demo / "programmation" / "Programmation 2019.xlsx"
    wb = load_workbook(src)
    ws = wb["Programmation"]
    header = [c.value for c in ws[1]]
    col = header.index("Objectif opérationnel") + 1
    ws.cell(row=3, column=col, value="Z999")
    bad = tmp_path / "bad.xlsx"
    wb.save(bad)
    result = run("programmation", "verifier", str(bad), "--dossier", str(demo))
    assert result.exit_code == 1
    assert "Ligne 3" in result.stdout and "Objectif opérationnel" in result.stdout
    assert "Z999" in result.stdout


def test_modele_and_init(tmp_path):
    result = run("init", "--dossier", str(tmp_path), "--annee", "2020")
    assert result.exit_code == 0
    assert (tmp_path / "programmation" / "Programmation 2020.xlsx").exists()
    assert (tmp_path / "referents.xlsx").exists()
    result = run("programmation", "modele", "--dossier", str(tmp_path))
    assert result.exit_code == 2  # never overwrites the Direction's file
    out = tmp_path / "autre.xlsx"
    assert run("programmation", "modele", "--dossier", str(tmp_path), "--sortie",
               str(out)).exit_code == 0
    assert out.exists()


def test_bad_configuration_exits_2_in_french(tmp_path):
    (tmp_path / "cv_excel.toml").write_text("annee = 'x'\n", encoding="utf-8")
    result = runner.invoke(app, ["referentiel", "--dossier", str(tmp_path)])
    assert result.exit_code == 2
    assert "un nombre entier est attendu" in result.output


def test_missing_file_exits_2(tmp_path):
    write_config(tmp_path)
    result = runner.invoke(app, ["programmation", "verifier", str(tmp_path / "absent.xlsx"),
                                 "--dossier", str(tmp_path)])
    assert result.exit_code == 2
    assert "introuvable" in result.output


def test_version():
    assert run("--version").stdout.startswith("cv-excel ")


def test_commands_wait_for_the_batch_and_say_the_folder_is_busy(tmp_path):
    from cv_excel.batch.lock import verrou

    run("init", "--dossier", str(tmp_path))
    with verrou(tmp_path, attente=0):
        result = runner.invoke(app, ["consolider", "--dossier", str(tmp_path)],
                               env={"CV_EXCEL_ATTENTE_VERROU": "0"})
    assert result.exit_code == 3, result.output
    assert "occupé" in result.output


def test_traiter_and_console_commands(tmp_path):
    demo = tmp_path / "demo"
    result = run("demo", "--dossier", str(demo))  # LibreOffice here: the packs in PDF too
    assert "Revue 2 : tableaux de bord et packs COPIL" in result.output
    revue2 = demo / "sorties" / "2019" / "Revue 2"
    assert len(list(revue2.glob("Pack COPIL 2019 revue 2 - Pilier *.pdf"))) == 4
    result = runner.invoke(app, ["traiter", "--dossier", str(demo)])
    assert result.exit_code == 0, result.output
    assert "Rien de nouveau" in result.output  # the PDFs built by the demo count as done
    result = run("console", "--sortie", str(tmp_path / "console"))
    assert result.exit_code == 0
    assert (tmp_path / "console" / "Pilotage_contrat_de_ville.xlsm").exists()
