"""The `scanner` command line. Each module here adds its commands with `register(app)`."""
