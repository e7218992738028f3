"""Batch B of the long informal probes (pii_long_probes.py): written after the code was frozen,
measured once, main against the branch. Different texts and names from batch A."""
from __future__ import annotations

B_TEXTS: list[str] = [
# 1. a Slack thread from a warehouse team
"""pls summarise for the weekly ops report

[[rosalind]]  7:45 AM
dock 3 scanner is down again, {{ticket WH-2291}}. anyone got a spare?
[[bartek.nowicki]]  7:48 AM
there's one in the cage, {{bay 14}}. i'll bring it over
[[rosalind]]  7:49 AM
legend. also the {{amazon}} pickup moved to 11, not 10
[[giulia.ferraro]]  8:02 AM
morning. i'm [[giulia]], covering for [[desmond]] this week. where are the {{may}} stock counts?
[[bartek.nowicki]]  8:05 AM
shared drive, {{/ops/counts/2025-05}}. {{will}} send the link
[[rosalind]]  8:20 AM
@[[giulia.ferraro]] the {{summer}} range pallets ({{PO 77120}}) arrived short by 6 cases
[[giulia.ferraro]]  8:31 AM
ok logging it with the supplier. {{mark}} the pallets as held pls
[[rosalind]]  8:33 AM
done. - [[ros]]
[[desmond.achebe]]  9:58 AM
back from the dentist early. thanks for covering [[giulia]], i'll take it from here
- [[des]]
""",
# 2. a ticket history from a broadband provider
"""Case {{CS-448102}} - no internet since storm. summarise and suggest next step.

>> customer ({{web chat}}), {{tuesday}} 08:12
hi its [[wilhelmina]], the internet has been down since the storm on sunday. router lights are all red. account is in my name, [[wilhelmina hale]], address [[4 orchard mews]], [[bs8 1tn]]
>> agent [[callum]], {{tuesday}} 08:20
Hi Wilhelmina, thanks for the details. I can see a fault on the line. Can you try a restart while I check the exchange?
>> customer, {{tuesday}} 08:31
tried it twice. still red. i work from home so this is urgent. my mobile is [[07700 900127]]
thanks
[[wilhelmina]]
>> agent [[callum]], {{tuesday}} 08:45
An engineer is booked for {{thursday}} between 8 and 1. Reference {{ENG-55019}}.
- [[callum]]
>> customer, {{thursday}} 14:02
engineer never came. nobody called. i had to go to my sister's at [[11 linden close]] to work. this is the third outage this year ({{CS-431877}}, {{CS-440215}})
regards
[[wilhelmina hale]]
>> agent [[priscilla]], {{thursday}} 15:10
I'm very sorry. The engineer was diverted. New slot {{friday}} 8-1 and a {{£30}} credit on the account.
""",
# 3. an e-mail chain between a school and a parent
"""write a short reply to the last email in this chain

From: [[Imogen Carver]] <[[imogen.carver@oakfield-primary.sch.uk]]>
Sent: 14 {{March}} 2025 16:20
Subject: RE: trip consent

hi, just checking if you got the consent form for the {{science museum}} trip on the 28th? we need it by {{friday}}.
thanks
[[imogen]]

From: [[thaddeus.okoro@gmail.com]]
Sent: 13 {{March}} 2025 21:02

hello, sorry this is so late. my son [[kelechi]] is in {{year 4}}, class {{4B}}. his allergy note is the same as last year (peanuts). i will drop the form off tomorrow. my wife [[adaeze]] will pick him up after the trip as i'm travelling.
best,
[[thaddeus]]

From: [[Imogen Carver]]
Sent: 10 {{March}} 2025 09:00

Dear parents of {{4B}}, the trip to the {{science museum}} is on {{28 March}}. Cost {{£12}}. Please return the form by {{friday 14th}}.
Kind regards, [[Imogen]]
""",
# 4. a family group chat export about a house move
"""can you turn this chat into a moving checklist with who does what?

[12/06/2025, 18:40] [[mum]]: right, the van is booked for the 21st
[12/06/2025, 18:41] [[fergus]]: what time?
[12/06/2025, 18:45] [[mum]]: 8am at the old place, [[22 rowan grove]], then to [[7 heather close]] by noon
[12/06/2025, 18:47] [[esme]]: i can do the kitchen boxes. fergus you do the shed
[12/06/2025, 18:48] [[fergus]]: fine. is the {{ikea}} wardrobe coming apart or going as is
[12/06/2025, 18:50] [[mum]]: apart. {{grandad}} said he'll help with the tools
[13/06/2025, 09:12] [[esme]]: new postcode is [[ng7 2qp]] right? need it for the redirect
[13/06/2025, 09:20] [[mum]]: yes. and tell [[auntie rhoda]] the new address, she still sends cards to the old one
[13/06/2025, 09:21] [[esme]]: ok
[15/06/2025, 20:05] [[fergus]]: the shed has 14 boxes of {{dad's}} old records, bin or keep?
[15/06/2025, 20:09] [[mum]]: keep!! they're worth something
[15/06/2025, 20:10] [[esme]]: lol
[20/06/2025, 07:55] [[fergus]]: {{gas}} meter reading at the old place is {{04412}}, photo in the drive
[20/06/2025, 08:01] [[mum]]: thank you darling
""",
# 5. a Teams thread in an accounts team
"""list the action items from this chat

[[Okonkwo, Nneka]] 11:02
the {{Xero}} sync failed overnight again, {{batch 2291}}. who's on it?
[[Stefan Kral]] 11:05
me. user is [[s.kral]] on the integration account, i'll check the logs
[[Okonkwo, Nneka]] 11:06
thanks. also the {{Patel Logistics}} invoice {{INV-30021}} is still unpaid, can someone chase
[[Harriet Vance]] 11:10
i'll chase. this is harriet btw, i moved over from payroll. the contact there is [[deepa]] right?
[[Okonkwo, Nneka]] 11:11
yes, [[deepa]] in their finance team. cc [[ravindra]] too, he signs off
[[Stefan Kral]] 11:30
sync fixed, the api token had expired. rotated it. {{grace}} period on the old one ends {{friday}}
[[Okonkwo, Nneka]] 11:31
perfect, cheers
- [[nneka]]
""",
# 6. a long complaint in one block, lower case
"""can you write a formal complaint letter from this?

hi so basically my landlord has not fixed the damp in the bathroom for {{four months}} and it is getting worse. i've emailed the agency ({{Brightmove Lettings}}) six times, the last one on {{the 3rd}}, and they keep saying the contractor is booked. the flat is [[flat 2, 19 sefton grove]], [[l17 8xy]] and the mould is now on the ceiling and behind the wardrobe. my daughter [[ottilie]] has asthma and her gp ({{dr}} at the {{mossley hill}} practice) wrote a letter saying the damp is making it worse. the agency contact is [[rupert]], his number is [[0151 496 0732]]. the tenancy reference is {{TEN-88120}} and the deposit is with the {{DPS}}, ref {{DPS-4471902}}. i pay {{£925}} a month and have never been late. there was also a leak from the flat above in {{january}} which they fixed in two days so i don't get why this is different. i have photos from every week since {{february}}. i want them to fix it within 14 days or i'll go to the council. i also want a rent reduction for the months it's been like this. honestly i'm exhausted by it. my partner [[lorcan]] says i should just move but we can't afford to right now with the nursery fees. the {{spring}} term starts soon and ottilie has missed school twice already because of her chest. anyway can you make it sound firm but polite. sign it from me please
thanks
[[saoirse]]
""",
# 7. look-alikes only: a marketing team chat
"""make a to-do list from this

marketing bot 9:01
campaign {{Aurora}} launches {{june 3}}, creative due {{may 28}}
content lead 9:04
we {{will}} need the {{Hunter}} boots shoot reshot, the {{amber}} filter looked off
content lead 9:05
and {{mark}} the {{Savannah}} colourway as sold out in the feed
design 9:10
ok. {{grace}} period for the old logo on partner sites is {{60 days}}
content lead 9:12
{{bill}} from the print shop for {{order 55102}} came in at {{£1,240}}
design 9:14
also need {{4 oak}} frames and {{2 ash}} shelves for the pop-up stand
content lead 9:20
the {{victoria}} station pop-up is week 2, {{jordan}} almonds for the giveaway
marketing bot 9:30
reminder: {{ticket MK-4471}} due {{friday}}
""",
# 8. a support ticket from an internal dev team with logs
"""why does this user keep getting 403s? ticket text and logs below

raised by: [[Anselm Fairweather]]
---
hi, it's [[anselm]]. since the sso migration i get 403 on the {{reporting}} app but not on {{jira}}. username is [[afairweather]], laptop {{MB-2231}}. [[tamsin]] in my team has the same issue
---
2025-06-02T09:11:04Z WARN authz denied user=[[afairweather]] role={{viewer}} resource={{/reports/q2}}
2025-06-02T09:11:05Z WARN authz denied user=[[afairweather]] role={{viewer}} resource={{/reports/q2}}
2025-06-02T09:13:40Z WARN authz denied user=[[tmarsh]] role={{viewer}} resource={{/reports/q2}}
2025-06-02T09:14:02Z INFO group sync ok groups=3 user=[[afairweather]]
---
note from [[ifeoma]] (identity team): the {{reporting}} app maps the old ad group {{RPT-READ}}, the new idp sends {{rpt_read}}. fixing the mapping. cc @[[tamsin.marsh]]
---
thanks [[ifeoma]]
- [[anselm]]
""",
]
