"""The enum values the simulator emits, taken from Twilio's OpenAPI spec of the
2010-04-01 API (``twilio-oai/twilio_api_v2010.json``, ``components.schemas``), so the
simulator answers to Twilio and imports none of the client code it serves.

The order of each tuple is the spec's; the generators store indexes into these tuples.
"""

from __future__ import annotations

__all__ = ["CALL_STATUS", "MESSAGE_STATUS", "MESSAGE_DIRECTION", "RECORDING_SOURCE",
           "USAGE_SUBRESOURCES"]

#: ``call_enum_status``
CALL_STATUS = ("queued", "ringing", "in-progress", "completed", "busy", "failed",
               "no-answer", "canceled")
#: ``message_enum_status``
MESSAGE_STATUS = ("queued", "sending", "sent", "failed", "delivered", "undelivered",
                  "receiving", "received", "accepted", "scheduled", "read",
                  "partially_delivered", "canceled")
#: ``message_enum_direction``
MESSAGE_DIRECTION = ("inbound", "outbound-api", "outbound-call", "outbound-reply")
#: ``recording_enum_source``
RECORDING_SOURCE = ("DialVerb", "Conference", "OutboundAPI", "Trunking", "RecordVerb",
                    "StartCallRecordingAPI", "StartConferenceRecordingAPI")
#: Usage Records subresources -> URL segment, from the spec's paths
#: ``/2010-04-01/Accounts/{AccountSid}/Usage/Records/<Segment>.json``.
USAGE_SUBRESOURCES: dict[str, str] = {
    "daily": "Daily", "monthly": "Monthly", "yearly": "Yearly", "all_time": "AllTime",
    "today": "Today", "yesterday": "Yesterday", "this_month": "ThisMonth",
    "last_month": "LastMonth",
}
