from cv_excel.cli import main

main()
