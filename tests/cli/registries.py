"""Helpers shared by test_import.py and test_directory.py on top of harness.py: the registries' headers in their
real shapes, valid SIRETs, rows written as the registries write them, and where the fixtures live."""

import csv
import io
import json
from pathlib import Path

import harness

# Fixtures of our own, in today's shapes (see tests/data/registries/README.md).
FIXTURES = harness.DATA / "registries"
# Real excerpts of the registries; CI copies shared/ beside the clone.
SAMPLES = harness.SOURCE_DIR.parent / "shared" / "data" / "registries"

# SIRENE StockEtablissement as published since 2025: 54 columns (the 2024 file had 53, without the NAF 2025 code).
SIRENE_HEADER = [
    "siren", "nic", "siret", "statutDiffusionEtablissement", "dateCreationEtablissement",
    "trancheEffectifsEtablissement", "anneeEffectifsEtablissement", "activitePrincipaleRegistreMetiersEtablissement",
    "dateDernierTraitementEtablissement", "etablissementSiege", "nombrePeriodesEtablissement",
    "complementAdresseEtablissement", "numeroVoieEtablissement", "indiceRepetitionEtablissement",
    "dernierNumeroVoieEtablissement", "indiceRepetitionDernierNumeroVoieEtablissement", "typeVoieEtablissement",
    "libelleVoieEtablissement", "codePostalEtablissement", "libelleCommuneEtablissement",
    "libelleCommuneEtrangerEtablissement", "distributionSpecialeEtablissement", "codeCommuneEtablissement",
    "codeCedexEtablissement", "libelleCedexEtablissement", "codePaysEtrangerEtablissement",
    "libellePaysEtrangerEtablissement", "identifiantAdresseEtablissement", "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement", "complementAdresse2Etablissement", "numeroVoie2Etablissement",
    "indiceRepetition2Etablissement", "typeVoie2Etablissement", "libelleVoie2Etablissement",
    "codePostal2Etablissement", "libelleCommune2Etablissement", "libelleCommuneEtranger2Etablissement",
    "distributionSpeciale2Etablissement", "codeCommune2Etablissement", "codeCedex2Etablissement",
    "libelleCedex2Etablissement", "codePaysEtranger2Etablissement", "libellePaysEtranger2Etablissement", "dateDebut",
    "etatAdministratifEtablissement", "enseigne1Etablissement", "enseigne2Etablissement", "enseigne3Etablissement",
    "denominationUsuelleEtablissement", "activitePrincipaleEtablissement",
    "nomenclatureActivitePrincipaleEtablissement", "caractereEmployeurEtablissement",
    "activitePrincipaleNAF25Etablissement"]
# Before 2023: 48 columns, without the address identifier, the Lambert coordinates and the last street number.
SIRENE_HEADER_2019 = [c for c in SIRENE_HEADER if c not in (
    "dernierNumeroVoieEtablissement", "indiceRepetitionDernierNumeroVoieEtablissement",
    "identifiantAdresseEtablissement", "coordonneeLambertAbscisseEtablissement",
    "coordonneeLambertOrdonneeEtablissement", "activitePrincipaleNAF25Etablissement")]
# The geolocated variant appends these.
GEO_COLUMNS = ["longitude", "latitude", "geo_score", "geo_type", "geo_adresse", "geo_id", "geo_ligne", "geo_l4",
               "geo_l5"]

# RNA waldec as published today: 39 columns, ';'-separated (the 2015 files had telephone and email too).
RNA_HEADER = [
    "id", "id_ex", "siret", "rup_mi", "gestion", "date_creat", "date_decla", "date_publi", "date_disso", "nature",
    "groupement", "titre", "titre_court", "objet", "objet_social1", "objet_social2", "adrs_complement",
    "adrs_numvoie", "adrs_repetition", "adrs_typevoie", "adrs_libvoie", "adrs_distrib", "adrs_codeinsee",
    "adrs_codepostal", "adrs_libcommune", "adrg_declarant", "adrg_complemid", "adrg_complemgeo", "adrg_libvoie",
    "adrg_distrib", "adrg_codepostal", "adrg_achemine", "adrg_pays", "dir_civilite", "siteweb", "publiweb",
    "observation", "position", "maj_time"]

assert len(SIRENE_HEADER) == 54 and len(SIRENE_HEADER_2019) == 48 and len(RNA_HEADER) == 39


def luhn_sum(digits):
    """The Luhn sum of a SIRET: digits at indexes 0, 2, ..., 12 from the left are doubled (minus 9 above 9)."""
    total = 0
    for index, char in enumerate(digits):
        digit = int(char) * (2 if index % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return total


def siret(prefix):
    """A valid 14-digit SIRET: `prefix` (13 digits) followed by its check digit."""
    assert len(prefix) == 13 and prefix.isdigit(), prefix
    return prefix + str((10 - luhn_sum(prefix + "0") % 10) % 10)


def bad_siret(prefix):
    """A 14-digit SIRET whose check digit is wrong."""
    good = siret(prefix)
    return good[:-1] + str((int(good[-1]) + 1) % 10)


def sirene_row(header=SIRENE_HEADER, **values):
    """A SIRENE establishment as a dict over `header`, with the values a small shop of Thomery has."""
    row = dict.fromkeys(header, "")
    row.update(statutDiffusionEtablissement="O", etatAdministratifEtablissement="A",
               codeCommuneEtablissement="77463", codePostalEtablissement="77810",
               libelleCommuneEtablissement="THOMERY", nomenclatureActivitePrincipaleEtablissement="NAFRev2",
               activitePrincipaleEtablissement="47.29Z", etablissementSiege="true", dateDebut="2020-01-01")
    for key in values:
        assert key in header, key
    row.update(values)
    if row["siret"]:
        row["siren"], row["nic"] = row["siret"][:9], row["siret"][9:]
    return row


def rna_row(header=RNA_HEADER, **values):
    """An RNA waldec association as a dict over `header`, active in Thomery."""
    row = dict.fromkeys(header, "")
    row.update(gestion="773S", date_creat="2001-01-01", date_decla="2001-01-01", date_publi="2001-01-20",
               date_disso="0001-01-01", nature="D", groupement="S", objet_social1="000000", objet_social2="000000",
               adrs_distrib="_", adrs_codeinsee="77463", adrs_codepostal="77810", adrs_libcommune="Thomery",
               publiweb="0", position="A", maj_time="2024-05-02 10:00:00")
    for key in values:
        assert key in header, key
    row.update(values)
    return row


def csv_text(header, rows, delimiter=",", newline="\n"):
    """The CSV text of `rows` (dicts over `header`), quoted only when needed, as the registries write it."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row[name] for name in header])
    return out.getvalue()


def centroid(geojson_path):
    """(lon, lat) of the centroid of the first ring of a Polygon file (bare geometry or Feature)."""
    data = json.loads(Path(geojson_path).read_text(encoding="utf-8"))
    ring = data.get("geometry", data)["coordinates"][0]
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:]):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return cx / (3 * area), cy / (3 * area)


def database_text(directory, db):
    """Every byte the database keeps (the file, its journal and WAL), decoded leniently: to prove a value was
    never written anywhere, including the search index."""
    return b"".join(p.read_bytes() for p in Path(directory).iterdir() if p.name.startswith(Path(db).name)).decode(
        "utf-8", errors="replace")
