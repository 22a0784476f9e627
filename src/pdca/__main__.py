from pdca.cli.main import main

main()
