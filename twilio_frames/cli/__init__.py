"""The command line: a thin skin that parses options, calls the library and renders."""
