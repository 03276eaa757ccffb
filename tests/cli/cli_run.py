"""Run the CLI in-process, as the CLI tests do."""

from twilio_frames.cli.main import main


def run(capsys, *argv):
    """``main(argv)`` -> (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
