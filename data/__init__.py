"""Data shipped with twilio-frames (installed as ``twilio_frames.data``): see README.md here."""
