#!/usr/bin/env python3
"""Fourth PII probe round (issue 14): informal chat and machine text in English, our own sentences.

Each probe is (text, gold strings that must not be forwarded upstream). Each look-alike is
(text, strings that must be forwarded as written). Batch A was written before any fix and
tuned on; batch B was written after the fixes were frozen and measured once. The measurement
(the real guard path, default policy) is the one of ``pii_probes_europe.py``.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python scripts/pii_probes_chat.py [--batch A|B] [--show]
"""
from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pii_probes_europe import measure  # noqa: E402

# ------------------------------------------------------------------ batch A (written first)
A_PROBES: list[tuple[str, list[str]]] = [
    # casual self-introductions, lower case
    ("hey its mike johnson here, cant log in again", ["mike johnson"]),
    ("this is sarah from accounts, can you reset my access", ["sarah"]),
    ("my name's priya and i need help with billing", ["priya"]),
    ("hi im david okafor, order never arrived", ["david okafor"]),
    ("hello, my name is tom baker and my card got declined", ["tom baker"]),
    ("yo it's jess. the app keeps crashing", ["jess"]),
    ("i'm lucas fernandes from the warsaw office", ["lucas fernandes"]),
    ("Hi, Emily Clarke here - quick question on my invoice", ["Emily Clarke"]),
    # sign-offs
    ("can someone check my refund?\nthanks,\nrachel", ["rachel"]),
    ("that fixed it, cheers, Dan", ["Dan"]),
    ("ok will try again later - tom", ["tom"]),  # was "tomorrow - tom": the gold matched inside "tomorrow"
    ("please call me back asap. regards tom hughes", ["tom hughes"]),
    ("Let me know.\nBest,\nNadia Petrova", ["Nadia Petrova"]),
    ("thx a lot!! - kevin o'brien", ["kevin o'brien"]),
    # @mentions and e-mail local parts
    ("@jane.doe can you approve the PR before lunch?", ["jane.doe"]),
    ("cc @mark.wilson and @s.patel on this thread", ["mark.wilson", "s.patel"]),
    ("pinging @rbrown - the deploy is blocked", ["rbrown"]),
    ("send it to john.smith@example.com please", ["john.smith@example.com"]),
    ("my email is anna_k1987@gmail.com btw", ["anna_k1987@gmail.com"]),
    ("reply to maria.gonzalez@contoso.org once done", ["maria.gonzalez@contoso.org"]),
    # casual addresses
    ("i live at 42 elm st apt 3b springfield il 62704", ["42 elm st", "3b", "62704"]),
    ("ship it to 10 downing st, london", ["10 downing st"]),
    ("new address is 1500 w market street unit 12, akron oh 44303", ["1500 w market street", "44303"]),
    ("deliver to 77 Baker Street, Flat 4, London NW1 6XE", ["77 Baker Street", "NW1 6XE"]),
    ("i moved to 305 oak ave #7 in portland", ["305 oak ave"]),
    ("pick up from 9 harbour rd, suite 210", ["9 harbour rd"]),
    ("my place is 18 maple drive, austin tx 78701, ring twice", ["18 maple drive", "78701"]),
    ("Address: 221B Baker St, London", ["221B Baker St"]),
    # casual credentials
    ("pw is hunter2", ["hunter2"]),
    ("login: mike_j / pass: Summer2024!", ["mike_j", "Summer2024!"]),
    ("username mjohnson88 and password is qwerty123", ["mjohnson88", "qwerty123"]),
    ("my password is Tr0ub4dor&3 dont tell anyone", ["Tr0ub4dor&3"]),
    ("user: admin2 pwd: P@ssw0rd!", ["admin2", "P@ssw0rd!"]),
    ("here's the api key sk-proj-9fK2mQ7xLp3Rt8vW1zY4bN6cD0eH5jA", ["sk-proj-9fK2mQ7xLp3Rt8vW1zY4bN6cD0eH5jA"]),
    ("token: ghp_4fR9kL2mQ8xP1vZ7tY3wN6bC0dH5jS2aE4gU", ["ghp_4fR9kL2mQ8xP1vZ7tY3wN6bC0dH5jS2aE4gU"]),
    ("aws key AKIAIOSFODNN7EXAMPLE secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ["AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"]),
    ("my handle is skater_girl94 on the forum", ["skater_girl94"]),
    ("the wifi password is bluefalcon77", ["bluefalcon77"]),
    # casual numbers
    ("call me on 555-867-5309 after 6", ["555-867-5309"]),
    ("my cell is (415) 555-0132", ["(415) 555-0132"]),
    ("uk mobile 07700 900461 if urgent", ["07700 900461"]),
    ("ssn 536-22-8371, dob 04/12/1986", ["536-22-8371", "04/12/1986"]),
    ("card ending... actually full number 4111 1111 1111 1111 exp 08/27 cvv 123", ["4111 1111 1111 1111"]),
    ("born 3 march 1992, im 33 years old", ["3 march 1992"]),
    ("my dob is 1990-07-15", ["1990-07-15"]),
    ("my drivers license is D1234567 (california)", ["D1234567"]),
    ("acct no 004512983321 routing 021000021", ["004512983321"]),
    ("iban GB29 NWBK 6016 1331 9268 19 for the refund", ["GB29 NWBK 6016 1331 9268 19"]),
    ("vin is 1HGCM82633A004352 for the claim", ["1HGCM82633A004352"]),
    ("plate number 7ABC123", ["7ABC123"]),
    # log lines
    ("2024-05-01T10:22:13Z INFO login ok user=jdoe ip=203.0.113.7", ["jdoe", "203.0.113.7"]),
    ("WARN auth failed for user 'kwalker' from 198.51.100.23", ["kwalker", "198.51.100.23"]),
    ("session opened for user bsmith by (uid=0) from 81.2.69.142", ["bsmith", "81.2.69.142"]),
    ("Server login from 192.168.10.45 by user kvandijk", ["192.168.10.45", "kvandijk"]),
    ("ERROR payment declined email=lisa.ng@mailbox.com card=5500000000000004", ["lisa.ng@mailbox.com", "5500000000000004"]),
    ("device mac=00:1A:2B:3C:4D:5E client_ip=10.0.4.17", ["00:1A:2B:3C:4D:5E", "10.0.4.17"]),
    ("sshd[2231]: Accepted password for rpatel from 172.16.8.21 port 52144", ["rpatel", "172.16.8.21"]),
    # JSON payloads
    ('{"firstName": "Oliver", "lastName": "Bennett", "email": "obennett@mail.net"}', ["Oliver", "Bennett", "obennett@mail.net"]),
    ('{"first_name": "chloe", "last_name": "martin", "dob": "1995-02-28"}', ["chloe", "martin", "1995-02-28"]),
    ('{"ssn": "412-55-9087", "phoneNumber": "+1 312 555 0199"}', ["412-55-9087", "+1 312 555 0199"]),
    ('{"streetAddress": "88 Pine Street", "city": "Denver", "zip": "80202"}', ["88 Pine Street", "80202"]),
    ('{"username": "noah_w", "password": "Blue$ky99"}', ["noah_w", "Blue$ky99"]),
    ('{"user": {"name": "Ahmed Hassan", "phone": "202-555-0147"}}', ["Ahmed Hassan", "202-555-0147"]),
    ('{"fullName":"Grace Liu","ipAddress":"93.184.216.34"}', ["Grace Liu", "93.184.216.34"]),
    ("customer = {'name': 'Victor Reyes', 'age': 41, 'zip_code': '33101'}", ["Victor Reyes", "33101"]),
    # query strings
    ("GET /signup?email=paul.k@web.io&phone=6175550123&name=Paul+Kim", ["paul.k@web.io", "6175550123", "Paul+Kim"]),
    ("https://shop.example/track?user=ellie_r&zip=90210", ["ellie_r", "90210"]),
    ("callback?first_name=Ivan&last_name=Petrov&dob=1979-11-02", ["Ivan", "Petrov", "1979-11-02"]),
    # CSV rows without a header
    ("Rebecca,Morris,rmorris@outlook.com,555-201-3344", ["Rebecca", "Morris", "rmorris@outlook.com", "555-201-3344"]),
    ("1043;Hans;Weber;hans.weber@gmx.de;1984-03-09", ["Hans", "Weber", "hans.weber@gmx.de", "1984-03-09"]),
    ("jlopez,Jorge Lopez,12 River Rd,Tampa,FL,33602", ["jlopez", "Jorge Lopez", "12 River Rd", "33602"]),
    # mixed chat
    ("pls update my phone to 312-555-0178 and email to dk@proton.me", ["312-555-0178", "dk@proton.me"]),
    ("hi team, amir here. my laptop's ip is 10.20.30.40", ["amir", "10.20.30.40"]),
    ("Can you pull up the account for chris evans, zip 10001?", ["chris evans", "10001"]),
    ("sending the contract to linda at linda.h@firm.co", ["linda", "linda.h@firm.co"]),
    ("my wife jenny's number is 0412 345 678", ["jenny", "0412 345 678"]),
    ("ask bob smith in finance, ext 4471", ["bob smith"]),
    # leftovers from the European round
    ("Partita IVA 01234567890, ragione sociale Rossi Srl, sede Corso Buenos Aires 1, Milano",
     ["01234567890", "Corso Buenos Aires 1"]),
    ("Backup job run by user kvandijk at night", ["kvandijk"]),
]

A_NEGATIVES: list[tuple[str, list[str]]] = [
    ("order #100234 shipped, tracking 1Z999AA10123456784", ["100234"]),
    ("upgraded to v2.14.3 and then 3.0.0-rc1", ["v2.14.3", "3.0.0-rc1"]),
    ("commit 9f3c2ab fixed it, see a1b2c3d4e5f6", ["9f3c2ab", "a1b2c3d4e5f6"]),
    ("the job ran at 2024-05-01 10:22:13 and took 312 ms", ["10:22:13", "312"]),
    ("price went from $1,299.00 to $999.99", ["1,299.00", "999.99"]),
    ("ticket INC-40213 is still open", ["INC-40213"]),
    ("i will mark the task done and bill the client", ["will", "mark", "bill"]),
    ("by the grace of luck it may work", ["grace", "may"]),
    ("summer sale starts in may, rose prices up", ["summer", "may", "rose"]),
    ("to be frank the build is slow", ["frank"]),
    ("we will see, the sun rose at six", ["will", "rose"]),
    ("please bill me in june", ["bill", "june"]),
    ("the status is ok, code 200, latency 45ms", ["200"]),
    ("port 8080 on localhost is busy", ["8080"]),
    ("the file is 2048 bytes, checksum 0x7f3a", ["2048", "0x7f3a"]),
    ("build 4521 passed on ubuntu 22.04", ["4521", "22.04"]),
    ('{"status": "ok", "count": 42, "version": "1.2.3"}', ["42", "1.2.3"]),
    ("GET /api/items?page=2&limit=50&sort=desc", ["page=2", "limit=50"]),
    ("level=info msg=\"cache warm\" duration=1.52s", ["1.52s"]),
    ("the meeting moved to 3pm on 12/05", ["3pm"]),
    ("we shipped 1,200 units in Q3 2024", ["1,200", "Q3 2024"]),
    ("error code E1043 in module auth", ["E1043"]),
    ("use python 3.11 and node 20.10.0", ["3.11", "20.10.0"]),
    ("uuid 123e4567-e89b-12d3-a456-426614174000 not found", ["123e4567-e89b-12d3-a456-426614174000"]),
    ("row 17 col 4 has a null", ["17"]),
    ("hey team, standup moved to 10:30", ["10:30"]),
    ("thanks, that worked!", ["thanks"]),
    ("cheers for the quick fix", ["cheers"]),
    ("i will grace the meeting with my presence, frank said", ["will"]),
    ("mark this as resolved please", ["mark"]),
]

# ------------------------------------------------------------------ batch B (written after the fixes were frozen)
B_PROBES: list[tuple[str, list[str]]] = [
    ("hiya, its olivia parker, my parcel went to the wrong house", ["olivia parker"]),
    ("this is marcus from the leeds branch, need a password reset", ["marcus"]),
    ("hey, my name's daniel and my email is dan.w1987@yahoo.com", ["daniel", "dan.w1987@yahoo.com"]),
    ("sorry for the late reply!\ncheers,\nfiona", ["fiona"]),
    ("will do. - sam", ["sam"]),
    ("kind regards, hannah whitfield", ["hannah whitfield"]),
    ("@tom.h can you review my branch? also looping in @nina_k", ["tom.h", "nina_k"]),
    ("my gf sophie said the order is under her name, sophie turner", ["sophie turner"]),
    ("send the replacement to 27 cedar lane apt 5, columbus oh 43215", ["27 cedar lane", "43215"]),
    ("can u ship to 1200 n lake shore dr unit 3304 chicago", ["1200 n lake shore dr"]),
    ("my flat is 8 victoria road, manchester m14 5rt", ["8 victoria road", "m14 5rt"]),
    ("ok so the pw is dragonfly88 and user is k.ito", ["dragonfly88", "k.ito"]),
    ("login: b.nguyen pass: Winter#2025", ["b.nguyen", "Winter#2025"]),
    ("heres my stripe key sk_live_4eC39HqLyjWDarjtT1zdp7dc", ["sk_live_4eC39HqLyjWDarjtT1zdp7dc"]),
    ("my number's 646 555 0182 text me", ["646 555 0182"]),
    ("ssn is 219-44-6721 and dob 09/23/1979", ["219-44-6721", "09/23/1979"]),
    ("Nov 12 03:14:07 web01 sshd[881]: Failed password for mgarcia from 45.33.12.9 port 40022 ssh2", ["mgarcia", "45.33.12.9"]),
    ("level=warn msg=\"login failed\" user=ahmed.k src_ip=192.168.4.22", ["ahmed.k", "192.168.4.22"]),
    ("audit: account locked for user tpham after 5 attempts", ["tpham"]),
    ('{"givenName": "Lucia", "familyName": "Moretti", "birthDate": "1988-06-14"}', ["Lucia", "Moretti", "1988-06-14"]),
    ('{"contact": {"email": "r.okafor@corp.io", "mobile": "+44 7911 123456"}}', ["r.okafor@corp.io", "+44 7911 123456"]),
    ('{"address": {"street": "14 Willow Way", "postalCode": "94110"}}', ["14 Willow Way", "94110"]),
    ('{"user_id": 8812, "username": "pixelpanda", "last_login_ip": "172.20.1.5"}', ["pixelpanda", "172.20.1.5"]),
    ("POST /api/v1/register?fname=Greta&lname=Hansen&phone=5125550143", ["Greta", "Hansen", "5125550143"]),
    ("Tessa,Lindqvist,tessa.l@mail.se,1991-04-02,Stockholm", ["Tessa", "Lindqvist", "tessa.l@mail.se"]),
    ("0042,Brian,O'Neill,brian.oneill@web.ie,087 123 4567", ["Brian", "O'Neill", "brian.oneill@web.ie", "087 123 4567"]),
    ("customer wants refund to card 4539 1488 0343 6467, name on card jamal price", ["4539 1488 0343 6467", "jamal price"]),
    ("my license plate is 8XYZ442 and vin 2T1BURHE0JC074829", ["8XYZ442", "2T1BURHE0JC074829"]),
    ("yo ben here, gateway at 10.1.1.1 keeps dropping", ["ben", "10.1.1.1"]),
    ("i'm nora, 34, live on 5 ash grove in bristol", ["nora", "5 ash grove"]),
]
B_NEGATIVES: list[tuple[str, list[str]]] = [
    ("release 4.2.1 fixed the crash in build 20931", ["4.2.1", "20931"]),
    ("order 88213 will ship may 3rd", ["88213", "will", "may"]),
    ("the summer rose garden opens at 9", ["summer", "rose"]),
    ("please mark the bill as paid, frank", ["mark", "bill"]),
    ("commit 7e1f0ab reverted 3c9d2e1", ["7e1f0ab", "3c9d2e1"]),
    ('{"id": 1042, "status": "shipped", "total": 59.90}', ["1042", "59.90"]),
    ("GET /orders?page=3&per_page=25 took 120ms", ["page=3", "per_page=25"]),
    ("ticket SUP-2281 escalated at 14:05", ["SUP-2281", "14:05"]),
    ("the will was read by grace", ["will"]),
    ("thanks again, it works now", ["thanks", "works"]),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", default="A", choices=("A", "B"))
    ap.add_argument("--show", action="store_true")
    a = ap.parse_args()
    probes, negs = (A_PROBES, A_NEGATIVES) if a.batch == "A" else (B_PROBES, B_NEGATIVES)
    r = asyncio.run(measure(probes, negs, a.show))
    print(f"batch {a.batch}: {len(probes)} texts, leaked {r['leaked']}/{r['gold']} "
          f"({100 * r['leaked'] / max(1, r['gold']):.1f} %); look-alikes masked {r['masked']}/{r['decoys']} "
          f"({r['changed']}/{len(negs)} look-alike texts changed at all); "
          f"words outside the gold masked in the probes: {r['collateral']}")


if __name__ == "__main__":
    main()
