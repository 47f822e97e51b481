"""``python -m posim``: the same as the ``posim`` command."""

from posim.cli import main

if __name__ == "__main__":
    main()
