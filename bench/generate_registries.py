#!/usr/bin/env python3
"""Writes large SIRENE- and RNA-shaped files for bench/import: realistic values, some quoted fields with
commas and accents. Usage: generate_registries.py ROWS SIRENE_OUT RNA_OUT"""

import random
import sys

# Today's StockEtablissement header: 54 columns (the 2025 files added activitePrincipaleNAF25Etablissement).
SIRENE_HEADER = (
    "siren,nic,siret,statutDiffusionEtablissement,dateCreationEtablissement,trancheEffectifsEtablissement,"
    "anneeEffectifsEtablissement,activitePrincipaleRegistreMetiersEtablissement,dateDernierTraitementEtablissement,"
    "etablissementSiege,nombrePeriodesEtablissement,complementAdresseEtablissement,numeroVoieEtablissement,"
    "indiceRepetitionEtablissement,dernierNumeroVoieEtablissement,indiceRepetitionDernierNumeroVoieEtablissement,"
    "typeVoieEtablissement,libelleVoieEtablissement,codePostalEtablissement,libelleCommuneEtablissement,"
    "libelleCommuneEtrangerEtablissement,distributionSpecialeEtablissement,codeCommuneEtablissement,"
    "codeCedexEtablissement,libelleCedexEtablissement,codePaysEtrangerEtablissement,libellePaysEtrangerEtablissement,"
    "identifiantAdresseEtablissement,coordonneeLambertAbscisseEtablissement,coordonneeLambertOrdonneeEtablissement,"
    "complementAdresse2Etablissement,numeroVoie2Etablissement,indiceRepetition2Etablissement,typeVoie2Etablissement,"
    "libelleVoie2Etablissement,codePostal2Etablissement,libelleCommune2Etablissement,"
    "libelleCommuneEtranger2Etablissement,distributionSpeciale2Etablissement,codeCommune2Etablissement,"
    "codeCedex2Etablissement,libelleCedex2Etablissement,codePaysEtranger2Etablissement,"
    "libellePaysEtranger2Etablissement,dateDebut,etatAdministratifEtablissement,enseigne1Etablissement,"
    "enseigne2Etablissement,enseigne3Etablissement,denominationUsuelleEtablissement,activitePrincipaleEtablissement,"
    "nomenclatureActivitePrincipaleEtablissement,caractereEmployeurEtablissement,activitePrincipaleNAF25Etablissement"
)

RNA_HEADER = (
    "id;id_ex;siret;rup_mi;gestion;date_creat;date_decla;date_publi;date_disso;nature;groupement;titre;titre_court;"
    "objet;objet_social1;objet_social2;adrs_complement;adrs_numvoie;adrs_repetition;adrs_typevoie;adrs_libvoie;"
    "adrs_distrib;adrs_codeinsee;adrs_codepostal;adrs_libcommune;adrg_declarant;adrg_complemid;adrg_complemgeo;"
    "adrg_libvoie;adrg_distrib;adrg_codepostal;adrg_achemine;adrg_pays;dir_civilite;siteweb;publiweb;observation;"
    "position;maj_time"
)

# Like the real registry, most names are a family name or a made-up brand; trade words are each rare.
TRADES = ["BOULANGERIE", "ÉPICERIE", "BOUCHERIE", "CAFÉ", "PHARMACIE", "FLEURS", "GARAGE", "SALON", "LIBRAIRIE",
          "TABAC PRESSE", "RESTAURANT", "CRÊPERIE", "PÂTISSERIE", "COIFFURE", "OPTIQUE", "CORDONNERIE", "PRESSING",
          "FROMAGERIE", "CAVE", "BRASSERIE", "PIZZERIA", "TRAITEUR", "QUINCAILLERIE", "BIJOUTERIE", "CHAUSSURES",
          "INSTITUT", "AUTO-ÉCOLE", "AGENCE", "CABINET", "ATELIER", "BAR", "HÔTEL", "BOUTIQUE", "MERCERIE",
          "POISSONNERIE", "PRIMEUR", "CHARCUTERIE", "CONFISERIE", "TORRÉFACTION", "GALERIE"]
FAMILIES = ["MARTIN", "BERNARD", "THOMAS", "PETIT", "ROBERT", "RICHARD", "DURAND", "DUBOIS", "MOREAU", "LAURENT",
            "SIMON", "MICHEL", "LEFÈVRE", "LEROY", "ROUX", "DAVID", "BERTRAND", "MOREL", "FOURNIER", "GIRARD",
            "BONNET", "DUPONT", "LAMBERT", "FONTAINE", "ROUSSEAU", "VINCENT", "MULLER", "LEFEBVRE", "FAURE",
            "ANDRÉ", "MERCIER", "BLANC", "GUÉRIN", "BOYER", "GARNIER", "CHEVALIER", "FRANÇOIS", "LEGRAND",
            "GAUTHIER", "GARCIA", "PERRIN", "ROBIN", "CLÉMENT", "MORIN", "NICOLAS", "HENRY", "ROUSSEL", "MATHIEU"]
BRANDS = ["LE", "LA", "AU", "AUX", "CHEZ", "L'ATELIER DE", "LES DÉLICES DE", "LE COMPTOIR DE", "MAISON", "L'ESPACE"]
STREETS = ["DE LA RÉPUBLIQUE", "DU GÉNÉRAL DE GAULLE", "DES ÉCOLES", "VICTOR HUGO", "DE PARIS", "DU MOULIN",
           "JEAN JAURÈS", "DE L'ÉGLISE", "DES VIGNES", "PASTEUR"]
TYPES = ["RUE", "AV", "BD", "PL", "CHE", "RTE", "IMP", "ALL"]
# Activity codes weighted roughly as in the registry: local shops are a small share of establishments.
NAF = (["68.20B", "70.22Z", "68.20A", "43.21A", "62.01Z", "86.90D", "85.59A", "49.41A", "81.10Z", "90.01Z", "01.11Z",
        "41.20A", "43.32A", "46.90Z", "69.20Z", "71.12B", "74.90B", "88.10B", "93.12Z", "94.99Z"] * 20
       + ["10.71C", "47.22Z", "47.11C", "56.10A", "56.30Z", "47.73Z", "47.76Z", "96.02A", "45.20A", "86.21Z"])
COMMUNES = [("77463", "77810", "THOMERY"), ("77186", "77300", "FONTAINEBLEAU"), ("01053", "01000", "BOURG-EN-BRESSE"),
            ("75056", "75011", "PARIS"), ("69123", "69003", "LYON"), ("13055", "13001", "MARSEILLE")]


def siret(n):
    digits = [int(c) for c in f"{n:013d}"]
    for check in range(10):
        candidate = digits + [check]
        total = 0
        for i, d in enumerate(candidate):
            if i % 2 == 0:
                d *= 2
                if d > 9:
                    d -= 9
            total += d
        if total % 10 == 0:
            return "".join(map(str, candidate))


def quote(value):
    return '"' + value.replace('"', '""') + '"' if ("," in value or '"' in value) else value


def sirene_row(i, rnd):
    insee, postcode, city = COMMUNES[0] if rnd.random() < 0.01 else rnd.choice(COMMUNES[1:])
    s = siret(100000000000 + i * 7)
    family = rnd.choice(FAMILIES)
    if rnd.random() < 0.2:
        name = f"{rnd.choice(TRADES)} {family}"
    else:
        name = f"{rnd.choice(BRANDS)} {family} {rnd.randint(1, 9999)}"
    if rnd.random() < 0.05:
        name = f"{name}, {family.lower()} et fils"  # quoted: a comma inside
    fields = [s[:9], s[9:], s, "O", "2015-03-12", "01", "2022", "", "2024-03-01T10:00:00", "true", "2",
              rnd.choice(["", "", "", "ZONE ARTISANALE, LOT 4"]), str(rnd.randint(1, 200)), rnd.choice(["", "", "B"]),
              "", "", rnd.choice(TYPES), rnd.choice(STREETS), postcode, city, "", "", insee, "", "", "", "",
              insee + "_1234_00010", f"{rnd.uniform(600000, 700000):.1f}", f"{rnd.uniform(6700000, 6900000):.1f}",
              "", "", "", "", "", "", "", "", "", "", "", "", "", "", "2015-03-12",
              "A" if rnd.random() < 0.8 else "F", name if rnd.random() < 0.7 else "", "", "",
              rnd.choice(["", "SARL DUPONT"]), rnd.choice(NAF), "NAFRev2", "N", ""]
    return ",".join(quote(f) for f in fields)


def rna_row(i, rnd):
    insee, postcode, city = COMMUNES[0] if rnd.random() < 0.01 else rnd.choice(COMMUNES[1:])
    fields = [f"W{i:09d}", "", "", "", "771P", "2010-05-04", "2010-05-04", "2010-05-20",
              "0001-01-01" if rnd.random() < 0.9 else "2020-01-01", "D", "S",
              f"ASSOCIATION SPORTIVE ET CULTURELLE N°{i}", "ASC",
              '"promouvoir la pratique du sport; la culture et les ""fêtes"" de quartier"', "011000", "000000", "",
              str(rnd.randint(1, 99)), "", "RUE", rnd.choice(STREETS), "_", insee, postcode, city, "M. DUPONT", "", "",
              "1 RUE X", "", "77000", "MELUN", "FRANCE", "PM", "", "1", "", rnd.choice("AAAAAAAAAD"),
              "2020-01-01 10:00:00"]
    return ";".join(fields)


def main():
    rows, sirene_path, rna_path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    rnd = random.Random(42)
    with open(sirene_path, "w", encoding="utf-8", newline="\n") as out:
        out.write(SIRENE_HEADER + "\n")
        out.writelines(sirene_row(i, rnd) + "\n" for i in range(rows))
    with open(rna_path, "w", encoding="utf-8", newline="\n") as out:
        out.write(RNA_HEADER + "\n")
        out.writelines(rna_row(i, rnd) + "\n" for i in range(rows))


if __name__ == "__main__":
    main()
