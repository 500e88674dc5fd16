from eduvault.cli import main

main()
