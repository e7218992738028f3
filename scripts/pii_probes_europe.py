#!/usr/bin/env python3
"""Third PII probe round (issue 14): non-English and mixed European text, our own sentences.

Each probe is (text, gold strings that must not be forwarded upstream). Each look-alike is
(text, strings that must be forwarded as written). Batch A was written before any fix and
tuned on; batch B was written after the fixes were frozen and measured once.

    PYTHONPATH=src HF_HUB_OFFLINE=1 python scripts/pii_probes_europe.py [--batch A|B] [--show]
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

# ------------------------------------------------------------------ batch A (written first)
A_PROBES: list[tuple[str, list[str]]] = [
    # German
    ("Hallo, ich heiße Jürgen Müller und habe eine Frage zu meinem Vertrag.", ["Jürgen Müller"]),
    ("Sehr geehrte Frau Schmidt,\nvielen Dank für Ihre Nachricht.", ["Schmidt"]),
    ("Sehr geehrter Herr Dr. Hoffmann, anbei die Unterlagen.", ["Hoffmann"]),
    ("Mein Name ist Katrin Wagenknecht, Kundennummer folgt.", ["Katrin Wagenknecht"]),
    ("Bitte senden Sie die Karte an Hauptstraße 12, 10115 Berlin.", ["Hauptstraße 12"]),
    ("Neue Anschrift: Lindenallee 7a, 50667 Köln", ["Lindenallee 7a"]),
    ("Ich wohne in der Goethestraße 45 in 80336 München.", ["Goethestraße 45"]),
    ("Meine Steuer-ID lautet 65208517392, bitte korrigieren.", ["65208517392"]),
    ("Personalausweisnummer: L01X00T47", ["L01X00T47"]),
    ("Bitte überweisen Sie auf IBAN DE89 3704 0044 0532 0130 00.", ["DE89 3704 0044 0532 0130 00"]),
    ("Kontoinhaber: Sabine Krüger, IBAN DE44500105175407324931", ["Sabine Krüger", "DE44500105175407324931"]),
    ("Sie erreichen mich unter +49 30 1234567 oder 0171 2345678.", ["+49 30 1234567", "0171 2345678"]),
    ("Mein Passwort ist Sommer2024! und funktioniert nicht mehr.", ["Sommer2024!"]),
    ("Benutzername: j.mueller84, Passwort: Kx9#mLq2", ["j.mueller84", "Kx9#mLq2"]),
    ("Geboren am 12. März 1985 in Hamburg.", ["12. März 1985"]),
    ("Geburtsdatum: 03.07.1979", ["03.07.1979"]),
    ("Das Kennzeichen meines Autos ist B-MW 1234.", ["B-MW 1234"]),
    ("Mit freundlichen Grüßen\nThomas Becker", ["Thomas Becker"]),
    ("Rückfragen bitte an Frau Annegret Vollmer (Buchhaltung).", ["Annegret Vollmer"]),
    ("Meine E-Mail: lena.hartmann@web.de, Tel. 089 4567890", ["lena.hartmann@web.de", "089 4567890"]),
    ("Sozialversicherungsnummer 12 150385 B 012, Krankenkasse AOK", ["12 150385 B 012"]),
    ("Führerscheinnummer B072RRE2I55", ["B072RRE2I55"]),
    # French
    ("Bonjour, je m'appelle Amélie Dubois et j'ai perdu ma carte.", ["Amélie Dubois"]),
    ("Cher Monsieur Lefèvre, merci pour votre retour.", ["Lefèvre"]),
    ("Madame Girard a appelé ce matin au 06 12 34 56 78.", ["Girard", "06 12 34 56 78"]),
    ("Mon adresse : 12 rue de la Paix, 75002 Paris", ["12 rue de la Paix"]),
    ("Livraison au 48 avenue Victor Hugo, 69006 Lyon.", ["48 avenue Victor Hugo"]),
    ("Numéro de sécurité sociale : 1 85 05 78 006 084 91", ["1 85 05 78 006 084 91"]),
    ("Mon mot de passe est soleil123, pouvez-vous le réinitialiser ?", ["soleil123"]),
    ("Identifiant : adubois75 / mot de passe : Chat!Noir9", ["adubois75", "Chat!Noir9"]),
    ("Né le 3 avril 1990 à Marseille.", ["3 avril 1990"]),
    ("Date de naissance : 14/02/1988", ["14/02/1988"]),
    ("IBAN : FR76 3000 6000 0112 3456 7890 189", ["FR76 3000 6000 0112 3456 7890 189"]),
    ("Cordialement,\nJean-Baptiste Moreau", ["Jean-Baptiste Moreau"]),
    ("Immatriculation du véhicule : AB-123-CD", ["AB-123-CD"]),
    ("Vous pouvez joindre Mme Chantal Rousseau au +33 1 42 68 53 00.", ["Chantal Rousseau", "+33 1 42 68 53 00"]),
    # Italian
    ("Buongiorno, mi chiamo Giuseppe Rossi e scrivo per un rimborso.", ["Giuseppe Rossi"]),
    ("Gentile dott.ssa Bianchi, le invio i documenti richiesti.", ["Bianchi"]),
    ("Il mio codice fiscale è RSSGPP80A01H501Y.", ["RSSGPP80A01H501Y"]),
    ("Indirizzo: Via Roma 5, 00184 Roma", ["Via Roma 5"]),
    ("Abito in Via Giuseppe Garibaldi 22, 20121 Milano.", ["Via Giuseppe Garibaldi 22"]),
    ("Mi può richiamare al +39 333 1234567?", ["+39 333 1234567"]),
    ("La password è Gatto_2023 ma non entra.", ["Gatto_2023"]),
    ("Partita IVA 01234567890, ragione sociale Rossi Srl", ["01234567890"]),
    ("Nata il 21 settembre 1975 a Napoli.", ["21 settembre 1975"]),
    ("IBAN IT60 X054 2811 1010 0000 0123 456", ["IT60 X054 2811 1010 0000 0123 456"]),
    ("Cordiali saluti,\nFrancesca Esposito", ["Francesca Esposito"]),
    ("La targa della mia auto è AB 123 CD.", ["AB 123 CD"]),
    # Spanish
    ("Hola, me llamo María José García López y tengo un problema.", ["María José García López"]),
    ("Estimado Sr. Fernández: le escribo por la factura.", ["Fernández"]),
    ("Mi DNI es 12345678Z y mi NIE antiguo X1234567L.", ["12345678Z", "X1234567L"]),
    ("Dirección: Calle Mayor 3, 28013 Madrid", ["Calle Mayor 3"]),
    ("Vivo en la Avenida de la Constitución 18, 41001 Sevilla.", ["Avenida de la Constitución 18"]),
    ("Llámame al 612 34 56 78 por la tarde.", ["612 34 56 78"]),
    ("Mi contraseña es Perro1234 y no funciona.", ["Perro1234"]),
    ("Usuario: mgarcia_lopez, contraseña: Luna$2022", ["mgarcia_lopez", "Luna$2022"]),
    ("Fecha de nacimiento: 5 de mayo de 1982", ["5 de mayo de 1982"]),
    ("Cuenta: ES91 2100 0418 4502 0005 1332", ["ES91 2100 0418 4502 0005 1332"]),
    ("Un saludo,\nJavier Martín Sánchez", ["Javier Martín Sánchez"]),
    ("NIF del autónomo: 48291736Q", ["48291736Q"]),
    # Dutch
    ("Hallo, mijn naam is Pieter de Vries en ik heb een vraag.", ["Pieter de Vries"]),
    ("Beste mevrouw Jansen, bedankt voor uw bericht.", ["Jansen"]),
    ("Adres: Kerkstraat 10, 1017 GC Amsterdam", ["Kerkstraat 10", "1017 GC"]),
    ("Ik woon op de Molenweg 23 in 3511 AB Utrecht.", ["Molenweg 23"]),
    ("Mijn BSN is 123456782.", ["123456782"]),
    ("Bel me op 06-12345678 of mail naar p.devries@ziggo.nl", ["06-12345678", "p.devries@ziggo.nl"]),
    ("Mijn wachtwoord is Fiets2021 maar dat werkt niet.", ["Fiets2021"]),
    ("Geboortedatum: 17 juni 1991", ["17 juni 1991"]),
    ("Rekeningnummer NL91 ABNA 0417 1643 00", ["NL91 ABNA 0417 1643 00"]),
    ("Met vriendelijke groet,\nSanne van den Berg", ["Sanne van den Berg"]),
    ("Kenteken: 12-ABC-3", ["12-ABC-3"]),
    # English forms with European data
    ("Name: Lukas Schneider\nAddress: Bahnhofstraße 8, 60311 Frankfurt\nPhone: +49 69 9876543",
     ["Lukas Schneider", "Bahnhofstraße 8", "+49 69 9876543"]),
    ("Card 4532 0151 1283 0366 exp 09/27 belongs to Elena Costa.", ["4532 0151 1283 0366", "Elena Costa"]),
    ("Beneficiary: Marco Bianchi, IBAN IT55Y0300203280000400162854, BIC BCITITMM",
     ["Marco Bianchi", "IT55Y0300203280000400162854", "BCITITMM"]),
    ("Server login from 192.168.10.45 (MAC 3C:22:FB:1A:9E:07) by user kvandijk.", ["192.168.10.45", "3C:22:FB:1A:9E:07", "kvandijk"]),
    ("Passport no. C01X00T47 issued in Germany to Felix Brandt.", ["C01X00T47", "Felix Brandt"]),
    ("My Belgian IBAN is BE68 5390 0754 7034 and my Austrian one AT61 1904 3002 3457 3201.",
     ["BE68 5390 0754 7034", "AT61 1904 3002 3457 3201"]),
    # chat messages, support tickets, mixed languages
    ("hi, hier ist Moritz Engel, mein login ist moritz.engel und pw ist Hase2020", ["Moritz Engel", "moritz.engel", "Hase2020"]),
    ("Ticket 5512: Kundin Frau Petra Lindner (Tel. 0221 987654) kann sich nicht anmelden.", ["Petra Lindner", "0221 987654"]),
    ("Ansprechpartner ist Herr Öztürk, erreichbar unter 0157 88776655.", ["Öztürk", "0157 88776655"]),
    ("Bonjour, c'est Thibault Garnier, mon numéro fiscal est 1234567890123.", ["Thibault Garnier", "1234567890123"]),
    ("salut c'est Léa, tu peux m'écrire sur lea.martin92@gmail.com ?", ["lea.martin92@gmail.com"]),
    ("Ciao sono Alessandro Ferrari, il mio numero è 347 765 4321.", ["Alessandro Ferrari", "347 765 4321"]),
    ("Il signor Marco Conti abita in Corso Vittorio Emanuele 104, Torino.", ["Marco Conti", "Corso Vittorio Emanuele 104"]),
    ("Buenas, soy Lucía Romero, mi móvil es el 654 321 987.", ["Lucía Romero", "654 321 987"]),
    ("El cliente D. Andrés Navarro Ruiz solicita la baja.", ["Andrés Navarro Ruiz"]),
    ("Mi tarjeta 5520 0000 0000 0000 ha sido rechazada.", ["5520 0000 0000 0000"]),
    ("Hoi, ik ben Daan Bakker, mijn telefoonnummer is 020-1234567.", ["Daan Bakker", "020-1234567"]),
    ("Graag contact met dhr. Willem Visser over zijn aanvraag.", ["Willem Visser"]),
    ("Meneer Smit woont aan de Dorpsstraat 4, 2611 HZ Delft.", ["Smit", "Dorpsstraat 4"]),
    ("Paspoortnummer: NX5R12AB3, geldig tot 2030.", ["NX5R12AB3"]),
    ("Numéro de passeport 18AB12345, délivré à Lyon.", ["18AB12345"]),
    ("Patente di guida n. U1Z123456X", ["U1Z123456X"]),
    ("Mein Führerschein hat die Nummer J010000SD51.", ["J010000SD51"]),
    ("Il mio username è giulia_r88 e la password Mare!2024", ["giulia_r88", "Mare!2024"]),
    ("Nom d'utilisateur : tgarnier, mot de passe oublié.", ["tgarnier"]),
    ("BIC: COBADEFFXXX, Kontonummer 0532013000, BLZ 37040044", ["COBADEFFXXX", "0532013000", "37040044"]),
    ("Please ship to Frau Ingrid Hahn, Schillerstr. 17, 70173 Stuttgart.", ["Ingrid Hahn", "Schillerstr. 17"]),
    ("Contact: Dr. Sophie Lambert, 7 place Bellecour, 69002 Lyon, sophie.lambert@orange.fr",
     ["Sophie Lambert", "7 place Bellecour", "sophie.lambert@orange.fr"]),
    ("DOB 1984-11-23, NIE Y7654321G, móvil +34 612 345 678", ["1984-11-23", "Y7654321G", "+34 612 345 678"]),
]

A_NEGATIVES: list[tuple[str, list[str]]] = [
    ("Die Rechnung Nr. 2024-00871 ist noch offen.", ["2024-00871", "Rechnung"]),
    ("Ihre Bestellung 4711-2290 wird morgen geliefert.", ["4711-2290", "Bestellung"]),
    ("Die Lieferung kommt am 14.03.2025 zwischen 10:00 und 12:00 Uhr.", ["Lieferung", "10:00", "12:00"]),
    ("Artikelnummer 300.445.12 kostet 49,99 EUR.", ["300.445.12", "49,99"]),
    ("Die Besprechung findet am Dienstag um 14:30 Uhr im Raum 3.12 statt.", ["Besprechung", "14:30", "3.12"]),
    ("Bitte aktualisieren Sie die Software auf Version 2.14.3.", ["2.14.3"]),
    ("Die Kundin bedankt sich für die schnelle Bearbeitung der Reklamation.", ["Kundin", "Bearbeitung", "Reklamation"]),
    ("Der Vertrag läuft bis Ende Dezember, die Kündigungsfrist beträgt drei Monate.", ["Vertrag", "Kündigungsfrist"]),
    ("Gesamtbetrag: 1.249,00 € inkl. MwSt.", ["1.249,00"]),
    ("Facture n° 2025/0413 du 12 mars, montant 320,50 €.", ["2025/0413", "320,50"]),
    ("La réunion est prévue le 4 juin à 9h30 en salle B.", ["9h30"]),
    ("Commande 88123456 expédiée, colis de 2,4 kg.", ["88123456"]),
    ("Le Service Client vous remercie de votre patience.", ["Service Client"]),
    ("Fattura n. 431/2024 del 10 gennaio, totale 1.200,00 euro.", ["431/2024", "1.200,00"]),
    ("L'ordine numero 55012 è stato spedito con Corriere Espresso.", ["55012", "Corriere Espresso"]),
    ("La riunione è alle 15:00 nella Sala Riunioni Grande.", ["15:00", "Sala Riunioni Grande"]),
    ("Pedido n.º 2024-118 enviado, importe 89,90 €.", ["2024-118", "89,90"]),
    ("La reunión será el lunes a las 11:15 en la Sala Norte.", ["11:15", "Sala Norte"]),
    ("Versión 3.2.1 del Manual de Usuario disponible.", ["3.2.1", "Manual de Usuario"]),
    ("Factuurnummer 2024-3391, te betalen binnen 30 dagen.", ["2024-3391"]),
    ("De vergadering begint om 13:45 in Zaal Oost.", ["13:45", "Zaal Oost"]),
    ("Bestelnummer 700123 is onderweg met PostNL.", ["700123", "PostNL"]),
    ("Die Deutsche Bahn meldet Verspätungen auf der Strecke Köln-Frankfurt.", ["Deutsche Bahn"]),
    ("Unser Büro in 10115 Berlin bleibt am Freitag geschlossen.", ["Büro", "Freitag"]),
    ("Ticket #48213: Drucker im Erdgeschoss funktioniert nicht.", ["48213", "Drucker", "Erdgeschoss"]),
    ("Kundennummer und Auftragsnummer finden Sie oben rechts auf der Rechnung.", ["Kundennummer", "Auftragsnummer"]),
    ("Preis: 19,99 € pro Monat, Mindestlaufzeit 24 Monate.", ["19,99"]),
    ("Sehr geehrte Damen und Herren, anbei das Angebot für die Wartung.", ["Damen und Herren", "Angebot", "Wartung"]),
    ("Bonjour à tous, la Direction Générale annonce la nouvelle Politique de Sécurité.", ["Direction Générale", "Politique de Sécurité"]),
    ("Estimados clientes: el Servicio Técnico atenderá de 9:00 a 18:00.", ["Servicio Técnico", "9:00", "18:00"]),
]

# ------------------------------------------------------------------ batch B (written after the fixes were frozen)
B_PROBES: list[tuple[str, list[str]]] = [
    ("Guten Tag, hier schreibt Henrike Baumgartner aus dem Vertrieb.", ["Henrike Baumgartner"]),
    ("Bitte an Herrn Konstantin Wolff weiterleiten, Durchwahl 040 3344556.", ["Konstantin Wolff", "040 3344556"]),
    ("Meine neue Adresse lautet Rosenweg 19, 22307 Hamburg.", ["Rosenweg 19"]),
    ("Zugangsdaten: Benutzer hbaum, Kennwort Tulpe#77", ["hbaum", "Tulpe#77"]),
    ("Ich bin am 28. Februar 1969 geboren und meine Steuer-ID ist 47281035968.", ["28. Februar 1969", "47281035968"]),
    ("Reisepass C4J8R2T1M, ausgestellt in Bremen, Inhaber Oskar Lindemann.", ["C4J8R2T1M", "Oskar Lindemann"]),
    ("Die Zahlung geht an AT61 1904 3002 3457 3201 (Empfänger: Vera Hollstein).", ["AT61 1904 3002 3457 3201", "Vera Hollstein"]),
    ("Bonsoir, ici Mathilde Perrin, je n'arrive plus à me connecter.", ["Mathilde Perrin"]),
    ("Mon IBAN est FR14 2004 1010 0505 0001 3M02 606 et mon portable 07 81 22 33 44.",
     ["FR14 2004 1010 0505 0001 3M02 606", "07 81 22 33 44"]),
    ("Adresse de facturation : 27 rue des Lilas, 44000 Nantes", ["27 rue des Lilas"]),
    ("Je suis née le 9 novembre 1993, numéro de sécu 2 90 03 75 112 001 46.", ["9 novembre 1993", "2 90 03 75 112 001 46"]),
    ("Madame, Monsieur, veuillez contacter M. Étienne Marchand pour le dossier.", ["Étienne Marchand"]),
    ("Salve, sono la sig.ra Chiara Lombardi, cliente dal 2015.", ["Chiara Lombardi"]),
    ("Il mio codice fiscale: VRDMRC92T10L219D, residente in Via Nazionale 41, Roma.",
     ["VRDMRC92T10L219D", "Via Nazionale 41"]),
    ("Per il bonifico: IBAN IT60X0542811101000000123456 intestato a Paolo Greco.", ["IT60X0542811101000000123456", "Paolo Greco"]),
    ("Cellulare 320 987 6543, email paolo.greco@libero.it", ["320 987 6543", "paolo.greco@libero.it"]),
    ("Nato il 2 giugno 1958 a Bari, patente n. BA5123456Z.", ["2 giugno 1958", "BA5123456Z"]),
    ("Buenos días, mi nombre es Rocío Delgado Pérez y mi DNI es 70011223M.", ["Rocío Delgado Pérez", "70011223M"]),
    ("Envíen la factura a Avenida del Puerto 55, 46021 Valencia, a nombre de Sergio Molina.",
     ["Avenida del Puerto 55", "Sergio Molina"]),
    ("Mi número de móvil es +34 699 112 233 y mi correo sergio.molina@telefonica.es", ["+34 699 112 233", "sergio.molina@telefonica.es"]),
    ("La contraseña nueva es Playa_2025 y el usuario smolina.", ["Playa_2025", "smolina"]),
    ("Matrícula del coche: 4821 KLM", ["4821 KLM"]),
    ("Goedemiddag, met Femke Mulder, ik bel over mijn contract.", ["Femke Mulder"]),
    ("Stuur het pakket naar Lindenlaan 7, 5611 KV Eindhoven.", ["Lindenlaan 7"]),
    ("Mijn burgerservicenummer is 234567892 en mijn IBAN NL44 RABO 0123 4567 89.", ["234567892", "NL44 RABO 0123 4567 89"]),
    ("U kunt mij bereiken op 010-7654321 of via femke.mulder@kpnmail.nl.", ["010-7654321", "femke.mulder@kpnmail.nl"]),
    ("Geboren op 30 augustus 1987 in Groningen, kenteken GX-123-B.", ["30 augustus 1987", "GX-123-B"]),
    ("Customer: Dr. Anneliese Vogt, Tel +43 1 5123456, Kreditkarte 4012 8888 8888 1881",
     ["Anneliese Vogt", "+43 1 5123456", "4012 8888 8888 1881"]),
    ("Hi team, the new hire is Jorge Iglesias (NIE Y7654321G), desk phone 91 555 12 34.",
     ["Jorge Iglesias", "Y7654321G", "91 555 12 34"]),
    ("VPN account: l.fontaine, password Brume*2024, from 10.24.8.190", ["l.fontaine", "Brume*2024", "10.24.8.190"]),
]
B_NEGATIVES: list[tuple[str, list[str]]] = [
    ("Die Sitzung wurde auf Donnerstag, 16:00 Uhr, verschoben.", ["Sitzung", "Donnerstag", "16:00"]),
    ("Lieferschein Nr. 88-2291 liegt der Sendung bei.", ["88-2291", "Lieferschein", "Sendung"]),
    ("Der Umsatz stieg im Quartal um 4,5 % auf 2,3 Mio. Euro.", ["Umsatz", "Quartal", "4,5", "2,3"]),
    ("Bitte prüfen Sie die Anlage und geben Sie uns bis Freitag Bescheid.", ["Anlage", "Freitag", "Bescheid"]),
    ("Référence produit 72-115-04, prix unitaire 12,90 €.", ["72-115-04", "12,90"]),
    ("Le rendez-vous est confirmé pour le 18 mars à 10h15.", ["10h15"]),
    ("Codice articolo 4450123, disponibile in magazzino.", ["4450123"]),
    ("La consegna è prevista per giovedì tra le 9:00 e le 13:00.", ["9:00", "13:00"]),
    ("Número de pedido 2025-00417, total 149,00 €.", ["2025-00417", "149,00"]),
    ("El Departamento de Recursos Humanos publicará las vacaciones.", ["Departamento de Recursos Humanos"]),
    ("Ordernummer 55-31207 wordt vandaag verzonden.", ["55-31207"]),
    ("Versie 4.0.2 van de Handleiding staat online.", ["4.0.2", "Handleiding"]),
]


async def measure(probes, negatives, show: bool = False) -> dict:
    from seawall.guard import Guard, GuardPolicy

    guard, policy = Guard(), GuardPolicy()

    async def forward(text: str) -> str | None:
        d = await guard.check_input({"model": "m", "messages": [{"role": "user", "content": text}]}, policy)
        if not d.allowed or d.request is None:  # a blocked request (a secret) sends nothing upstream
            return None
        return d.request["messages"][0]["content"]

    leaked, total, collateral = [], 0, []
    for text, gold in probes:
        fw = await forward(text)
        for g in gold:
            total += 1
            if fw is not None and g in fw:
                leaked.append((g, text, fw))
        # words outside every gold string that did not reach upstream: over-masking
        inside = " ".join(gold)
        for w in re.findall(r"[^\W\d_]{2,}", text):
            if w not in inside and fw is not None and not re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", fw):
                collateral.append((w, text, fw))
    masked, dtotal, changed = [], 0, []
    for text, keep in negatives:
        fw = await forward(text)
        if fw != text:
            changed.append((text, fw))
        for k in keep:
            dtotal += 1
            if fw is None or k not in fw:
                masked.append((k, text, fw))
    if show:
        for g, text, fw in leaked:
            print(f"LEAK  {g!r}\n   in {text!r}\n   -> {fw!r}")
        for k, text, fw in masked:
            print(f"MASK  {k!r}\n   in {text!r}\n   -> {fw!r}")
        for w, text, fw in collateral:
            print(f"OVER  {w!r}\n   in {text!r}\n   -> {fw!r}")
        for text, fw in changed:
            print(f"CHANGED {text!r}\n   -> {fw!r}")
    return {"gold": total, "leaked": len(leaked), "decoys": dtotal, "masked": len(masked),
            "collateral": len(collateral), "changed": len(changed)}


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
