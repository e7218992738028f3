#!/usr/bin/env python3
"""Fifth PII probe round (issue 14): long informal text, our own texts.

Pasted Slack / Teams threads, support-ticket histories, e-mail chains and chat exports of
0.6-2 KB each (``--joined``: all of a batch pasted as one 7-10 KB prompt). In each text
``[[value]]`` marks personal data that must not be forwarded upstream and
``{{value}}`` a look-alike (an everyday word that is also a name, a product, an order number, a
date, a place that is no address) that must be forwarded as written; the markers are removed
before the text is sent. Batch A was written before any fix and tuned on; batch B
(pii_long_probes_b.py) was written after the code was frozen and measured once.

A gold value leaks when it is still in the forwarded text as a whole word (more often than it
is also a look-alike there); a look-alike is masked when it occurs fewer times than it was sent.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python scripts/pii_long_probes.py [--batch A|B] [--show]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

_MARK = re.compile(r"\[\[(.+?)\]\]|\{\{(.+?)\}\}")


def parse(marked: str) -> tuple[str, list[str], list[str]]:
    """The text as sent, its gold values and its look-alikes."""
    gold, keep = [], []
    for m in _MARK.finditer(marked):
        (gold if m.group(1) else keep).append(m.group(1) or m.group(2))
    return _MARK.sub(lambda m: m.group(1) or m.group(2), marked), gold, keep


def _count(v: str, text: str) -> int:
    return len(re.findall(r"(?<![\w@.])" + re.escape(v) + r"(?![\w@])", text))


async def measure(texts: list[str], show: bool = False) -> dict:
    from seawall.guard import Guard, GuardPolicy

    guard, policy = Guard(), GuardPolicy()
    gold_n = leaked = keep_n = masked = 0
    size = 0
    for marked in texts:
        text, gold, keep = parse(marked)
        size += len(text)
        d = await guard.check_input({"model": "m", "messages": [{"role": "user", "content": text}]}, policy)
        fw = None if not d.allowed or d.request is None else d.request["messages"][0]["content"]
        for g in dict.fromkeys(gold):
            gold_n += 1
            if fw is not None and _count(g, fw) > keep.count(g):
                leaked += 1
                if show:
                    print(f"LEAK  {g!r}  ({text[:50]!r}...)")
        for k in dict.fromkeys(keep):
            keep_n += 1
            if fw is None or _count(k, fw) < _count(k, text) - gold.count(k):
                masked += 1
                if show:
                    i = text.find(k)
                    print(f"MASK  {k!r}  near {text[max(0, i - 40):i + 40]!r}")
    return {"texts": len(texts), "kb": size / 1024, "gold": gold_n, "leaked": leaked, "keep": keep_n, "masked": masked}


def report(name: str, r: dict) -> str:
    return (f"batch {name}: {r['texts']} texts ({r['kb']:.1f} KB), leaked {r['leaked']}/{r['gold']} "
            f"({100 * r['leaked'] / max(1, r['gold']):.1f} %); look-alikes masked {r['masked']}/{r['keep']}")


# ------------------------------------------------------------------ batch A (written before any fix)
A_TEXTS: list[str] = [
# 1. a Slack incident thread, pasted with its display names and times
"""can you summarise this thread for the postmortem doc?

[[priya]]  9:02 AM
morning all, checkout latency is spiking again on {{eu-west-1}}. anyone looking?
[[dmitri.volkov]]  9:04 AM
yeah on it. looks like the same thing as {{INC-4471}} last {{may}}, the connection pool is pinned at 200
[[priya]]  9:05 AM
ok. @[[tomasz.wrobel]] can you pull the grafana board for {{payments-api}}?
[[tomasz.wrobel]]  9:09 AM
here you go. p99 went from 180ms to 2.4s at 08:51. {{will}} dig into the deploy log
[[dmitri.volkov]]  9:11 AM
deploy {{v2.31.4}} went out at 08:47, that lines up. {{mark}} it as suspect
[[priya]]  9:12 AM
rolling back. this is [[priya]] btw for anyone joining late, i'm IC on this one
[[kwame.asante]]  9:15 AM
joining. i'm [[kwame]], on call for the db side. replica lag is fine, primary cpu 40%
[[tomasz.wrobel]]  9:20 AM
rollback done, p99 back to 210ms. {{order 55120}} from the alert was a retry storm, not real traffic
[[priya]]  9:22 AM
nice. ping [[olamide]] when she is in, she owns the pool config
[[kwame.asante]]  9:24 AM
will do. we should also check the {{summer}} sale config, the pool size was bumped for it
[[dmitri.volkov]]  9:31 AM
found it: {{PR #8812}} set max_idle to 0. reverting. {{grace}} period on the breaker was also 0s
[[olamide.bankole]]  9:58 AM
sorry, just saw this. yes that was my change for the {{black friday}} test, should never have hit prod. my bad
[[priya]]  10:03 AM
no worries. can you write the fix up? thanks,
[[priya]]
[[olamide.bankole]]  10:05 AM
on it. - [[ola]]
""",
# 2. a support-ticket history, several customer and agent messages
"""Ticket {{#448213}} - "parcel not delivered" - history below, please draft a reply

--- customer, 3 {{march}} 14:12
hi, my order {{ORD-99120-B}} says delivered but nothing came. i'm [[jamal price]] and i live at [[14 harrow close]], leeds [[ls6 2qq]]. the tracking number is {{JD0001223344}}.

--- agent [[bethany]], 3 {{march}} 15:40
Hi Jamal, sorry to hear that. I've opened a trace with the courier. Could you confirm the delivery address? Kind regards, Bethany

--- customer, 3 {{march}} 16:02
yes thats right, [[14 harrow close]]. my neighbour at number 16 didnt get it either. my mobile is [[07700 900318]] if the driver needs to call
thanks
[[jamal]]

--- agent [[marcus]], 4 {{march}} 09:15
Hello, the courier says it was left at "{{porch}}". We will send a replacement within 3 working days. This is marcus from the returns team, i'll keep the ticket open.
- [[marcus]]

--- customer, 6 {{march}} 11:47
still nothing. honestly this is the second time, the last one ({{ORD-98841}}) also went missing. can you send it to my work instead: [[unit 4, 22 canal street]], [[m1 3he]]. ask for [[jamal price]] at reception
cheers - [[jamal]]

--- agent [[bethany]], 6 {{march}} 12:30
Replacement {{ORD-99388}} booked to the new address, arriving {{friday}}. Sorry again for the trouble.

--- customer, 9 {{march}} 10:05
got it, thanks [[bethany]]. all sorted.
""",
# 3. an e-mail chain quoted inline, lower-case sign-offs in the middle of the text
"""please turn this email chain into a short status update for the client

From: Hanna Lindqvist <[[hanna.lindqvist@norvik-consult.se]]>
Sent: Tuesday, 11 {{June}} 2024 08:14
Subject: RE: {{Q3}} rollout

hi all, the {{Sage}} export is done for the {{Malmo}} office. the {{Jasper}} reports still break on the old template. can we move the review to thursday?
thanks
[[hanna]]

From: [[Rafael Mendes]] <[[r.mendes@norvik-consult.se]]>
Sent: Monday, 10 {{June}} 2024 17:40

sure, thursday works. i'll ask [[chiara]] to join, she built the original template. my number if anything comes up: [[+46 70 412 88 19]]
- [[rafa]]

From: Hanna Lindqvist
Sent: Monday, 10 {{June}} 2024 16:02

quick one: the invoice {{INV-2024-0617}} from the {{Ruby}} migration is still open, {{bill}} said finance needs it by the 14th. can you chase?
regards, [[hanna]]

From: [[chiara.esposito@norvik-consult.se]]
Sent: Monday, 10 {{June}} 2024 15:20

hey, the template lives in the shared drive under {{/reports/2023/final}}. i won't be in on wednesday (dentist), but thursday is fine.
ciao
[[chiara]]

From: [[Rafael Mendes]]
Sent: Monday, 10 {{June}} 2024 11:05

team, kicking off the {{Q3}} rollout. three offices: {{Malmo}}, {{Oslo}}, {{Aarhus}}. I'll send the plan by {{Friday}}. cheers
[[rafa]]
""",
# 4. a chat export (WhatsApp style) from a small landlord, lower-case names everywhere
"""can you pull out every repair request from this group chat export into a table (flat, issue, date)?

[02/04/2024, 19:02] [[sophie]]: hi its [[sophie]] from flat 2, the boiler is making that noise again
[02/04/2024, 19:05] [[dev]]: i'll call the plumber tomorrow. {{may}} take a few days
[02/04/2024, 19:06] [[sophie]]: thanks! also the hallway light is out
[03/04/2024, 08:30] [[tariq]]: morning, tariq here from flat 5. there is water coming through my ceiling, i think its from flat 6
[03/04/2024, 08:41] [[dev]]: on my way. whoever is in flat 6 please let me in
[03/04/2024, 08:43] [[ines]]: that's me, i'm [[ines]], new tenant in 6. door is open
[03/04/2024, 09:15] [[dev]]: found it, the washing machine hose. plumber coming at 2
[03/04/2024, 09:20] [[tariq]]: great thanks [[dev]]
[05/04/2024, 17:48] [[sophie]]: boiler still bad. the engineer said part number {{BX-2290}} needs ordering
[05/04/2024, 17:50] [[dev]]: ordered, arrives {{monday}}
[08/04/2024, 12:02] [[marguerite]]: hello, my name is [[marguerite]], flat 1. my post keeps going to [[5 ash grove]] instead of [[3 ash grove]]. is that the building next door?
[08/04/2024, 12:10] [[dev]]: yes its the house across the road, ive told the postman before
[08/04/2024, 12:11] [[marguerite]]: ok thanks
[10/04/2024, 21:33] [[tariq]]: ceiling has a brown stain now, will it be painted?
[10/04/2024, 21:40] [[dev]]: yes next week, decorator is booked for {{the 17th}}
[12/04/2024, 10:05] [[ines]]: the {{frank}} answer is i'd rather not have anyone in before 10, i work nights
[12/04/2024, 10:07] [[dev]]: noted [[ines]]
[15/04/2024, 18:22] [[sophie]]: boiler fixed!! thank you
""",
# 5. a Teams thread about an HR onboarding, names in lower case, handles
"""summarise the open onboarding items from this Teams chat

[[Lena Brandt]] 10:14
new starters for {{monday}}: [[joaquin]] (backend), [[mei]] (design). accounts please
[[Lena Brandt]] 10:15
joaquin's personal email for the welcome pack: [[joaquin.r.ortega@gmail.com]]
IT Helpdesk 10:31
created. user is [[j.ortega]] and user is [[m.tanaka]] for mei, temp passwords sent by sms
[[Lena Brandt]] 10:33
thanks! mei asked for a standing desk, she's at [[9 kingfisher way]] for the first month if the laptop ships to home
IT Helpdesk 10:40
laptop {{SN-5CD1234XYZ}} is booked for [[9 kingfisher way]], {{swindon}} [[sn2 7bd]]
[[Lena Brandt]] 10:41
perfect. joaquin is remote from {{valencia}}, ship to office for him
IT Helpdesk 10:45
ok. {{Jira}} access for both? the {{Confluence}} space is {{ENG}}
[[Lena Brandt]] 10:46
yes both. and cc [[mateus]] on the jira ticket, he's the buddy for joaquin
IT Helpdesk 10:52
done, ticket {{HD-30912}}. anything else?
[[Lena Brandt]] 10:53
no thats all, cheers
- [[lena]]
""",
# 6. a long customer complaint e-mail, one block, lower case throughout
"""draft a polite reply to this complaint:

hello, i am writing about my order {{#A-20931}} placed on {{the 2nd of may}}. it was meant to be a birthday present for my son and it arrived broken. the box had been opened and taped back up. i called your helpline twice (reference {{CR-88417}} and {{CR-88502}}) and was promised a call back both times but nobody called. i have been a customer for {{six years}} and never had an issue before. i would like a full refund to the original card, not store credit. i also want to know why the courier left it outside in the rain at [[27 bellfield crescent]], it says on the order to leave with neighbour at [[29 bellfield crescent]] if out. the {{summer}} collection {{mug}} was {{£24.99}} and the delivery {{£4.95}}. you can reach me on [[07911 456 032]] between 9 and 5, or at [[nkemi.adeyemi@btinternet.com]]. my husband [[chidi]] will be home on thursday if you want to collect the broken one. the postcode is [[ox4 1ug]], the driver got lost last time. i really hope this can be sorted quickly because i have another order pending ({{#A-21007}}) and i will cancel it if this isn't resolved. i am also going to leave a review on {{trustpilot}} once i hear back. i have attached photos of the box and the {{mug}}. the damage is clear, the handle snapped off and there is a crack down the side. i don't understand how this passed your checks. the packaging was just a thin paper bag inside a box with no padding at all. i have bought from {{marks and spencer}} and {{john lewis}} and never had packaging like this. anyway, i look forward to your reply. please don't send another automated email. regards
[[nkemi adeyemi]]
""",
# 7. look-alikes only: a product team's thread full of words that are also names
"""can you turn this into release notes?

release captain: 10:02
ok so {{v4.12}} is cut. highlights: the {{Jasper}} report builder got the new grid, the {{Sage}} connector handles {{Intacct}} tenants, and the {{Ruby}} SDK is at {{3.1}}
release captain: 10:04
known issues: {{ticket 4412}} (export to {{Excel}} drops the {{summer}} theme), {{ticket 4419}}
qa lead: 10:06
i {{will}} sign off after the smoke tests. {{mark}} {{ticket 4419}} as wontfix, it's cosmetic
release captain: 10:07
ok. {{grace}} period for the old API is {{90 days}}, ends {{june 30}}
qa lead: 10:10
also the {{hunter}} green palette is back in {{dark mode}}
release captain: 10:12
right. {{bill}} of materials for the on-prem installer updated, {{order 22871}} for the new license server
qa lead: 10:20
the {{jordan}} and {{victoria}} regions get it first ({{victoria}} is the australian dc), then the rest {{may 14}}
release captain: 10:21
and the {{amber}} alerts in the dashboard were renamed to warnings
qa lead: 10:30
{{5 ash}} trees were planted for the sustainability page, lol, marketing wants it in the notes too
release captain: 10:32
sure. {{12 oak}} desks ordered for the new office as well, but that's not for the notes
qa lead: 10:33
ok thanks, ship it
release captain: 10:34
shipped. thanks all - {{release captain}}
""",
# 8. a long ticket from an internal IT queue with sshd and app logs pasted in
"""user says they cannot get into the vpn since the password change, log below. what's wrong?

reported by: [[femi okonjo]] (ext 4412)
---
hi, its [[femi]]. i changed my password on {{monday}} and since then the vpn client says auth failed. the laptop is {{LT-00912}}. my username is [[fokonjo]]. i tried on my phone too. could someone look? my desk is on floor 3, room {{3.14}}
---
Mar 11 09:14:02 vpn01 sshd[2231]: Failed password for [[fokonjo]] from 10.22.4.17 port 51234 ssh2
Mar 11 09:14:09 vpn01 sshd[2231]: Failed password for [[fokonjo]] from 10.22.4.17 port 51234 ssh2
Mar 11 09:15:40 vpn01 radiusd[880]: Login incorrect: [[fokonjo]] (via {{TLS}} tunnel)
Mar 11 09:16:02 vpn01 app[311]: level=warn msg="mfa push timeout" user=[[fokonjo]] device={{iPhone}}
Mar 11 09:20:11 vpn01 app[311]: level=info msg="password age" user=[[fokonjo]] days=0
---
second-line note (by [[ade]]): ldap shows pwdLastSet {{monday 08:02}}, the radius cache holds the old hash for 24h. asked [[fokonjo]] to wait or we flush. cc @[[grace.ibekwe]] who owns radius
---
[[femi]] again: ok ill wait till tomorrow. thanks [[ade]]
""",
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="A", choices=("A", "B"))
    ap.add_argument("--show", action="store_true")
    ap.add_argument("--joined", action="store_true", help="all texts of the batch pasted as one prompt")
    a = ap.parse_args()
    if a.batch == "A":
        texts = A_TEXTS
    else:
        from pii_long_probes_b import B_TEXTS
        texts = B_TEXTS
    if a.joined:  # one long paste: "here is everything from today's queue"
        texts = ["go through everything below and list the open items:\n\n" + "\n\n=====\n\n".join(texts)]
    print(report(a.batch + (" joined" if a.joined else ""), asyncio.run(measure(texts, a.show))))


if __name__ == "__main__":
    main()
