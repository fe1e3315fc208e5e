#!/usr/bin/env python3
"""A scripted SMTP sink for herald's email tests, built on aiosmtpd (pip install aiosmtpd).

Every accepted message is parsed with Python's email package and written to --dir as one JSON
file: envelope (mailFrom, rcptTos) and decoded headers and bodies (from, to, subject,
contentType, text, html, messageId, and every header by name). Recipients named with --reject are refused at RCPT with
550, those named with --tempfail with 451.

    python3 scripts/smtp-sink.py --port 2525 --dir /tmp/mails --reject nobody@example.com
"""

import argparse
import asyncio
import email
import json
import os
import sys
import uuid
from email import policy

try:
    from aiosmtpd.smtp import SMTP
except ImportError:
    sys.exit("smtp-sink: aiosmtpd is not installed; run `python3 -m pip install aiosmtpd`")


class Sink:
    def __init__(self, outdir, reject, tempfail):
        self.outdir = outdir
        self.reject = {a.lower() for a in reject}
        self.tempfail = {a.lower() for a in tempfail}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            return f"550 5.1.1 <{address}>: mailbox unavailable"
        if address.lower() in self.tempfail:
            return f"451 4.3.0 <{address}>: try again later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=policy.default)
        text = html = None
        for part in msg.walk():
            if part.is_multipart():
                continue
            kind = part.get_content_type()
            if kind == "text/plain" and text is None:
                text = part.get_content()
            elif kind == "text/html" and html is None:
                html = part.get_content()
        queue_id = uuid.uuid4().hex[:12]
        record = {
            "queueId": queue_id,
            "mailFrom": envelope.mail_from,
            "rcptTos": envelope.rcpt_tos,
            "from": str(msg["From"]),
            "to": str(msg["To"]),
            "subject": str(msg["Subject"]),
            "messageId": str(msg["Message-ID"]),
            "contentType": msg.get_content_type(),
            "text": text,
            "html": html,
            "headers": {name: str(value) for name, value in msg.items()},
        }
        tmp = os.path.join(self.outdir, f".{queue_id}.tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
        os.replace(tmp, os.path.join(self.outdir, f"{queue_id}.json"))
        return f"250 2.0.0 Ok: queued as {queue_id}"


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--dir", required=True, help="where received messages are written")
    parser.add_argument("--reject", action="append", default=[], help="answer RCPT TO with 550")
    parser.add_argument("--tempfail", action="append", default=[], help="answer RCPT TO with 451")
    args = parser.parse_args()
    os.makedirs(args.dir, exist_ok=True)
    handler = Sink(args.dir, args.reject, args.tempfail)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="herald-sink", enable_SMTPUTF8=True), args.host, args.port
    )
    print(f"smtp-sink listening on {args.host}:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
