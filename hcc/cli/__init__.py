"""The command line: ``python -m hcc analyze | report`` (main), shared options (common), reports (report)."""
