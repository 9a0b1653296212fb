"""The e-mail backend of the reminder worker test: Django's locmem outbox (in the worker's own
memory), plus a line per message in the file ``IVIGTRACK_TEST_MAIL_LOG`` so the test process can
read what the worker sent, and one failure on demand: while the file ``IVIGTRACK_TEST_MAIL_FAIL``
names a recipient, the first send to it raises (and the file is emptied), as an SMTP outage would."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.core.mail.backends import locmem


class RecordingBackend(locmem.EmailBackend):
    def send_messages(self, messages):
        fail = Path(os.environ.get("IVIGTRACK_TEST_MAIL_FAIL", "/nonexistent"))
        failing = fail.read_text().strip() if fail.exists() else ""
        for message in messages:
            if failing and failing in message.to:
                fail.write_text("")
                raise ConnectionRefusedError(f"test SMTP refused {failing}")
        sent = super().send_messages(messages)
        with open(os.environ["IVIGTRACK_TEST_MAIL_LOG"], "a") as log:
            for message in messages:
                log.write(json.dumps({"to": message.to, "subject": message.subject}) + "\n")
        return sent
