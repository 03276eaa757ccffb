"""``python -m twilio_frames`` runs the command-line interface."""

from twilio_frames.cli.main import main

raise SystemExit(main())
